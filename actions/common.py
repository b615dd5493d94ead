"""Helpers shared by the actions: today's date (patched in tests) and the slot snapshot."""

from __future__ import annotations

import datetime
from typing import Any

from rasa_sdk import Tracker

from riposte import clock
from riposte.nlp.learned import LearnedFacts
from riposte.triage import FACT_SLOTS

#: The key under which the pipeline's facts model puts what it read (facts_classifier.py).
LEARNED_FACTS_KEY = "riposte_facts"


def today() -> datetime.date:
    return clock.today()


def fact_slots(tracker: Tracker) -> dict[str, Any]:
    names = (*FACT_SLOTS, "steps_done", "current_step")
    return {name: tracker.get_slot(name) for name in names}


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def latest_choice(tracker: Tracker) -> str | None:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "choice" and isinstance(entity.get("value"), str):
            return str(entity["value"])
    return None


def learned_facts(tracker: Tracker) -> LearnedFacts | None:
    """What the trained facts model read in the latest message (None: it did not read it)."""
    return LearnedFacts.from_dict(tracker.latest_message.get(LEARNED_FACTS_KEY))
