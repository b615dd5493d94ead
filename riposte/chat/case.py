"""The case file from the chat: create and update it as the doctor speaks, resume it, erase it.

Plain values in and out (the slots as a dict, the conversation as its sender id), no Rasa:
the actions (actions/case.py, actions/evidence.py and the skills calling `sync_case`) only
turn the outcome into responses and slot events. Every function here is blocking
(SQLAlchemy, scrypt): the actions run it in a worker thread. One repository per process,
one short session per store call (riposte.store.repository). Nothing personal is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from riposte.chat import triage
from riposte.ratelimit import RateLimiter
from riposte.store.codes import find_credentials
from riposte.store.errors import (
    AccessDeniedError,
    CaseLockedError,
    StoreError,
    UnknownCaseError,
    message,
)
from riposte.store.records import CaseRecord
from riposte.store.repository import CaseRepository, shared_repository

log = logging.getLogger(__name__)

#: The channel label of the chat senders linked to a case (the sender ids Rasa gives the
#: actions are already pseudonyms: riposte_rasa/channels).
CHAT = "chat"
# Failed resume attempts in a row before the chat stops asking (the store itself makes a
# conversation wait after 5 failures for one code, longer after each further one; other
# conversations, the doctor's own, are not held back).
MAX_CHAT_ATTEMPTS = 3
# Per conversation (sender), in this process's memory: each resume attempt costs a 32 MiB
# scrypt, even for an unknown code, so a conversation gets `RESUME_BURST` attempts at once,
# then one every minute, before the store is even asked. New cases: a few a day.
RESUME_BURST, RESUME_RATE = 5, 1 / 60
CASES_BURST, CASES_RATE = 5, 5 / 86400
resume_limiter = RateLimiter(RESUME_RATE, RESUME_BURST)
cases_limiter = RateLimiter(CASES_RATE, CASES_BURST)


def repository() -> CaseRepository:
    return shared_repository()


def as_chat(sender_id: str) -> dict[str, Any]:
    """The keywords of every case-store call made for this conversation (`**as_chat(sender)`).

    The store reaches a case from the chat only for a conversation linked to it (created or
    resumed there: `CaseRepository.link_sender`); any other gets the unknown case's error, so
    a `case_code` slot alone, whatever put it there, opens nothing.
    """
    return {"actor": "chat", "conversation": (CHAT, sender_id)}


def without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    return value


@dataclass(frozen=True)
class Synced:
    """What `sync_case` did. `code`/`secret`: a case opened now (shown once); `gone`: the
    slot's case was not found (deleted, or not this conversation's); `refused`: the French
    reason no case was opened; `failed`: the store is unavailable."""

    code: str | None = None
    secret: str | None = None
    gone: bool = False
    refused: str | None = None
    failed: bool = False


def sync_case(
    slots: Mapping[str, Any],
    code: str | None,
    sender_id: str,
    today: date,
    *,
    create: bool = False,
) -> Synced:
    """Write the facts and steps of `slots` to the conversation's case (`code`); with
    `create`, open one when there is none.

    A case is opened only with `create`, on the doctor's yes (the chat offers it when it
    first serves: after the advice, for a letter or an evidence item). Without a case the
    facts stay in the conversation and the advice still works. A case that is gone is
    replaced by a new one only with `create`.
    """
    if not (code or create):
        return Synced()
    repo = repository()
    patch = triage.case_patch(slots)
    if not code and not cases_limiter.allow(sender_id):
        log.warning("case not created: this conversation opened too many cases today")
        return Synced(refused=message("errors.too_many_cases"))
    gone = False
    try:
        if code:
            try:
                repo.update_case(code, patch, today=today, **as_chat(sender_id))
                return Synced()
            except UnknownCaseError:
                # Deleted meanwhile (by an operator or another channel), or never this
                # conversation's (the store tells neither apart): a new one only on a yes.
                gone = True
                if not create:
                    return Synced(gone=True)
        new = repo.create_case(without_nulls(patch), actor="chat", today=today)
        repo.link_sender(new.code, CHAT, sender_id)
    except StoreError as error:
        log.error("case store unavailable: %s", type(error).__name__)
        return Synced(gone=gone, failed=True)
    log.info("case created from the chat")
    return Synced(code=new.code, secret=new.secret, gone=gone)


def letter_record(code: str, sender_id: str, given: CaseRecord | None) -> CaseRecord | None:
    """The case a letter's start reads: `given` (the conversation's facts, stored nowhere:
    `transient_record`), else the stored case `code`; None when the store failed."""
    if given is not None:
        return given
    try:
        return repository().read_case(code, **as_chat(sender_id))
    except StoreError as error:
        log.error("case store unavailable: %s", type(error).__name__)
        return None


def transient_record(slots: Mapping[str, Any], today: date) -> CaseRecord:
    """The conversation's facts as a case record stored nowhere: a letter is checked against
    it before a case file is offered (a refusal needs no case, and is said at once)."""
    from riposte.case import load_case

    now = datetime.now(timezone.utc)
    case = load_case(triage.case_from_slots(slots), today=today)
    return CaseRecord("", case, now, now, evidence=(), steps=(), letters=())


def deadline_text(slots: Mapping[str, Any], today: date) -> str | None:
    """The deadline lines of the case the slots describe, or None when nothing is known."""
    if not triage.has_facts(slots):
        return None
    advice = triage.advice_for(slots, today)
    lines = triage.deadline_lines(advice)
    return "\n".join(lines) if lines else None


@dataclass(frozen=True)
class Resumed:
    """What a resume attempt gives: the slots to set, and the response to send first (with
    its values), if any."""

    slots: dict[str, Any]
    response: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


def _failed(attempts: int, response: str) -> Resumed:
    attempts += 1
    if attempts >= MAX_CHAT_ATTEMPTS:
        return Resumed(
            {"resume_credentials": "failed", "resume_attempts": 0.0}, "utter_resume_give_up"
        )
    return Resumed({"resume_credentials": None, "resume_attempts": float(attempts)}, response)


def resume_case(typed: str, sender_id: str, attempts: int, *, asked: bool) -> Resumed:
    """Check the code and secret typed against the store; the case's facts as slots.

    `asked`: the message is the request to resume itself (« reprendre mon dossier »): without
    a code in it, the form simply asks for one, and nothing is counted.
    """
    code, secret = find_credentials(typed)
    if code is None and secret is None and asked:
        return Resumed({"resume_credentials": None})
    if code is None or secret is None:
        missing = "utter_resume_missing_code" if code is None else "utter_resume_missing_secret"
        return _failed(attempts, missing)
    locked = {"resume_credentials": "locked", "resume_attempts": 0.0}
    if not resume_limiter.allow(sender_id):
        log.warning("resume refused: too many attempts from this conversation")
        seconds = resume_limiter.retry_after(sender_id)
        reason = message("errors.resume_too_fast", seconds=seconds)
        return Resumed(locked, "utter_resume_locked", {"reason": reason})
    repo = repository()
    try:
        record = repo.open_case(code, secret, actor="chat", sender=(CHAT, sender_id))
    except CaseLockedError as error:
        return Resumed(locked, "utter_resume_locked", {"reason": str(error)})
    except AccessDeniedError:
        return _failed(attempts, "utter_resume_denied")
    except StoreError as error:
        log.error("case store unavailable: %s", type(error).__name__)
        return Resumed(
            {"resume_credentials": "failed", "resume_attempts": 0.0}, "utter_store_unavailable"
        )
    repo.link_sender(record.code, CHAT, sender_id)
    slots = triage.slots_from_case(record.to_dict())
    log.info("case resumed from the chat")
    return Resumed(
        {
            **slots,
            "case_code": record.code,
            "triage_complete": not triage.missing_slots(slots),
            "advice_given": None,
            "current_step": None,
            "strategy_level": None,
            "resume_credentials": "ok",
            "resume_attempts": 0.0,
        }
    )


def delete_case(code: str, sender_id: str) -> bool:
    """Erase the case, its files, and the other conversations linked to it; False when the
    store failed (nothing is said erased). A case already gone counts as erased.

    This conversation is erased by the tracker store when it saves the turn (slot
    `erase_conversation`), since Rasa would otherwise write back the events it holds.
    """
    from riposte.settings import Settings
    from riposte.store.tracker import erase_conversation

    try:
        report = repository().delete_case(code, **as_chat(sender_id))
        others = [s for s in report.sender_ids if s != sender_id]
        if others:
            erase_conversation(Settings.from_env().tracker_store_url, others)
    except UnknownCaseError:
        pass  # already deleted (or not this conversation's): erase the conversation
    except StoreError as error:
        log.error("case deletion failed: %s", type(error).__name__)
        return False
    log.info("case deleted from the chat")
    return True


def record_danger(code: str, sender_id: str, today: date) -> bool:
    """Write the danger to the open case, and only that; False when the store failed."""
    try:
        repository().update_case(
            code, {"incident": {"physical_danger": True}}, today=today, **as_chat(sender_id)
        )
    except StoreError as error:
        log.error("danger not recorded in the case: %s", type(error).__name__)
        return False
    return True


def read_case_dict(code: str, sender_id: str) -> dict[str, Any] | None:
    """The case as the shared dict format, or None when the store refused or failed."""
    try:
        return repository().read_case(code, **as_chat(sender_id)).to_dict()
    except StoreError as error:
        log.error("case store unavailable: %s", type(error).__name__)
        return None
