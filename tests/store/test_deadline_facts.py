"""The case store keeps the fields added for per-statement deadlines (issue 16).

`evidence[].published_at` and `incident.last_seen_offending` are deadline facts: stored in
clear columns (migration 0003) so that the reminders compute each statement's deadline
without decrypting anything (art. 65 of the 1881 law: each publication has its own 3-month
period). `victim.birth_date` and `victim.birth_place` are personal data: sealed with the rest
of the victim.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text

from riposte.store.config import StoreConfig
from riposte.store.migrate import ALEMBIC_INI
from riposte.store.repository import CaseRepository
from tests.store.conftest import TODAY, FakeClock, sample_case
from tests.store.test_privacy import database_bytes

BIRTH_PLACE = "Zorglubville-sur-Mer"


def campaign_case() -> dict[str, Any]:
    """The sample case with the new fields: dated statements, the victim's civil status."""
    case = sample_case()
    case["victim"]["birth_date"] = "1979-03-14"
    case["victim"]["birth_place"] = BIRTH_PLACE
    case["incident"]["last_seen_offending"] = True
    case["evidence"][0]["published_at"] = "2026-06-01"
    case["evidence"][1]["published_at"] = "2026-07-14"
    case["evidence"][2]["published_at"] = "2026-11-10"
    return case


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("victim", "birth_date"), "1979-03-14"),
        (("victim", "birth_place"), BIRTH_PLACE),
        (("incident", "last_seen_offending"), True),
        (("evidence", 0, "published_at"), "2026-06-01"),
        (("evidence", 2, "published_at"), "2026-11-10"),
    ],
)
def test_new_fields_survive_a_save_and_a_load(
    repo: CaseRepository, path: tuple[Any, ...], value: Any
) -> None:
    code, secret = repo.create_case(campaign_case())
    for data in (repo.read_case(code).to_dict(), repo.open_case(code, secret).to_dict()):
        node: Any = data
        for part in path:
            node = node[part]
        assert node == value
    assert "published_at" not in repo.read_case(code).to_dict()["evidence"][3]


def test_last_seen_offending_false_is_kept_not_dropped(repo: CaseRepository) -> None:
    case = campaign_case()
    case["incident"]["last_seen_offending"] = False
    code, _ = repo.create_case(case)
    assert repo.read_case(code).to_dict()["incident"]["last_seen_offending"] is False


def test_added_evidence_and_updates_keep_the_new_fields(repo: CaseRepository) -> None:
    code, _ = repo.create_case(sample_case())
    record = repo.add_evidence(
        code,
        {"url": "https://x.com/troll_quixotique/status/9", "published_at": "2026-11-20"},
        actor="cli",
    )
    assert record.item.published_at == date(2026, 11, 20)
    repo.update_case(
        code,
        {
            "incident": {"last_seen_offending": True},
            "victim": {"birth_date": "1980-01-02", "birth_place": BIRTH_PLACE},
        },
        actor="cli",
    )
    data = repo.read_case(code).to_dict()
    assert data["evidence"][-1]["published_at"] == "2026-11-20"
    assert data["incident"]["last_seen_offending"] is True
    assert (data["victim"]["birth_date"], data["victim"]["birth_place"]) == (
        "1980-01-02",
        BIRTH_PLACE,
    )


def test_deadline_facts_are_clear_and_the_civil_status_is_sealed(
    repo: CaseRepository, config: StoreConfig
) -> None:
    repo.create_case(campaign_case())
    with repo._ready().engine.connect() as connection:
        published = connection.execute(
            text("SELECT published_at FROM evidence ORDER BY number")
        ).all()
        offending = connection.execute(text("SELECT last_seen_offending FROM incidents")).scalar()
    assert [str(row[0]) if row[0] is not None else None for row in published] == [
        "2026-06-01",
        "2026-07-14",
        "2026-11-10",
        None,
    ]
    assert bool(offending) is True
    repo.close()
    blob = database_bytes(config)
    assert BIRTH_PLACE.encode() not in blob
    assert b"1979-03-14" not in blob


def _campaign(published: list[str]) -> dict[str, Any]:
    return {
        "incident": {
            "platforms": ["x"],
            "offenses": ["insult"],
            "first_published": published[0],
            "last_seen": published[-1],
            "public": True,
            "volume": "repeated",
        },
        "evidence": [
            {"url": f"https://x.com/a/{i}", "published_at": d} for i, d in enumerate(published)
        ],
    }


@pytest.mark.parametrize(
    ("published", "deadline"),
    [
        # The first statement is long prescribed, the latest one expires on 30/11/2026 (in 6
        # days): a reminder although the campaign started in June.
        (["2026-06-01", "2026-08-30"], date(2026, 11, 30)),
        # Two statements open: the nearer deadline (08/12) is the reminder, not the latest one.
        (["2026-06-01", "2026-09-08", "2026-11-01"], date(2026, 12, 8)),
    ],
)
def test_reminders_use_each_statement_without_decrypting(
    repo: CaseRepository, published: list[str], deadline: date
) -> None:
    """Art. 65 of the 1881 law: each publication has its own 3-month period."""
    code, _ = repo.create_case(_campaign(published))
    with repo._ready().engine.begin() as connection:
        connection.execute(text("UPDATE evidence SET details = :d"), {"d": b"garbage"})
        connection.execute(text("UPDATE incidents SET details = :d"), {"d": b"garbage"})
    found = repo.cases_with_deadlines(TODAY)
    assert [c.code for c in found] == [code]
    insult = [d for d in found[0].deadlines if d.offense == "insult"]
    assert [(d.deadline, d.days_left) for d in insult] == [(deadline, (deadline - TODAY).days)]


def test_no_reminder_when_every_statement_is_prescribed(repo: CaseRepository) -> None:
    repo.create_case(_campaign(["2026-06-01", "2026-07-01"]))
    found = repo.cases_with_deadlines(TODAY, within_days=400)
    assert all(d.offense != "insult" for c in found for d in c.deadlines)


def test_migration_0003_keeps_existing_cases(
    config: StoreConfig, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Down to 0002 and up again: a case stored before the new columns reads back the same."""
    repo = CaseRepository(config, clock=clock)
    case = sample_case()
    for item in case["evidence"]:  # stored before 0003: no statement dates yet
        item.pop("published_at", None)
    with monkeypatch.context() as patch:  # stored before 0005 too: no case key
        patch.setattr(CaseRepository, "_new_case_key", lambda *_: None)
        code, _ = repo.create_case(copy.deepcopy(case))
    before = repo.read_case(code).to_dict()
    repo.close()
    monkeypatch.setenv("RIPOSTE_DATABASE_URL", config.database_url)
    alembic = Config(str(ALEMBIC_INI))
    command.downgrade(alembic, "0002")
    engine = create_engine(config.database_url, future=True)
    columns = {column["name"] for column in inspect(engine).get_columns("evidence")}
    engine.dispose()
    assert "published_at" not in columns and "captured_at" in columns
    command.upgrade(alembic, "head")
    again = CaseRepository(config, clock=clock)
    assert again.read_case(code).to_dict() == before
    again.close()
