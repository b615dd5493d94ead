"""The French sentences of the Rasa channels and launchers (riposte_rasa/messages.yml).

Read once, on first use (never at import). The replies every channel shares (message too long,
not processed) are the service's, in riposte/messages.yml (`riposte.settings`).
"""

from __future__ import annotations

import functools
from pathlib import Path

from riposte.knowledge import Messages
from riposte.messages import read

MESSAGES_PATH = Path(__file__).resolve().parent / "messages.yml"


@functools.lru_cache(maxsize=1)
def messages() -> Messages:
    return read(MESSAGES_PATH)


def message(path: str, /, **values: object) -> str:
    """The sentence at dotted `path` (`files.too_large`), placeholders filled."""
    return messages().get(path, **values)
