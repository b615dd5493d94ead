"""« Signaler à la plateforme » : the notice to the platform that hosts the content (article 16
of the Digital Services Act), drafted from the case file.

The form asks only what the stored case does not hold for this letter (which platform when the
case names several, the doctor's name and e-mail, the story, the address of the content and
its quote); each answer is written to the case at once. After a summary and the doctor's
« oui », the letter is rendered (PDF and DOCX), kept encrypted in the case, and offered through
expiring download links, as the complaint is (actions/letters.py).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    call,
    latest_choice,
    request_message,
    text_of,
    today,
)
from actions.letters import (
    ExplainLetterQuestion,
    LetterDuringTriage,
    LetterForm,
    add_validators,
    case_for_letter,
    deliver_letter,
    offer_letter_case,
    show_summary,
)
from riposte.chat import notice as chat

log = logging.getLogger(__name__)


def _reset() -> list[EventType]:
    return [SlotSet(name, None) for name in chat.QUESTIONS]


def _refuse(dispatcher: CollectingDispatcher, check: str, label: str = "") -> None:
    """Why no notice can be written, in the chat's words, with the way forward."""
    dispatcher.utter_message(response=f"utter_notice_refused_{check}", label=label)


class ActionStartNotice(Action):
    """Check that a notice can be written, choose the platform, list the questions to ask."""

    def name(self) -> str:
        return "action_start_notice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        refused: list[EventType] = [SlotSet("notice_possible", False)]
        found = await case_for_letter(dispatcher, tracker, "utter_notice_needs_facts")
        events, code = found.events, found.code
        if not code and found.record is None:
            return [*events, *refused]
        start = await call(
            chat.start_notice,
            code or "",
            tracker.sender_id,
            today(),
            text_of(request_message(tracker)),
            record=found.record,
        )
        if start.failed:
            dispatcher.utter_message(response="utter_store_unavailable")
            return [*events, *refused]
        if start.refused in chat.EXPLAINED:
            _refuse(dispatcher, str(start.refused), start.label)
            return [*events, *refused]
        if start.refused is not None:
            dispatcher.utter_message(response="utter_notice_refused", reason=start.reason)
            return [*events, *refused]
        if not code:
            return [*events, *offer_letter_case(dispatcher), *refused]
        if start.questions:
            dispatcher.utter_message(response="utter_notice_start", count=len(start.questions))
        return [
            *events,
            *_reset(),
            SlotSet("notice_platform", start.platform),
            SlotSet("notice_choices", start.choices),
            SlotSet("notice_missing", start.questions),
            SlotSet("notice_possible", True),
        ]


class ActionAskNoticePlatform(Action):
    """The platform question, with one button per platform of the case that can be notified."""

    response = "utter_ask_notice_platform"

    def name(self) -> str:
        return "action_ask_notice_platform"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        buttons = [
            {
                "title": chat.platform_label(key),
                "payload": "/inform" + json.dumps({"choice": f"{chat.CHOICE}={key}"}),
            }
            for key in tracker.get_slot("notice_choices") or []
        ]
        dispatcher.utter_message(response=self.response, buttons=buttons)
        return []


class ActionNoticeDuringTriage(LetterDuringTriage):
    """« Signaler à la plateforme » while a triage question waits (data/rules/notice.yml)."""

    after_triage = "utter_notice_after_triage"
    after_advice = "utter_notice_after_advice"

    def name(self) -> str:
        return "action_notice_during_triage"


class ValidateNoticeForm(LetterForm):
    """Ask only the listed questions; write each answer to the case as it comes."""

    missing_slot = "notice_missing"
    questions = chat.QUESTIONS
    record_answer = staticmethod(chat.record_answer)
    response_for = staticmethod(chat.response_for)

    def name(self) -> str:
        return "validate_notice_form"

    def kept(self, tracker: Tracker) -> dict[str, Any]:
        return {
            **super().kept(tracker),
            "url": tracker.get_slot("notice_url"),
            "choice": latest_choice(tracker),
            "choices": list(tracker.get_slot("notice_choices") or []),
        }


add_validators(ValidateNoticeForm)


class ActionExplainNoticeQuestion(ExplainLetterQuestion):
    """« Pourquoi ? » during the notice form: why this question (one line per question)."""

    skill = "notice"
    questions = chat.QUESTIONS

    def name(self) -> str:
        return "action_explain_notice_question"


class ActionNoticeSummary(Action):
    """Show what the notice will say, and ask to confirm or correct."""

    def name(self) -> str:
        return "action_notice_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        summary = await call(
            chat.notice_summary,
            tracker.get_slot("case_code"),
            tracker.sender_id,
            tracker.get_slot("notice_platform"),
        )
        return show_summary(dispatcher, summary, chat.LETTER)


class ActionDeliverNotice(Action):
    """« Oui » : draft the notice, keep it in the case, give the links and a short text."""

    def name(self) -> str:
        return "action_deliver_notice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        drafted = await call(
            chat.draft_notice,
            tracker.get_slot("case_code"),
            tracker.sender_id,
            today(),
            tracker.get_slot("notice_platform"),
        )
        if drafted.check in chat.EXPLAINED:
            _refuse(dispatcher, str(drafted.check))
            return [SlotSet("notice_possible", None)]
        return deliver_letter(dispatcher, tracker, drafted, chat.LETTER)


class ActionCorrectNotice(Action):
    """« Corriger » : ask the name, the e-mail and the story again."""

    def name(self) -> str:
        return "action_correct_notice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_notice_correct")
        questions = chat.correction_questions()
        return [*[SlotSet(name, None) for name in questions], SlotSet("notice_missing", questions)]
