"""Triage actions: read what the doctor says, ask only what is missing."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    fact_slots,
    latest_choice,
    latest_text,
    learned_facts,
    message_facts,
    sync_case,
    today,
)
from actions.danger import (
    EMERGENCY_INTENT,
    DangerFirstForm,
    emergency_first,
    reveals_danger,
    typed_now,
)
from riposte.chat import triage

log = logging.getLogger(__name__)

# Intents whose text describes the situation or answers a question (« il a recommencé, sur
# Facebook cette fois », said while a question waits, is read as an answer too).
READ_INTENTS = frozenset(
    {
        "describe_situation",
        "inform",
        "report_emergency",
        "affirm",
        "deny",
        "nlu_fallback",
        "situation_worse",
    }
)


def _slot_events(updates: dict[str, Any]) -> list[EventType]:
    return [SlotSet(name, value) for name, value in updates.items()]


class ActionAnalyzeSituation(Action):
    """On a description: fill every slot the message gives, warn first if it is urgent.

    A message that itself reveals a danger gets the emergency reply first, even when an
    earlier one did (a new threat); the rules send it before this action for the intent
    `report_emergency`, and then it is not sent twice.
    """

    def name(self) -> str:
        return "action_analyze_situation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        current = fact_slots(tracker)
        updates = message_facts(tracker, current)
        emergency_first(dispatcher, tracker)
        if tracker.get_intent_of_latest_message() == EMERGENCY_INTENT:
            updates["urgent"] = True
        slots = {**current, **updates}
        lines = triage.summary_lines(slots)
        if lines and updates:
            dispatcher.utter_message(response="utter_facts_noted", facts="\n".join(lines))
        missing = triage.missing_slots(slots)
        complete = not missing
        # Announce the questions once, and only when there is more than one to ask.
        if len(missing) > 1 and tracker.get_slot("triage_complete") is None:
            dispatcher.utter_message(response="utter_triage_start")
        log.info("triage: %d facts found, complete=%s", len(updates), complete)
        recorded = await sync_case(dispatcher, tracker, slots) if updates else []
        return [*_slot_events(updates), SlotSet("triage_complete", complete), *recorded]


def question_buttons(domain: DomainDict, form: str, slot: str | None) -> list[dict[str, Any]]:
    """The buttons of the form's question about `slot` (`utter_ask_<form>_<slot>` or
    `utter_ask_<slot>` in the domain Rasa sends with each call)."""
    if not slot:
        return []
    responses = domain.get("responses") or {}
    for name in (f"utter_ask_{form}_{slot}", f"utter_ask_{slot}"):
        for variant in responses.get(name) or []:
            if variant.get("buttons"):
                return list(variant["buttons"])
    return []


class ValidateTriageForm(DangerFirstForm):
    """Each answer may hold several facts: keep them all, not only the one asked for.

    A danger said in an answer gets the emergency reply first (DangerFirstForm), and the
    answer is still read.
    """

    def name(self) -> str:
        return "validate_triage_form"

    async def read_answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # rasa_sdk returns only the form's own slots; facts found on the way (urgency, the
        # last date, handles…) and the miss counter must be kept too.
        extracted = await self.get_extraction_events(dispatcher, tracker, domain)
        tracker.add_slots(extracted)
        validated = await self._extract_validation_events(dispatcher, tracker, domain)
        names = {event["name"] for event in validated if event.get("event") == "slot"}
        events = [e for e in extracted if e["name"] not in names] + validated
        changed = {e["name"] for e in events if e.get("event") == "slot"}
        if changed & set(triage.FACT_SLOTS):
            tracker.add_slots(validated)
            events += await sync_case(dispatcher, tracker, fact_slots(tracker))
        return events

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # After a digression (a FAQ, « pourquoi ? »), the form runs again without a new answer.
        if not typed_now(tracker):
            return []
        choice = latest_choice(tracker)
        typed_title = False
        if choice is None:
            # A button's title typed rather than pressed: the answer, whatever the intent.
            buttons = question_buttons(domain, self.form_name(), tracker.get_slot("requested_slot"))
            choice = triage.choice_from_title(latest_text(tracker), buttons)
            typed_title = choice is not None
        if not typed_title and tracker.get_intent_of_latest_message() not in READ_INTENTS:
            return []
        current = fact_slots(tracker)
        if choice is not None:
            try:
                updates = triage.parse_choice(choice)
            except ValueError:
                log.warning("ignored an unknown button choice")
                updates = {}
            updates.update(triage.derive({**current, **updates}))
        else:
            requested = tracker.get_slot("requested_slot")
            updates = triage.answer_requested(
                requested, latest_text(tracker), current, today(), learned_facts(tracker)
            )
        if reveals_danger(tracker):
            # Understood, even with nothing else in it: the emergency reply was the answer.
            updates["urgent"] = True
        if not updates:
            # Not understood: say so and count it (the form then asks the question again);
            # from the second miss on, explain why the question matters.
            misses = int(tracker.get_slot("unanswered") or 0) + 1
            requested = tracker.get_slot("requested_slot")
            # « je ne sais pas » is offered only where it is an answer.
            known = requested in triage.DONT_KNOW_VALUES
            dispatcher.utter_message(
                response="utter_not_understood_answer" if known else "utter_not_understood_choice"
            )
            if misses >= 2 and requested in triage.REQUIRED_SLOTS:
                dispatcher.utter_message(
                    response="utter_why_question", reason=triage.why_question(requested)
                )
            return [SlotSet("unanswered", float(misses))]
        return [*_slot_events(updates), SlotSet("unanswered", 0.0)]

    def validate_first_published(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value in (None, triage.UNKNOWN):
            return {"first_published": slot_value}
        if str(slot_value) > today().isoformat():
            dispatcher.utter_message(response="utter_date_in_future", date=slot_value)
            return {"first_published": None}
        return {"first_published": slot_value}


class ActionRestartTriage(Action):
    """« Recommencer »: forget the facts of the situation, keep nothing half-done."""

    def name(self) -> str:
        return "action_restart_triage"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_triage_restart")
        reset = [SlotSet(name, None) for name in triage.FACT_SLOTS]
        if tracker.get_slot("case_code"):
            # The case keeps its code, its evidence and its letters; the facts are forgotten.
            await sync_case(dispatcher, tracker, {})
        return [
            *reset,
            SlotSet("steps_done", None),
            SlotSet("current_step", None),
            SlotSet("strategy_level", None),
            SlotSet("chosen_rung", None),
            SlotSet("news_asked", None),
            SlotSet("last_explained", None),
            SlotSet("advice_given", None),
            SlotSet("triage_complete", False),
        ]
