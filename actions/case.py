"""The case file from the chat: record as the doctor speaks, resume, deadlines, erase.

Every store call is blocking (SQLAlchemy, scrypt): it runs in a worker thread so that the
action server keeps answering other conversations. One repository per process, one short
session per call (riposte.store.repository). Nothing personal is logged.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, FollowupAction, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import CHAT, as_chat, fact_slots, kept_answer, latest_text, today
from actions.danger import DangerFirstForm
from riposte.chat import triage
from riposte.nlp import evidence as evidence_input
from riposte.ratelimit import RateLimiter
from riposte.store.codes import find_credentials
from riposte.store.errors import (
    AccessDeniedError,
    CaseLockedError,
    InboxFileMissingError,
    QuotaExceededError,
    StoreError,
    UnknownCaseError,
    message,
)
from riposte.store.repository import (
    CaseRepository,
    reset_shared_repository,
    shared_repository,
)

log = logging.getLogger(__name__)

# Failed resume attempts in a row before the chat stops asking (the store itself makes a
# conversation wait after 5 failures for one code, longer after each further one; other
# conversations, the doctor's own, are not held back).
MAX_CHAT_ATTEMPTS = 3
# The evidence form's questions, in the order they are asked (domain.yml, forms.evidence_form).
EVIDENCE_SLOTS = (
    "evidence_url",
    "evidence_seen_at",
    "evidence_author",
    "evidence_excerpt",
    "evidence_published_at",
)
FILE_REF = "evidence_file_ref"  # entity and slot of /send_evidence_file (riposte/channels)
CHANNEL_NAMES = {"telegram": "Telegram", "signal": "Signal"}

T = TypeVar("T")

# Per conversation (sender), in this action server's memory: each resume attempt costs a
# 32 MiB scrypt, even for an unknown code, so a conversation gets `RESUME_BURST` attempts at
# once, then one every minute, before the store is even asked. New cases: a few a day.
RESUME_BURST, RESUME_RATE = 5, 1 / 60
CASES_BURST, CASES_RATE = 5, 5 / 86400
resume_limiter = RateLimiter(RESUME_RATE, RESUME_BURST)
cases_limiter = RateLimiter(CASES_RATE, CASES_BURST)


def repository() -> CaseRepository:
    return shared_repository()


def reset_repository() -> None:
    """Forget the process's repository and rate limits (tests change the store)."""
    global resume_limiter, cases_limiter
    reset_shared_repository()
    resume_limiter = RateLimiter(RESUME_RATE, RESUME_BURST)
    cases_limiter = RateLimiter(CASES_RATE, CASES_BURST)


async def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(function, *args, **kwargs))


async def sync_case(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    slots: Mapping[str, Any],
    *,
    create: bool = False,
) -> list[EventType]:
    """Write the facts and steps of `slots` to the conversation's case, creating it if needed.

    A new case is created only once there is something to keep (or with `create`, e.g. for
    a first evidence item); its code and secret are shown then, once. A store failure is
    told to the doctor and does not stop the triage.
    """
    code = tracker.get_slot("case_code")
    if not (code or create or triage.has_facts(slots) or slots.get("steps_done")):
        return []
    repo = repository()
    patch = triage.case_patch(slots)
    if not code and not cases_limiter.allow(tracker.sender_id):
        log.warning("case not created: this conversation opened too many cases today")
        dispatcher.utter_message(text=message("errors.too_many_cases"))
        return []
    try:
        if code:
            try:
                await call(repo.update_case, code, patch, today=today(), **as_chat(tracker))
                return []
            except UnknownCaseError:
                # Deleted meanwhile (by an operator or another channel), or never this
                # conversation's (the store tells neither apart): start a new one.
                dispatcher.utter_message(response="utter_case_gone")
        new = await call(repo.create_case, _without_nulls(patch), actor="chat", today=today())
        await call(repo.link_sender, new.code, CHAT, tracker.sender_id)
    except StoreError as error:
        log.error("case store unavailable: %s", type(error).__name__)
        dispatcher.utter_message(response="utter_store_unavailable")
        return []
    dispatcher.utter_message(response="utter_case_created", code=new.code, secret=new.secret)
    log.info("case created from the chat")
    return [SlotSet("case_code", new.code)]


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def deadline_text(slots: Mapping[str, Any]) -> str | None:
    """The deadline lines of the case the slots describe, or None when nothing is known."""
    if not triage.has_facts(slots):
        return None
    advice = triage.advice_for(slots, today())
    lines = triage.deadline_lines(advice)
    return "\n".join(lines) if lines else None


