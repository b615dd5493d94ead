"""The case itself: creating it, reading it, changing it, and the conversations working on it.

A case is stored as its row (victim and court city sealed), its incident (facts clear, the
rest sealed), its steps and its evidence journal (`evidence`). `create_case` hands out the
code and the secret once; `read_case` and `update_case` take the code (and, for the chat, a
conversation linked by `link_sender`). Opening a case with its secret is in `opening`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from riposte.case import Case, CaseError, parse_case
from riposte.store.base import Conversation, StoreBase, StoreState
from riposte.store.codes import generate_code, new_secret
from riposte.store.errors import message
from riposte.store.evidence import check_files, evidence_row
from riposte.store.mapping import split_incident
from riposte.store.models import CaseRow, IncidentRow, SenderRow, StepRow
from riposte.store.records import CaseRecord, NewCase

_LOG = logging.getLogger(__name__)


class CaseStore(StoreBase):
    def create_case(
        self,
        case: Case | Mapping[str, Any],
        *,
        files: Mapping[int, bytes] | None = None,
        actor: str = "chat",
        today: date | None = None,
    ) -> NewCase:
        """Store a new case; `files` maps evidence indexes to their file bytes.

        Raises `CaseError` (French, naming the field) when the case is invalid or a declared
        `sha256` does not match its file. Returns the code and the secret (shown once).
        """
        st = self._ready()
        now = self._now()
        day = today or now.date()
        parsed = case if isinstance(case, Case) else parse_case(case, day)
        files = dict(files or {})
        check_files(parsed.evidence, files)
        self._check_quotas(
            None, None, items=len(parsed.evidence), size=sum(map(len, files.values()))
        )
        secret, secret_hash = new_secret()  # hashed outside the transaction
        storage_key = secrets.token_hex(16)
        try:
            with st.sessions.begin() as s:
                row = CaseRow(
                    code=self._new_code(s),
                    storage_key=storage_key,
                    secret_hash=secret_hash,
                    failed_attempts=0,
                    created_at=now,
                    updated_at=now,
                    last_activity_at=now,
                )
                self._new_case_key(st, row)
                s.add(row)
                s.flush()
                self._write_case(s, st, row, parsed)
                self._set_steps(s, row, parsed.steps_done, day, now)
                for index, item in enumerate(parsed.evidence):
                    data = files.get(index)
                    s.add(evidence_row(self, st, row, index + 1, item, data, now))
                detail = {"evidence": len(parsed.evidence), "files": len(files)}
                self._audit(s, st, row, actor, "created", detail)
                code = row.code
        except BaseException:
            st.vault.remove_case(storage_key)
            raise
        _LOG.info("case created (%d evidence items)", len(parsed.evidence))
        _LOG.debug("case %s created", code)
        return NewCase(code, secret)

    def read_case(
        self,
        code: str,
        *,
        actor: str = "cli",
        action: str = "read",
        conversation: Conversation | None = None,
    ) -> CaseRecord:
        """The case without its secret (chat after `open_case`, or operator).

        Audited as `action` (`read`, `exported`…) by `actor`.
        """
        st = self._ready()
        with st.sessions.begin() as s:
            row = self._find_for(s, st, code, actor, conversation)
            self._audit(s, st, row, actor, action)
            return self._record(s, st, row)

    def update_case(
        self,
        code: str,
        changes: Mapping[str, Any],
        *,
        actor: str = "chat",
        today: date | None = None,
        conversation: Conversation | None = None,
        done_on: Mapping[str, date] | None = None,
    ) -> CaseRecord:
        """Apply `changes` to the case as a JSON Merge Patch (RFC 7386) and validate it.

        `null` removes a field; `steps_done`, when given, replaces the list (newly listed
        steps are marked done today, or on the day `done_on` gives for them, the others not
        done). Evidence is added one item at a time with `add_evidence`, never through this
        method.
        """
        if "evidence" in changes:
            raise CaseError([message("errors.update_evidence")])
        st = self._ready()
        now = self._now()
        day = today or now.date()
        with st.sessions.begin() as s:
            row = self._find_for(s, st, code, actor, conversation)
            current = self._record(s, st, row).to_dict()
            current.pop("evidence", None)
            parsed = parse_case(merge_patch(current, changes), day)
            self._write_case(s, st, row, parsed)
            if "steps_done" in changes:
                self._set_steps(s, row, parsed.steps_done, day, now, done_on or {})
            self._touch(row, now)
            self._audit(s, st, row, actor, "updated", {"sections": sorted(changes)})
            s.flush()
            return self._record(s, st, row)

    def link_sender(self, code: str, channel: str, sender_id: str, *, actor: str = "chat") -> str:
        """Remember that a chat sender works on this case; returns the sender's pseudonym.

        The pseudonym (`riposte.privacy.pseudonymise`) serves look-ups; the raw id is kept
        sealed only so that deleting the case can erase the conversation.
        """
        from riposte.privacy import pseudonymise

        st = self._ready()
        pseudonym = pseudonymise(channel, sender_id, st.keys.master)
        with st.sessions.begin() as s:
            row = self._find(s, code)
            query = select(SenderRow.id).where(
                SenderRow.case_id == row.id, SenderRow.pseudonym == pseudonym
            )
            if s.execute(query).first() is None:
                sealed = self._fields(st, row).seal(
                    sender_id.encode("utf-8"), self._aad(row, f"senders.{pseudonym}")
                )
                s.add(
                    SenderRow(
                        case_id=row.id, pseudonym=pseudonym, sender_id=sealed, linked_at=self._now()
                    )
                )
                self._audit(s, st, row, actor, "sender_linked", {"channel": channel[:32]})
        return pseudonym

    # ------------------------------------------------------------------ writing

    def _new_code(self, s: Session) -> str:
        for _ in range(50):
            code = generate_code()
            if s.execute(select(CaseRow.id).where(CaseRow.code == code)).first() is None:
                return code
        raise RuntimeError("no free case code after 50 attempts")  # pragma: no cover

    def _write_case(self, s: Session, st: StoreState, row: CaseRow, case: Case) -> None:
        """Seal the victim and court city, and store the incident (facts clear, rest sealed)."""
        data = case.to_dict()
        seal = self._fields(st, row)
        row.victim = seal.seal_json(data.get("victim"), self._aad(row, "cases.victim"))
        row.court_city = seal.seal_text(data.get("court_city"), self._aad(row, "cases.court_city"))
        current = s.execute(select(IncidentRow).where(IncidentRow.case_id == row.id)).scalar()
        if "incident" not in data:
            if current is not None:
                s.delete(current)
            return
        columns, details = split_incident(data["incident"])
        target = current or IncidentRow(case_id=row.id)
        for name, value in columns.items():
            setattr(target, name, value)
        target.details = seal.seal_json(details or None, self._aad(row, "incidents.details"))
        if current is None:
            s.add(target)

    def _set_steps(
        self,
        s: Session,
        row: CaseRow,
        done_keys: Iterable[str],
        today: date,
        now: datetime,
        done_on: Mapping[str, date] | None = None,
    ) -> None:
        days = done_on or {}
        wanted = list(dict.fromkeys(done_keys))
        existing = {
            step.key: step
            for step in s.execute(select(StepRow).where(StepRow.case_id == row.id)).scalars()
        }
        for key, step in existing.items():
            if step.done != (key in wanted):
                step.done = key in wanted
                step.done_on = days.get(key, today) if step.done else None
                step.updated_at = now
            elif step.done and key in days:
                step.done_on = days[key]
                step.updated_at = now
        for key in wanted:
            if key not in existing:
                day = days.get(key, today)
                s.add(StepRow(case_id=row.id, key=key, done=True, done_on=day, updated_at=now))


def merge_patch(target: Any, patch: Any) -> Any:
    """JSON Merge Patch (RFC 7386): objects merge, `null` removes, anything else replaces."""
    if not isinstance(patch, Mapping):
        return patch
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
