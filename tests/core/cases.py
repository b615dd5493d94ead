"""A one-incident case advised in one call, shared by the advice tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from riposte.advice.engine import Advice, advise
from riposte.case import load_case

TODAY = date(2026, 11, 24)


def case_advice(
    today: date = TODAY,
    practice: str = "liberal",
    evidence: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Advice:
    """Advice for a one-incident case; defaults: public single insult on X, author unknown."""
    data: dict[str, Any] = {
        "platforms": ["x"],
        "offenses": ["insult"],
        "first_published": "2026-11-01",
        "public": True,
        "volume": "single",
        "author": {"known": False, "relation": "unknown"},
    }
    data.update(fields)
    raw: dict[str, Any] = {"victim": {"practice": practice}, "incident": data}
    if evidence is not None:
        raw["evidence"] = evidence
    return advise(load_case(raw, today=today), today)
