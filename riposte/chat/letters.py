"""What the letters drafted from the chat share (the complaint, the notice to a platform).

An answer is read against the stored case and what it gives is written at once (`Reading`,
`record_reading`); once confirmed, the letter is rendered from the case (PDF and DOCX), kept
encrypted in it, and offered through expiring links (`draft_letter`), with a short text in the
chat (`short_text`) and, on messaging apps, the files themselves (`document_message`).

Pure values in and out, no Rasa; the store calls block (the actions run them in a worker
thread). French texts live in riposte/letters/data/messages.yml (sections `chat…`).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from riposte.case import Case
from riposte.letters.build import LetterOptions, load_messages
from riposte.letters.model import Document

log = logging.getLogger(__name__)
FORMATS: tuple[tuple[str, str], ...] = (
    ("pdf", "application/pdf"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
)


@dataclass(frozen=True)
class ChatLetter:
    """How a skill's letter is named in the chat: the skill (`utter_<skill>_ready`,
    `utter_<skill>_refused`), the slot telling whether it can be written, the form's questions,
    and the file name and caption (messages.yml path) of the documents on messaging apps."""

    skill: str
    possible: str
    questions: tuple[str, ...]
    document_name: str
    document_caption: str


def full_name(victim: Mapping[str, Any]) -> str:
    return " ".join(p for p in (victim.get("first_name"), victim.get("last_name")) if p)


def story_excerpt(incident: Mapping[str, Any], limit: int = 300) -> str:
    """The start of the story, for a summary to confirm."""
    story = incident.get("summary")
    story = story.strip() if isinstance(story, str) else ""
    return story[:limit].rstrip() + "…" if len(story) > limit else story


@dataclass(frozen=True)
class Reading:
    """What an answer gives: a merge patch for the case (or an evidence item), or an error.

    `note` names a message to send although the answer is accepted (an optional question
    skipped: the letter will leave a blank); `keep` is kept in the slot for a later question
    (a statement awaits its date); `settles` names later questions this answer makes
    pointless (a statement skipped needs no date); `done_on` gives the day of a step the
    patch marks done when it is not today (an erasure request sent earlier).
    """

    patch: Mapping[str, Any] | None = None
    evidence: Mapping[str, Any] | None = None
    error: str | None = None
    note: str | None = None
    keep: str | None = None
    settles: tuple[str, ...] = ()
    done_on: Mapping[str, date] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Answered:
    """An answer read (`reading`, None when the case could not be read) and whether the
    store failed (`failed`: nothing, or not all, was written)."""

    reading: Reading | None
    failed: bool = False


def record_reading(
    read: Callable[[Mapping[str, Any]], Reading], code: str, sender_id: str, today: date
) -> Answered:
    """Read an answer against the stored case (`read`) and write what it gives at once."""
    from riposte.chat.case import as_chat, repository
    from riposte.store.errors import StoreError

    repo = repository()
    reading: Reading | None = None
    try:
        current = repo.read_case(code, **as_chat(sender_id)).to_dict()
        reading = read(current)
        if not reading.ok:
            return Answered(reading)
        if reading.patch:
            repo.update_case(
                code,
                dict(reading.patch),
                today=today,
                done_on=reading.done_on,
                **as_chat(sender_id),
            )
        if reading.evidence:
            repo.add_evidence(code, dict(reading.evidence), **as_chat(sender_id))
    except StoreError as error:
        log.error("letter answer not recorded: %s", type(error).__name__)
        return Answered(reading, failed=True)
    return Answered(reading)


@dataclass(frozen=True)
class Drafted:
    """A letter drafted and kept in the case: the document, and per format its bytes and the
    signed token of its expiring download link (riposte.letters.links); or the French reason
    it was refused (`refused`, with the name of the failed check in `check` and the key of its
    explanation in `detail` when the letter builder gave them), or a store failure (`failed`)."""

    document: Document | None = None
    files: tuple[tuple[str, str, bytes, str], ...] = ()  # (format, media type, data, token)
    refused: str | None = None
    check: str | None = None
    detail: str | None = None
    failed: bool = False


def draft_letter(
    code: str,
    sender_id: str,
    today: date,
    kind: str,
    *,
    options: LetterOptions | None = None,
    prepare: Callable[[Case], Case] | None = None,
) -> Drafted:
    """Render the letter `kind` (PDF and DOCX) from the case and keep both, encrypted, in it.

    `prepare` turns the stored case into the one the letter is written from (the notice keeps
    only the evidence that has an address).
    """
    from riposte.chat.case import as_chat, repository
    from riposte.letters.build import LetterError, build_letter
    from riposte.letters.links import link_key, make_token
    from riposte.letters.output import render
    from riposte.store.errors import QuotaExceededError, StoreError

    repo = repository()
    try:
        record = repo.read_case(code, action="letter", **as_chat(sender_id))
        case = prepare(record.case) if prepare is not None else record.case
        document = build_letter(case, kind, today, options)
        files = []
        for fmt, media in FORMATS:
            data = render(document, fmt)
            letter = repo.record_letter(code, kind, data, media_type=media, **as_chat(sender_id))
            files.append((fmt, media, data, make_token(link_key(), record.code, letter.number)))
    except LetterError as problem:
        return Drafted(refused=str(problem), check=problem.check, detail=problem.detail)
    except QuotaExceededError as full:  # the case holds as many letters as it may
        return Drafted(refused=str(full))
    except StoreError as error:
        log.error("%s not delivered: %s", kind, type(error).__name__)
        return Drafted(failed=True)
    log.info("%s delivered in the chat", kind)
    return Drafted(document, tuple(files))


def short_text(document: Document) -> str:
    """The chat version: object, recipient and the warning; the full text is in the file."""
    m = load_messages()
    recipient = " — ".join(
        line for line in document.section_text("recipient").splitlines() if line.strip()
    )
    return m.get("chat.short", title=document.title, recipient=recipient)


def document_message(
    data: bytes, fmt: str, media_type: str, *, filename: str, caption: str
) -> dict[str, Any]:
    """The custom JSON our messaging channels send as a document (Telegram, Signal).

    `caption` is the path of the caption in messages.yml (its `{format}` filled here).
    """
    m = load_messages()
    return {
        "document": {
            "filename": f"{filename}.{fmt}",
            "data_base64": base64.b64encode(data).decode("ascii"),
            "media_type": media_type,
        },
        "caption": m.get(caption, format=fmt.upper()),
    }
