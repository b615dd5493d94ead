"""The service's own French sentences (riposte/messages.yml), read once on first use.

Configuration errors for the operator (settings, access, the Signal bridge), the replies every
chat channel shares (message too long, not processed) and the `riposte` command's help texts.
The engine's sentences are in knowledge/messages.yml, the store's in store/messages.yml, the
letters' in letters/data/messages.yml, the Rasa channels' in riposte_rasa/messages.yml.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from riposte.knowledge import Messages

MESSAGES_PATH = Path(__file__).resolve().parent / "messages.yml"


def read(path: Path) -> Messages:
    """A message file: a mapping of sections, each a mapping of French sentences."""
    with path.open(encoding="utf-8") as handle:
        return Messages(yaml.safe_load(handle))


@functools.lru_cache(maxsize=1)
def messages() -> Messages:
    return read(MESSAGES_PATH)


def message(path: str, /, **values: object) -> str:
    """The sentence at dotted `path` (`settings.port_range`), placeholders filled."""
    return messages().get(path, **values)
