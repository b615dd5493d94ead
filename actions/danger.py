"""Danger first: a message that reveals danger gets the 17/112 reply before anything else.

In every state of the conversation: outside the forms the rules send `utter_emergency` first
for the intent `report_emergency` (data/rules/triage.yml) and `action_analyze_situation` sends
it for a danger the lexicon finds under another intent; during a form, Rasa runs the form
before any rule, so each form's validation action sends it (`DangerFirstForm`), keeps the
fact (`urgent`) and then reads the answer as usual: nothing the doctor typed is lost, and
the form asks its next question.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import action_before_form, call, latest_text, learned_facts, today
from riposte.chat.case import record_danger
from riposte.nlp.extract import extract_facts
from riposte.nlp.learned import combine

log = logging.getLogger(__name__)

EMERGENCY_INTENT = "report_emergency"
EMERGENCY_RESPONSE = "utter_emergency"


def reveals_danger(tracker: Tracker) -> bool:
    """Whether the latest user message reveals a danger (threat, someone outside, distress).

    The intent is the main signal (the pipeline's facts component sets `report_emergency`
    whenever it reads a danger, riposte_rasa/nlu/facts_classifier.py); the lexicon and the
    facts model's reading are checked as well, for a danger said under an intent the component
    leaves alone (a request for the complaint).
    """
    if tracker.get_intent_of_latest_message() == EMERGENCY_INTENT:
        return True
    text = latest_text(tracker)
    if not text.strip():
        return False
    return combine(extract_facts(text, today()), learned_facts(tracker)).urgent is True


def emergency_sent(tracker: Tracker) -> bool:
    """Whether `utter_emergency` already ran since the latest user message (a rule sent it)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == EMERGENCY_RESPONSE:
            return True
    return False


def emergency_first(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Send the emergency reply if the latest message reveals a danger and no rule has sent it
    since; True when it was sent here (the caller then records `urgent`)."""
    if not reveals_danger(tracker) or emergency_sent(tracker):
        return False
    dispatcher.utter_message(response=EMERGENCY_RESPONSE)
    return True


def typed_now(tracker: Tracker) -> bool:
    """Whether the form runs on a message just typed (not back from a digression)."""
    return action_before_form(tracker) == "action_listen"


async def _record_danger(dispatcher: CollectingDispatcher, tracker: Tracker, code: str) -> None:
    """Write the danger to the open case, and only that (the form's answers stay as they are)."""
    if not await call(record_danger, code, tracker.sender_id, today()):
        dispatcher.utter_message(response="utter_store_unavailable")


class DangerFirstForm(FormValidationAction, ABC):
    """A form's validation action that answers a danger first, then reads the answer.

    Subclasses read the answer in `read_answer` (rasa-sdk's validation by default). The
    `urgent` slot set here also keeps Rasa from rejecting the form, so that no rule sends the
    emergency reply a second time.
    """

    @abstractmethod
    def name(self) -> str:
        """The validation action's name (validate_<form>)."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not (typed_now(tracker) and emergency_first(dispatcher, tracker)):
            return await self.read_answer(dispatcher, tracker, domain)
        log.info("danger during %s: emergency reply first", tracker.active_loop_name)
        was_urgent = tracker.get_slot("urgent") is True
        code_before = tracker.get_slot("case_code")
        events = await self.read_answer(dispatcher, tracker, domain)
        if _sets(events, "urgent", True):
            return events  # the answer's reading kept it (the triage records it in the case)
        code = tracker.get_slot("case_code")  # read after the answer: a case just resumed
        if code and (not was_urgent or code != code_before):
            await _record_danger(dispatcher, tracker, str(code))
        return [*events, SlotSet("urgent", True)]

    async def read_answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return await super().run(dispatcher, tracker, domain)


def _sets(events: list[EventType], name: str, value: Any) -> bool:
    return any(
        e.get("event") == "slot" and e.get("name") == name and e.get("value") == value
        for e in events
    )
