"""Prescription arithmetic: calendar months, end-of-month clamping, leap years, boundaries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from riposte.deadlines import add_months, add_years, compute_deadline, days_left, is_expired


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
