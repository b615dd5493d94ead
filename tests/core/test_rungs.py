"""Which rung each situation gets: what the doctor writes, read by the triage's lexicon
(`facts_from_text`), then the advice engine (`advice_for`), as `action_give_advice` runs them.

One row per rung of the graduated response. The same conversations once ran through the whole
stack; one of them still does (tests/integration/test_conversation.py), for what only the trained
model decides: the intent that asks for prevention without describing anything.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from riposte.chat import triage

TODAY = date(2026, 12, 7)  # a Monday: "hier", "la semaine dernière" fall on working days

# (what the doctor writes, the button chosen after it or None, the rung)
RUNGS = [
    ("je ne suis pas victime, je veux juste m'y préparer", None, "preventive"),
    (
        "un patient a laissé un avis négatif sur Google, il trouve que je suis toujours "
        "en retard, c'était le 10 novembre, je suis en libéral",
        None,
        "neutre",
    ),
    (
        "une patiente a laissé un seul avis sur Google hier, elle me trouve expéditif, "
        "j'aimerais lui répondre, je suis installée en libéral",
        None,
        "pacifique",
    ),
    (
        "un confrère me dénigre sur LinkedIn en disant que je vole ses patients, "
        "c'était la semaine dernière, une seule publication, je suis en libéral",
        None,
        "defensive",
    ),
    (
        "on m'envoie des menaces de mort par mail depuis hier, un anonyme, plusieurs messages",
        "practice=liberal",
        "offensive",
    ),
]


@pytest.mark.parametrize(("message", "choice", "level"), RUNGS, ids=[r[2] for r in RUNGS])
def test_each_rung_is_recommended_for_its_situation(
    message: str, choice: str | None, level: str
) -> None:
    slots: dict[str, Any] = triage.facts_from_text(message, {}, TODAY)
    if level == "preventive":
        assert not triage.has_facts(slots)  # nothing described: the advice is prevention
    elif choice is None:
        assert triage.missing_slots(slots) == []  # one message, no question left
    else:
        # The one question left is the button's; its answer completes the triage.
        assert triage.missing_slots(slots) == [choice.partition("=")[0]]
        updates = triage.parse_choice(choice)
        slots.update(updates)
        slots.update(triage.derive(slots))
        assert triage.missing_slots(slots) == []
    assert triage.advice_for(slots, TODAY).strategy.level == level


def test_the_table_covers_every_rung() -> None:
    from riposte import knowledge

    assert [level for _, _, level in RUNGS] == list(knowledge.load().ladder)
