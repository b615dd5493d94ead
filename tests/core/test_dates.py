"""French date expressions: every supported form, year boundaries, leap years, odd input."""

from __future__ import annotations

import time
from datetime import date
from typing import Any, cast

import pytest

from devtools.waiting import hang_deadline
from riposte.nlp.dates import DateMatch, find_dates, parse_french_date

# Fixed days (weekday in the comment).
FRI_LEAP = date(2024, 3, 1)  # Friday, the day after 29 February 2024
NEW_YEAR = date(2025, 1, 2)  # Thursday, early January
SUMMER = date(2025, 6, 15)  # Sunday
MONDAY = date(2024, 3, 4)  # Monday
END_MARCH = date(2024, 3, 31)  # Sunday, last day of a 31-day month


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        # relative words, any case, with or without accents
        ("hier", FRI_LEAP, date(2024, 2, 29)),
        ("Hier", FRI_LEAP, date(2024, 2, 29)),
        ("HIER il a recommencé", FRI_LEAP, date(2024, 2, 29)),
        ("hier", date(2025, 1, 1), date(2024, 12, 31)),
        ("avant-hier", FRI_LEAP, date(2024, 2, 28)),
        ("Avant hier", FRI_LEAP, date(2024, 2, 28)),
        ("avanthier", date(2024, 1, 1), date(2023, 12, 30)),
        ("aujourd'hui", FRI_LEAP, FRI_LEAP),
        ("aujourd’hui", FRI_LEAP, FRI_LEAP),
        ("aujourdhui", FRI_LEAP, FRI_LEAP),
        ("ajd", FRI_LEAP, FRI_LEAP),
        ("ce matin", FRI_LEAP, FRI_LEAP),
        ("Cette nuit", FRI_LEAP, FRI_LEAP),
        ("hier soir", FRI_LEAP, date(2024, 2, 29)),
        ("la nuit dernière", FRI_LEAP, date(2024, 2, 29)),
        # "il y a", "depuis", "ça fait" + amount + unit
        ("il y a 3 jours", FRI_LEAP, date(2024, 2, 27)),
        ("il y a 3 jours", NEW_YEAR, date(2024, 12, 30)),
        ("il y a deux semaines", FRI_LEAP, date(2024, 2, 16)),
        ("il y a un mois", FRI_LEAP, date(2024, 2, 1)),
        ("il y a un mois", END_MARCH, date(2024, 2, 29)),
        ("il y a quinze jours", FRI_LEAP, date(2024, 2, 15)),
        ("il y a une quinzaine de jours", FRI_LEAP, date(2024, 2, 15)),
        ("depuis une semaine", FRI_LEAP, date(2024, 2, 23)),
        ("depuis 10 jours", NEW_YEAR, date(2024, 12, 23)),
        ("ça fait 2 mois", FRI_LEAP, date(2024, 1, 1)),
        ("ca fait trois mois", NEW_YEAR, date(2024, 10, 2)),
        ("ya 3j", FRI_LEAP, date(2024, 2, 27)),
        ("il ya 4 jours", FRI_LEAP, date(2024, 2, 26)),
        ("il y a 2 sem", FRI_LEAP, date(2024, 2, 16)),
        ("il y a un an", date(2024, 2, 29), date(2023, 2, 28)),
        ("il y a deux ans", SUMMER, date(2023, 6, 15)),
        ("il y a un mois et demi", FRI_LEAP, date(2024, 1, 17)),
        ("il y a 2 heures", FRI_LEAP, FRI_LEAP),
        ("il y a environ trois semaines", FRI_LEAP, date(2024, 2, 9)),
        ("il y a plus de deux semaines", FRI_LEAP, date(2024, 2, 16)),
        # written-out numbers up to "trente" and beyond
        ("il y a cinq jours", FRI_LEAP, date(2024, 2, 25)),
        ("il y a onze jours", FRI_LEAP, date(2024, 2, 19)),
        ("il y a douze jours", FRI_LEAP, date(2024, 2, 18)),
        ("il y a dix-sept jours", FRI_LEAP, date(2024, 2, 13)),
        ("il y a vingt jours", FRI_LEAP, date(2024, 2, 10)),
        ("il y a vingt et un jours", FRI_LEAP, date(2024, 2, 9)),
        ("il y a vingt-cinq jours", FRI_LEAP, date(2024, 2, 5)),
        ("il y a trente jours", FRI_LEAP, date(2024, 1, 31)),
        ("il y a quarante-deux jours", FRI_LEAP, date(2024, 1, 19)),
        # named periods
        ("la semaine dernière", FRI_LEAP, date(2024, 2, 23)),
        ("la semaine derniere", NEW_YEAR, date(2024, 12, 26)),
        ("semaine passée", FRI_LEAP, date(2024, 2, 23)),
        ("le mois dernier", FRI_LEAP, date(2024, 2, 1)),
        ("le mois dernier", END_MARCH, date(2024, 2, 29)),
        ("le mois dernier", NEW_YEAR, date(2024, 12, 2)),
        ("l'an dernier", date(2024, 2, 29), date(2023, 2, 28)),
        ("l'année dernière", SUMMER, date(2024, 6, 15)),
        ("cette semaine", FRI_LEAP, date(2024, 2, 26)),
        ("le week-end dernier", MONDAY, date(2024, 3, 2)),
        ("le week-end dernier", SUMMER, date(2025, 6, 7)),
        ("ce week-end", MONDAY, date(2024, 3, 2)),
        # day and month: most recent past occurrence
        ("le 3 janvier", FRI_LEAP, date(2024, 1, 3)),
        ("le 3 janvier", NEW_YEAR, date(2024, 1, 3)),
        ("le 2 janvier", NEW_YEAR, date(2025, 1, 2)),
        ("le 3 Janvier", SUMMER, date(2025, 1, 3)),
        ("le 3 mars", FRI_LEAP, date(2023, 3, 3)),
        ("le 25 décembre", NEW_YEAR, date(2024, 12, 25)),
        ("le 1er mars", FRI_LEAP, date(2024, 3, 1)),
        ("le 1er mars", date(2024, 2, 28), date(2023, 3, 1)),
        ("le premier mars", FRI_LEAP, date(2024, 3, 1)),
        ("le trois février", FRI_LEAP, date(2024, 2, 3)),
        ("3 fév.", FRI_LEAP, date(2024, 2, 3)),
        ("le 12 sept", SUMMER, date(2024, 9, 12)),
        ("le 29 février", SUMMER, date(2024, 2, 29)),
        ("le 29 février", date(2024, 2, 28), date(2020, 2, 29)),
        ("mardi 27 février", FRI_LEAP, date(2024, 2, 27)),
        # with a year
        ("le 3 janvier 2025", SUMMER, date(2025, 1, 3)),
        ("le 1er mars 2023", FRI_LEAP, date(2023, 3, 1)),
        ("3 janvier 2024", SUMMER, date(2024, 1, 3)),
        # numeric
        ("3/01/2025", SUMMER, date(2025, 1, 3)),
        ("03/01/25", SUMMER, date(2025, 1, 3)),
        ("03/01/25", FRI_LEAP, date(1925, 1, 3)),  # 2025 would be in the future
        ("3.1.2025", SUMMER, date(2025, 1, 3)),
        ("03-01-2025", SUMMER, date(2025, 1, 3)),
        ("2025-01-03", SUMMER, date(2025, 1, 3)),
        ("29/02/2024", SUMMER, date(2024, 2, 29)),
        ("le 12/02", FRI_LEAP, date(2024, 2, 12)),
        ("le 12/03", FRI_LEAP, date(2023, 3, 12)),
        ("samedi 24/02", FRI_LEAP, date(2024, 2, 24)),
        # weekdays
        ("lundi dernier", FRI_LEAP, date(2024, 2, 26)),
        ("lundi dernier", MONDAY, date(2024, 2, 26)),
        ("vendredi dernier", FRI_LEAP, date(2024, 2, 23)),
        ("vendredi", FRI_LEAP, FRI_LEAP),
        ("dimanche", FRI_LEAP, date(2024, 2, 25)),
        ("ce mardi", FRI_LEAP, date(2024, 2, 27)),
        ("jeudi 22", FRI_LEAP, date(2024, 2, 22)),
        # months: the 1st (mid-month the 15th, end of month the last day), never after today
        ("en janvier", FRI_LEAP, date(2024, 1, 1)),
        ("en janvier", NEW_YEAR, date(2025, 1, 1)),
        ("en décembre", NEW_YEAR, date(2024, 12, 1)),
        ("en avril", FRI_LEAP, date(2023, 4, 1)),
        ("depuis mars 2024", SUMMER, date(2024, 3, 1)),
        ("depuis mars", FRI_LEAP, date(2024, 3, 1)),
        ("depuis février 2023", FRI_LEAP, date(2023, 2, 1)),
        ("février 2024", FRI_LEAP, date(2024, 2, 1)),
        ("début février", FRI_LEAP, date(2024, 2, 1)),
        ("mi-février", FRI_LEAP, date(2024, 2, 15)),
        ("fin janvier", FRI_LEAP, date(2024, 1, 31)),
        ("fin mars", FRI_LEAP, FRI_LEAP),
        ("fin février", FRI_LEAP, date(2024, 2, 29)),
        ("au mois de mai", SUMMER, date(2025, 5, 1)),
        ("le mois de janvier", FRI_LEAP, date(2024, 1, 1)),
        ("depuis le mois d'octobre", FRI_LEAP, date(2023, 10, 1)),
        ("depuis la mi-janvier", FRI_LEAP, date(2024, 1, 15)),
        ("depuis le début du mois de février", FRI_LEAP, date(2024, 2, 1)),
        ("en mai dernier", SUMMER, date(2025, 5, 1)),
        ("février dernier", FRI_LEAP, date(2024, 2, 1)),
        ("mars dernier", FRI_LEAP, date(2023, 3, 1)),
        ("le 15 du mois dernier", END_MARCH, date(2024, 2, 15)),
        ("le 3 de ce mois", END_MARCH, date(2024, 3, 3)),
        # years
        ("depuis 2023", FRI_LEAP, date(2023, 1, 1)),
        ("en 2022", FRI_LEAP, date(2022, 1, 1)),
        ("fin 2023", FRI_LEAP, date(2023, 12, 31)),
        # inside sentences: the first date wins
        ("Il m'a insulté hier sur Facebook", FRI_LEAP, date(2024, 2, 29)),
        ("Depuis le 3 janvier il publie des horreurs, encore hier", FRI_LEAP, date(2024, 1, 3)),
        ("ça a commencé il y a deux semaines sur insta", FRI_LEAP, date(2024, 2, 16)),
        ("Bonjour docteur, le 15/01/2024 à 14h30 un avis est apparu", SUMMER, date(2024, 1, 15)),
        ("<p>Message reçu <b>avant-hier</b></p>", FRI_LEAP, date(2024, 2, 28)),
        ("😡😡 hier encore 😡", FRI_LEAP, date(2024, 2, 29)),
        # whole-answer forms (to "depuis quand ?")
        ("3 jours", FRI_LEAP, date(2024, 2, 27)),
        ("deux semaines", FRI_LEAP, date(2024, 2, 16)),
        ("un mois et demi", FRI_LEAP, date(2024, 1, 17)),
        ("le 12", FRI_LEAP, date(2024, 2, 12)),
        ("le 1er", FRI_LEAP, date(2024, 3, 1)),
        ("le 20 à 18h", FRI_LEAP, date(2024, 2, 20)),
    ],
)
def test_parse_french_date(text: str, today: date, expected: date) -> None:
    assert parse_french_date(text, today) == expected


