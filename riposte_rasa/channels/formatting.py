"""The replies' light markup (`**bold**`, as the web page shows it) for the other channels.

The domain's responses and the actions write `**…**` for the words that matter (the
recommended level, the next step, the case code). The web page renders it (webchat/render.js);
Telegram gets the same as HTML bold; Signal, which has no markup in its plain API, gets the
text without the asterisks. Everything else is text: in Telegram's HTML it is escaped, so a
`<`, `&` or a tag typed by the doctor and quoted back is shown as typed.
"""

from __future__ import annotations

import html
import re

# `**` + non-space … non-space + `**`, shortest match, on one paragraph at most.
BOLD = re.compile(r"\*\*(?=\S)((?:(?!\n\n).)+?)(?<=\S)\*\*", re.S)


def plain(text: str) -> str:
    """The text with the bold markers removed (`**Prochaine étape**` → `Prochaine étape`)."""
    return BOLD.sub(r"\1", text)


def telegram_html(text: str) -> str:
    """The text for Telegram's `parse_mode=HTML`: escaped, bold markers as `<b>`."""
    return BOLD.sub(r"<b>\1</b>", html.escape(text, quote=False))
