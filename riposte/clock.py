"""Today's date where the doctors are: France (Europe/Paris), whatever the server's zone.

A deadline that ends "today" must not end an hour early because the server runs in UTC.
"""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/Paris")


def today(now: datetime.datetime | None = None) -> datetime.date:
    """The date in France at `now` (an aware datetime; default: the current time)."""
    return (now or datetime.datetime.now(datetime.timezone.utc)).astimezone(ZONE).date()


_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def parse_iso_date(value: str) -> datetime.date | None:
    """A strict AAAA-MM-JJ date (as typed on a command line), or None when invalid."""
    if not _ISO_DATE.match(value):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None