@pytest.mark.parametrize(
    ("text", "today"),
    [
        ("", FRI_LEAP),
        ("   ", FRI_LEAP),
        ("Bonjour, je suis médecin généraliste.", FRI_LEAP),
        # not dates
        ("il m'a mis 1/5 sur Google", FRI_LEAP),
        ("mon numéro 06.12.34.56.78 circule", FRI_LEAP),
        ("j'ai vu 3 patients", FRI_LEAP),
        ("en sept jours, 200 messages", FRI_LEAP),
        ("le lundi je consulte à l'hôpital", FRI_LEAP),
        ("une hiérarchie", FRI_LEAP),
        ("Mars est une planète", FRI_LEAP),
        ("depuis 2000 abonnés me suivent", FRI_LEAP),
        ("il a 2000 abonnés", FRI_LEAP),
        ("j'ai appelé le 17", FRI_LEAP),
        ("le 31 février", FRI_LEAP),
        ("32/01/2024", FRI_LEAP),
        ("il y a 100000000 jours", FRI_LEAP),
        ("il y a 9999 ans", FRI_LEAP),
        ("deux", FRI_LEAP),
        # future expressions are never returned
        ("dans 3 jours", FRI_LEAP),
        ("demain", FRI_LEAP),
        ("la semaine prochaine", FRI_LEAP),
        ("le 3 janvier 2025", FRI_LEAP),
        ("3/01/2030", FRI_LEAP),
        ("en 2030", FRI_LEAP),
        ("depuis mars 2025", FRI_LEAP),
        ("le 30 du mois dernier", END_MARCH),  # there was no 30 February
        ("le 20 de ce mois", FRI_LEAP),
    ],
)
def test_parse_french_date_none(text: str, today: date) -> None:
    assert parse_french_date(text, today) is None


