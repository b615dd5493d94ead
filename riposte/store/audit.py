"""The audit trail: who did what to a case, without personal data.

Each entry names its case by a keyed hash of the code (the subject), so that the deletion
record, which outlives the case, still answers `riposte case audit <code>` and nothing else.
Entries are written by `StoreBase._audit` in the transaction of the change they record.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from riposte.store.crypto import Keyring
from riposte.store.models import AuditRow
from riposte.store.records import AuditEntry


def audit_subjects(keys: Keyring, code: str) -> list[str]:
    """The audit subject of `code` under the current key, then under the previous ones."""
    return [
        hmac.new(key, code.encode("ascii"), hashlib.sha256).hexdigest()[:32]
        for key in keys.derived_all("audit-subject")
    ]


def read_trail(s: Session, subjects: list[str]) -> list[AuditEntry]:
    """Every entry of these subjects, oldest first."""
    query = select(AuditRow).where(AuditRow.subject.in_(subjects)).order_by(AuditRow.id)
    return [
        AuditEntry(at=r.at, actor=r.actor, action=r.action, detail=r.detail)
        for r in s.execute(query).scalars()
    ]
