"""Two rungs of the ladder as paths in the chat, without Rasa.

* « neutre » : the doctor prefers to do nothing. The plan is a short checklist (plans.yml),
  with the deadline that runs anyway when the facts may be an offence: the advice engine's
  qualifications, told by `riposte.advice.render.chat_deadline_lines` (nothing recomputed here).
* « ça recommence » : the triage re-opens with what is already known; a message that itself
  says something new is read at once (`reads_at_once`).
* « préventive » : the prevention checklist (plans.yml).
* « offensive » : acting in court (plans.yml): the constat, the insurer or the employer, the
  lawyer, the complaint, the Ordre; the deadlines that run.

The sentences are in riposte/knowledge/plans.yml and domain/rungs.yml.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from riposte.chat import triage
from riposte.knowledge import load as load_knowledge
from riposte.knowledge.plans import load_plans

NEUTRE = "neutre"
PREVENTIVE = "preventive"
OFFENSIVE = "offensive"


def plan_text(level: str, practice: str | None = None) -> str:
    """The checklist of `level` (« neutre », « preventive », « offensive ») for a doctor whose
    mode of practice is `practice` (None: unknown, every item), then the sources it cites."""
    plans = load_plans()
    plan = plans.plans[level]
    wording = plans.wording
    items = [item for item in plan.items if item.applies_to(practice)]
    lines = [wording.get("heading", label=plan.label)]
    for index, item in enumerate(items, start=1):
        text = wording.get("own", text=item.text) if item.riposte_own else item.text
        lines.append(wording.get("item", index=index, text=text))
    sources = load_knowledge().sources
    lines.append(wording.raw("sources_heading"))
    for source_id in dict.fromkeys(i for item in items for i in item.sources):
        source = sources[source_id]
        lines.append(wording.get("source", title=source.title, url=source.url))
    return "\n".join(lines)


def deadline_lines(slots: Mapping[str, Any], today: date) -> list[str]:
    """The deadlines to act in court for the facts known, one line per possible offence.

    Empty when nothing is known or when the facts are no offence (a lawful criticism): the
    advice engine decides, `chat_deadline_lines` tells it.
    """
    if not triage.has_facts(slots):
        return []
    advice = triage.advice_for(slots, today)
    if not advice.qualifications:
        return []
    return triage.deadline_lines(advice)


# What « ça recommence » itself says about the known facts: that they happen again (the
# lexicon reads « ça recommence » as repeated messages). Kept, but not news to analyse.
RECURRENCE_FACTS = frozenset({"volume"})


def news(updates: Mapping[str, Any]) -> dict[str, Any]:
    """The updates a « ça recommence » message brings besides the recurrence itself."""
    return {name: value for name, value in updates.items() if name not in RECURRENCE_FACTS}


def reads_at_once(current: Mapping[str, Any], updates: Mapping[str, Any], danger: bool) -> bool:
    """Whether « ça recommence » is analysed at once rather than asking what is new.

    At once when nothing is known yet (a first description), when the message itself brings
    a new fact (`updates`: what it adds to the known facts, the recurrence aside), or when it
    reveals a danger.
    """
    return not triage.has_facts(current) or bool(news(updates)) or danger
