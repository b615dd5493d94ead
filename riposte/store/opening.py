"""Opening a case with its secret, and the wait imposed on a conversation that keeps failing.

The failures are counted per code and per conversation in the database (`open_attempts`), so
the count holds across processes and whoever learnt a code cannot lock the doctor out.
Policies: `riposte.store.config` (`MAX_FAILED_ATTEMPTS`, `BACKOFF_*`, `FAILURE_MEMORY_HOURS`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import delete, select, update

from riposte.store.base import StoreBase, StoreState
from riposte.store.codes import dummy_hash, normalise_code, verify_secret
from riposte.store.config import (
    BACKOFF_FIRST_MINUTES,
    BACKOFF_MAX_MINUTES,
    FAILURE_MEMORY_HOURS,
    MAX_FAILED_ATTEMPTS,
)
from riposte.store.errors import AccessDeniedError, CaseLockedError
from riposte.store.models import CaseRow, OpenAttemptRow
from riposte.store.records import CaseRecord

_LOG = logging.getLogger(__name__)


class OpeningStore(StoreBase):
    def open_case(
        self,
        code: str,
        secret: str,
        *,
        actor: str = "chat",
        sender: tuple[str, str] | None = None,
    ) -> CaseRecord:
        """The case if `secret` is right; else `AccessDeniedError` or `CaseLockedError`.

        `sender` is the conversation asking, `(channel, sender id)`. After
        `MAX_FAILED_ATTEMPTS` wrong secrets for this code from this conversation, it must wait
        `BACKOFF_FIRST_MINUTES`, then twice as long after each further failure (at most
        `BACKOFF_MAX_MINUTES`); while it waits, even the right secret is refused to it. The
        count is in the database, so it holds across processes; other conversations (the
        doctor's own) are not held back, so whoever learnt a code cannot keep her out.
        Callers without a conversation (operator's tools) share one count. Unknown codes and
        wrong secrets get the same error, after the same work.
        """
        st = self._ready()
        now = self._now()
        canonical = normalise_code(code)
        with st.sessions() as s:
            query = select(CaseRow).where(CaseRow.code == canonical)
            row = s.execute(query).scalar_one_or_none() if canonical else None
        if row is None:
            verify_secret(secret, dummy_hash())
            raise AccessDeniedError()
        who = "" if sender is None else self.pseudonymise(*sender)
        attempt, blocked_until = self._count_attempt(st, row.id, who, now)
        if not verify_secret(secret, row.secret_hash):
            self._record_failure(st, row.id, attempt, blocked_until, actor)
        with st.sessions.begin() as s:
            row = s.get(CaseRow, row.id)
            if row is None:  # deleted meanwhile
                raise AccessDeniedError()
            s.execute(
                delete(OpenAttemptRow).where(
                    OpenAttemptRow.case_id == row.id, OpenAttemptRow.sender == who
                )
            )
            row.failed_attempts = 0
            row.last_activity_at = now
            self._audit(s, st, row, actor, "opened")
            return self._record(s, st, row)

    def _count_attempt(
        self, st: StoreState, case_id: int, who: str, now: datetime
    ) -> tuple[int, datetime | None]:
        """Count this attempt as failed before the secret is checked (a success clears it).

        Counted first so that many attempts sent at once cannot all pass before the wait is
        set. Raises `CaseLockedError` while the conversation waits (nothing counted then).
        Returns the attempt's rank and, from the `MAX_FAILED_ATTEMPTS`th, the wait it sets.
        """
        forget = now - timedelta(hours=FAILURE_MEMORY_HOURS)
        with st.sessions.begin() as s:
            # Updating the case row first serialises the attempts on one case (a row lock on
            # PostgreSQL, the write lock on SQLite): no count is lost, no wait skipped.
            s.execute(
                update(CaseRow)
                .where(CaseRow.id == case_id)
                .values(failed_attempts=CaseRow.failed_attempts + 1)
                .execution_options(synchronize_session=False)
            )
            s.execute(  # forget the quiet conversations, of every case
                delete(OpenAttemptRow)
                .where(OpenAttemptRow.last_failure_at < forget)
                .where(
                    (OpenAttemptRow.blocked_until.is_(None)) | (OpenAttemptRow.blocked_until <= now)
                )
                .execution_options(synchronize_session=False)
            )
            query = select(OpenAttemptRow).where(
                OpenAttemptRow.case_id == case_id, OpenAttemptRow.sender == who
            )
            attempt = s.execute(query).scalar_one_or_none()
            if attempt is not None and attempt.blocked_until is not None:
                if attempt.blocked_until > now:
                    raise CaseLockedError(attempt.blocked_until)  # rolls the count back
            if attempt is None:
                attempt = OpenAttemptRow(case_id=case_id, sender=who, failures=0)
                s.add(attempt)
            attempt.failures += 1
            attempt.last_failure_at = now
            blocked_until = None
            if attempt.failures >= MAX_FAILED_ATTEMPTS:
                doubling = min(attempt.failures - MAX_FAILED_ATTEMPTS, 16)
                minutes = min(BACKOFF_FIRST_MINUTES * 2**doubling, BACKOFF_MAX_MINUTES)
                blocked_until = now + timedelta(minutes=minutes)
            attempt.blocked_until = blocked_until
            return int(attempt.failures), blocked_until

    def _record_failure(
        self,
        st: StoreState,
        case_id: int,
        attempt: int,
        blocked_until: datetime | None,
        actor: str,
    ) -> NoReturn:
        """Audit a wrong secret (already counted) and raise the error the caller shows."""
        with st.sessions.begin() as s:
            row = s.get(CaseRow, case_id)
            if row is not None:
                detail = {"attempt": attempt, "all": row.failed_attempts}
                self._audit(s, st, row, actor, "open_failed", detail)
                if blocked_until is not None:
                    minutes = round((blocked_until - self._now()).total_seconds() / 60)
                    self._audit(s, st, row, actor, "locked", {"minutes": minutes})
        if blocked_until is not None:
            _LOG.warning("a conversation must wait after %d wrong secrets for a case", attempt)
            raise CaseLockedError(blocked_until)
        raise AccessDeniedError()
