"""Helpers shared by the actions: today's date (patched in tests) and the slot snapshot."""

from __future__ import annotations

import datetime
from typing import Any

from rasa_sdk import Tracker

from riposte import clock
from riposte.triage import FACT_SLOTS


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
