from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from riposte import clock


@pytest.mark.parametrize(
    ("utc", "paris_day"),
    [
        (datetime(2026, 11, 24, 22, 59, tzinfo=timezone.utc), date(2026, 11, 24)),
        (datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc), date(2026, 11, 25)),  # UTC+1
        (datetime(2026, 7, 14, 22, 30, tzinfo=timezone.utc), date(2026, 7, 15)),  # UTC+2
        (datetime(2026, 7, 14, 21, 59, tzinfo=timezone.utc), date(2026, 7, 14)),
    ],
)
def test_today_is_the_date_in_france(utc: datetime, paris_day: date) -> None:
    assert clock.today(utc) == paris_day
