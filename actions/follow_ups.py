"""Follow-ups from the chat: planned after each change of the case, said when a scheduler asks
(`/follow_up_due`, riposte/scheduler.py), « c'est fait », stopped and resumed.

The store (riposte/store/follow_ups.py) plans and claims; these actions speak. A follow-up is
said only by the conversation it was planned for, once: `take_follow_up` marks it sent with
the scheduler's claim, so a second request for the same claim says nothing.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import as_chat, call, repository, today
from riposte.deadlines import weekday_key
from riposte.follow_ups import DEADLINE, STEP_OF_KIND
from riposte.knowledge import load_messages
from riposte.messages import message
from riposte.store.errors import StoreError, UnknownCaseError
from riposte.store.follow_ups import FollowUp, FollowUpPlan
from riposte.text import date_fr

log = logging.getLogger(__name__)

ENTITY = "follow_up"
# Channels the scheduler reaches (the others show their follow-ups on resuming the case).
PUSHED = ("telegram", "signal")


def weekday(day: date) -> str:
    return str(load_messages().get(f"words.weekdays.{weekday_key(day)}"))


def _label(facts: Any) -> str:
    """The offence's label inside a sentence: « pour injure publique envers un particulier »."""
    label = str(facts.get("label") or "")
    return label[:1].lower() + label[1:]


def _day(value: Any) -> date:
    return date.fromisoformat(str(value))


def what(follow_up: FollowUp) -> str:
    """What the follow-up will be about, for its announcement."""
    facts = follow_up.facts
    values: dict[str, Any] = {}
    if follow_up.kind == DEADLINE:
        values = {
            "days": facts.get("days"),
            "label": _label(facts),
            "deadline": date_fr(_day(facts["deadline"])),
        }
    return message(f"follow_ups.what.{follow_up.kind}", **values)


def announce(dispatcher: CollectingDispatcher, tracker: Tracker, planned: FollowUpPlan) -> None:
    """The first follow-up planned for the case: when, about what, and how to stop them."""
    first = planned.announce
    if first is None:
        return
    from riposte import clock

    day = clock.local_date(first.due_at)
    pushed = tracker.get_latest_input_channel() in PUSHED
    dispatcher.utter_message(
        response="utter_follow_ups_announced" if pushed else "utter_follow_ups_announced_web",
        weekday=weekday(day),
        date=date_fr(day),
        what=what(first),
    )


async def plan_follow_ups(dispatcher: CollectingDispatcher, tracker: Tracker, code: str) -> None:
    """Plan the case's follow-ups again after a change, for this conversation's channel; the
    first one planned is announced. A store failure is logged: the change itself is kept."""
    try:
        planned = await call(
            repository().sync_follow_ups,
            code,
            channel=tracker.get_latest_input_channel(),
            today=today(),
            **as_chat(tracker),
        )
    except UnknownCaseError:
        return
    except StoreError as error:
        log.error("follow-ups not planned: %s", type(error).__name__)
        return
    announce(dispatcher, tracker, planned)


def say(dispatcher: CollectingDispatcher, follow_up: FollowUp, day: date) -> None:
    """The follow-up's message, with its buttons."""
    facts = follow_up.facts
    if follow_up.kind == DEADLINE:
        deadline = _day(facts["deadline"])
        left = (deadline - day).days
        dispatcher.utter_message(
            response="utter_follow_up_deadline" if left > 0 else "utter_follow_up_deadline_today",
            label=_label(facts),
            weekday=weekday(deadline),
            deadline=date_fr(deadline),
            days_left=left,
        )
    elif follow_up.kind == "platform_answer":
        sent_on = _day(facts["sent_on"])
        dispatcher.utter_message(
            response="utter_follow_up_platform_answer",
            sent_on=date_fr(sent_on),
            days=(day - sent_on).days,
        )
    elif follow_up.kind == "erasure_answer":
        from riposte.deadlines import add_months
        from riposte.follow_ups import ERASURE_ANSWER_MONTHS

        sent_on = _day(facts["sent_on"])
        dispatcher.utter_message(
            response="utter_follow_up_erasure_answer",
            sent_on=date_fr(sent_on),
            due=date_fr(add_months(sent_on, ERASURE_ANSWER_MONTHS)),
        )
    else:
        dispatcher.utter_message(
            response="utter_follow_up_footprint_check",
            checked_on=date_fr(_day(facts["checked_on"])),
        )


