"""The « neutre », « préventive » and « offensive » rungs as paths in the chat, and « ça
recommence ».

* `action_neutre_plan` (« je préfère ne rien faire ») : the neutre checklist, the deadline that
  runs anyway when the facts may be an offence, and « si cela recommence, dites-le-moi ».
* `action_reopen_situation` (« ça recommence ») : keeps what is known and asks what is new;
  a message that itself says something new (or reveals a danger) is analysed at once by
  `action_analyze_situation`, which merges the new facts with the known ones; the rules then
  give the advice again (data/rules/rungs.yml).
* `action_prevention_plan` (« comment me protéger ? ») : the prevention checklist.
* `action_offensive_plan` (« je veux agir en justice ») : the offensive checklist, the deadlines
  and the rung's letters.

The doctor's choice is kept in `chosen_rung`; `strategy_level` stays the recommended rung.
"""

from __future__ import annotations

import json
import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import fact_slots, message_facts, sync_case, today
from actions.danger import EMERGENCY_RESPONSE, reveals_danger
from actions.triage import ActionAnalyzeSituation
from riposte.advice.render import offensive_titles
from riposte.chat import rungs, triage

log = logging.getLogger(__name__)


class ActionNeutrePlan(Action):
    """« Je préfère ne rien faire » : the neutre plan, as a checklist."""

    def name(self) -> str:
        return "action_neutre_plan"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_neutre_plan", plan=rungs.plan_text(rungs.NEUTRE))
        lines = rungs.deadline_lines(fact_slots(tracker), today())
        if lines:
            dispatcher.utter_message(response="utter_neutre_deadline", deadlines="\n".join(lines))
        dispatcher.utter_message(response="utter_neutre_watch")
        log.info("neutre plan given (deadlines: %d)", len(lines))
        return [SlotSet("chosen_rung", rungs.NEUTRE)]


class ActionReopenSituation(Action):
    """« Ça recommence » : re-open the triage with what is already known."""

    def name(self) -> str:
        return "action_reopen_situation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        current = fact_slots(tracker)
        updates = message_facts(tracker, current)
        danger = reveals_danger(tracker)
        if not rungs.reads_at_once(current, updates, danger):
            dispatcher.utter_message(response="utter_situation_news_asked")
            log.info("situation worse: asked what is new")
            # « ça recommence » says the facts happen again: kept, in the case too.
            kept: list[EventType] = [SlotSet(name, value) for name, value in updates.items()]
            if updates:
                kept += await sync_case(dispatcher, tracker, {**current, **updates})
            # The rules branch on `triage_complete` after this action: it is said either way.
            complete = not triage.missing_slots({**current, **updates})
            return [*kept, SlotSet("triage_complete", complete), SlotSet("news_asked", True)]
        # The analysis speaks on its own dispatcher, so that its emergency reply, if any, still
        # comes first, before « je garde ce que je sais ».
        analysis = CollectingDispatcher()
        events = await ActionAnalyzeSituation().run(analysis, tracker, domain)
        messages = list(analysis.messages)
        if messages and messages[0].get("response") == EMERGENCY_RESPONSE:
            dispatcher.messages.append(messages.pop(0))
        if triage.has_facts(current):
            dispatcher.utter_message(response="utter_situation_news_read")
        dispatcher.messages.extend(messages)
        log.info("situation worse: read at once (%d new facts)", len(updates))
        return [*events, SlotSet("news_asked", False)]


class ActionPreventionPlan(Action):
    """« Comment me protéger ? » : the prevention checklist.

    Without any fact, the recommended rung is the preventive one too (the advice engine's
    answer for a case without an incident), kept in `strategy_level` as before.
    """

    def name(self) -> str:
        return "action_prevention_plan"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            response="utter_prevention_plan", plan=rungs.plan_text(rungs.PREVENTIVE)
        )
        events: list[EventType] = [SlotSet("chosen_rung", rungs.PREVENTIVE)]
        slots = fact_slots(tracker)
        if not triage.has_facts(slots):
            advice = triage.advice_for(slots, today())
            events.append(SlotSet("strategy_level", advice.strategy.level))
        return events


def offensive_buttons(practice: str | None) -> list[dict[str, str]]:
    """The letters of the offensive rung drafted in the chat: the complaint, the protection
    fonctionnelle for a hospital doctor (or when the mode of practice is unknown), the
    declaration to the Ordre."""
    titles = offensive_titles()
    buttons = [{"title": titles["procureur"], "payload": "/draft_complaint"}]
    kinds = ["cdom_declaration"]
    if practice in (None, "hospital"):
        kinds.insert(0, "functional_protection")
    for kind in kinds:
        payload = "/request_letter" + json.dumps({"choice": f"draft_kind={kind}"})
        buttons.append({"title": titles[kind], "payload": payload})
    return buttons


class ActionOffensivePlan(Action):
    """« Je veux agir en justice » : the offensive checklist for the doctor's mode of practice
    (constat, insurer or employer, lawyer, complaint, Ordre), the deadlines that run, and the
    rung's letters as buttons. When the facts are known and are no offence (a lawful
    criticism), it says so instead: there is nothing to take to court."""

    def name(self) -> str:
        return "action_offensive_plan"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        slots = fact_slots(tracker)
        complete = triage.has_facts(slots) and not triage.missing_slots(slots)
        if complete and not triage.advice_for(slots, today()).qualifications:
            dispatcher.utter_message(response="utter_offensive_no_offence")
            return []
        practice = slots.get("practice")
        dispatcher.utter_message(
            response="utter_offensive_plan", plan=rungs.plan_text(rungs.OFFENSIVE, practice)
        )
        lines = rungs.deadline_lines(slots, today())
        if lines:
            dispatcher.utter_message(
                response="utter_offensive_deadline", deadlines="\n".join(lines)
            )
        dispatcher.utter_message(
            response="utter_offensive_letters", buttons=offensive_buttons(practice)
        )
        log.info("offensive plan given (deadlines: %d)", len(lines))
        return [SlotSet("chosen_rung", rungs.OFFENSIVE)]