def test_past_expressions_are_never_in_the_future() -> None:
    texts = [
        "le 3 janvier",
        "en décembre",
        "fin mars",
        "mi-mars",
        "lundi",
        "ce week-end",
        "le 29 février",
        "le 12/12",
        "jeudi 31",
        "cette semaine",
        "début mars",
    ]
    for today in (FRI_LEAP, NEW_YEAR, SUMMER, MONDAY, END_MARCH, date(2023, 12, 31)):
        for text in texts:
            found = parse_french_date(text, today)
            assert found is None or found <= today, (text, today, found)


def test_find_dates_reports_spans_in_the_original_text() -> None:
    text = "Œuvre de haine : ça a commencé AVANT-HIER, puis le 3 février et encore à l’instant."
    found = find_dates(text, FRI_LEAP)
    assert [m.text for m in found] == ["AVANT-HIER", "le 3 février", "à l’instant"]
    assert [m.date for m in found] == [date(2024, 2, 28), date(2024, 2, 3), FRI_LEAP]
    for match in found:
        assert text[match.start : match.end] == match.text
        assert match.span == (match.start, match.end)


def test_find_dates_precision() -> None:
    found = find_dates("hier, il y a deux semaines, en janvier, depuis 2023", FRI_LEAP)
    assert [m.precision for m in found] == ["day", "week", "month", "year"]


