"""The screenshot of an evidence item, sent from the web page through a signed link.

The chat cannot carry a file on every channel; after an item is journaled, the bot gives a
link (`/pieces/<token>`, opaque, 24 hours, see riposte/letters/links.py) to a small page with
a file field. The file is fingerprinted (SHA-256) and sealed in the case like any other piece.
Only images and PDF files are accepted, up to `MAX_BYTES`.

A link serves once: the upload that succeeds records its id in the store
(`CaseRepository.use_link`, shared with the action server's processes); afterwards the page
says so and sends the doctor back to the conversation. A refused file does not use it up.
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from email.parser import BytesParser
from email.policy import HTTP

from riposte.letters.links import read_token
from riposte.store.files import MAX_EVIDENCE_BYTES, evidence_kind
from riposte.web.texts import message, page

log = logging.getLogger(__name__)
UPLOAD_PATH = "/pieces/"
UPLOAD_PURPOSE = "evidence-upload"
MAX_BYTES = MAX_EVIDENCE_BYTES

HTML_TYPE = "text/html; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
GONE_MESSAGE = message("uploads", "gone")
USED_MESSAGE = message("uploads", "used")


def upload_key() -> bytes:
    from riposte.privacy import load_master_key
    from riposte.store.config import StoreConfig

    return load_master_key(StoreConfig.from_env(), create=False).derive(UPLOAD_PURPOSE)


def reset() -> None:
    """Forget the process's repository (tests change the store's configuration)."""
    from riposte.store.repository import reset_shared_repository

    reset_shared_repository()


def _page(number: int, alert: str = "") -> bytes:
    text = f'<p role="alert">{html.escape(alert)}</p>' if alert else ""
    return page("upload", raw={"alert": text}, number=number)


def _used_page() -> bytes:
    return page("upload_used", message=USED_MESSAGE)


def _gone_page() -> bytes:
    return page("upload_gone")


def page_response(token: str) -> tuple[int, bytes]:
    from riposte.store.errors import StoreError
    from riposte.store.repository import shared_repository

    link = read_token(upload_key(), token)
    if link is None:
        return 404, _gone_page()
    try:
        used = shared_repository().link_used(link.link_id)
    except StoreError:
        log.warning("evidence upload page: the store is unavailable")
        return 404, _gone_page()
    if used:
        return 410, _used_page()
    return 200, _page(link.number)


def file_from_form(content_type: str, body: bytes) -> bytes | None:
    """The content of the `fichier` field of a multipart/form-data body."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    for part in message.iter_parts() if message.is_multipart() else ():
        if part.get_param("name", header="content-disposition") == "fichier":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else None
    return None


@dataclass(frozen=True)
class UploadOutcome:
    """What happened to an upload: HTTP status, a French message, the item when it worked."""

    status: int
    message: str
    number: int | None = None
    sha256: str | None = None
    size: int | None = None
    expired: bool = False
    used: bool = False


def upload(token: str, content_type: str, body: bytes) -> UploadOutcome:
    """Check the link and the file, attach it to the item."""
    from riposte.case import CaseError
    from riposte.store.errors import StoreError
    from riposte.store.repository import shared_repository

    link = read_token(upload_key(), token)
    if link is None:
        return UploadOutcome(404, GONE_MESSAGE, expired=True)
    if len(body) > MAX_BYTES + 64 * 1024:
        # the page server's own sentence: the same 10 MB limit
        return UploadOutcome(413, message("server", "too_large"), link.number)
    data = file_from_form(content_type, body)
    if not data:
        return UploadOutcome(400, message("uploads", "no_file"), link.number)
    kind = evidence_kind(data)
    if kind is None:
        return UploadOutcome(415, message("uploads", "not_a_picture"), link.number)
    repo = shared_repository()
    try:
        # Taken before the file is attached, so that two uploads at once cannot both pass;
        # given back if the attachment fails (the link may serve again).
        if not repo.use_link(link.link_id, datetime.fromtimestamp(link.expires, timezone.utc)):
            return UploadOutcome(410, USED_MESSAGE, link.number, used=True)
        try:
            record = repo.attach_evidence_file(
                link.code, link.number, data, f"piece-{link.number}.{kind}", actor="web"
            )
        except BaseException:
            repo.release_link(link.link_id)
            raise
    except CaseError as error:
        return UploadOutcome(409, " ".join(error.errors), link.number)
    except StoreError:
        log.warning("evidence upload: the case is gone")
        return UploadOutcome(404, GONE_MESSAGE, expired=True)
    log.info("evidence file attached (%d bytes)", len(data))
    return UploadOutcome(
        200,
        message("uploads", "saved", number=link.number, size=len(data)),
        link.number,
        record.item.sha256,
        len(data),
    )


def upload_response(token: str, content_type: str, body: bytes) -> tuple[int, bytes]:
    """The upload page's answer: French HTML either way."""
    outcome = upload(token, content_type, body)
    if outcome.expired:
        return outcome.status, _gone_page()
    if outcome.used:
        return outcome.status, _used_page()
    if outcome.status != 200:
        return outcome.status, _page(outcome.number or 0, outcome.message)
    done = page("upload_done", number=outcome.number, size=outcome.size, sha256=outcome.sha256)
    return 200, done


def upload_json(token: str, content_type: str, body: bytes) -> tuple[int, bytes]:
    """The web chat's answer (`Accept: application/json`): {ok, message, number, sha256}."""
    outcome = upload(token, content_type, body)
    payload = {
        "ok": outcome.status == 200,
        "message": outcome.message,
        "number": outcome.number,
        "sha256": outcome.sha256,
    }
    return outcome.status, json.dumps(payload, ensure_ascii=False).encode("utf-8")
