"""« Rédiger ma plainte » : the complaint to the procureur, drafted from the case file.

The form asks only what the stored case does not hold (identity, date and place of birth, which
the doctor may skip, address, tribunal, the story, the statements to quote); each answer is
written to the case at once. After a summary and the
doctor's « oui », the letter is rendered (PDF and DOCX), kept encrypted in the case, and
offered through expiring download links, with a short version in the chat.
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import call, today
from actions.letters import (
    LetterDuringTriage,
    LetterForm,
    add_validators,
    case_for_letter,
    deliver_letter,
    offer_letter_case,
    show_summary,
)
from riposte.chat import complaint as chat

log = logging.getLogger(__name__)


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
        refused: list[EventType] = [SlotSet("letter_possible", False)]
        found = await case_for_letter(dispatcher, tracker, "utter_complaint_needs_facts")
        events, code = found.events, found.code
        if not code and found.record is None:
            return [*events, *refused]
        start = await call(
            chat.start_complaint, code or "", tracker.sender_id, today(), record=found.record
        )
        if start.failed:
            dispatcher.utter_message(response="utter_store_unavailable")
            return [*events, *refused]
        if start.refused is not None:
            dispatcher.utter_message(response="utter_complaint_refused", reason=start.refused)
            return [*events, *refused]
        if not code:
            return [*events, *offer_letter_case(dispatcher), *refused]
        questions = start.questions
        if questions:
            dispatcher.utter_message(response="utter_complaint_start", count=len(questions))
        return [
            *events,
            *_reset(),
            SlotSet("letter_missing", questions),
            SlotSet("letter_possible", True),
        ]


class ActionComplaintDuringTriage(LetterDuringTriage):
    """« Rédiger ma plainte » while a triage question waits (data/rules/complaint.yml): the
    facts of the message are kept, the complaint comes after the remaining questions."""

    after_triage = "utter_complaint_after_triage"
    after_advice = "utter_complaint_after_advice"

    def name(self) -> str:
        return "action_complaint_during_triage"


class ValidateComplaintForm(LetterForm):
    """Ask only the listed questions; write each answer to the case as it comes."""

    missing_slot = "letter_missing"
    questions = chat.QUESTIONS
    record_answer = staticmethod(chat.record_answer)
    response_for = staticmethod(chat.response_for)

    def name(self) -> str:
        return "validate_complaint_form"


add_validators(ValidateComplaintForm)


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
        return show_summary(dispatcher, summary, chat.LETTER)


class ActionDeliverComplaint(Action):
    """« Oui » : draft the complaint, keep it in the case, give the links and a short text."""

    def name(self) -> str:
        return "action_deliver_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = tracker.get_slot("case_code")
        drafted = await call(chat.draft_complaint, code, tracker.sender_id, today())
        return deliver_letter(dispatcher, tracker, drafted, chat.LETTER)


class ActionCorrectComplaint(Action):
    """« Corriger » : ask every question again (the answers replace the stored ones)."""

    def name(self) -> str:
        return "action_correct_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_complaint_correct")
        return [*_reset(), SlotSet("letter_missing", chat.correction_questions())]
