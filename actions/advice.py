"""Advice actions: the recommended rung, the steps as a checklist, and « pourquoi ? ».

After the triage the advice is at most three messages, short enough for a phone: the
recommendation (the other possible rungs as buttons), the deadline that matters most, and the
first step. The whole checklist, the ladder, every deadline and the reasons come on demand.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import fact_slots, sync_case, today
from riposte.advice.render import (
    render_chat,
    render_key_deadline,
    render_ladder,
    render_steps,
    render_why,
    rung_options,
)
from riposte.chat import complaint as chat
from riposte.chat import triage
from riposte.chat.evidence import EVIDENCE_SLOTS

log = logging.getLogger(__name__)
# The forms whose questions « pourquoi ? » explains with a `utter_why_<slot>` response.
WHY_FORMS: dict[str, tuple[str, ...]] = {
    "complaint_form": chat.QUESTIONS,
    "evidence_form": EVIDENCE_SLOTS,
}


# The intent that starts each rung's path in the chat (the buttons under the recommendation).
RUNG_INTENTS: dict[str, str] = {
    "preventive": "request_prevention",
    "neutre": "prefer_wait",
    "pacifique": "request_reply_help",
    "defensive": "request_platform_notice",
    "offensive": "draft_complaint",
    "ladder": "show_ladder",
}


def rung_buttons(advice: Any) -> list[dict[str, str]]:
    """The buttons under the recommendation: the other possible rungs, then « les paliers »."""
    return [
        {"title": title, "payload": f"/{RUNG_INTENTS[level]}"}
        for level, title in rung_options(advice)
    ]


def _utter_step(
    dispatcher: CollectingDispatcher, step: Any, response: str = "utter_next_step"
) -> None:
    dispatcher.utter_message(response=response, label=step.label, what=step.what, how=step.how)


class ActionGiveAdvice(Action):
    def name(self) -> str:
        return "action_give_advice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        slots = fact_slots(tracker)
        # Prevention without facts is its own path (actions/rungs.py, action_prevention_plan).
        if not triage.has_facts(slots):
            dispatcher.utter_message(response="utter_no_advice_yet")
            return []
        if triage.missing_slots(slots):
            return [FollowupAction("triage_form")]
        advice = triage.advice_for(slots, today())
        dispatcher.utter_message(
            response="utter_advice", advice=render_chat(advice), buttons=rung_buttons(advice)
        )
        deadline = render_key_deadline(advice)
        if deadline is not None:
            dispatcher.utter_message(response="utter_key_deadline", deadline=deadline)
        step = triage.next_step(advice)
        complaint = "procureur" in advice.letters
        events: list[EventType] = [
            SlotSet("strategy_level", advice.strategy.level),
            SlotSet("urgent", advice.urgent),
            SlotSet("advice_given", True),
            SlotSet("triage_complete", True),
            # « Pourquoi ? » then refers to the last thing shown: the step, or the strategy.
            SlotSet("last_explained", f"step:{step.key}" if step else "strategy"),
            SlotSet("current_step", step.key if step else None),
        ]
        if step is not None:
            first = "utter_first_step_complaint" if complaint else "utter_first_step"
            _utter_step(dispatcher, step, first)
        elif complaint:
            dispatcher.utter_message(response="utter_offer_complaint")
        log.info("advice given: level=%s", advice.strategy.level)
        return events


class ActionNextStep(Action):
    def name(self) -> str:
        return "action_next_step"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        slots = fact_slots(tracker)
        if not tracker.get_slot("advice_given"):
            return [FollowupAction("action_give_advice")]
        advice = triage.advice_for(slots, today())
        step = triage.next_step(advice, after=slots.get("current_step"))
        if step is None:
            dispatcher.utter_message(response="utter_all_steps_done")
            return [SlotSet("current_step", None)]
        _utter_step(dispatcher, step)
        return [SlotSet("current_step", step.key), SlotSet("last_explained", f"step:{step.key}")]


def _given_advice(dispatcher: CollectingDispatcher, tracker: Tracker) -> Any:
    """The advice already given in this conversation, or None (and the doctor is asked for the
    facts first)."""
    if not tracker.get_slot("advice_given"):
        dispatcher.utter_message(response="utter_no_advice_yet")
        return None
    return triage.advice_for(fact_slots(tracker), today())


class ActionShowAllSteps(Action):
    """« Toutes les étapes »: the whole checklist, done steps ticked, and what to know."""

    def name(self) -> str:
        return "action_show_all_steps"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        advice = _given_advice(dispatcher, tracker)
        if advice is not None:
            dispatcher.utter_message(response="utter_all_steps", steps=render_steps(advice))
        return []


class ActionShowLadder(Action):
    """« Les paliers »: why this rung, and the five rungs with the recommended one marked once."""

    def name(self) -> str:
        return "action_show_ladder"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        advice = _given_advice(dispatcher, tracker)
        if advice is None:
            return []
        options = [b for b in rung_buttons(advice) if b["payload"] != f"/{RUNG_INTENTS['ladder']}"]
        dispatcher.utter_message(
            response="utter_ladder", ladder=render_ladder(advice), buttons=options
        )
        # « Pourquoi ? » now asks about the rung.
        return [SlotSet("last_explained", "strategy")]


class ActionMarkStepDone(Action):
    def name(self) -> str:
        return "action_mark_step_done"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        slots = fact_slots(tracker)
        current = slots.get("current_step")
        if not tracker.get_slot("advice_given") or not current:
            return [FollowupAction("action_give_advice")]
        done = list(slots.get("steps_done") or [])
        if current not in done:
            done.append(current)
        slots["steps_done"] = done
        advice = triage.advice_for(slots, today())
        ticked = next((s for s in advice.steps if s.key == current), None)
        if ticked is not None:
            dispatcher.utter_message(response="utter_step_ticked", label=ticked.label)
        step = triage.next_step(advice)
        events: list[EventType] = [SlotSet("steps_done", done)]
        events += await sync_case(dispatcher, tracker, slots)
        if step is None:
            dispatcher.utter_message(response="utter_all_steps_done")
            return [*events, SlotSet("current_step", None)]
        _utter_step(dispatcher, step)
        return [
            *events,
            SlotSet("current_step", step.key),
            SlotSet("last_explained", f"step:{step.key}"),
        ]


class ActionExplainWhy(Action):
    """« Pourquoi ? »: why this question, this rung or this step, with the sources."""

    def name(self) -> str:
        return "action_explain_why"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        requested = tracker.get_slot("requested_slot")
        if tracker.active_loop_name == "triage_form" and requested in triage.REQUIRED_SLOTS:
            dispatcher.utter_message(
                response="utter_why_question", reason=triage.why_question(requested)
            )
            return []
        if (
            tracker.active_loop_name in WHY_FORMS
            and requested in WHY_FORMS[tracker.active_loop_name]
        ):
            # The complaint and evidence forms: one line per question (domain/).
            dispatcher.utter_message(response=f"utter_why_{requested}")
            return []
        slots = fact_slots(tracker)
        if not tracker.get_slot("advice_given"):
            dispatcher.utter_message(response="utter_no_advice_yet")
            return []
        advice = triage.advice_for(slots, today())
        subject = tracker.get_slot("last_explained")
        dispatcher.utter_message(response="utter_why", why=render_why(advice, subject))
        return []
