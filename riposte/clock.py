"""Today's date where the doctors are: France (Europe/Paris), whatever the server's zone.

A deadline that ends "today" must not end an hour early because the server runs in UTC.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/Paris")


def today(now: datetime.datetime | None = None) -> datetime.date:
    """The date in France at `now` (an aware datetime; default: the current time)."""
    return (now or datetime.datetime.now(datetime.timezone.utc)).astimezone(ZONE).date()
