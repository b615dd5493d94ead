"""What one case may hold, so that a flood through the chat or an upload link fills neither the
database nor the disk.

A real case has tens of items and a few letters (each complaint is recorded twice: PDF and
DOCX); every file is 10 MB at most.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from riposte.store.errors import QuotaExceededError, message
from riposte.store.models import CaseRow, EvidenceRow, LetterRow

_LOG = logging.getLogger(__name__)

MAX_EVIDENCE_PER_CASE = 500
MAX_STORED_BYTES_PER_CASE = 500 * 1024 * 1024  # evidence files and letters together
MAX_LETTERS_PER_CASE = 200


@dataclass(frozen=True)
class Quotas:
    evidence_items: int = MAX_EVIDENCE_PER_CASE
    stored_bytes: int = MAX_STORED_BYTES_PER_CASE
    letters: int = MAX_LETTERS_PER_CASE


def check_quotas(
    s: Session | None,
    row: CaseRow | None,
    quotas: Quotas,
    *,
    items: int = 0,
    size: int = 0,
    letters: int = 0,
) -> None:
    """Raise `QuotaExceededError` if adding `items`, `size` bytes and `letters` to the case
    (`row`; None for a new case) would pass `quotas`."""
    q = quotas
    held_items = held_bytes = held_letters = 0
    if s is not None and row is not None:
        held_items, evidence_bytes = s.execute(
            select(
                func.count(EvidenceRow.id), func.coalesce(func.sum(EvidenceRow.file_size), 0)
            ).where(EvidenceRow.case_id == row.id)
        ).one()
        held_letters, letter_bytes = s.execute(
            select(func.count(LetterRow.id), func.coalesce(func.sum(LetterRow.size), 0)).where(
                LetterRow.case_id == row.id
            )
        ).one()
        held_bytes = int(evidence_bytes) + int(letter_bytes)
    errors = []
    if items and held_items + items > q.evidence_items:
        errors.append(message("errors.quota_evidence", limit=q.evidence_items))
    if size and held_bytes + size > q.stored_bytes:
        errors.append(message("errors.quota_bytes", limit_mb=q.stored_bytes // (1024 * 1024)))
    if letters and held_letters + letters > q.letters:
        errors.append(message("errors.quota_letters", limit=q.letters))
    if errors:
        _LOG.warning("a case quota was reached; nothing written")
        raise QuotaExceededError(errors)
