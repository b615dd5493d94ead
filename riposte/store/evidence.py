"""The evidence journal of a case: items appended one at a time, their files sealed in the vault.

Each item gets the next number, a UTC timestamp and the SHA-256 of its file; a file, once
fingerprinted, is never replaced. `evidence_row` and `append_evidence` also serve
`cases.create_case` (the items of a new case) and `inbox.add_inbox_evidence` (a file received
on Telegram or Signal).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from riposte.case import Case, CaseError, Evidence, parse_case
from riposte.store.base import Conversation, StoreBase, StoreState
from riposte.store.errors import message
from riposte.store.mapping import split_evidence
from riposte.store.models import CaseRow, EvidenceRow
from riposte.store.records import EvidenceRecord


class EvidenceStore(StoreBase):
    def add_evidence(
        self,
        code: str,
        item: Evidence | Mapping[str, Any],
        file_bytes: bytes | None = None,
        *,
        actor: str = "chat",
        conversation: Conversation | None = None,
    ) -> EvidenceRecord:
        """Append an item to the evidence journal (UTC timestamp, SHA-256 of the file)."""
        st = self._ready()
        now = self._now()
        if not isinstance(item, Evidence):
            item = parse_case({"evidence": [item]}, now.date()).evidence[0]
        check_files((item,), {} if file_bytes is None else {0: file_bytes})
        written: list[tuple[str, str]] = []
        try:
            with st.sessions.begin() as s:
                row = self._find_for(s, st, code, actor, conversation)
                ev = append_evidence(self, s, st, row, item, file_bytes, now, actor, written)
        except BaseException:
            for storage_key, name in written:
                st.vault.remove(storage_key, name)
            raise
        return EvidenceRecord(
            number=ev.number,
            item=replace(item, sha256=ev.sha256),
            recorded_at=now,
            file_size=ev.file_size,
        )

    def attach_evidence_file(
        self,
        code: str,
        number: int,
        data: bytes,
        filename: str,
        *,
        actor: str = "chat",
        conversation: Conversation | None = None,
    ) -> EvidenceRecord:
        """Give evidence item `number` its file (a screenshot sent after the item was written).

        A file, once fingerprinted, is never replaced: an item that already has one raises
        `CaseError` (add a new item instead).
        """
        st = self._ready()
        now = self._now()
        written: list[tuple[str, str]] = []
        try:
            with st.sessions.begin() as s:
                row = self._find_for(s, st, code, actor, conversation)
                query = select(EvidenceRow).where(
                    EvidenceRow.case_id == row.id, EvidenceRow.number == number
                )
                ev = s.execute(query).scalar_one_or_none()
                if ev is None:
                    raise CaseError([message("errors.unknown_evidence", number=number)])
                if ev.stored_file is not None:
                    raise CaseError([message("errors.evidence_has_file", number=number)])
                self._check_quotas(s, row, size=len(data))
                aad = self._aad(row, "evidence.details", number)
                details = dict(self._fields(st, row).open_json(ev.details, aad) or {})
                details["file"] = filename
                ev.stored_file = st.vault.write(row.storage_key, data, self._files(st, row))
                written.append((row.storage_key, ev.stored_file))
                ev.sha256 = hashlib.sha256(data).hexdigest()
                ev.file_size = len(data)
                ev.details = self._fields(st, row).seal_json(details, aad)
                self._touch(row, now)
                self._audit(s, st, row, actor, "evidence_file_added", {"number": number})
                record = self._record(s, st, row)
        except BaseException:
            for storage_key, name in written:
                st.vault.remove(storage_key, name)
            raise
        return next(e for e in record.evidence if e.number == number)

    def evidence_content(self, code: str, number: int) -> bytes | None:
        """The decrypted file of evidence item `number` (None when it has no file)."""
        st = self._ready()
        with st.sessions() as s:
            row = self._find(s, code)
            query = select(EvidenceRow.stored_file).where(
                EvidenceRow.case_id == row.id, EvidenceRow.number == number
            )
            stored = s.execute(query).scalar()
        return self._read_file(st, row, stored)


def evidence_row(
    store: StoreBase,
    st: StoreState,
    row: CaseRow,
    number: int,
    item: Evidence,
    data: bytes | None,
    now: datetime,
) -> EvidenceRow:
    """A journal row; the file (if any) is sealed into the vault first."""
    columns, details = split_evidence(_evidence_dict(item))
    sha = columns["sha256"]
    stored = None
    if data is not None:
        sha = hashlib.sha256(data).hexdigest()
        stored = st.vault.write(row.storage_key, data, store._files(st, row))
    return EvidenceRow(
        case_id=row.id,
        number=number,
        recorded_at=now,
        captured_at=columns["captured_at"],
        published_at=columns["published_at"],
        details=store._fields(st, row).seal_json(
            details or None, store._aad(row, "evidence.details", number)
        ),
        sha256=sha,
        file_size=None if data is None else len(data),
        stored_file=stored,
    )


def append_evidence(
    store: StoreBase,
    s: Session,
    st: StoreState,
    row: CaseRow,
    item: Evidence,
    data: bytes | None,
    now: datetime,
    actor: str,
    written: list[tuple[str, str]],
) -> EvidenceRow:
    """Add the next journal row (its file, if any, noted in `written` for clean-up)."""
    store._check_quotas(s, row, items=1, size=0 if data is None else len(data))
    last = s.execute(
        select(func.max(EvidenceRow.number)).where(EvidenceRow.case_id == row.id)
    ).scalar()
    ev = evidence_row(store, st, row, (last or 0) + 1, item, data, now)
    if ev.stored_file is not None:
        written.append((row.storage_key, ev.stored_file))
    s.add(ev)
    store._touch(row, now)
    store._audit(s, st, row, actor, "evidence_added", {"number": ev.number})
    return ev


def check_files(evidence: Iterable[Evidence], files: Mapping[int, bytes]) -> None:
    """Each file index exists, and a declared `sha256` matches its file."""
    items = list(evidence)
    errors: list[str] = []
    for index, data in sorted(files.items()):
        if not 0 <= index < len(items):
            errors.append(message("errors.file_without_item", index=index))
            continue
        declared = items[index].sha256
        actual = hashlib.sha256(data).hexdigest()
        if declared is not None and declared != actual:
            errors.append(
                message("errors.sha256_mismatch", field=f"evidence[{index}].sha256", actual=actual)
            )
    if errors:
        raise CaseError(errors)


def _evidence_dict(item: Evidence) -> dict[str, Any]:
    items: list[dict[str, Any]] = Case(evidence=(item,)).to_dict()["evidence"]
    return items[0]
