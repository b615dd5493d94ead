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

The engine repeats in its warnings that this computation is indicative and must be checked.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date


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
