"""Follow-ups: what the assistant tells the doctor later, on its own, and when.

Computed from the case's clear facts (the incident, each statement's publication date) and the
dates its steps were done, nothing sealed:

* `deadline`: a press offence's prescription (art. 65 of the 1881 law) closes in 30, 14 and 3
  days; the nearest deadline still open of each qualification (for dated statements, the
  earliest statement still open: an older one closes first). None once a complaint is filed.
* `platform_answer`: 7 days after a report to the platform (`report_to_platform`), its answer
  is due (Cnom and CNIL: act if nothing comes).
* `erasure_answer`: the day after the month a site has to answer an erasure request
  (`erasure_request`, art. 12.3 of the GDPR): the CNIL complaint is then possible. None once
  the complaint to the CNIL is done.
* `footprint_check`: one month after the doctor last searched their name (prevention plan,
  step `monitor_reputation`): time to look again.

Each follow-up falls due at 9 a.m. in France on its day (`DUE_HOUR`); one whose day has
passed when it is planned is not planned (the chat already says what is late).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from riposte.case import Case
from riposte.deadlines import add_months

DEADLINE, PLATFORM_ANSWER, ERASURE_ANSWER, FOOTPRINT_CHECK = (
    "deadline",
    "platform_answer",
    "erasure_answer",
    "footprint_check",
)
KINDS = (DEADLINE, PLATFORM_ANSWER, ERASURE_ANSWER, FOOTPRINT_CHECK)
DEADLINE_DAYS = (30, 14, 3)
PLATFORM_ANSWER_DAYS = 7
ERASURE_ANSWER_MONTHS = 1
FOOTPRINT_MONTHS = 1
DUE_HOUR = 9  # o'clock, in France

# The step each follow-up's « c'est fait » records (and the step that makes it pointless).
STEP_OF_KIND: Mapping[str, str] = {
    DEADLINE: "file_complaint",
    PLATFORM_ANSWER: "report_to_platform",
    ERASURE_ANSWER: "cnil_complaint",
    FOOTPRINT_CHECK: "monitor_reputation",
}


@dataclass(frozen=True)
class Planned:
    """One follow-up to send on `due` (at `DUE_HOUR` in France). `ref` tells it apart from the
    others of its kind in the case; `facts` (clear, no personal data) are what its message
    says: the deadline and its offence, the day of the step it follows."""

    kind: str
    ref: str
    due: date
    facts: Mapping[str, Any] = field(default_factory=dict)


def plan(case: Case, steps_done_on: Mapping[str, date], today: date) -> list[Planned]:
    """The follow-ups of a case from today on, sorted by due day.

    `steps_done_on`: the day each step done was marked done.
    """
    planned: list[Planned] = []
    if "file_complaint" not in steps_done_on:
        planned += _deadlines(case, today)
    reported = steps_done_on.get("report_to_platform")
    if reported is not None:
        due = reported + timedelta(days=PLATFORM_ANSWER_DAYS)
        planned.append(
            Planned(PLATFORM_ANSWER, "report_to_platform", due, {"sent_on": reported.isoformat()})
        )
    erasure = steps_done_on.get("erasure_request")
    if erasure is not None and "cnil_complaint" not in steps_done_on:
        due = add_months(erasure, ERASURE_ANSWER_MONTHS) + timedelta(days=1)
        planned.append(
            Planned(ERASURE_ANSWER, "erasure_request", due, {"sent_on": erasure.isoformat()})
        )
    checked = steps_done_on.get("monitor_reputation")
    if checked is not None:
        due = add_months(checked, FOOTPRINT_MONTHS)
        planned.append(
            Planned(
                FOOTPRINT_CHECK,
                f"monitor_reputation/{due.isoformat()}",
                due,
                {"checked_on": checked.isoformat()},
            )
        )
    return sorted((p for p in planned if p.due >= today), key=lambda p: (p.due, p.kind, p.ref))


def _deadlines(case: Case, today: date) -> list[Planned]:
    from riposte.advice.engine import advise

    planned = []
    for q in advise(case, today).qualifications:
        if not q.press_offense:
            continue
        p = q.prescription
        if p.statements:
            open_ = [s.deadline for s in p.statements if not s.expired]
            deadline = min(open_) if open_ else None
        else:
            deadline = p.deadline if p.expired is False else None
        if deadline is None:
            continue
        for days in DEADLINE_DAYS:
            planned.append(
                Planned(
                    DEADLINE,
                    f"{q.offense}/{q.variant}/{deadline.isoformat()}/{days}",
                    deadline - timedelta(days=days),
                    {
                        "offense": q.offense,
                        "variant": q.variant,
                        "label": q.label,
                        "deadline": deadline.isoformat(),
                        "days": days,
                    },
                )
            )
    return planned