def _entity(tracker: Tracker) -> Any:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == ENTITY:
            return entity.get("value")
    return None


class ActionFollowUp(Action):
    """`/follow_up_due` from the scheduler: say the follow-up it claimed, once."""

    def name(self) -> str:
        return "action_follow_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            follow_up = await call(repository().take_follow_up, _entity(tracker), tracker.sender_id)
        except StoreError as error:
            log.error("follow-up not taken: %s", type(error).__name__)
            return []
        if follow_up is None:
            log.info("follow-up request without a live claim: nothing said")
            return []
        say(dispatcher, follow_up, today())
        log.info("follow-up said (%s)", follow_up.kind)
        return [SlotSet("follow_up_step", STEP_OF_KIND.get(follow_up.kind))]


def shown_while_away(dispatcher: CollectingDispatcher, shown: list[FollowUp]) -> None:
    """On resuming the case on the web page: the follow-ups that fell due meanwhile."""
    if not shown:
        return
    dispatcher.utter_message(response="utter_follow_ups_while_away", count=len(shown))
    day = today()
    for follow_up in shown:
        say(dispatcher, follow_up, day)


class ActionFollowUpDone(Action):
    """« C'est fait » after a follow-up: its step is recorded today (the complaint filed, the
    complaint to the CNIL, the footprint checked); the follow-ups are planned again."""

    def name(self) -> str:
        return "action_follow_up_done"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        step = tracker.get_slot("follow_up_step")
        code = tracker.get_slot("case_code")
        if not step or not code:  # nothing was said: an ordinary « c'est fait »
            return [FollowupAction("action_mark_step_done")]
        day = today()
        try:
            # The stored steps, not the slot: the case may have changed in another conversation.
            record = await call(repository().read_case, code, **as_chat(tracker))
            done = [s.key for s in record.steps if s.done and s.key != step]
            done.append(step)
            await call(
                repository().update_case,
                code,
                {"steps_done": done},
                today=day,
                done_on={step: day},
                **as_chat(tracker),
            )
            planned = await call(
                repository().sync_follow_ups,
                code,
                channel=tracker.get_latest_input_channel(),
                today=day,
                **as_chat(tracker),
            )
        except StoreError as error:
            log.error("follow-up step not recorded: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_store_unavailable")
            return []
        kind = next((k for k, s in STEP_OF_KIND.items() if s == step), "")
        dispatcher.utter_message(
            response="utter_follow_up_done",
            label=message(f"follow_ups.step_label.{kind}"),
            date=date_fr(day),
        )
        if planned.next_due is not None and not planned.stopped:
            from riposte import clock

            next_day = clock.local_date(planned.next_due)
            dispatcher.utter_message(
                response="utter_follow_up_done_next",
                weekday=weekday(next_day),
                date=date_fr(next_day),
            )
        elif not planned.stopped:
            dispatcher.utter_message(response="utter_follow_up_done_none")
        return [SlotSet("steps_done", done), SlotSet("follow_up_step", None)]


class _Switch(Action, ABC):
    """« Arrêter » or « reprendre les rappels » for the conversation's case."""

    stop = True

    @abstractmethod
    def name(self) -> str:
        """action_stop_follow_ups or action_resume_follow_ups."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = tracker.get_slot("case_code")
        if not code:
            dispatcher.utter_message(response="utter_follow_ups_no_case")
            return []
        store = repository()
        switch = store.stop_follow_ups if self.stop else store.resume_follow_ups
        try:
            waiting = await call(switch, code, **as_chat(tracker))
        except UnknownCaseError:
            dispatcher.utter_message(response="utter_case_gone")
            return [SlotSet("case_code", None)]
        except StoreError as error:
            log.error("follow-ups not switched: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_store_unavailable")
            return []
        if self.stop:
            dispatcher.utter_message(response="utter_follow_ups_stopped")
        elif waiting:
            dispatcher.utter_message(response="utter_follow_ups_resumed", count=waiting)
        else:
            dispatcher.utter_message(response="utter_follow_ups_resumed_none")
        return []


class ActionStopFollowUps(_Switch):
    """« Arrêter les rappels »: nothing more is sent for the conversation's case."""

    stop = True

    def name(self) -> str:
        return "action_stop_follow_ups"


class ActionResumeFollowUps(_Switch):
    """« Reprendre les rappels »."""

    stop = False

    def name(self) -> str:
        return "action_resume_follow_ups"
