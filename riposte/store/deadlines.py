"""The store side of deadlines: which cases have a prescription deadline coming.

Computed by the advice engine from the clear facts only (the incident facts and each
statement's publication date): nothing is decrypted, so `riposte reminders` needs no case key.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from riposte.case import Case, parse_case
from riposte.store.base import StoreBase, incident_columns
from riposte.store.config import REMINDER_DAYS
from riposte.store.mapping import join_incident
from riposte.store.models import CaseRow, EvidenceRow, IncidentRow
from riposte.store.records import CaseDeadlines, Deadline


class DeadlineStore(StoreBase):
    def cases_with_deadlines(
        self, today: date, within_days: int = REMINDER_DAYS
    ) -> list[CaseDeadlines]:
        """Cases with a prescription deadline in `[today, today + within_days]`.

        Computed with `riposte.advice.engine.advise` from the clear facts only (the incident
        facts and each statement's publication date; nothing is decrypted); sorted by the nearest
        deadline. For a press offence with dated statements, the nearest deadline of a
        statement still open counts (an older statement can expire before the latest one).
        """
        from riposte.advice.engine import advise

        st = self._ready()
        with st.sessions() as s:
            query = select(CaseRow.id, CaseRow.code, IncidentRow).join(
                IncidentRow, IncidentRow.case_id == CaseRow.id
            )
            rows = s.execute(query).all()
            dates: dict[int, list[date | None]] = {}
            published = select(EvidenceRow.case_id, EvidenceRow.published_at).order_by(
                EvidenceRow.case_id, EvidenceRow.number
            )
            for case_id, published_at in s.execute(published).all():
                dates.setdefault(case_id, []).append(published_at)
            facts = [(code, clear_case(inc, dates.get(case_id, []))) for case_id, code, inc in rows]
        found: list[CaseDeadlines] = []
        for code, case in facts:
            deadlines = []
            for q in advise(case, today).qualifications:
                p = q.prescription
                if p.statements:
                    near = [(x.deadline, x.days_left) for x in p.statements if not x.expired]
                elif p.deadline is not None and p.days_left is not None and not p.expired:
                    near = [(p.deadline, p.days_left)]
                else:
                    near = []
                near = [(d, left) for d, left in near if 0 <= left <= within_days]
                if near:
                    deadline, left = min(near)
                    deadlines.append(
                        Deadline(
                            offense=q.offense,
                            variant=q.variant,
                            label=q.label,
                            deadline=deadline,
                            days_left=left,
                        )
                    )
            if deadlines:
                found.append(CaseDeadlines(code, tuple(sorted(deadlines, key=_by_deadline))))
        return sorted(found, key=lambda c: (c.deadlines[0].days_left, c.code))


def clear_case(row: IncidentRow | None, published: list[date | None]) -> Case:
    """The incident and the statements' publication dates from the clear columns only
    (enough for deadlines; nothing decrypted). Evidence items keep their order."""
    data: dict[str, object] = {
        "evidence": [{"published_at": _iso_day(day)} for day in published],
    }
    if row is not None:
        data["incident"] = join_incident(incident_columns(row), None)
    return parse_case(data, date.max)


def _iso_day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _by_deadline(d: Deadline) -> tuple[date, str]:
    return (d.deadline, d.offense)
