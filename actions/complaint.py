"""« Rédiger ma plainte » : the complaint to the procureur, drafted from the case file.

The form asks only what the stored case does not hold (identity, date and place of birth, which
the doctor may skip, address, tribunal, the story, the statements to quote); each answer is
written to the case at once. After a summary and the
doctor's « oui », the letter is rendered (PDF and DOCX), kept encrypted in the case, and
offered through expiring download links, with a short version in the chat.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    call,
    fact_slots,
    kept_answer,
    message_facts,
    new_case_code,
    sync_case,
    today,
)
from actions.danger import DangerFirstForm, emergency_first
from riposte.chat import complaint as chat
from riposte.chat import triage

log = logging.getLogger(__name__)
# Channels that deliver files as documents (riposte_rasa/channels: custom JSON `document`).
DOCUMENT_CHANNELS = frozenset({"telegram", "signal"})


def letter_link(token: str, fmt: str) -> str:
    """The expiring download link of a letter, from its signed token."""
    from riposte.settings import Settings
    from riposte.web import LETTERS_PATH

    return f"{Settings.from_env().public_url}{LETTERS_PATH}{token}.{fmt}"


def _reset() -> list[EventType]:
    return [SlotSet(name, None) for name in chat.QUESTIONS]


class ActionStartComplaint(Action):
    """Check that a complaint can be written, then list the questions still to ask.

    A request that also reveals a danger (« rédigez ma plainte, il dit qu'il va me tuer »)
    keeps its intent (riposte_rasa/nlu/facts_classifier.py): the emergency reply comes first
    here, then the complaint.
    """

    def name(self) -> str:
        return "action_start_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        danger: list[EventType] = []
        if emergency_first(dispatcher, tracker):
            danger = [SlotSet("urgent", True)]
        return [*danger, *await self._start(dispatcher, tracker, bool(danger))]

    async def _start(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, danger: bool
    ) -> list[EventType]:
        slots = fact_slots(tracker)
        if danger:
            slots["urgent"] = True
        refused: list[EventType] = [SlotSet("letter_possible", False)]
        if not triage.has_facts(slots) or triage.missing_slots(slots):
            dispatcher.utter_message(response="utter_complaint_needs_facts")
            return refused
        events = await sync_case(dispatcher, tracker, slots, create=True)
        # A case opened just now (none yet, or the slot's was gone) comes first.
        code = new_case_code(events) or tracker.get_slot("case_code")
        if not code:
            return [*events, *refused]
        start = await call(chat.start_complaint, code, tracker.sender_id, today())
        if start.failed:
            dispatcher.utter_message(response="utter_store_unavailable")
            return [*events, *refused]
        if start.refused is not None:
            dispatcher.utter_message(response="utter_complaint_refused", reason=start.refused)
            return [*events, *refused]
        questions = start.questions
        if questions:
            dispatcher.utter_message(response="utter_complaint_start", count=len(questions))
        return [
            *events,
            *_reset(),
            SlotSet("letter_missing", questions),
            SlotSet("letter_possible", True),
        ]


class ActionComplaintDuringTriage(Action):
    """« Rédiger ma plainte » while a triage question waits (data/rules/complaint.yml).

    The complaint cannot start yet: action_start_complaint needs every fact the triage asks
    (triage.missing_slots), so a triage question pending means it would refuse. Rather than
    « je n'ai pas compris », keep what the message says about the situation, tell the doctor
    the complaint comes right after the remaining questions, and let the form ask again.
    """

    def name(self) -> str:
        return "action_complaint_during_triage"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        current = fact_slots(tracker)
        updates = message_facts(tracker, current)
        slots = {**current, **updates}
        if emergency_first(dispatcher, tracker):
            updates["urgent"] = True
            slots["urgent"] = True
        missing = triage.missing_slots(slots)
        if missing:
            dispatcher.utter_message(response="utter_complaint_after_triage", count=len(missing))
        else:
            dispatcher.utter_message(response="utter_complaint_after_advice")
        events: list[EventType] = [SlotSet(name, value) for name, value in updates.items()]
        if updates:
            events += await sync_case(dispatcher, tracker, slots)
        return events


class ValidateComplaintForm(DangerFirstForm):
    """Ask only the listed questions; write each answer to the case as it comes.

    A danger said in an answer (a threat quoted as the statement) gets the emergency reply
    first (DangerFirstForm); the answer is still read and kept.
    """

    def name(self) -> str:
        return "validate_complaint_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # The domain's order (forms.complaint_form); chat.QUESTIONS is the same list.
        missing = set(tracker.get_slot("letter_missing") or [])
        return [name for name in domain_slots if name in missing]

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await super().get_extraction_events(dispatcher, tracker, domain)
        if tracker.get_slot("requested_slot") in chat.QUESTIONS:
            long_answer = tracker.get_slot("requested_slot") == "letter_summary"
            kept = kept_answer(tracker, long_answer=long_answer)
            events += [SlotSet(name, value) for name, value in kept.items()]
        return events

    async def _answer(
        self, question: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        code = tracker.get_slot("case_code")
        if not code:
            dispatcher.utter_message(response="utter_store_unavailable")
            return {question: None}
        answered = await call(
            chat.record_answer,
            question,
            str(value or ""),
            code,
            tracker.sender_id,
            today(),
            statement=tracker.get_slot("letter_statement"),
        )
        reading = answered.reading
        if reading is not None and not reading.ok:
            dispatcher.utter_message(response=f"utter_complaint_{reading.error}")
            return {question: None}
        if reading is not None and reading.note:
            dispatcher.utter_message(response=f"utter_complaint_{reading.note}")
        if reading is None or answered.failed:
            dispatcher.utter_message(response="utter_store_unavailable")
            return {question: None}
        return {question: reading.keep or "ok"}


def _validator(question: str) -> Any:
    async def validate(
        self: ValidateComplaintForm,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return await self._answer(question, value, dispatcher, tracker)

    validate.__name__ = f"validate_{question}"
    return validate


# rasa-sdk calls `validate_<slot>` for each answer: one per question, all alike.
for _question in chat.QUESTIONS:
    setattr(ValidateComplaintForm, f"validate_{_question}", _validator(_question))


class ActionComplaintSummary(Action):
    """Show what the complaint will say, and ask to confirm or correct."""

    def name(self) -> str:
        return "action_complaint_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        summary = await call(
            chat.complaint_summary, tracker.get_slot("case_code"), tracker.sender_id
        )
        if summary is None:
            dispatcher.utter_message(response="utter_store_unavailable")
            return []
        dispatcher.utter_message(response="utter_complaint_summary", summary=summary)
        return []


class ActionDeliverComplaint(Action):
    """« Oui » : draft the complaint, keep it in the case, give the links and a short text."""

    def name(self) -> str:
        return "action_deliver_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = tracker.get_slot("case_code")
        drafted = await call(chat.draft_complaint, code, tracker.sender_id, today())
        if drafted.refused is not None:
            dispatcher.utter_message(response="utter_complaint_refused", reason=drafted.refused)
            return [SlotSet("letter_possible", None)]
        if drafted.failed or drafted.document is None:
            dispatcher.utter_message(response="utter_store_unavailable")
            return []
        links = [letter_link(token, fmt) for fmt, _media, _data, token in drafted.files]
        dispatcher.utter_message(
            response="utter_complaint_ready",
            letter=chat.short_text(drafted.document),
            pdf=links[0],
            docx=links[1],
        )
        if tracker.get_latest_input_channel() in DOCUMENT_CHANNELS:
            # Messaging apps get the files themselves, not only links.
            for fmt, media, data, _token in drafted.files:
                dispatcher.utter_message(json_message=chat.document_message(data, fmt, media))
        return [SlotSet("letter_possible", None), *_reset()]


class ActionCorrectComplaint(Action):
    """« Corriger » : ask every question again (the answers replace the stored ones)."""

    def name(self) -> str:
        return "action_correct_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_complaint_correct")
        return [*_reset(), SlotSet("letter_missing", chat.correction_questions())]
