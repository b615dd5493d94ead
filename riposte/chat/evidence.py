"""Evidence from the chat: an item typed in the evidence form, or a file received on a
messaging app, journaled in the conversation's case.

Plain values in and out, no Rasa (actions/evidence.py sends what comes back). Blocking store
calls: the actions run these functions in a worker thread. French texts live in
riposte/knowledge/conversation.yml (section `evidence`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from riposte.chat.case import as_chat, repository
from riposte.chat.triage import texts
from riposte.store.errors import InboxFileMissingError, QuotaExceededError, StoreError
from riposte.text import date_fr, datetime_fr, time_fr

log = logging.getLogger(__name__)

# The evidence form's questions, in the order they are asked (domain/evidence.yml,
# forms.evidence_form).
EVIDENCE_SLOTS: tuple[str, ...] = (
    "evidence_url",
    "evidence_seen_at",
    "evidence_author",
    "evidence_excerpt",
    "evidence_published_at",
)
# Entity and slot of /send_evidence_file (riposte_rasa/channels).
FILE_REF = "evidence_file_ref"


def recorded_text(recorded_at: datetime) -> str:
    """When the item was journaled, in UTC, as the replies show it."""
    utc = recorded_at.astimezone(timezone.utc)
    return str(texts()["evidence"]["recorded"]).format(date=date_fr(utc), time=time_fr(utc))


def channel_name(channel: str | None) -> str:
    """The messaging app a file came from, as the doctor names it."""
    words = texts()["evidence"]
    return str(words["channels"].get(channel or "", words["other_channel"]))


def item_from_slots(slots: Mapping[str, Any]) -> dict[str, Any]:
    """The journal item the evidence form's answers describe (empty answers left out)."""
    return {
        "url": slots.get("evidence_url") or None,
        "captured_at": slots.get("evidence_seen_at") or None,
        "author": slots.get("evidence_author") or None,
        "excerpt": slots.get("evidence_excerpt") or None,
        "published_at": slots.get("evidence_published_at") or None,
    }


def typed_lines(slots: Mapping[str, Any]) -> list[str]:
    """The evidence form's answers as the doctor typed them, one line each (given back when
    no case file keeps them)."""
    labels = texts()["evidence"]["typed"]
    return [
        "- " + str(labels[name]).format(value=_shown(str(slots[name])))
        for name in EVIDENCE_SLOTS
        if slots.get(name)
    ]


def _shown(value: str) -> str:
    """A date or a time as the doctor reads it (the form keeps them in ISO 8601)."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    if len(value) <= len("2026-12-07"):
        return date_fr(when.date())
    return datetime_fr(when)


@dataclass(frozen=True)
class Filed:
    """What filing an item gave: its number and time, or why it was not filed.

    `refused`: the store's French reasons (the case is full); `error`: the response naming a
    failure (`utter_…`). `fingerprint`: the start of the file's SHA-256, for a file.
    """

    number: int | None = None
    recorded: str | None = None
    fingerprint: str | None = None
    refused: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.number is not None


def file_item(code: str, slots: Mapping[str, Any], sender_id: str) -> Filed:
    """Journal the evidence form's answers in case `code` (UTC timestamp)."""
    try:
        record = repository().add_evidence(code, item_from_slots(slots), **as_chat(sender_id))
    except QuotaExceededError as error:
        return Filed(refused=" ".join(error.errors))
    except StoreError as error:
        log.error("evidence not recorded: %s", type(error).__name__)
        return Filed(error="utter_store_unavailable")
    log.info("evidence item recorded from the chat")
    return Filed(record.number, recorded_text(record.recorded_at))


def file_received(code: str, ref: str, sender_id: str) -> Filed:
    """File the inbox entry `ref` (sealed by the channel for this sender) in case `code`: the
    item is written and the inbox entry deleted in one transaction."""
    try:
        record = repository().add_inbox_evidence(code, ref, sender_id, **as_chat(sender_id))
    except InboxFileMissingError:
        log.warning("evidence file not found in the inbox (unknown, filed or expired)")
        return Filed(error="utter_evidence_file_missing")
    except QuotaExceededError as error:
        return Filed(refused=" ".join(error.errors))
    except (StoreError, SQLAlchemyError) as error:
        log.error("evidence file not recorded: %s", type(error).__name__)
        return Filed(error="utter_evidence_file_not_saved")
    log.info("evidence file recorded from the chat")
    return Filed(
        record.number,
        recorded_text(record.recorded_at),
        fingerprint=(record.item.sha256 or "")[:16],
    )


def discard_received(ref: str, sender_id: str) -> bool:
    """Delete a received file the doctor chose not to keep (no case): it does not wait in the
    inbox for its expiry. False when it was not there (filed, expired) or the store failed."""
    try:
        return repository().discard_inbox_file(ref, sender_id)
    except (StoreError, SQLAlchemyError) as error:
        log.error("inbox file not discarded: %s", type(error).__name__)
        return False
