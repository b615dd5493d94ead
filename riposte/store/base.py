"""What every part of the case store shares: the session factory, the keys, one case's sealers.

`StoreBase` connects, migrates and loads the key on first use (`_ready`), and gives the
aggregate modules (`cases`, `opening`, `evidence`, `inbox`, `letters`, `deletion`,
`deadlines`) the helpers they all use: finding a case (`_find_for` refuses a chat
conversation not linked to it), its sealers and associated data, the audit record of a change,
the quotas, and the whole case decrypted (`_record`). `riposte.store.repository.CaseRepository`
composes them.
"""

from __future__ import annotations

import base64
import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from riposte.case import parse_case
from riposte.privacy import load_keys
from riposte.store.audit import audit_subjects
from riposte.store.codes import normalise_code
from riposte.store.config import StoreConfig
from riposte.store.crypto import DecryptionError, Keyring, Sealer
from riposte.store.errors import StoreConfigError, UnknownCaseError, message
from riposte.store.files import FileVault
from riposte.store.mapping import INCIDENT_COLUMNS, join_evidence, join_incident
from riposte.store.migrate import ensure_directory, prepare_sqlite_file, upgrade_head
from riposte.store.models import (
    AuditRow,
    CaseRow,
    EvidenceRow,
    IncidentRow,
    LetterRow,
    SenderRow,
    StepRow,
    StoreMeta,
)
from riposte.store.quotas import Quotas, check_quotas
from riposte.store.records import CaseRecord, EvidenceRecord, LetterRecord, StepRecord

_LOG = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: A chat conversation: the channel label and the sender id the actions know it by.
Conversation = tuple[str, str]
#: The actor of the chat's calls (`chat`, or `chat:<detail>`): they must name a conversation.
CHAT_ACTOR = "chat"


def utc_now() -> datetime:
    from riposte import clock

    return clock.now()


@dataclass
class StoreState:
    """What the first use opens: the engine, its sessions, the keys and the file vault."""

    engine: Engine
    sessions: sessionmaker
    keys: Keyring
    vault: FileVault


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


