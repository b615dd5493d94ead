"""Photos and documents sent on Telegram or Signal: checked, sealed in the store, handed to Rasa.

The channels run in the Rasa process, while the case is written by the action server (maybe on
another machine): all they share is the case store. So a received file goes through the store's
inbox (`CaseRepository.put_inbox_file`): sealed, bound to a random reference and to the sender's
pseudonym, kept 24 hours at most. Rasa then gets the message
`/send_evidence_file{"evidence_file_ref": "<reference>"}`, and `action_save_evidence_file`
(actions/evidence.py) files it in the conversation's case.

Accepted: what the web upload page accepts (riposte/web/uploads.py), checked on the content,
never on the announced type: images and PDF files, 10 MB at most. Anything else gets a French
reply and nothing is stored. File contents, names and captions are never logged.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from datetime import datetime, timezone
from pathlib import PurePosixPath

import aiohttp

from riposte.store.files import MAX_EVIDENCE_BYTES as MAX_BYTES
from riposte.store.files import evidence_kind
from riposte.text import ascii_name
from riposte_rasa.messages import message

logger = logging.getLogger(__name__)

INTENT = "send_evidence_file"
ENTITY = "evidence_file_ref"  # also the slot's name (domain/evidence.yml)
MAX_CAPTION = 5000  # like an excerpt typed in the evidence form
CHUNK = 64 * 1024

# Why a file is refused: keys of riposte_rasa/messages.yml, section `files`.
TOO_LARGE = "too_large"
WRONG_TYPE = "wrong_type"
NOT_RECEIVED = "not_received"
NOT_STORED = "not_stored"


class Refused(Exception):
    """The file is not kept; `str(error)` is the French reply for the sender."""

    def __init__(self, reason: str) -> None:
        self.reason = reason  # TOO_LARGE, WRONG_TYPE, NOT_RECEIVED or NOT_STORED
        super().__init__(reply(reason))


def reply(reason: str) -> str:
    """The French reply to a refused file (riposte_rasa/messages.yml, `files`)."""
    return message(f"files.{reason}")


async def read_limited(answer: aiohttp.ClientResponse, limit: int = MAX_BYTES) -> bytes:
    """The body of a download; `Refused(TOO_LARGE)` as soon as it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in answer.content.iter_chunked(CHUNK):
        size += len(chunk)
        if size > limit:
            raise Refused(TOO_LARGE)
        chunks.append(chunk)
    return b"".join(chunks)


def file_name(channel: str, kind: str, original: str | None, received: datetime) -> str:
    """`telegram-20261124-093000-capture.png`: the channel, the UTC time, the sender's name for
    the file (ASCII, shortened) and the extension found from the content."""
    stem = PurePosixPath((original or "").replace("\\", "/")).stem
    stem = ascii_name(stem, 60)
    if not stem:
        stem = "document" if kind == "pdf" else "photo"
    return f"{channel}-{received.astimezone(timezone.utc):%Y%m%d-%H%M%S}-{stem}.{kind}"


def rasa_message(ref: str) -> str:
    return f"/{INTENT}{json.dumps({ENTITY: ref})}"


async def keep(
    channel: str, sender: str, data: bytes, original: str | None, caption: str | None
) -> str:
    """Check `data` and seal it in the store's inbox for `sender` (the pseudonym Rasa knows).

    Returns the message to give Rasa; raises `Refused` (French reply) when the file is too
    large, of another type, or cannot be stored.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from riposte.store.errors import StoreError
    from riposte.store.repository import shared_repository

    if len(data) > MAX_BYTES:
        raise Refused(TOO_LARGE)
    kind = evidence_kind(data)
    if kind is None:
        logger.info("%s: a received file is neither an image nor a PDF; refused", channel)
        raise Refused(WRONG_TYPE)
    name = file_name(channel, kind, original, datetime.now(timezone.utc))
    note = (caption or "").strip()[:MAX_CAPTION] or None
    put = functools.partial(
        shared_repository().put_inbox_file, sender, data, filename=name, caption=note
    )
    try:
        ref = await asyncio.get_running_loop().run_in_executor(None, put)
    except (StoreError, SQLAlchemyError, OSError) as error:
        logger.error("%s: a received file could not be stored (%s)", channel, type(error).__name__)
        raise Refused(NOT_STORED) from None
    logger.info("%s: a received %s file was put in the inbox (%d bytes)", channel, kind, len(data))
    return rasa_message(ref)
