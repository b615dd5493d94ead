"""Today's date where the doctors are: France (Europe/Paris), whatever the server's zone.

A deadline that ends "today" must not end an hour early because the server runs in UTC.

`RIPOSTE_CLOCK_FILE` (tests and rehearsals only) names a file holding an ISO date-time with
its offset (`2027-01-04T09:30:00+01:00`): every process of the stack then reads the time
from it, read again at each call, so that a test can move the whole stack to the day a
follow-up falls due. Unset, the system clock is used. A file that cannot be read or parsed is
an error (`ClockFileError`), never a silent fall back to the real time.
"""

from __future__ import annotations

import datetime
import os
import re
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/Paris")
CLOCK_FILE_ENV = "RIPOSTE_CLOCK_FILE"


class ClockFileError(RuntimeError):
    """`RIPOSTE_CLOCK_FILE` is set but does not hold an aware ISO date-time."""


def now() -> datetime.datetime:
    """The current time (aware, UTC): the system clock, or `RIPOSTE_CLOCK_FILE`'s."""
    path = os.environ.get(CLOCK_FILE_ENV, "").strip()
    if not path:
        return datetime.datetime.now(datetime.timezone.utc)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read(100).strip()
        value = datetime.datetime.fromisoformat(text)
    except (OSError, ValueError) as error:
        raise ClockFileError(
            f"{CLOCK_FILE_ENV}={path}: an ISO date-time with its offset is expected "
            f"({type(error).__name__})"
        ) from None
    if value.tzinfo is None:
        raise ClockFileError(f"{CLOCK_FILE_ENV}={path}: the date-time needs its offset")
    return value.astimezone(datetime.timezone.utc)


def today(now_: datetime.datetime | None = None) -> datetime.date:
    """The date in France at `now_` (an aware datetime; default: the current time)."""
    return (now_ or now()).astimezone(ZONE).date()


def local_date(moment: datetime.datetime) -> datetime.date:
    """The date in France at `moment` (an aware datetime)."""
    return moment.astimezone(ZONE).date()


def at_paris(day: datetime.date, hour: int) -> datetime.datetime:
    """`hour` o'clock in France on `day`, as an aware UTC datetime."""
    local = datetime.datetime.combine(day, datetime.time(hour), tzinfo=ZONE)
    return local.astimezone(datetime.timezone.utc)


_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def parse_iso_date(value: str) -> datetime.date | None:
    """A strict AAAA-MM-JJ date (as typed on a command line), or None when invalid."""
    if not _ISO_DATE.match(value):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None
