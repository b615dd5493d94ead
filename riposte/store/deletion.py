"""Deleting a case: its rows, its files and its audit trail, leaving one non-personal record.

The case's sealed data key is overwritten before the rows go, so whatever it sealed no longer
opens, wherever a copy lies. `CaseRepository.purge` deletes the idle cases through here.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from riposte.store.base import Conversation, StoreBase
from riposte.store.follow_ups import forget_contacts
from riposte.store.models import (
    AuditRow,
    CaseRow,
    EvidenceRow,
    FollowUpRow,
    IncidentRow,
    LetterRow,
    OpenAttemptRow,
    SenderRow,
    StepRow,
)
from riposte.store.records import DeletionReport

_CASE_TABLES = (
    AuditRow,
    FollowUpRow,
    SenderRow,
    LetterRow,
    StepRow,
    EvidenceRow,
    IncidentRow,
    OpenAttemptRow,
)
_LOG = logging.getLogger(__name__)


class DeletionStore(StoreBase):
    def delete_case(
        self,
        code: str,
        *,
        actor: str = "cli",
        reason: str = "request",
        conversation: Conversation | None = None,
    ) -> DeletionReport:
        """Erase the case, its files and its audit trail, leaving one non-personal record."""
        st = self._ready()
        with st.sessions.begin() as s:
            row = self._find_for(s, st, code, actor, conversation)
            senders = list(
                s.execute(select(SenderRow).where(SenderRow.case_id == row.id)).scalars()
            )
            sender_ids = tuple(
                self._fields(st, row)
                .open(r.sender_id, self._aad(row, f"senders.{r.pseudonym}"))
                .decode()
                for r in senders
            )
            count = select(func.count(EvidenceRow.id)).where(EvidenceRow.case_id == row.id)
            evidence_count = int(s.execute(count).scalar() or 0)
            self._destroy_case_key(s, row)
            forget_contacts(s, row.id)
            for model in _CASE_TABLES:
                s.execute(delete(model).where(model.case_id == row.id))
            s.execute(delete(CaseRow).where(CaseRow.id == row.id))
            s.add(
                AuditRow(
                    case_id=None,
                    subject=self._subject(st, row.code),
                    at=self._now(),
                    actor=actor.split(":")[0][:64],
                    action="deleted",
                    detail={"reason": reason, "evidence": evidence_count},
                )
            )
            canonical, storage_key = row.code, row.storage_key
        removed = st.vault.remove_case(storage_key)
        _LOG.info("case deleted (%s)", reason)
        return DeletionReport(canonical, evidence_count, removed, sender_ids)

    @staticmethod
    def _destroy_case_key(s: Session, row: CaseRow) -> None:
        """Overwrite the case's sealed data key before the row goes (erasure by destroying
        the key: what it sealed, wherever a copy lies, no longer opens)."""
        if row.data_key is not None:
            s.execute(
                update(CaseRow)
                .where(CaseRow.id == row.id)
                .values(data_key=bytes(len(row.data_key)))
                .execution_options(synchronize_session=False)
            )
            s.flush()