def test_find_dates_returns_dataclasses_in_reading_order() -> None:
    found = find_dates("le 3 janvier puis hier", FRI_LEAP)
    assert all(isinstance(m, DateMatch) for m in found)
    assert [m.date for m in found] == [date(2024, 1, 3), date(2024, 2, 29)]


def test_today_may_be_a_datetime() -> None:
    from datetime import datetime

    assert parse_french_date("hier", cast(date, datetime(2024, 3, 1, 23, 59))) == date(2024, 2, 29)


def test_fallback_can_be_disabled() -> None:
    # "le 12" is read by the whole-answer rule, not by dateparser
    assert parse_french_date("le 12", FRI_LEAP, fallback=False) == date(2024, 2, 12)


def test_dateparser_reads_what_the_rules_do_not() -> None:
    assert find_dates("15-févr-2024", FRI_LEAP) == []
    assert parse_french_date("15-févr-2024", FRI_LEAP, fallback=False) is None
    assert parse_french_date("15-févr-2024", FRI_LEAP) == date(2024, 2, 15)


def test_dateparser_fallback_never_returns_the_future() -> None:
    # dateparser alone reads "dans 3 jours" as a future date
    assert parse_french_date("dans 3 jours", FRI_LEAP) is None
    assert parse_french_date("12-mars-2024", FRI_LEAP) is None


@pytest.mark.parametrize(
    "text",
    [
        "🙂" * 1000,
        "<script>alert('hier')</script>" * 100,
        "\x00\x01\x02 hier \uffff",
        "e\u0301te\u0301 hier",  # decomposed accents
        "İ" * 50 + " hier",  # lower() changes the length
        "3" * 5000,
        "/" * 5000 + "12/12/" * 1000,
        "il y a " * 3000,
        "le " * 5000 + "3",
        "le lundi " * 2000 + "3",
        "depuis le " * 2000,
        "il y a un " * 2000,
        "fin " * 5000 + "mars",
    ],
    ids=lambda text: f"{text[:12]!r}x{len(text)}",
)
def test_odd_input_never_raises(text: str) -> None:
    started = time.perf_counter()
    result = parse_french_date(text, FRI_LEAP)
    assert result is None or result <= FRI_LEAP
    for match in find_dates(text, FRI_LEAP):
        assert text[match.start : match.end] == match.text
    # no blow-up on repeated prefixes (a regression once took seconds here; bench/bench_text.py)
    assert time.perf_counter() - started < hang_deadline()


@pytest.mark.parametrize("value", [None, 42, b"hier", ["hier"]])
def test_non_string_input_gives_none(value: Any) -> None:
    assert parse_french_date(value, FRI_LEAP) is None
    assert find_dates(value, FRI_LEAP) == []


def test_huge_input_is_read_without_hanging() -> None:
    chunk = "Il m'insulte depuis le 3 janvier sur Facebook 😡 et encore hier, voir 06.12.34.56.78. "
    text = (chunk * (50_000 // len(chunk) + 1))[:50_000]
    started = time.perf_counter()
    found = find_dates(text, FRI_LEAP)
    elapsed = time.perf_counter() - started
    assert len(found) > 1000
    # a catastrophic backtracking would take minutes; the speed: bench/bench_text.py
    assert elapsed < hang_deadline()
