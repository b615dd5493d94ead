"""Advice actions: the recommended rung, the steps as a checklist, and « pourquoi ? ».

After the triage the advice is at most three messages, short enough for a phone: the
recommendation (the other possible rungs as buttons), the deadline that matters most, and the
first step. The whole checklist, the ladder, every deadline and the reasons come on demand.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    DECLINED,
    OFFER_ADVICE,
    actions_since_last_message,
    fact_slots,
    sync_case,
    today,
)
from riposte.advice.render import (
    after_refusal_titles,
    letter_button_title,
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
    "offensive": "request_legal_action",
    "ladder": "show_ladder",
}


def rung_buttons(advice: Any) -> list[dict[str, str]]:
    """The buttons under the recommendation: the other possible rungs, then « les paliers »."""
    return [
        {"title": title, "payload": f"/{RUNG_INTENTS[level]}"}
        for level, title in rung_options(advice)
    ]


# The intent that drafts each letter in the chat; the other letters share request_letter, with
# the letter as the button's choice (domain/drafts.yml).
LETTER_INTENTS: dict[str, str] = {
    "procureur": "draft_complaint",
    "platform_notice": "request_platform_notice",
}


def step_buttons(step: Any, response: str) -> list[dict[str, str]]:
    """The button that drafts the step's letter, when it has one (the first step that offers
    the complaint has its button already)."""
    letter = getattr(step, "letter", None)
    title = letter_button_title(letter)
    if title is None or (letter == "procureur" and response == "utter_first_step_complaint"):
        return []
    intent = LETTER_INTENTS.get(str(letter))
    payload = (
        f"/{intent}"
        if intent
        else "/request_letter" + json.dumps({"choice": f"draft_kind={letter}"})
    )
    return [{"title": title, "payload": payload}]


def _utter_step(
    dispatcher: CollectingDispatcher, step: Any, response: str = "utter_next_step"
) -> None:
    dispatcher.utter_message(
        response=response,
        label=step.label,
        what=step.what,
        how=step.how,
        buttons=step_buttons(step, response),
    )


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
        # The case file is offered here, where it first serves (the deadline to watch), in
        # the deadline's message: the advice stays three messages.
        offer = not tracker.get_slot("case_code") and tracker.get_slot("case_offer") != DECLINED
        deadline = render_key_deadline(advice)
        if deadline is not None:
            response = "utter_key_deadline_case_offer" if offer else "utter_key_deadline"
            dispatcher.utter_message(response=response, deadline=deadline)
        elif offer:
            dispatcher.utter_message(response="utter_case_offer")
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
        if offer:
            events.append(SlotSet("case_offer", OFFER_ADVICE))
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


def _after_tick(dispatcher: CollectingDispatcher, key: str) -> None:
    """What comes next after a step whose follow-up depends on the other side: the platform's
    answer to a report, the site's answer to an erasure request (one month)."""
    from riposte.chat.drafts import answer_due
    from riposte.letters.filters import date_num

    if key == "report_to_platform":
        dispatcher.utter_message(response="utter_step_ticked_report_to_platform")
    elif key == "erasure_request":
        due = answer_due(today(), today())
        dispatcher.utter_message(
            response="utter_step_ticked_erasure_request", due=date_num(due or today())
        )


class ActionMarkStepDone(Action):
    def name(self) -> str:
        return "action_mark_step_done"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("follow_up_step") and "action_follow_up" in actions_since_last_message(
            tracker
        ):
            # « C'est fait » just after a follow-up (a form's question may have come back
            # after it): its step, not the checklist's.
            return [FollowupAction("action_follow_up_done")]
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
            _after_tick(dispatcher, current)
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


def refusal_buttons(advice: Any) -> list[dict[str, str]]:
    """The letters that may follow a platform's refusal: the erasure request (GDPR) when the
    advice lists it, the complaint when it can be drafted."""
    titles = after_refusal_titles()
    buttons: list[dict[str, str]] = []
    if "erasure_request" in advice.step_keys():
        payload = "/request_letter" + json.dumps({"choice": "draft_kind=erasure_request"})
        buttons.append({"title": titles["erasure_request"], "payload": payload})
    if "procureur" in advice.letters:
        buttons.append({"title": titles["procureur"], "payload": "/draft_complaint"})
    return buttons


class ActionPlatformRefused(Action):
    """« La plateforme n'a rien fait » : the report to the platform is ticked (the case keeps
    its day), and the way to contest comes (DSA internal complaint, certified out-of-court
    body, Arcom), with the letters that may follow."""

    def name(self) -> str:
        return "action_platform_refused"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        slots = fact_slots(tracker)
        if not triage.has_facts(slots):
            dispatcher.utter_message(response="utter_no_advice_yet")
            return []
        if triage.missing_slots(slots):
            return [FollowupAction("action_give_advice")]
        if "dsa_appeal" not in triage.advice_for(slots, today()).step_keys():
            dispatcher.utter_message(response="utter_platform_refused_private")
            return []
        done = list(slots.get("steps_done") or [])
        if "report_to_platform" not in done:
            done.append("report_to_platform")
        slots["steps_done"] = done
        advice = triage.advice_for(slots, today())
        step = next(s for s in advice.steps if s.key == "dsa_appeal")
        dispatcher.utter_message(
            response="utter_platform_refused",
            label=step.label,
            what=step.what,
            how=step.how,
            buttons=refusal_buttons(advice),
        )
        events: list[EventType] = [SlotSet("steps_done", done)]
        events += await sync_case(dispatcher, tracker, slots)
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
