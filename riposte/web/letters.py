"""Letter downloads: `/lettres/<token>.<pdf|docx>`, from a signed link given in the chat.

The token (riposte/letters/links.py) names a case and a letter; the letter is read from the
store and sent as an attachment, its type told by its first bytes. An expired, forged or
orphaned link gets the same French page (404).
"""

from __future__ import annotations

import logging

from riposte.web.texts import message, page

log = logging.getLogger("riposte.web.letters")

LETTER_TYPES = {
    b"%PDF": ("application/pdf", "pdf"),
    b"PK\x03\x04": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
}
# Anything else is the Markdown draft.
MARKDOWN_TYPE = ("text/markdown; charset=utf-8", "md")


def not_found_page() -> bytes:
    return page(
        "notice",
        title=message("letters", "not_found_title"),
        message=message("letters", "not_found"),
    )


def letter_response(token: str) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers for a letter download link (404 when not valid)."""
    from riposte.letters.links import link_key, read_token
    from riposte.store.errors import StoreError
    from riposte.store.repository import shared_repository

    not_found = (404, not_found_page(), {"Content-Type": "text/html; charset=utf-8"})
    try:
        link = read_token(link_key(), token)
        if link is None:
            return not_found
        data = shared_repository().letter_content(link.code, link.number)
    except StoreError:
        log.warning("letter link: the case or the letter is gone")
        return not_found
    if data is None:
        return not_found
    media, extension = next(
        (kind for magic, kind in LETTER_TYPES.items() if data.startswith(magic)),
        MARKDOWN_TYPE,
    )
    filename = f"plainte-procureur-{link.number}.{extension}"
    return (
        200,
        data,
        {
            "Content-Type": media,
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )
