"""A press deadline per statement, and no extension on weekends and public holidays (issue 16).

Sources (checked on stored copies of the pages, 06/12/2026):

* art. 65 of the law of 29 July 1881: the action is prescribed "après trois mois révolus, à
  compter du jour où ils auront été commis"; press offences are instantaneous, so each
  publication is an offence with its own deadline (legipresse.com, TGI Paris 18 March 2013:
  a new publication makes a new period run);
* Cass. crim. 12 nov. 2014, n° 13-84.444: the period is counted "de quantième à quantième" and
  ends on the last day at midnight (published 23 August, still in time on 23 November);
* no extension when the last day is a Saturday, a Sunday or a public holiday, art. 65 not being
  a procedural time limit: legipresse.com "Expiration du délai de prescription d'un jour férié"
  (TGI Paris, 8 April 1998), "La prescription trimestrielle … n'est pas un délai de procédure"
  (TGI Paris, 29 October 2003), "Absence de toute prorogation…" (CA Paris, 2 May 2007);
* art. 65-3: 1 year for the discriminatory forms;
* French public holidays: art. L3133-1 of the code du travail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from riposte.advice.engine import Advice, Qualification, advise
from riposte.case import CaseError, load_case, parse_case
from riposte.cli.advise import render_text
from riposte.knowledge import load

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"
FR_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def run(
    today: date,
    published: list[str | None],
    offense: str = "insult",
    **fields: Any,
) -> Advice:
    """Advice for a public campaign on X, one evidence item per date in `published`."""
    incident: dict[str, Any] = {
        "platforms": ["x"],
        "offenses": [offense],
        "public": True,
        "volume": "repeated" if len(published) > 1 else "single",
        "author": {"known": False, "relation": "unknown"},
    }
    incident.update(fields)
    evidence = [
        {"url": f"https://x.com/compte/status/{i}", **({"published_at": d} if d else {})}
        for i, d in enumerate(published)
    ]
    case = load_case({"incident": incident, "evidence": evidence}, today=today)
    return advise(case, today)


def qual(advice: Advice, offense: str = "insult") -> Qualification:
    return next(q for q in advice.qualifications if q.offense == offense)


def msg(path: str, **values: object) -> str:
    return load().messages.get(path, **values)


@dataclass(frozen=True)
class Row:
    """One situation: the expected deadline of the qualification and of each statement."""

    name: str
    today: date
    published: list[str | None]
    deadline: date | None
    expired: bool | None
    date_used: str | None
    statements: list[tuple[int, str, str, bool]] = field(default_factory=list)
    offense: str = "insult"
    fields: dict[str, Any] = field(default_factory=dict)
    months: int = 3


ROWS = [
    Row(
        # The issue's example: insulted by the same account since June 2026, last message on
        # 25/11/2026, today 06/12/2026: open until 25/02/2027, the June statement is too old.
        name="issue_campaign_since_june",
        today=date(2026, 12, 6),
        published=["2026-06-01", "2026-07-15", "2026-11-25"],
        fields={"first_published": "2026-06-01", "last_seen": "2026-11-25"},
        deadline=date(2027, 2, 25),
        expired=False,
        date_used="statements",
        statements=[
            (0, "2026-06-01", "2026-09-01", True),
            (1, "2026-07-15", "2026-10-15", True),
            (2, "2026-11-25", "2027-02-25", False),
        ],
    ),
    Row(
        name="all_statements_expired",
        today=date(2026, 12, 6),
        published=["2026-06-01", "2026-08-20"],
        deadline=date(2026, 11, 20),
        expired=True,
        date_used="statements",
        statements=[
            (0, "2026-06-01", "2026-09-01", True),
            (1, "2026-08-20", "2026-11-20", True),
        ],
    ),
    Row(
        # Evidence recorded out of date order: the list is chronological, the index is the
        # position in case.evidence.
        name="one_open_among_several",
        today=date(2026, 12, 6),
        published=["2026-09-20", "2026-06-01", "2026-07-15"],
        deadline=date(2026, 12, 20),
        expired=False,
        date_used="statements",
        statements=[
            (1, "2026-06-01", "2026-09-01", True),
            (2, "2026-07-15", "2026-10-15", True),
            (0, "2026-09-20", "2026-12-20", False),
        ],
    ),
    Row(
        name="the_deadline_day_itself_is_still_open",
        today=date(2026, 11, 23),
        published=["2026-08-23"],
        deadline=date(2026, 11, 23),
        expired=False,
        date_used="statements",
        statements=[(0, "2026-08-23", "2026-11-23", False)],
    ),
    Row(
        name="undated_last_seen_offending_true",
        today=date(2026, 12, 6),
        published=[None, None],
        fields={
            "first_published": "2026-06-01",
            "last_seen": "2026-11-25",
            "last_seen_offending": True,
        },
        deadline=date(2027, 2, 25),
        expired=False,
        date_used="last_seen",
    ),
    Row(
        name="undated_last_seen_offending_false",
        today=date(2026, 12, 6),
        published=[None, None],
        fields={
            "first_published": "2026-06-01",
            "last_seen": "2026-11-25",
            "last_seen_offending": False,
        },
        deadline=date(2026, 9, 1),
        expired=True,
        date_used="first_published",
    ),
    Row(
        name="undated_last_seen_offending_unknown",
        today=date(2026, 12, 6),
        published=[None],
        fields={"first_published": "2026-06-01", "last_seen": "2026-11-25"},
        deadline=date(2026, 9, 1),
        expired=True,
        date_used="first_published",
    ),
    Row(
        name="no_date_at_all",
        today=date(2026, 12, 6),
        published=[None],
        deadline=None,
        expired=None,
        date_used=None,
    ),
    Row(
        # Art. 65-3: one year per statement for the discriminatory form.
        name="discriminatory_one_year_per_statement",
        today=date(2026, 12, 6),
        published=["2025-11-20", "2025-12-20", "2026-03-01"],
        fields={"discriminatory": True},
        deadline=date(2027, 3, 1),
        expired=False,
        date_used="statements",
        months=12,
        statements=[
            (0, "2025-11-20", "2026-11-20", True),
            (1, "2025-12-20", "2026-12-20", False),
            (2, "2026-03-01", "2027-03-01", False),
        ],
    ),
    Row(
        name="private_insult_also_per_statement",
        today=date(2026, 12, 6),
        published=["2026-08-01", "2026-11-02"],
        fields={"public": False, "platforms": ["email"]},
        deadline=date(2027, 2, 2),
        expired=False,
        date_used="statements",
        statements=[
            (0, "2026-08-01", "2026-11-01", True),
            (1, "2026-11-02", "2027-02-02", False),
        ],
    ),
    Row(
        # Month-end clamping still applies per statement: 30/11 + 3 months = 28/02.
        name="month_end_clamping_per_statement",
        today=date(2026, 12, 6),
        published=["2026-08-31", "2026-11-30"],
        deadline=date(2027, 2, 28),
        expired=False,
        date_used="statements",
        statements=[
            (0, "2026-08-31", "2026-11-30", True),
            (1, "2026-11-30", "2027-02-28", False),
        ],
    ),
    Row(
        name="defamation_counts_the_same_way",
        today=date(2026, 12, 6),
        published=["2026-05-02", "2026-10-02"],
        offense="defamation",
        deadline=date(2027, 1, 2),
        expired=False,
        date_used="statements",
        statements=[
            (0, "2026-05-02", "2026-08-02", True),
            (1, "2026-10-02", "2027-01-02", False),
        ],
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_press_deadline_per_statement(row: Row) -> None:
    """Art. 65 of the 1881 law: each statement's period runs from its own publication."""
    q = qual(run(row.today, row.published, row.offense, **row.fields), row.offense)
    p = q.prescription
    assert (p.deadline, p.expired, p.date_used, p.months) == (
        row.deadline,
        row.expired,
        row.date_used,
        row.months,
    )
    assert q.is_open is (row.expired is not True)
    got = [
        (s.evidence, s.published_at.isoformat(), s.deadline.isoformat(), s.expired)
        for s in p.statements
    ]
    assert got == row.statements
    if p.deadline is not None:
        assert p.days_left == (p.deadline - row.today).days


@pytest.mark.parametrize(
    ("offense", "fields", "date_used", "start"),
    [
        # Not a press offence: statements are not counted one by one; the rule's date is used.
        (
            "threat",
            {"first_published": "2026-06-01", "last_seen": "2026-11-25"},
            "first_published",
            date(2026, 6, 1),
        ),
        (
            "harassment",
            {"first_published": "2026-06-01", "last_seen": "2026-11-25"},
            "last_seen",
            date(2026, 11, 25),
        ),
        ("harassment", {"first_published": "2026-06-01"}, "first_published", date(2026, 6, 1)),
        ("threat", {}, None, None),
    ],
)
def test_non_press_offences_keep_their_rule_and_say_which_date(
    offense: str, fields: dict[str, Any], date_used: str | None, start: date | None
) -> None:
    advice = run(date(2026, 12, 6), ["2026-06-01", "2026-11-25"], offense, **fields)
    p = qual(advice, offense).prescription
    assert (p.statements, p.date_used, p.start) == ((), date_used, start)


def test_json_contract_of_the_statements() -> None:
    """The keys the letters and the chat read (`riposte advise --json`)."""
    advice = run(date(2026, 12, 6), ["2026-07-15", "2026-11-25"])
    p = next(q for q in advice.to_dict()["qualifications"] if q["offense"] == "insult")
    p = p["prescription"]
    assert {"deadline", "days_left", "expired", "from", "start", "months", "rule"} <= set(p)
    assert (p["date_used"], p["deadline"], p["deadline_weekday"], p["act_by"]) == (
        "statements",
        "2027-02-25",
        "jeudi",
        "2027-02-25",
    )
    assert p["statements"] == [
        {
            "evidence": 0,
            "published_at": "2026-07-15",
            "deadline": "2026-10-15",
            "expired": True,
            "days_left": -52,
            "act_by": "2026-10-15",
            "deadline_weekday": "jeudi",
        },
        {
            "evidence": 1,
            "published_at": "2026-11-25",
            "deadline": "2027-02-25",
            "expired": False,
            "days_left": 81,
            "act_by": "2027-02-25",
            "deadline_weekday": "jeudi",
        },
    ]
    json.dumps(advice.to_dict())


def test_issue_campaign_is_no_longer_closed_and_says_which_statements_are_too_old() -> None:
    advice = run(
        date(2026, 12, 6),
        ["2026-06-01", "2026-07-15", "2026-11-25"],
        first_published="2026-06-01",
        last_seen="2026-11-25",
    )
    label = qual(advice).label
    assert "file_complaint" in advice.step_keys()
    assert advice.strategy.level == "offensive"
    assert (
        msg(
            "warnings.press_partly_expired",
            label=label,
            expired="les 01/06/2026 et 15/07/2026",
            open="le 25/11/2026 (jusqu'au 25/02/2027)",
        )
        in advice.warnings
    )
    assert (
        msg("warnings.statement_dates_used", label=label, period="3 mois", count=3)
        in advice.warnings
    )
    assert not any(
        w.startswith(f"{label} : le délai de prescription a expiré") for w in advice.warnings
    )


def test_all_statements_expired_names_every_statement_date() -> None:
    advice = run(date(2026, 12, 6), ["2026-06-01", "2026-08-20"])
    label = qual(advice).label
    assert (
        msg(
            "warnings.press_expired_statements",
            label=label,
            published="les 01/06/2026 et 20/08/2026",
            deadline="20/11/2026",
        )
        in advice.warnings
    )
    # Harassment (repeated messages, 6 years) stays open; the insult does not.
    assert not qual(advice).is_open
    assert msg("strategy.penal_closed", offenses=label) in advice.strategy.why


@pytest.mark.parametrize(
    ("offending", "key", "start"),
    [
        (True, "warnings.date_used_last_seen", "25/11/2026"),
        (False, "warnings.date_used_first_published", "01/06/2026"),
        (None, "warnings.date_used_first_published", "01/06/2026"),
    ],
)
def test_without_dated_statements_the_doctor_is_told_which_date_was_used(
    offending: bool | None, key: str, start: str
) -> None:
    fields: dict[str, Any] = {"first_published": "2026-06-01", "last_seen": "2026-11-25"}
    if offending is not None:
        fields["last_seen_offending"] = offending
    advice = run(date(2026, 12, 6), [None, None], **fields)
    label = qual(advice).label
    assert msg(key, label=label, date=start, period="3 mois") in advice.warnings


def test_expired_deadline_from_the_last_message_says_so() -> None:
    advice = run(
        date(2026, 12, 6),
        [None],
        first_published="2026-06-01",
        last_seen="2026-08-01",
        last_seen_offending=True,
    )
    label = qual(advice).label
    assert (
        msg(
            "warnings.press_expired_last_seen",
            label=label,
            deadline="01/11/2026",
            start="01/08/2026",
        )
        in advice.warnings
    )


def test_a_more_recent_undated_last_message_is_pointed_out() -> None:
    advice = run(
        date(2026, 12, 6), ["2026-06-01"], first_published="2026-06-01", last_seen="2026-11-25"
    )
    label = qual(advice).label
    assert (
        msg("warnings.last_seen_not_dated", label=label, date="25/11/2026", deadline="25/02/2027")
        in advice.warnings
    )


def test_an_older_open_statement_close_to_its_deadline_is_flagged() -> None:
    advice = run(date(2026, 12, 6), ["2026-09-10", "2026-11-25"])
    label = qual(advice).label
    assert (
        msg(
            "warnings.statement_deadline_soon",
            label=label,
            published="10/09/2026",
            deadline="10/12/2026",
            days=4,
        )
        in advice.warnings
    )
    complaint = next(s for s in advice.steps if s.key == "file_complaint")
    assert "10/12/2026" in complaint.why and "jeudi 10/12/2026" in complaint.why


@pytest.mark.parametrize(
    ("published", "today", "deadline", "weekday", "act_by", "when"),
    [
        # The audit's example: published 14/12/2025 -> Saturday 14/03/2026 -> Friday 13/03.
        (
            "2025-12-14",
            date(2026, 3, 1),
            date(2026, 3, 14),
            "samedi",
            date(2026, 3, 13),
            "un week-end",
        ),
        # A Sunday: 30/11/2026 + 3 months is clamped to Sunday 28/02/2027 -> Friday 26/02.
        (
            "2026-11-30",
            date(2026, 12, 6),
            date(2027, 2, 28),
            "dimanche",
            date(2027, 2, 26),
            "un week-end",
        ),
        # Easter Monday 2027 (29/03): the Friday before, over the weekend.
        (
            "2026-12-29",
            date(2027, 1, 5),
            date(2027, 3, 29),
            "lundi",
            date(2027, 3, 26),
            "un jour férié (lundi de Pâques)",
        ),
        # 14 July 2026 is a Tuesday: Monday 13/07.
        (
            "2026-04-14",
            date(2026, 5, 1),
            date(2026, 7, 14),
            "mardi",
            date(2026, 7, 13),
            "un jour férié (fête nationale)",
        ),
        # A working day: nothing moves.
        ("2026-09-10", date(2026, 12, 1), date(2026, 12, 10), "jeudi", date(2026, 12, 10), None),
    ],
)
def test_no_extension_on_weekends_and_public_holidays(
    published: str,
    today: date,
    deadline: date,
    weekday: str,
    act_by: date,
    when: str | None,
) -> None:
    """Art. 65 is not a procedural time limit: no extension to the next working day
    (legipresse: TGI Paris 8 April 1998, 29 October 2003; CA Paris 2 May 2007)."""
    for dated in (True, False):
        advice = run(today, [published]) if dated else run(today, [None], first_published=published)
        q = qual(advice)
        p = q.prescription
        assert (p.deadline, p.deadline_weekday, p.act_by) == (deadline, weekday, act_by)
        label = q.label
        if dated:
            assert p.statements[0].act_by == act_by
            shown = p.statements[0].published_at.strftime("%d/%m/%Y")
            label = msg("words.statement_of", label=q.label, published=shown)
        warnings = [w for w in advice.warnings if "n'est pas prolongé au jour ouvrable" in w]
        if when is None:
            assert warnings == []
            continue
        expected = msg(
            "warnings.deadline_non_working_day",
            label=label,
            day=f"{weekday} {deadline.strftime('%d/%m/%Y')}",
            when=when,
            act_by=f"{FR_WEEKDAYS[act_by.weekday()]} {act_by.strftime('%d/%m/%Y')}",
        )
        assert warnings == [expected]
        # The interrupting act must be completed by then, not merely posted.
        assert "consignation" in expected and "citation" in expected and "réquisitions" in expected


def test_no_weekend_warning_for_an_expired_statement() -> None:
    # 14/08/2026 + 3 months = Saturday 14/11/2026, long past on 06/12/2026.
    advice = run(date(2026, 12, 6), ["2026-08-14", "2026-11-25"])
    assert not [w for w in advice.warnings if "n'est pas prolongé au jour ouvrable" in w]
    assert qual(advice).prescription.statements[0].act_by == date(2026, 11, 13)


def test_the_text_output_lists_each_statement_and_the_act_by_day() -> None:
    advice = run(date(2027, 1, 5), ["2026-11-01", "2026-12-29"])
    text = render_text(advice.to_dict())
    assert msg("cli.date_used.statements") in text
    assert (
        msg("cli.statement_open", number=1, published="01/11/2026", deadline="01/02/2027", days=27)
        in text
    )
    line = msg(
        "cli.statement_open", number=2, published="29/12/2026", deadline="29/03/2027", days=83
    )
    assert line + msg("cli.statement_act_by", act_by="vendredi 26/03/2027") in text
    assert (
        msg(
            "cli.act_by",
            act_by="vendredi 26/03/2027",
            day="lundi 29/03/2027",
            when="un jour férié (lundi de Pâques)",
        )
        in text
    )


def test_the_text_output_says_which_date_was_used_without_statements() -> None:
    advice = run(
        date(2026, 12, 6),
        [None],
        first_published="2026-06-01",
        last_seen="2026-11-25",
        last_seen_offending=True,
    )
    text = render_text(advice.to_dict())
    assert msg("cli.date_used.last_seen", date="25/11/2026") in text


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_old_case_files_still_validate_and_round_trip(path: Path) -> None:
    """Every new field is optional: the case files written before them still load."""
    data = json.loads(path.read_text(encoding="utf-8"))
    case = load_case(path, today=date(2026, 12, 6))
    assert parse_case(case.to_dict(), date(2026, 12, 6)) == case
    assert "published_at" not in json.dumps(data)


# --------------------------------------------------------------------------- the case format

CASE_TODAY = date(2026, 12, 6)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"evidence": [{"published_at": "2026-12-07"}]},
            "evidence[0].published_at : la date 2026-12-07 est postérieure à aujourd'hui "
            "(2026-12-06)",
        ),
        (
            {"evidence": [{}, {"published_at": "25/11/2026"}]},
            "evidence[1].published_at : date invalide « 25/11/2026 », format attendu AAAA-MM-JJ",
        ),
        (
            {"evidence": [{"published_at": "2026-02-30"}]},
            "evidence[0].published_at : date invalide « 2026-02-30 »",
        ),
        (
            {"victim": {"birth_date": "2027-01-01"}},
            "victim.birth_date : la date 2027-01-01 est postérieure à aujourd'hui (2026-12-06)",
        ),
        (
            {"victim": {"birth_date": "14/03/1979"}},
            "victim.birth_date : date invalide « 14/03/1979 »",
        ),
        (
            {"victim": {"birth_place": 44}},
            "victim.birth_place : type invalide (44) ; attendu : un texte",
        ),
        (
            {"incident": {"last_seen_offending": "oui"}},
            "incident.last_seen_offending : type invalide (oui) ; attendu : un booléen",
        ),
    ],
)
def test_new_fields_are_checked_like_the_others(data: dict[str, Any], expected: str) -> None:
    with pytest.raises(CaseError) as info:
        parse_case(data, CASE_TODAY)
    assert any(error.startswith(expected) for error in info.value.errors), info.value.errors


def test_new_fields_are_typed_and_round_trip() -> None:
    data = {
        "victim": {"birth_date": "1979-03-14", "birth_place": "Lyon (Rhône)"},
        "incident": {"offenses": ["insult"], "last_seen_offending": False},
        "evidence": [{"url": "u", "published_at": "2026-12-06"}, {"url": "v"}],
    }
    case = parse_case(data, CASE_TODAY)
    assert case.victim.birth_date == "1979-03-14" and case.victim.birth_place == "Lyon (Rhône)"
    assert case.incident is not None and case.incident.last_seen_offending is False
    assert [e.published_at for e in case.evidence] == [date(2026, 12, 6), None]
    out = case.to_dict()
    assert out["victim"] == data["victim"]
    assert out["incident"]["last_seen_offending"] is False
    assert out["evidence"] == data["evidence"]
    assert parse_case(out, CASE_TODAY) == case
    # Absent stays absent (old files are written back unchanged).
    bare = parse_case({"incident": {"offenses": ["insult"]}}, CASE_TODAY)
    assert bare.incident is not None and bare.incident.last_seen_offending is None
    assert "last_seen_offending" not in bare.to_dict()["incident"]


def test_the_press_deadline_rules_cite_their_sources() -> None:
    """Art. 65 (each publication), Cass. crim. 12 nov. 2014, the no-extension rulings, the
    holidays of art. L3133-1 and the interrupting acts are listed in `sources`."""
    kb = load()
    deadline_sources = {"S120", "S121", "S122", "S123", "S124"}
    assert deadline_sources <= set(kb.offenses["insult"].sources)
    assert deadline_sources <= set(kb.offenses["defamation"].sources)
    ids = {s.id for s in run(date(2026, 12, 6), ["2026-11-25"]).sources}
    assert set(deadline_sources) <= ids
    assert all(kb.sources[sid].last_checked == date(2026, 12, 6) for sid in deadline_sources)
    threat = {s.id for s in run(date(2026, 12, 6), ["2026-11-25"], "threat").sources}
    assert not set(deadline_sources) & threat