class ActionSessionStart(Action):
    """A new session: keep the slots, and remind the deadlines of the case if there is one."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        carried = [
            SlotSet(name, value)
            for name, value in tracker.current_slot_values().items()
            if value is not None and name != "requested_slot"
        ]
        events.extend(carried)
        slots = fact_slots(tracker)
        if tracker.get_slot("case_code"):
            text = deadline_text(slots)
            if text:
                dispatcher.utter_message(
                    response="utter_deadlines_reminder",
                    code=tracker.get_slot("case_code"),
                    deadlines=text,
                )
        events.append(ActionExecuted("action_listen"))
        return events


class ActionTellDeadlines(Action):
    """« Mes délais » : what is running out, from the case and today's date."""

    def name(self) -> str:
        return "action_tell_deadlines"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = deadline_text(fact_slots(tracker))
        if text is None:
            dispatcher.utter_message(response="utter_no_deadlines_yet")
            return []
        dispatcher.utter_message(response="utter_deadlines", deadlines=text)
        return []


class ValidateResumeForm(DangerFirstForm):
    """Check the code and the secret against the store; restore the case into the slots.

    A danger said instead of the code gets the emergency reply first (DangerFirstForm).
    """

    def name(self) -> str:
        return "validate_resume_form"

    async def extract_resume_credentials(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """« reprendre mon dossier RIP-… » with the code in the same message: read it now.

        Only the message that starts the form is read here; the answers to the form's
        question are taken by the slot's `from_text` mapping.
        """
        if tracker.get_intent_of_latest_message() != "resume_case":
            return {}
        if tracker.get_slot("requested_slot") == "resume_credentials":
            return {}
        text = latest_text(tracker)
        code, _secret = find_credentials(text)
        return {"resume_credentials": text} if code else {}

    async def validate_resume_credentials(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        code, secret = find_credentials(str(slot_value or ""))
        attempts = int(tracker.get_slot("resume_attempts") or 0)
        if (
            code is None
            and secret is None
            and tracker.get_intent_of_latest_message() == ("resume_case")
        ):
            return {"resume_credentials": None}  # « reprendre mon dossier » alone: ask
        if code is None or secret is None:
            dispatcher.utter_message(
                response="utter_resume_missing_code"
                if code is None
                else "utter_resume_missing_secret"
            )
            return self._failed(dispatcher, attempts)
        if not resume_limiter.allow(tracker.sender_id):
            log.warning("resume refused: too many attempts from this conversation")
            seconds = resume_limiter.retry_after(tracker.sender_id)
            reason = message("errors.resume_too_fast", seconds=seconds)
            dispatcher.utter_message(response="utter_resume_locked", reason=reason)
            return {"resume_credentials": "locked", "resume_attempts": 0.0}
        repo = repository()
        try:
            record = await call(
                repo.open_case, code, secret, actor="chat", sender=(CHAT, tracker.sender_id)
            )
        except CaseLockedError as error:
            dispatcher.utter_message(response="utter_resume_locked", reason=str(error))
            return {"resume_credentials": "locked", "resume_attempts": 0.0}
        except AccessDeniedError:
            dispatcher.utter_message(response="utter_resume_denied")
            return self._failed(dispatcher, attempts)
        except StoreError as error:
            log.error("case store unavailable: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_store_unavailable")
            return {"resume_credentials": "failed", "resume_attempts": 0.0}
        await call(repo.link_sender, record.code, CHAT, tracker.sender_id)
        slots = triage.slots_from_case(record.to_dict())
        complete = not triage.missing_slots(slots)
        log.info("case resumed from the chat")
        return {
            **slots,
            "case_code": record.code,
            "triage_complete": complete,
            "advice_given": None,
            "current_step": None,
            "strategy_level": None,
            "resume_credentials": "ok",
            "resume_attempts": 0.0,
        }

    @staticmethod
    def _failed(dispatcher: CollectingDispatcher, attempts: int) -> dict[str, Any]:
        attempts += 1
        if attempts >= MAX_CHAT_ATTEMPTS:
            dispatcher.utter_message(response="utter_resume_give_up")
            return {"resume_credentials": "failed", "resume_attempts": 0.0}
        return {"resume_credentials": None, "resume_attempts": float(attempts)}


class ActionCaseResumed(Action):
    """After the resume form: show what the case holds, the deadlines, what comes next."""

    def name(self) -> str:
        return "action_case_resumed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        status = tracker.get_slot("resume_credentials")
        events: list[EventType] = [SlotSet("resume_credentials", None)]
        if status != "ok":
            return events
        slots = fact_slots(tracker)
        lines = triage.summary_lines(slots)
        dispatcher.utter_message(
            response="utter_case_resumed",
            code=tracker.get_slot("case_code"),
            facts="\n".join(lines) if lines else "-",
        )
        text = deadline_text(slots)
        if text:
            dispatcher.utter_message(response="utter_deadlines", deadlines=text)
        if triage.missing_slots(slots) and triage.has_facts(slots):
            # Go on with the questions the triage had not asked yet.
            dispatcher.utter_message(response="utter_resume_continue_triage")
            return [*events, FollowupAction("triage_form")]
        else:
            dispatcher.utter_message(response="utter_resume_next")
        return events


class ActionAskDeleteCase(Action):
    """« Supprimer mon dossier » : say what will be erased and ask for confirmation."""

    def name(self) -> str:
        return "action_ask_delete_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = tracker.get_slot("case_code")
        if code:
            dispatcher.utter_message(response="utter_ask_delete_case", code=code)
        else:
            dispatcher.utter_message(response="utter_ask_delete_conversation")
        return []


class ActionDeleteCase(Action):
    """Confirmed: erase the case, its files, and every conversation linked to it.

    Other channels' conversations are erased here; this conversation is erased by the
    tracker store when it saves this turn (slot `erase_conversation`), since Rasa would
    otherwise write back the events it holds in memory.
    """

    def name(self) -> str:
        return "action_delete_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        from riposte.settings import Settings
        from riposte.store.tracker import erase_conversation

        code = tracker.get_slot("case_code")
        if code:
            repo = repository()
            try:
                report = await call(repo.delete_case, code, **as_chat(tracker))
                others = [s for s in report.sender_ids if s != tracker.sender_id]
                if others:
                    url = Settings.from_env().tracker_store_url
                    await call(erase_conversation, url, others)
            except UnknownCaseError:
                pass  # already deleted (or not this conversation's): erase the conversation
            except StoreError as error:
                log.error("case deletion failed: %s", type(error).__name__)
                dispatcher.utter_message(response="utter_delete_failed")
                return []
            log.info("case deleted from the chat")
        dispatcher.utter_message(response="utter_case_deleted")
        return [SlotSet("erase_conversation", True)]


class ValidateEvidenceForm(DangerFirstForm):
    """Each answer of the evidence form, read and checked (nothing typed is lost).

    A danger said in an answer (a threat quoted as the excerpt) gets the emergency reply
    first (DangerFirstForm); the answer is still read.
    """

    def name(self) -> str:
        return "validate_evidence_form"

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await super().get_extraction_events(dispatcher, tracker, domain)
        if tracker.get_slot("requested_slot") in EVIDENCE_SLOTS:
            events += [SlotSet(name, value) for name, value in kept_answer(tracker).items()]
        return events

    def _check(
        self, slot: str, answer: evidence_input.Answer, dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        if answer.ok:
            return {slot: answer.value}
        dispatcher.utter_message(response=f"utter_evidence_{answer.error}")
        return {slot: None}

    async def validate_evidence_url(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return self._check("evidence_url", evidence_input.read_url(str(slot_value)), dispatcher)

    async def validate_evidence_seen_at(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        answer = evidence_input.read_seen_at(str(slot_value), datetime.now(timezone.utc))
        return self._check("evidence_seen_at", answer, dispatcher)

    async def validate_evidence_author(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        answer = evidence_input.read_author(str(slot_value))
        return self._check("evidence_author", answer, dispatcher)

    async def validate_evidence_excerpt(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        answer = evidence_input.read_excerpt(str(slot_value))
        return self._check("evidence_excerpt", answer, dispatcher)

    async def validate_evidence_published_at(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """« De quand date ce message ? » : its own prescription deadline runs from that day."""
        answer = evidence_input.read_published_at(
            str(slot_value), tracker.get_slot("evidence_seen_at"), datetime.now(timezone.utc)
        )
        return self._check("evidence_published_at", answer, dispatcher)


async def case_for_evidence(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> tuple[str | None, list[EventType]]:
    """The conversation's case code, opening the case first (code and secret shown once) when
    there is none yet; None when the store is unavailable (the doctor has been told)."""
    code = tracker.get_slot("case_code")
    if code:
        return code, []
    events = await sync_case(dispatcher, tracker, fact_slots(tracker), create=True)
    code = next((e["value"] for e in events if e.get("name") == "case_code"), None)
    return code, events


class ActionSaveEvidence(Action):
    """The evidence form is complete: journal the item (UTC timestamp) in the case."""

    def name(self) -> str:
        return "action_save_evidence"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        values = {name: tracker.get_slot(name) for name in EVIDENCE_SLOTS}
        reset = [SlotSet(name, None) for name in EVIDENCE_SLOTS]
        code, events = await case_for_evidence(dispatcher, tracker)
        if not code:
            return [*events, *reset]  # the store is unavailable: already said
        item = {
            "url": values["evidence_url"] or None,
            "captured_at": values["evidence_seen_at"] or None,
            "author": values["evidence_author"] or None,
            "excerpt": values["evidence_excerpt"] or None,
            "published_at": values["evidence_published_at"] or None,
        }
        try:
            record = await call(repository().add_evidence, code, item, **as_chat(tracker))
        except QuotaExceededError as error:
            dispatcher.utter_message(text=" ".join(error.errors))
            return [*events, *reset]
        except StoreError as error:
            log.error("evidence not recorded: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_store_unavailable")
            return [*events, *reset]
        from riposte.letters.links import make_token
        from riposte.settings import Settings
        from riposte.web.uploads import UPLOAD_PATH, upload_key

        recorded = record.recorded_at.astimezone(timezone.utc)
        token = make_token(await call(upload_key), code, record.number)
        dispatcher.utter_message(
            response="utter_evidence_saved",
            number=record.number,
            recorded=recorded.strftime("%d/%m/%Y à %H:%M UTC"),
            upload=f"{Settings.from_env().public_url}{UPLOAD_PATH}{token}",
        )
        log.info("evidence item recorded from the chat")
        return [*events, *reset]


class ActionSaveEvidenceFile(Action):
    """A photo or document sent on Telegram or Signal: file it in the case's journal.

    The channel sealed the file in the store's inbox, bound to this conversation's sender, and
    sent `/send_evidence_file{"evidence_file_ref": …}`. The item (file, fingerprint, caption as
    the excerpt, UTC time) is written and the inbox entry deleted in one transaction. Without a
    case yet, one is opened first (its code and secret shown once), as for a typed item.
    """

    def name(self) -> str:
        return "action_save_evidence_file"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        from sqlalchemy.exc import SQLAlchemyError

        ref = next(tracker.get_latest_entity_values(FILE_REF), None) or tracker.get_slot(FILE_REF)
        reset: list[EventType] = [SlotSet(FILE_REF, None)]
        if not ref:
            dispatcher.utter_message(response="utter_evidence_file_missing")
            return reset
        code, events = await case_for_evidence(dispatcher, tracker)
        if not code:
            return [*events, *reset]  # the store is unavailable: already said
        try:
            record = await call(
                repository().add_inbox_evidence,
                code,
                str(ref),
                tracker.sender_id,
                **as_chat(tracker),
            )
        except InboxFileMissingError:
            log.warning("evidence file not found in the inbox (unknown, filed or expired)")
            dispatcher.utter_message(response="utter_evidence_file_missing")
            return [*events, *reset]
        except QuotaExceededError as error:
            dispatcher.utter_message(text=" ".join(error.errors))
            return [*events, *reset]
        except (StoreError, SQLAlchemyError) as error:
            log.error("evidence file not recorded: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_evidence_file_not_saved")
            return [*events, *reset]
        channel = tracker.get_latest_input_channel() or ""
        recorded = record.recorded_at.astimezone(timezone.utc)
        dispatcher.utter_message(
            response="utter_evidence_file_saved",
            number=record.number,
            channel=CHANNEL_NAMES.get(channel, "la messagerie"),
            recorded=recorded.strftime("%d/%m/%Y à %H:%M UTC"),
            fingerprint=(record.item.sha256 or "")[:16],
        )
        log.info("evidence file recorded from the chat")
        return [*events, *reset]


class ActionCancelForm(Action):
    """« Annuler » in the resume or evidence form: stop, keep the case as it is."""

    def name(self) -> str:
        return "action_cancel_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_form_cancelled")
        return [
            *(SlotSet(name, None) for name in EVIDENCE_SLOTS),
            SlotSet("resume_credentials", None),
            SlotSet("resume_attempts", 0.0),
            SlotSet("requested_slot", None),
        ]
