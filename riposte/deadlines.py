"""Prescription arithmetic in calendar months, with `datetime.date` only.

Convention (critical, to be checked by a lawyer in every real case):

* A period of N months starting on day D ends on the same calendar day N months later
  ("de date à date"). When that day does not exist, it is clamped to the last day of the
  month: 30 November + 3 months = 28 February (29 in a leap year); 31 May + 1 month = 30 June;
  29 February + 12 months = 28 February.
* Years are counted as 12 months, so the same clamping applies.
* The deadline day itself is still usable: the action is in time if it is taken on or before
  the deadline, and the period has expired from the day after. This follows the reading of
  article 65 of the 1881 press law given by the Cour de cassation ("trois mois révolus": for a
  text published on 23 August, the period expired on 23 November at midnight; a text published
  on 14 December can still be prosecuted on 14 March but no longer on 15 March).
* There is no extension when the last day is a Saturday, a Sunday or a public holiday: the
  press prescription of article 65 is not a procedural time limit (TGI Paris, 8 April 1998 and
  29 October 2003; CA Paris, 2 May 2007, reported by Légipresse). `last_working_day_on_or_before`
  gives the prudent day to act by. Public holidays are those of the whole of France (art.
  L3133-1 of the code du travail); Alsace-Moselle's extra days (Good Friday, 26 December) are
  not computed, the engine mentions them in a warning.

The engine repeats in its warnings that this computation is indicative and must be checked.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType

from dateutil.easter import easter

WEEKDAY_KEYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
"""Keys of `words.weekdays` in messages.yml, in `date.weekday()` order."""


def add_months(d: date, n: int) -> date:
    """Return the same calendar day `n` months after (or before, if negative) `d`.

    The day is clamped to the last day of the target month when it does not exist.
    """
    month_index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(month_index, 12)
    month = month0 + 1
    if not 1 <= year <= 9999:
        raise OverflowError(f"date out of range: {d.isoformat()} + {n} months")
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(d.day, last_day))


def add_years(d: date, n: int) -> date:
    """Return the same calendar day `n` years later, clamped (29 February -> 28 February)."""
    return add_months(d, 12 * n)


def days_left(deadline: date, today: date) -> int:
    """Days from `today` to `deadline`: 0 on the deadline day, negative once it has passed."""
    return (deadline - today).days


def is_expired(deadline: date, today: date) -> bool:
    """True from the day after the deadline (the deadline day itself is still in time)."""
    return today > deadline


@dataclass(frozen=True)
class Deadline:
    """A prescription period computed for one start date."""

    start: date
    months: int
    deadline: date
    days_left: int
    expired: bool


def compute_deadline(start: date, months: int, today: date) -> Deadline:
    """Compute the last day to act for a period of `months` months running from `start`."""
    deadline = add_months(start, months)
    return Deadline(
        start=start,
        months=months,
        deadline=deadline,
        days_left=days_left(deadline, today),
        expired=is_expired(deadline, today),
    )


# --------------------------------------------------------------------------- working days


@functools.lru_cache(maxsize=64)
def public_holidays(year: int) -> Mapping[date, str]:
    """The French public holidays of `year` (whole of France), date -> key.

    The keys name the French words in messages.yml (`words.holidays`). Easter Monday,
    Ascension Thursday and Whit Monday follow the Gregorian Easter date.
    """
    sunday = easter(year)
    return MappingProxyType(
        {
            date(year, 1, 1): "new_year",
            sunday + timedelta(days=1): "easter_monday",
            date(year, 5, 1): "labour_day",
            date(year, 5, 8): "victory_day",
            sunday + timedelta(days=39): "ascension",
            sunday + timedelta(days=50): "whit_monday",
            date(year, 7, 14): "national_day",
            date(year, 8, 15): "assumption",
            date(year, 11, 1): "all_saints",
            date(year, 11, 11): "armistice",
            date(year, 12, 25): "christmas",
        }
    )


def holiday_key(d: date) -> str | None:
    """The key of the public holiday falling on `d`, or None."""
    return public_holidays(d.year).get(d)


def weekday_key(d: date) -> str:
    """The English key of `d`'s weekday ("monday" … "sunday"), for messages.yml."""
    return WEEKDAY_KEYS[d.weekday()]


def is_working_day(d: date) -> bool:
    """Monday to Friday, and not a French public holiday."""
    return d.weekday() < 5 and holiday_key(d) is None


def last_working_day_on_or_before(d: date) -> date:
    """`d` itself when it is a working day, else the nearest working day before it."""
    while not is_working_day(d):
        d -= timedelta(days=1)
    return d
