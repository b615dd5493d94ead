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

log = logging.getLogger(__name__)
UPLOAD_PATH = "/pieces/"
UPLOAD_PURPOSE = "evidence-upload"
MAX_BYTES = 10 * 1024 * 1024
_KINDS = {
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpg",
    b"%PDF": "pdf",
    b"RIFF": "webp",
    b"GIF8": "gif",
}

_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Riposte — joindre une capture</title></head>
<body><main>
<h1>Joindre la capture d'écran de la pièce n° {number}</h1>
{message}
<form method="post" enctype="multipart/form-data">
<p><label for="fichier">Capture d'écran ou page enregistrée
(image ou PDF, 10 Mo au plus)</label><br>
<input id="fichier" name="fichier" type="file" accept="image/*,application/pdf" required></p>
<p><button type="submit">Envoyer</button></p>
</form>
<p>Le fichier est chiffré dans votre dossier, avec son empreinte SHA-256 qui prouve qu'il n'a
pas été modifié depuis.</p>
</main></body></html>
"""
_DONE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Riposte — capture enregistrée</title></head>
<body><main><h1>Capture enregistrée</h1>
<p>La pièce n° {number} a maintenant son fichier ({size} octets).</p>
<p>Empreinte SHA-256 : <code>{sha256}</code></p>
<p>Vous pouvez fermer cette page et revenir à la conversation.</p></main></body></html>
"""
_GONE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Riposte — lien expiré</title></head>
<body><main><p>Ce lien est expiré ou invalide. Ajoutez la preuve à nouveau dans la
conversation (« ajouter une preuve ») pour obtenir un nouveau lien.</p></main></body></html>
"""
_USED = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Riposte — lien déjà utilisé</title></head>
<body><main><p>{message}</p></main></body></html>
"""
HTML_TYPE = "text/html; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
GONE_MESSAGE = (
    "Ce lien est expiré ou invalide. Ajoutez la preuve à nouveau dans la conversation "
    "(« ajouter une preuve ») pour obtenir un nouveau lien."
)
USED_MESSAGE = (
    "Ce lien a déjà servi : la capture de cette pièce est enregistrée, et un lien ne sert "
    "qu'une fois. Pour joindre une autre capture, ajoutez une nouvelle preuve dans la "
    "conversation (« ajouter une preuve ») : vous recevrez un nouveau lien."
)


def upload_key() -> bytes:
    from riposte.privacy import load_master_key
    from riposte.store.config import StoreConfig

    return load_master_key(StoreConfig.from_env(), create=False).derive(UPLOAD_PURPOSE)


def reset() -> None:
    """Forget the process's repository (tests change the store's configuration)."""
    from riposte.store.repository import reset_shared_repository

    reset_shared_repository()


def _page(number: int, message: str = "") -> bytes:
    text = f'<p role="alert">{html.escape(message)}</p>' if message else ""
    return _PAGE.format(number=number, message=text).encode("utf-8")


def _used_page() -> bytes:
    return _USED.format(message=html.escape(USED_MESSAGE)).encode("utf-8")


def page_response(token: str) -> tuple[int, bytes]:
    from riposte.store.errors import StoreError
    from riposte.store.repository import shared_repository

    link = read_token(upload_key(), token)
    if link is None:
        return 404, _GONE.encode("utf-8")
    try:
        used = shared_repository().link_used(link.link_id)
    except StoreError:
        log.warning("evidence upload page: the store is unavailable")
        return 404, _GONE.encode("utf-8")
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
        return UploadOutcome(
            413, "Ce fichier dépasse 10 Mo : envoyez une capture plus légère.", link.number
        )
    data = file_from_form(content_type, body)
    if not data:
        return UploadOutcome(
            400, "Aucun fichier reçu : choisissez une capture puis « Envoyer ».", link.number
        )
    kind = next((k for magic, k in _KINDS.items() if data.startswith(magic)), None)
    if kind is None:
        return UploadOutcome(415, "Ce fichier n'est ni une image ni un PDF.", link.number)
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
        f"Capture enregistrée : la pièce n° {link.number} a maintenant son fichier "
        f"({len(data)} octets), chiffré, avec son empreinte SHA-256.",
        link.number,
        record.item.sha256,
        len(data),
    )


def upload_response(token: str, content_type: str, body: bytes) -> tuple[int, bytes]:
    """The upload page's answer: French HTML either way."""
    outcome = upload(token, content_type, body)
    if outcome.expired:
        return outcome.status, _GONE.encode("utf-8")
    if outcome.used:
        return outcome.status, _used_page()
    if outcome.status != 200:
        return outcome.status, _page(outcome.number or 0, outcome.message)
    done = _DONE.format(number=outcome.number, size=outcome.size, sha256=outcome.sha256)
    return 200, done.encode("utf-8")


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
