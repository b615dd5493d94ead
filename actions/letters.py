"""Glue shared by the letters drafted in the chat (actions/complaint.py, actions/notice.py):
the case a letter needs, the form that asks only what the case lacks and writes each answer at
once, and the delivery (a short text, the download links, the files on messaging apps)."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    OFFER_LETTER,
    call,
    consented,
    fact_slots,
    kept_answer,
    message_facts,
    new_case_code,
    offer_case,
    sync_case,
    today,
)
from actions.danger import DangerFirstForm, emergency_first
from actions.follow_ups import plan_follow_ups
from riposte.chat import case, triage
from riposte.chat.letters import Answered, ChatLetter, Drafted, document_message, short_text
from riposte.store.records import CaseRecord

log = logging.getLogger(__name__)
# Channels that deliver files as documents (riposte_rasa/channels: custom JSON `document`).
DOCUMENT_CHANNELS = frozenset({"telegram", "signal"})
# The questions whose answer is a story (a long answer read as a digression is still it).
LONG_ANSWERS = frozenset({"letter_summary", "draft_reply"})


def letter_link(token: str, fmt: str) -> str:
    """The expiring download link of a letter, from its signed token."""
    from riposte.settings import Settings
    from riposte.web import LETTERS_PATH

    return f"{Settings.from_env().public_url}{LETTERS_PATH}{token}.{fmt}"


@dataclass(frozen=True)
class LetterCase:
    """The case a letter is drafted from (`code`), or, before the doctor's yes to a case
    file, the conversation's facts (`record`, stored nowhere) to check the letter against
    first; neither: the letter cannot start (said). `events` are to be returned."""

    events: list[EventType]
    code: str | None = None
    record: CaseRecord | None = None


async def case_for_letter(
    dispatcher: CollectingDispatcher, tracker: Tracker, needs_facts: str
) -> LetterCase:
    """The case a letter is drafted from.

    A request that also reveals a danger (« rédigez ma plainte, il dit qu'il va me tuer »)
    keeps its intent (riposte_rasa/nlu/facts_classifier.py): the emergency reply comes first.
    A letter needs every fact the triage asks: without them, `needs_facts` is sent. It is
    kept in the case file: without one, the start action checks the letter against the
    conversation's facts (a refusal needs no case), then offers the file (`offer_letter_case`);
    the doctor's yes runs the start action again (data/rules/case.yml), which opens it.
    """
    slots = fact_slots(tracker)
    events: list[EventType] = []
    if emergency_first(dispatcher, tracker):
        events.append(SlotSet("urgent", True))
        slots["urgent"] = True
    if not triage.has_facts(slots) or triage.missing_slots(slots):
        dispatcher.utter_message(response=needs_facts)
        return LetterCase(events)
    if not tracker.get_slot("case_code") and not consented(tracker, OFFER_LETTER):
        return LetterCase(events, record=case.transient_record(slots, today()))
    synced = await sync_case(dispatcher, tracker, slots, create=True)
    # A case opened just now (none yet, or the slot's was gone) comes first.
    code = new_case_code(synced) or tracker.get_slot("case_code")
    return LetterCase([*events, *synced], code=code)


def offer_letter_case(dispatcher: CollectingDispatcher) -> list[EventType]:
    """The letter can be written: offer the case file it is kept in."""
    return offer_case(dispatcher, "utter_case_offer_letter", OFFER_LETTER)


async def letter_during_triage(
    dispatcher: CollectingDispatcher, tracker: Tracker, after_triage: str, after_advice: str
) -> list[EventType]:
    """A letter asked for while a triage question waits (data/rules/complaint.yml, notice.yml).

    The letter cannot start yet: it needs every fact the triage asks (triage.missing_slots),
    so a triage question pending means it would refuse. Rather than « je n'ai pas compris »,
    keep what the message says about the situation, tell the doctor the letter comes right
    after the remaining questions (`after_triage`, with their count; `after_advice` when the
    message answered the last one), and let the form ask again.
    """
    current = fact_slots(tracker)
    updates = message_facts(tracker, current)
    slots = {**current, **updates}
    if emergency_first(dispatcher, tracker):
        updates["urgent"] = True
        slots["urgent"] = True
    missing = triage.missing_slots(slots)
    if missing:
        dispatcher.utter_message(response=after_triage, count=len(missing))
    else:
        dispatcher.utter_message(response=after_advice)
    events: list[EventType] = [SlotSet(name, value) for name, value in updates.items()]
    if updates:
        events += await sync_case(dispatcher, tracker, slots)
    return events


class LetterDuringTriage(Action, ABC):
    """A letter asked for while a triage question waits: `letter_during_triage` with the
    skill's two responses (`after_triage`, `after_advice`)."""

    after_triage: str = ""
    after_advice: str = ""

    @abstractmethod
    def name(self) -> str:
        """action_<letter>_during_triage."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return await letter_during_triage(dispatcher, tracker, self.after_triage, self.after_advice)


class ExplainLetterQuestion(Action, ABC):
    """« Pourquoi ? » during a letter's form: why the pending question, one line per question
    (`utter_why_<skill>_<question>`)."""

    skill: str = ""
    questions: tuple[str, ...] = ()

    @abstractmethod
    def name(self) -> str:
        """action_explain_<skill>_question."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        requested = tracker.get_slot("requested_slot")
        if requested in self.questions:
            dispatcher.utter_message(response=f"utter_why_{self.skill}_{requested}")
        return []


def show_summary(
    dispatcher: CollectingDispatcher, summary: str | None, letter: ChatLetter
) -> list[EventType]:
    """What the letter will say, to confirm or correct (`utter_<skill>_summary`); None: the
    case could not be read."""
    if summary is None:
        dispatcher.utter_message(response="utter_store_unavailable")
    else:
        dispatcher.utter_message(response=f"utter_{letter.skill}_summary", summary=summary)
    return []


def deliver_letter(
    dispatcher: CollectingDispatcher, tracker: Tracker, drafted: Drafted, letter: ChatLetter
) -> list[EventType]:
    """Tell what became of the letter: refused (`utter_<skill>_refused`), not kept (the store
    failed), or its short text and links (`utter_<skill>_ready`) and, on messaging apps, the
    files; the events forget the form's answers once delivered."""
    skill = letter.skill
    if drafted.refused is not None:
        dispatcher.utter_message(response=f"utter_{skill}_refused", reason=drafted.refused)
        return [SlotSet(letter.possible, None)]
    if drafted.failed or drafted.document is None:
        dispatcher.utter_message(response="utter_store_unavailable")
        return []
    links = [letter_link(token, fmt) for fmt, _media, _data, token in drafted.files]
    dispatcher.utter_message(
        response=f"utter_{skill}_ready",
        letter=short_text(drafted.document),
        pdf=links[0],
        docx=links[1],
    )
    if tracker.get_latest_input_channel() in DOCUMENT_CHANNELS:
        # Messaging apps get the files themselves, not only links.
        for fmt, media, data, _token in drafted.files:
            message = document_message(
                data, fmt, media, filename=letter.document_name, caption=letter.document_caption
            )
            dispatcher.utter_message(json_message=message)
    return [SlotSet(letter.possible, None), *(SlotSet(name, None) for name in letter.questions)]


class LetterForm(DangerFirstForm):
    """A letter's form: ask only the listed questions (slot `missing_slot`), write each answer
    to the case as it comes (`record_answer`, the skill's core function, given `kept`), and
    explain a refused answer (`response_for`, the skill's core function).

    A danger said in an answer (a threat quoted as the statement) gets the emergency reply
    first (DangerFirstForm); the answer is still read and kept.
    """

    missing_slot: str = ""
    questions: tuple[str, ...] = ()
    record_answer: Callable[..., Answered]
    response_for: Callable[[str], str]

    def kept(self, tracker: Tracker) -> dict[str, Any]:
        """What earlier answers kept in slots for this one (a quote awaits its date)."""
        return {"statement": tracker.get_slot("letter_statement")}

    async def record(self, question: str, value: str, tracker: Tracker) -> Answered:
        """Read the answer and write it to the case, in a worker thread."""
        code = tracker.get_slot("case_code")
        return await call(
            self.record_answer,
            question,
            value,
            code,
            tracker.sender_id,
            today(),
            **self.kept(tracker),
        )

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # The domain's order (forms.<form>.required_slots), the same as `questions`.
        missing = set(tracker.get_slot(self.missing_slot) or [])
        return [name for name in domain_slots if name in missing]

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await super().get_extraction_events(dispatcher, tracker, domain)
        requested = tracker.get_slot("requested_slot")
        if requested in self.questions:
            kept = kept_answer(tracker, long_answer=requested in LONG_ANSWERS)
            events += [SlotSet(name, value) for name, value in kept.items()]
        return events

    async def answer(
        self, question: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        if value is None:
            # Not an answer: the start action emptied the form's slots, and rasa-sdk validates
            # every slot set since the last user message when the form opens.
            return {}
        if not tracker.get_slot("case_code"):
            dispatcher.utter_message(response="utter_store_unavailable")
            return {question: None}
        answered = await self.record(question, str(value or ""), tracker)
        reading = answered.reading
        if reading is not None and not reading.ok:
            dispatcher.utter_message(response=self.response_for(str(reading.error)))
            return {question: None}
        if reading is not None and reading.note:
            dispatcher.utter_message(response=self.response_for(reading.note))
        if reading is None or answered.failed:
            dispatcher.utter_message(response="utter_store_unavailable")
            return {question: None}
        # An answer may move a deadline (a statement's date): the follow-ups follow.
        await plan_follow_ups(dispatcher, tracker, str(tracker.get_slot("case_code")))
        return {question: reading.keep or "ok", **{name: "ok" for name in reading.settles}}


def add_validators(form: type[LetterForm]) -> None:
    """rasa-sdk calls `validate_<slot>` for each answer: one per question, all alike."""
    for question in form.questions:
        setattr(form, f"validate_{question}", _validator(question))


def _validator(question: str) -> Any:
    async def validate(
        self: LetterForm,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return await self.answer(question, value, dispatcher, tracker)

    validate.__name__ = f"validate_{question}"
    return validate
