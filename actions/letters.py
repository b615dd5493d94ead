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

from actions.case import call, repository, sync_case
from actions.common import as_chat, fact_slots, kept_answer, message_facts, today
from actions.danger import DangerFirstForm, emergency_first
from riposte.chat import complaint as chat
from riposte.chat import triage
from riposte.store.errors import QuotaExceededError, StoreError

log = logging.getLogger(__name__)
KIND = "procureur"
# Channels that deliver files as documents (riposte/channels: custom JSON `document`).
DOCUMENT_CHANNELS = frozenset({"telegram", "signal"})
FORMATS = (
    ("pdf", "application/pdf"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
)


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
        from riposte.advice.engine import advise
        from riposte.letters.build import LetterOptions, check_letter

        slots = fact_slots(tracker)
        if danger:
            slots["urgent"] = True
        refused: list[EventType] = [SlotSet("letter_possible", False)]
        if not triage.has_facts(slots) or triage.missing_slots(slots):
            dispatcher.utter_message(response="utter_complaint_needs_facts")
            return refused
        events = await sync_case(dispatcher, tracker, slots, create=True)
        # A case opened just now (none yet, or the slot's was gone) comes first.
        code = next(
            (e["value"] for e in events if e.get("name") == "case_code"), None
        ) or tracker.get_slot("case_code")
        if not code:
            return [*events, *refused]
        try:
            record = await call(repository().read_case, code, **as_chat(tracker))
        except StoreError as error:
            log.error("case store unavailable: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_store_unavailable")
            return [*events, *refused]
        day = today()
        problem = check_letter(record.case, KIND, day, LetterOptions(), advise(record.case, day))
        questions = chat.questions_for(record.to_dict())
        if problem is not None and not questions:
            dispatcher.utter_message(response="utter_complaint_refused", reason=str(problem))
            return [*events, *refused]
        if problem is not None and not problem.header:
            # Refused on substance (nothing to prosecute, prescribed): no question helps.
            dispatcher.utter_message(response="utter_complaint_refused", reason=str(problem))
            return [*events, *refused]
        if questions:
            dispatcher.utter_message(response="utter_complaint_start", count=len(questions))
        log.info("complaint form: %d questions", len(questions))
        return [
            *events,
            *_reset(),
            SlotSet("letter_missing", questions),
            SlotSet("letter_possible", True),
        ]


class ActionComplaintDuringTriage(Action):
    """« Rédiger ma plainte » while a triage question waits (data/rules/digressions.yml).

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
        missing = set(tracker.get_slot("letter_missing") or [])
        return [name for name in chat.QUESTIONS if name in missing]

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
        repo = repository()
        try:
            current = (await call(repo.read_case, code, **as_chat(tracker))).to_dict()
            reading = chat.read_answer(
                question,
                str(value or ""),
                current,
                today(),
                statement=tracker.get_slot("letter_statement"),
            )
            if not reading.ok:
                dispatcher.utter_message(response=f"utter_complaint_{reading.error}")
                return {question: None}
            if reading.note:
                dispatcher.utter_message(response=f"utter_complaint_{reading.note}")
            if reading.patch:
                patch = dict(reading.patch)
                await call(repo.update_case, code, patch, today=today(), **as_chat(tracker))
            if reading.evidence:
                await call(repo.add_evidence, code, dict(reading.evidence), **as_chat(tracker))
        except StoreError as error:
            log.error("complaint answer not recorded: %s", type(error).__name__)
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
        code = tracker.get_slot("case_code")
        try:
            record = await call(repository().read_case, code, **as_chat(tracker))
        except StoreError as error:
            log.error("case store unavailable: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_store_unavailable")
            return []
        dispatcher.utter_message(
            response="utter_complaint_summary", summary=chat.summary_text(record.to_dict())
        )
        return []


class ActionDeliverComplaint(Action):
    """« Oui » : draft the complaint, keep it in the case, give the links and a short text."""

    def name(self) -> str:
        return "action_deliver_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        from riposte.letters.build import LetterError, build_letter
        from riposte.letters.links import link_key, make_token
        from riposte.letters.output import render
        from riposte.settings import Settings
        from riposte.web import LETTERS_PATH

        code = tracker.get_slot("case_code")
        repo = repository()
        try:
            record = await call(repo.read_case, code, action="letter", **as_chat(tracker))
            document = await call(build_letter, record.case, KIND, today())
            links = []
            rendered: dict[str, bytes] = {}
            for fmt, media in FORMATS:
                data = rendered[fmt] = await call(render, document, fmt)
                letter = await call(
                    repo.record_letter, code, KIND, data, media_type=media, **as_chat(tracker)
                )
                token = make_token(await call(link_key), record.code, letter.number)
                links.append(f"{Settings.from_env().public_url}{LETTERS_PATH}{token}.{fmt}")
        except LetterError as problem:
            dispatcher.utter_message(response="utter_complaint_refused", reason=str(problem))
            return [SlotSet("letter_possible", None)]
        except QuotaExceededError as full:  # the case holds as many letters as it may
            dispatcher.utter_message(response="utter_complaint_refused", reason=str(full))
            return [SlotSet("letter_possible", None)]
        except StoreError as error:
            log.error("complaint not delivered: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_store_unavailable")
            return []
        dispatcher.utter_message(
            response="utter_complaint_ready",
            letter=chat.short_text(document),
            pdf=links[0],
            docx=links[1],
        )
        if tracker.get_latest_input_channel() in DOCUMENT_CHANNELS:
            # Messaging apps get the files themselves, not only links.
            for fmt, media in FORMATS:
                dispatcher.utter_message(
                    json_message=chat.document_message(rendered[fmt], fmt, media)
                )
        log.info("complaint delivered in the chat")
        return [SlotSet("letter_possible", None), *_reset()]


class ActionCorrectComplaint(Action):
    """« Corriger » : ask every question again (the answers replace the stored ones)."""

    def name(self) -> str:
        return "action_correct_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_complaint_correct")
        questions = [
            q for q in chat.QUESTIONS if q not in ("letter_statement", "letter_statement_date")
        ]
        return [*_reset(), SlotSet("letter_missing", questions)]
