"""Prescription arithmetic: calendar months, end-of-month clamping, leap years, boundaries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from riposte.deadlines import (
    WEEKDAY_KEYS,
    add_months,
    add_years,
    compute_deadline,
    days_left,
    holiday_key,
    is_expired,
    is_working_day,
    last_working_day_on_or_before,
    public_holidays,
    weekday_key,
)
from riposte.knowledge import load


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        # same calendar day N months later
        (date(2026, 10, 1), 3, date(2027, 1, 1)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 10, 31), 3, date(2026, 1, 31)),
        # end of month clamped
        (date(2024, 11, 30), 3, date(2025, 2, 28)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 5, 31), 1, date(2025, 6, 30)),
        (date(2025, 8, 31), 3, date(2025, 11, 30)),
        # a day that exists in the target month is kept, never pushed to the month's end
        (date(2026, 4, 30), 1, date(2026, 5, 30)),
        (date(2026, 1, 29), 2, date(2026, 3, 29)),
        (date(2025, 11, 30), 1, date(2025, 12, 30)),
        # leap years: 29 February + 1 year, + 4 years
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        # 6 years
        (date(2026, 11, 23), 72, date(2032, 11, 23)),
        (date(2020, 2, 29), 72, date(2026, 2, 28)),
        # zero and negative
        (date(2026, 3, 15), 0, date(2026, 3, 15)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 1, 15), -1, date(2024, 12, 15)),
        (date(2025, 1, 15), -13, date(2023, 12, 15)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("start", "years", "expected"),
    [
        (date(2024, 2, 29), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 4, date(2028, 2, 29)),
        (date(2026, 3, 24), 1, date(2027, 3, 24)),
    ],
)
def test_add_years(start: date, years: int, expected: date) -> None:
    assert add_years(start, years) == expected


@pytest.mark.parametrize("months", [1, 3, 12, 72, -5])
def test_add_months_round_trips_for_days_present_in_every_month(months: int) -> None:
    day = date(2023, 1, 1)
    while day < date(2025, 12, 31):
        if day.day <= 28:
            assert add_months(add_months(day, months), -months) == day
        day += timedelta(days=1)


def test_add_months_out_of_range() -> None:
    with pytest.raises(OverflowError):
        add_months(date(9999, 12, 1), 1)


@pytest.mark.parametrize(
    ("start", "months", "today", "deadline", "left", "expired"),
    [
        # loi1881.fr example: published 14/12/2016, still in time on 14/03/2017, late on 15/03
        (date(2016, 12, 14), 3, date(2017, 3, 13), date(2017, 3, 14), 1, False),
        (date(2016, 12, 14), 3, date(2017, 3, 14), date(2017, 3, 14), 0, False),
        (date(2016, 12, 14), 3, date(2017, 3, 15), date(2017, 3, 14), -1, True),
        # Cass. crim.: published 23/08/2011, prescription acquired after 23/11/2011
        (date(2011, 8, 23), 3, date(2011, 11, 23), date(2011, 11, 23), 0, False),
        (date(2011, 8, 23), 3, date(2011, 11, 24), date(2011, 11, 23), -1, True),
        # clamped deadline: 30/11 + 3 months in a leap year
        (date(2023, 11, 30), 3, date(2024, 2, 29), date(2024, 2, 29), 0, False),
        (date(2023, 11, 30), 3, date(2024, 3, 1), date(2024, 2, 29), -1, True),
        # a long way off
        (date(2026, 3, 24), 12, date(2026, 11, 24), date(2027, 3, 24), 120, False),
        # long expired
        (date(2026, 5, 10), 3, date(2026, 11, 24), date(2026, 8, 10), -106, True),
    ],
)
def test_compute_deadline(
    start: date, months: int, today: date, deadline: date, left: int, expired: bool
) -> None:
    result = compute_deadline(start, months, today)
    assert result.start == start
    assert result.months == months
    assert result.deadline == deadline
    assert result.days_left == left
    assert result.expired is expired


@pytest.mark.parametrize(
    ("deadline", "today", "left", "expired"),
    [
        (date(2026, 1, 1), date(2025, 12, 31), 1, False),
        (date(2026, 1, 1), date(2026, 1, 1), 0, False),
        (date(2026, 1, 1), date(2026, 1, 2), -1, True),
    ],
)
def test_days_left_and_expired(deadline: date, today: date, left: int, expired: bool) -> None:
    assert days_left(deadline, today) == left
    assert is_expired(deadline, today) is expired


# --------------------------------------------------------------------------- working days
# No extension of the press prescription when its last day is a Saturday, a Sunday or a public
# holiday: art. 65 of the 1881 law is not a procedural time limit (legipresse.com: TGI Paris,
# 8 April 1998 and 29 October 2003; CA Paris, 2 May 2007). Public holidays: art. L3133-1 of
# the code du travail.


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (
            2026,
            {
                date(2026, 1, 1): "new_year",
                date(2026, 4, 6): "easter_monday",
                date(2026, 5, 1): "labour_day",
                date(2026, 5, 8): "victory_day",
                date(2026, 5, 14): "ascension",
                date(2026, 5, 25): "whit_monday",
                date(2026, 7, 14): "national_day",
                date(2026, 8, 15): "assumption",
                date(2026, 11, 1): "all_saints",
                date(2026, 11, 11): "armistice",
                date(2026, 12, 25): "christmas",
            },
        ),
        (
            2027,
            {
                date(2027, 1, 1): "new_year",
                date(2027, 3, 29): "easter_monday",
                date(2027, 5, 1): "labour_day",
                date(2027, 5, 6): "ascension",
                date(2027, 5, 8): "victory_day",
                date(2027, 5, 17): "whit_monday",
                date(2027, 7, 14): "national_day",
                date(2027, 8, 15): "assumption",
                date(2027, 11, 1): "all_saints",
                date(2027, 11, 11): "armistice",
                date(2027, 12, 25): "christmas",
            },
        ),
        # Easter on 31 March: Ascension on 9 May, Whit Monday on 20 May.
        (2024, {date(2024, 4, 1): "easter_monday", date(2024, 5, 9): "ascension"}),
        # Late Easter (25 April 2038): Whit Monday in June.
        (2038, {date(2038, 4, 26): "easter_monday", date(2038, 6, 14): "whit_monday"}),
    ],
)
def test_french_public_holidays(year: int, expected: dict[date, str]) -> None:
    holidays = public_holidays(year)
    assert len(holidays) == 11
    for day, key in expected.items():
        assert holidays[day] == key
        assert holiday_key(day) == key


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 4, 3),  # Good Friday: a holiday in Alsace-Moselle only (a warning says so)
        date(2026, 12, 26),  # 26 December: the same
        date(2026, 12, 24),
        date(2026, 12, 31),
    ],
)
def test_days_that_are_not_national_holidays(day: date) -> None:
    assert holiday_key(day) is None


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 3, 13), True),  # Friday
        (date(2026, 3, 14), False),  # Saturday
        (date(2026, 3, 15), False),  # Sunday
        (date(2026, 3, 16), True),  # Monday
        (date(2026, 7, 14), False),  # national day, a Tuesday
        (date(2027, 3, 29), False),  # Easter Monday
        (date(2026, 5, 14), False),  # Ascension Thursday
        (date(2026, 12, 24), True),
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # The audit's example: 14/12/2025 + 3 months = Saturday 14/03/2026 -> Friday 13/03.
        (date(2026, 3, 14), date(2026, 3, 13)),
        (date(2026, 3, 15), date(2026, 3, 13)),
        (date(2026, 3, 13), date(2026, 3, 13)),
        # Easter Monday 2027: back over the weekend to Friday 26/03.
        (date(2027, 3, 29), date(2027, 3, 26)),
        # 14 July 2026 (Tuesday) -> Monday 13/07.
        (date(2026, 7, 14), date(2026, 7, 13)),
        # Friday 1 May 2026, then the weekend: back to Thursday 30/04.
        (date(2026, 5, 3), date(2026, 4, 30)),
        # Sunday 1 November 2026 -> Friday 30/10.
        (date(2026, 11, 1), date(2026, 10, 30)),
        # Friday 1 January 2027 -> Thursday 31/12/2026 (across the year).
        (date(2027, 1, 1), date(2026, 12, 31)),
        # Friday 25 December 2026 -> Thursday 24/12.
        (date(2026, 12, 25), date(2026, 12, 24)),
    ],
)
def test_last_working_day_on_or_before(day: date, expected: date) -> None:
    assert last_working_day_on_or_before(day) == expected


def test_weekday_keys_name_the_french_words_of_the_knowledge_base() -> None:
    weekdays = load().messages.mapping("words.weekdays")
    assert [weekdays[key] for key in WEEKDAY_KEYS] == [
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
    ]
    assert weekday_key(date(2026, 3, 14)) == "saturday"
    holidays = load().messages.mapping("words.holidays")
    assert set(public_holidays(2026).values()) == set(holidays)
