"""The other letters from the chat: erasure request, CNIL complaint, right of reply, declaration
to the Ordre, protection fonctionnelle, letter to the author (riposte/chat/drafts.py).

« Je veux demander l'effacement » (or a button of the advice's steps) names the letter; without
one, the doctor chooses among buttons. The form asks only what the stored case does not hold for
this letter, writes each answer at once, shows a summary, and after « oui » renders the letter
(PDF and DOCX), keeps it encrypted in the case and offers it as the complaint is
(actions/letters.py), with how to send it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    call,
    choice_of,
    latest_choice,
    request_message,
    text_of,
    today,
)
from actions.follow_ups import plan_follow_ups
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
from actions.notice import ActionAskNoticePlatform
from riposte.chat import drafts as chat
from riposte.store.records import CaseRecord

log = logging.getLogger(__name__)
# The button payload that names the letter (domain/drafts.yml): choice "draft_kind=KIND".
KIND_CHOICE = "draft_kind="
# The refusals the chat explains in its own words (utter_draft_refused_<detail>); any other is
# shown as the letter builder words it (utter_draft_refused).
EXPLAINED = frozenset(
    {
        "platform_missing",
        "platform_private",
        "offense_retained",
        "hospital_practice",
        "author_colleague",
        "author_danger",
        "author_raid",
        "author_not_public",
        "author_unknown",
        "right_of_reply_private",
        "right_of_reply_in_place",
        "right_of_reply_expired",
        "erasure_pending",
    }
)


def requested_kind(tracker: Tracker) -> str | None:
    """The letter asked for: a button's choice, or the words of the request."""
    message = request_message(tracker)
    choice = choice_of(message) or ""
    if choice.startswith(KIND_CHOICE):
        kind = choice[len(KIND_CHOICE) :]
        return kind if kind in chat.KINDS else None
    return chat.kind_from_text(text_of(message))


def _refuse(
    dispatcher: CollectingDispatcher, detail: str | None, reason: str, **values: str
) -> None:
    """Why the letter cannot be written, with the way forward when the chat knows it."""
    if detail in EXPLAINED:
        dispatcher.utter_message(response=f"utter_draft_refused_{detail}", reason=reason, **values)
    else:
        dispatcher.utter_message(response="utter_draft_refused", reason=reason)


def _questions_reset() -> list[EventType]:
    return [SlotSet(name, None) for name in chat.QUESTIONS]


async def start_events(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    code: str | None,
    kind: str,
    record: CaseRecord | None = None,
) -> list[EventType] | None:
    """The slots that open the form for `kind`, or None when it cannot be written (said).

    Without a case (`code` None), `record` holds the conversation's facts: the letter is only
    checked (a refusal is said), nothing is announced."""
    start = await call(
        chat.start_draft,
        code or "",
        tracker.sender_id,
        today(),
        kind,
        text_of(request_message(tracker)),
        record=record,
    )
    if start.failed:
        dispatcher.utter_message(response="utter_store_unavailable")
        return None
    if start.refused is not None:
        _refuse(
            dispatcher,
            start.detail,
            start.reason,
            label=start.label,
            sent_on=start.sent_on,
            due=start.due,
        )
        return None
    if code is None:
        return []
    label = chat.letter_label(kind)
    if start.questions:
        dispatcher.utter_message(
            response="utter_draft_start", label=label, count=len(start.questions)
        )
    else:
        dispatcher.utter_message(response="utter_draft_start_complete", label=label)
    return [
        *_questions_reset(),
        SlotSet("draft_kind", kind),
        SlotSet("notice_platform", start.platform),
        SlotSet("notice_choices", start.choices),
        SlotSet("draft_missing", start.questions),
        SlotSet("draft_possible", True),
    ]


class ActionStartDraft(Action):
    """Name the letter (or offer the choice), check it can be written, list the questions."""

    def name(self) -> str:
        return "action_start_draft"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        refused: list[EventType] = [SlotSet("draft_possible", False)]
        kind = requested_kind(tracker)
        if kind in chat.OTHER_SKILLS:
            dispatcher.utter_message(response=f"utter_draft_other_skill_{kind}")
            return refused
        if kind is None:
            dispatcher.utter_message(response="utter_ask_draft_kind")
            return refused
        found = await case_for_letter(dispatcher, tracker, "utter_draft_needs_facts")
        events, code = found.events, found.code
        if not code and found.record is None:
            return [*events, *refused]
        opened = await start_events(dispatcher, tracker, code, kind, found.record)
        if opened is None:
            return [*events, *refused]
        if not code:
            return [*events, *offer_letter_case(dispatcher), *refused]
        return [*events, *opened]


class ActionAskDraftPlatform(ActionAskNoticePlatform):
    """The site question of the letters' form, with one button per site of the case."""

    response = "utter_ask_draft_form_notice_platform"

    def name(self) -> str:
        return "action_ask_draft_form_notice_platform"


class ActionDraftDuringTriage(LetterDuringTriage):
    """A letter asked for while a triage question waits (data/rules/drafts.yml)."""

    after_triage = "utter_draft_after_triage"
    after_advice = "utter_draft_after_advice"

    def name(self) -> str:
        return "action_draft_during_triage"