class StoreBase:
    """The shared state and helpers of the case store. Thread-safe; connects on first use."""

    def __init__(
        self, config: StoreConfig, *, clock: Clock = utc_now, quotas: Quotas | None = None
    ) -> None:
        self.config = config
        self._clock = clock
        self.quotas = quotas or Quotas()
        self._state: StoreState | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            if self._state is not None:
                self._state.engine.dispose()
                self._state = None

    def ensure_ready(self) -> None:
        """Migrate the database and open (on first run, create) the key; raise if impossible.

        `riposte serve` calls it before starting Rasa, whose channels and tracker store need
        the key to exist.
        """
        self._ready()

    def pseudonymise(self, channel: str, user_id: str) -> str:
        from riposte.privacy import pseudonymise

        return pseudonymise(channel, user_id, self._ready().keys.master)

    # ------------------------------------------------------------------ start-up

    def _ready(self) -> StoreState:
        with self._lock:
            if self._state is None:
                self._state = self._start()
            return self._state

    def _start(self) -> StoreState:
        prepare_sqlite_file(self.config)
        engine = create_engine(self.config.database_url, future=True, pool_pre_ping=True)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        try:
            upgrade_head(engine)
            sessions = sessionmaker(engine, future=True, expire_on_commit=False)
            keys = self._open_keys(sessions)
        except BaseException:
            engine.dispose()
            raise
        ensure_directory(self.config.data_dir)
        return StoreState(engine, sessions, keys, FileVault(self.config.data_dir, keys.files))

    def _open_keys(self, sessions: sessionmaker) -> Keyring:
        with sessions() as s:
            check = s.get(StoreMeta, "key_check")
            expected_id = s.get(StoreMeta, "key_id")
            has_cases = s.execute(select(CaseRow.id).limit(1)).first() is not None
        loaded = load_keys(self.config, create=check is None and not has_cases)
        master = loaded.current
        keys = Keyring(master, loaded.previous)
        if check is None:
            try:
                with sessions.begin() as s:
                    s.add(StoreMeta(name="key_check", value=_b64(keys.key_check())))
                    s.add(StoreMeta(name="key_id", value=master.key_id))
                return keys
            except IntegrityError:  # another process wrote it first: check against it
                return self._open_keys(sessions)
        if not keys.matches(base64.b64decode(check.value)):
            raise StoreConfigError(
                message(
                    "keys.mismatch",
                    key_id=master.key_id,
                    expected=expected_id.value if expected_id else "?",
                )
            )
        return keys

    # ------------------------------------------------------------------ finding a case

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return now

    def _find(self, s: Session, code: str) -> CaseRow:
        canonical = normalise_code(code)
        row = None
        if canonical is not None:
            row = s.execute(select(CaseRow).where(CaseRow.code == canonical)).scalar_one_or_none()
        if row is None:
            raise UnknownCaseError(code)
        return row

    def _find_for(
        self,
        s: Session,
        st: StoreState,
        code: str,
        actor: str,
        conversation: Conversation | None,
    ) -> CaseRow:
        """The case, if `actor` may reach it: a chat call only from a linked conversation.

        A conversation not linked to the case (`link_sender`) gets the very error of an unknown
        code. A chat call without a conversation is a programming error (`ValueError`).
        """
        if actor.split(":", 1)[0] != CHAT_ACTOR:
            return self._find(s, code)
        if conversation is None:
            raise ValueError("a chat call must name its conversation (channel, sender_id)")
        from riposte.privacy import pseudonymise

        row = self._find(s, code)
        channel, sender_id = conversation
        pseudonym = pseudonymise(channel, sender_id, st.keys.master)
        query = select(SenderRow.id).where(
            SenderRow.case_id == row.id, SenderRow.pseudonym == pseudonym
        )
        if s.execute(query).first() is None:
            _LOG.warning("a conversation not linked to a case asked for it: refused")
            raise UnknownCaseError(code)
        return row

    def _touch(self, row: CaseRow, now: datetime) -> None:
        row.updated_at = now
        row.last_activity_at = now

    def _check_quotas(
        self,
        s: Session | None,
        row: CaseRow | None,
        *,
        items: int = 0,
        size: int = 0,
        letters: int = 0,
    ) -> None:
        """Raise `QuotaExceededError` if adding `items`, `size` bytes and `letters` to the case
        (`row`; None for a new case) would pass `self.quotas`."""
        check_quotas(s, row, self.quotas, items=items, size=size, letters=letters)

    # ------------------------------------------------------------------ the audit trail

    def _subject(self, st: StoreState, code: str) -> str:
        return self._subjects(st, code)[0]

    @staticmethod
    def _subjects(st: StoreState, code: str) -> list[str]:
        """The audit subject of `code` under the current key, then under the previous ones."""
        return audit_subjects(st.keys, code)

    def _audit(
        self,
        s: Session,
        st: StoreState,
        row: CaseRow,
        actor: str,
        action: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        s.add(
            AuditRow(
                case_id=row.id,
                subject=self._subject(st, row.code),
                at=self._now(),
                actor=actor[:64],
                action=action,
                detail=dict(detail) if detail else None,
            )
        )

    # ------------------------------------------------------------------ the case's keys

    @staticmethod
    def _aad(row: CaseRow, column: str, number: int | None = None) -> str:
        suffix = "" if number is None else f"/{number}"
        return f"{column}:{row.storage_key}{suffix}"

    def _new_case_key(self, st: StoreState, row: CaseRow) -> None:
        """Give the case a random data key, kept sealed with the master-derived `case-keys` key."""
        row.data_key = st.keys.case_keys.seal(
            secrets.token_bytes(32), self._aad(row, "cases.data_key")
        )

    def _prepare_case_key(self, st: StoreState, row: CaseRow) -> bool:
        """Key rotation: give the case a data key, or seal its key with the current master key
        (True when it changed). Its values are then re-sealed with `_fields` and `_files`."""
        if row.data_key is None:
            self._new_case_key(st, row)
            return True
        aad = self._aad(row, "cases.data_key")
        resealed = st.keys.case_keys.reseal(bytes(row.data_key), aad)
        if resealed is not None:
            row.data_key = resealed
        return resealed is not None

    def _case_sealers(self, st: StoreState, row: CaseRow) -> tuple[Sealer, Sealer]:
        if row.data_key is None:  # stored before case keys: the master-derived keys
            return st.keys.fields, st.keys.files
        try:
            aad = self._aad(row, "cases.data_key")
            data_key = st.keys.case_keys.open(bytes(row.data_key), aad)
        except DecryptionError:
            raise StoreConfigError(message("keys.cannot_decrypt")) from None
        return st.keys.case_sealers(data_key)

    def _fields(self, st: StoreState, row: CaseRow) -> Sealer:
        """The sealer of the case's database fields."""
        return self._case_sealers(st, row)[0]

    def _files(self, st: StoreState, row: CaseRow) -> Sealer:
        """The sealer of the case's files in the vault."""
        return self._case_sealers(st, row)[1]

    def _read_file(self, st: StoreState, row: CaseRow, stored: str | None) -> bytes | None:
        if stored is None:
            return None
        try:
            return st.vault.read(row.storage_key, stored, self._files(st, row))
        except DecryptionError:
            raise StoreConfigError(message("keys.cannot_decrypt")) from None
        except FileNotFoundError:
            raise StoreConfigError(message("errors.file_missing")) from None

    # ------------------------------------------------------------------ reading a case

    def _record(self, s: Session, st: StoreState, row: CaseRow) -> CaseRecord:
        """Decrypt and rebuild the whole case (validated again by the shared loader)."""

        def rows(model: Any, order: Any) -> list[Any]:
            query = select(model).where(model.case_id == row.id).order_by(order)
            return list(s.execute(query).scalars())

        seal = self._fields(st, row)
        incident = s.execute(select(IncidentRow).where(IncidentRow.case_id == row.id)).scalar()
        evidence_rows = rows(EvidenceRow, EvidenceRow.number)
        steps = tuple(
            StepRecord(key=r.key, done=r.done, done_on=r.done_on, updated_at=r.updated_at)
            for r in rows(StepRow, StepRow.id)
        )
        try:
            data: dict[str, Any] = {
                "victim": seal.open_json(row.victim, self._aad(row, "cases.victim")),
                "court_city": seal.open_text(row.court_city, self._aad(row, "cases.court_city")),
                "steps_done": [step.key for step in steps if step.done],
                "evidence": [
                    join_evidence(
                        _evidence_columns(ev),
                        seal.open_json(ev.details, self._aad(row, "evidence.details", ev.number)),
                    )
                    for ev in evidence_rows
                ],
            }
            if incident is not None:
                details = seal.open_json(incident.details, self._aad(row, "incidents.details"))
                data["incident"] = join_incident(incident_columns(incident), details)
        except DecryptionError:
            raise StoreConfigError(message("keys.cannot_decrypt")) from None
        case = parse_case(data, date.max)
        evidence = tuple(
            EvidenceRecord(
                number=ev.number, item=item, recorded_at=ev.recorded_at, file_size=ev.file_size
            )
            for ev, item in zip(evidence_rows, case.evidence, strict=True)
        )
        return CaseRecord(
            code=row.code,
            case=case,
            created_at=row.created_at,
            updated_at=row.updated_at,
            evidence=evidence,
            steps=steps,
            letters=tuple(letter_record(r) for r in rows(LetterRow, LetterRow.number)),
        )


def incident_columns(row: IncidentRow) -> dict[str, Any]:
    """The clear columns of an incident row, by name."""
    return {name: getattr(row, name) for name in INCIDENT_COLUMNS}


def _evidence_columns(row: EvidenceRow) -> dict[str, Any]:
    return {
        "captured_at": row.captured_at,
        "sha256": row.sha256,
        "published_at": row.published_at,
    }


def letter_record(row: LetterRow) -> LetterRecord:
    return LetterRecord(
        number=row.number,
        kind=row.kind,
        created_at=row.created_at,
        media_type=row.media_type,
        sha256=row.sha256,
        size=row.size,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