class ValidateDraftForm(LetterForm):
    """Ask only the listed questions; write each answer to the case as it comes.

    The CNIL complaint's first question, when the erasure request was sent, leads elsewhere
    on two answers: « non » starts the erasure request instead, and a request sent less than a
    month ago ends the form with the day the CNIL can be seized (`draft_possible` false: no
    question is left, and the summary says nothing).
    """

    missing_slot = "draft_missing"
    questions = chat.QUESTIONS
    record_answer = staticmethod(chat.record_answer)
    response_for = staticmethod(chat.response_for)

    def name(self) -> str:
        return "validate_draft_form"

    def kept(self, tracker: Tracker) -> dict[str, Any]:
        return {
            **super().kept(tracker),
            "kind": tracker.get_slot("draft_kind"),
            "url": tracker.get_slot("notice_url"),
            "choice": latest_choice(tracker),
            "choices": list(tracker.get_slot("notice_choices") or []),
        }

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("draft_possible") is False:
            return []
        return await super().required_slots(domain_slots, dispatcher, tracker, domain)

    async def answer(
        self, question: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        if question != "draft_erasure_date" or value is None or not tracker.get_slot("case_code"):
            return await super().answer(question, value, dispatcher, tracker)
        answered = await self.record(question, str(value or ""), tracker)
        reading = answered.reading
        if reading is None or answered.failed:
            dispatcher.utter_message(response="utter_store_unavailable")
            return {question: None}
        if reading.error == "erasure_first":
            return await self._erasure_first(dispatcher, tracker)
        if not reading.ok:
            dispatcher.utter_message(response=chat.response_for(str(reading.error)))
            return {question: None}
        from riposte.letters.filters import date_num

        sent_on = date.fromisoformat(str(reading.keep))
        dispatcher.utter_message(response="utter_draft_erasure_recorded", date=date_num(sent_on))
        # The site's answer is now awaited: a follow-up the day after its month.
        await plan_follow_ups(dispatcher, tracker, str(tracker.get_slot("case_code")))
        # The slot is what the chat writes back to the case (riposte/chat/case.py, sync_case).
        done = [key for key in tracker.get_slot("steps_done") or [] if key != "erasure_request"]
        steps = {"steps_done": [*done, "erasure_request"]}
        due = chat.answer_due(sent_on, today())
        if due is not None:
            dispatcher.utter_message(
                response="utter_draft_refused_erasure_pending",
                sent_on=date_num(sent_on),
                due=date_num(due),
            )
            return {question: reading.keep, **steps, "draft_possible": False}
        return {question: reading.keep, **steps}

    async def _erasure_first(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """« Pas encore envoyée » : the form goes on with the erasure request."""
        dispatcher.utter_message(response="utter_draft_erasure_first")
        opened = await start_events(
            dispatcher, tracker, str(tracker.get_slot("case_code")), "erasure_request"
        )
        if opened is None:
            return {"draft_erasure_date": "no", "draft_possible": False}
        slots: dict[str, Any] = {
            event["name"]: event["value"] for event in opened if event.get("event") == "slot"
        }
        # The question just answered must not stay empty, or the form would ask it again.
        return {**slots, "draft_erasure_date": "no"}


add_validators(ValidateDraftForm)


class ActionExplainDraftQuestion(ExplainLetterQuestion):
    """« Pourquoi ? » during the form: why this question (one line per question)."""

    skill = "draft"
    questions = chat.QUESTIONS

    def name(self) -> str:
        return "action_explain_draft_question"


def pending_kind(tracker: Tracker) -> str | None:
    """The letter the form was opened for, while it can still be written (None: the form
    ended without one, its reason said)."""
    kind = tracker.get_slot("draft_kind")
    return kind if tracker.get_slot("draft_possible") and kind in chat.KINDS else None


class ActionDraftSummary(Action):
    """Show what the letter will say, and ask to confirm or correct."""

    def name(self) -> str:
        return "action_draft_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        kind = pending_kind(tracker)
        if kind is None:
            return []
        summary = await call(
            chat.draft_summary,
            tracker.get_slot("case_code"),
            tracker.sender_id,
            kind,
            tracker.get_slot("notice_platform"),
            tracker.get_slot("draft_reply"),
        )
        return show_summary(dispatcher, summary, chat.LETTER)


class ActionDeliverDraft(Action):
    """« Oui » : draft the letter, keep it in the case, give the links, how to send it."""

    def name(self) -> str:
        return "action_deliver_draft"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        kind = pending_kind(tracker)
        if kind is None:
            dispatcher.utter_message(response="utter_draft_nothing")
            return []
        drafted = await call(
            chat.draft,
            tracker.get_slot("case_code"),
            tracker.sender_id,
            today(),
            kind,
            tracker.get_slot("notice_platform"),
            tracker.get_slot("draft_reply"),
        )
        if drafted.refused is not None and drafted.detail in EXPLAINED:
            _refuse(dispatcher, drafted.detail, drafted.refused)
            return [SlotSet("draft_possible", None)]
        letter = replace(chat.LETTER, document_name=chat.document_name(kind))
        events = deliver_letter(dispatcher, tracker, drafted, letter)
        if drafted.document is not None and not drafted.failed and drafted.refused is None:
            dispatcher.utter_message(response=f"utter_draft_send_{kind}")
        return events


class ActionCorrectDraft(Action):
    """« Corriger » : ask again what was typed for this letter."""

    def name(self) -> str:
        return "action_correct_draft"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_draft_correct")
        questions = chat.correction_questions(str(tracker.get_slot("draft_kind")))
        return [*[SlotSet(name, None) for name in questions], SlotSet("draft_missing", questions)]
