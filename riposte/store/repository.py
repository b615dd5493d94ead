"""The case repository: the only code that opens database sessions.

    repo = CaseRepository.from_env()          # nothing connects yet
    code, secret = repo.create_case(case_dict) # first use: upgrade head, load or create the key
    record = repo.open_case(code, secret)

Each public method runs one short transaction. Personal fields and files are sealed with keys
derived from the case's own random data key, itself sealed with a key derived from the master
key (`riposte.privacy`) and destroyed when the case is deleted; cases stored before case keys
use the master-derived keys until `riposte rekey`. The facts needed for deadlines stay clear.
A case code is an address; the secret (checked by `open_case`) is what the doctor proves.
Methods other than `open_case` take the code: for the operator's command line on the server
(actor "cli"), and for the chat once the case is open, where they also take the conversation
(`conversation=(channel, sender_id)`) and refuse one that did not create or resume the case
(`link_sender`), exactly as they refuse an unknown code: knowing a code is not enough.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import create_engine, delete, event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from riposte.case import Case, CaseError, Evidence, parse_case
from riposte.privacy import load_keys
from riposte.store.codes import (
    dummy_hash,
    generate_code,
    new_secret,
    normalise_code,
    verify_secret,
)
from riposte.store.config import (
    BACKOFF_FIRST_MINUTES,
    BACKOFF_MAX_MINUTES,
    DEFAULT_PURGE_DAYS,
    FAILURE_MEMORY_HOURS,
    INBOX_HOURS,
    MAX_FAILED_ATTEMPTS,
    REMINDER_DAYS,
    StoreConfig,
)
from riposte.store.crypto import DecryptionError, Keyring, Sealer
from riposte.store.errors import (
    AccessDeniedError,
    CaseLockedError,
    InboxFileMissingError,
    QuotaExceededError,
    StoreConfigError,
    UnknownCaseError,
    message,
)
from riposte.store.files import FileVault
from riposte.store.mapping import (
    INCIDENT_COLUMNS,
    join_evidence,
    join_incident,
    split_evidence,
    split_incident,
)
from riposte.store.migrate import ensure_directory, prepare_sqlite_file, upgrade_head
from riposte.store.models import (
    AuditRow,
    CaseRow,
    EvidenceRow,
    InboxRow,
    IncidentRow,
    LetterRow,
    LinkUseRow,
    OpenAttemptRow,
    SenderRow,
    StepRow,
    StoreMeta,
)
from riposte.store.records import (
    AuditEntry,
    CaseDeadlines,
    CaseRecord,
    Deadline,
    DeletionReport,
    EvidenceRecord,
    LetterRecord,
    NewCase,
    StepRecord,
)

if TYPE_CHECKING:
    from riposte.store.rekey import RekeyReport

_CASE_TABLES = (
    AuditRow,
    SenderRow,
    LetterRow,
    StepRow,
    EvidenceRow,
    IncidentRow,
    OpenAttemptRow,
)
_LETTER_KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_INBOX_REF_BYTES = 18  # the reference handed to Rasa: 24 URL-safe characters
_LOG = logging.getLogger(__name__)

# What one case may hold, so that a flood through the chat or an upload link fills neither the
# database nor the disk. A real case has tens of items and a few letters (each complaint is
# recorded twice: PDF and DOCX); every file is 10 MB at most.
MAX_EVIDENCE_PER_CASE = 500
MAX_STORED_BYTES_PER_CASE = 500 * 1024 * 1024  # evidence files and letters together
MAX_LETTERS_PER_CASE = 200


@dataclass(frozen=True)
class Quotas:
    evidence_items: int = MAX_EVIDENCE_PER_CASE
    stored_bytes: int = MAX_STORED_BYTES_PER_CASE
    letters: int = MAX_LETTERS_PER_CASE


Clock = Callable[[], datetime]
#: A chat conversation: the channel label and the sender id the actions know it by.
Conversation = tuple[str, str]
#: The actor of the chat's calls (`chat`, or `chat:<detail>`): they must name a conversation.
CHAT_ACTOR = "chat"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


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


@dataclass
class _State:
    engine: Engine
    sessions: sessionmaker
    keys: Keyring
    vault: FileVault


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


class CaseRepository:
    """The case store. Thread-safe; connects, migrates and loads the key on first use."""

    def __init__(
        self, config: StoreConfig, *, clock: Clock = utc_now, quotas: Quotas | None = None
    ) -> None:
        self.config = config
        self._clock = clock
        self.quotas = quotas or Quotas()
        self._state: _State | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CaseRepository:
        return cls(StoreConfig.from_env(env))

    def __enter__(self) -> CaseRepository:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._state is not None:
                self._state.engine.dispose()
                self._state = None

    # ------------------------------------------------------------------ start-up

    def _ready(self) -> _State:
        with self._lock:
            if self._state is None:
                self._state = self._start()
            return self._state

    def _start(self) -> _State:
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
        return _State(engine, sessions, keys, FileVault(self.config.data_dir, keys.files))

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

    # ------------------------------------------------------------------ helpers

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
        st: _State,
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

    def _subject(self, st: _State, code: str) -> str:
        return self._subjects(st, code)[0]

    @staticmethod
    def _subjects(st: _State, code: str) -> list[str]:
        """The audit subject of `code` under the current key, then under the previous ones."""
        return [
            hmac.new(key, code.encode("ascii"), hashlib.sha256).hexdigest()[:32]
            for key in st.keys.derived_all("audit-subject")
        ]

    def _audit(
        self,
        s: Session,
        st: _State,
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

    @staticmethod
    def _aad(row: CaseRow, column: str, number: int | None = None) -> str:
        suffix = "" if number is None else f"/{number}"
        return f"{column}:{row.storage_key}{suffix}"

    def _new_case_key(self, st: _State, row: CaseRow) -> None:
        """Give the case a random data key, kept sealed with the master-derived `case-keys` key."""
        row.data_key = st.keys.case_keys.seal(
            secrets.token_bytes(32), self._aad(row, "cases.data_key")
        )

    def _prepare_case_key(self, st: _State, row: CaseRow) -> bool:
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

    def _case_sealers(self, st: _State, row: CaseRow) -> tuple[Sealer, Sealer]:
        if row.data_key is None:  # stored before case keys: the master-derived keys
            return st.keys.fields, st.keys.files
        try:
            aad = self._aad(row, "cases.data_key")
            data_key = st.keys.case_keys.open(bytes(row.data_key), aad)
        except DecryptionError:
            raise StoreConfigError(message("keys.cannot_decrypt")) from None
        return st.keys.case_sealers(data_key)

    def _fields(self, st: _State, row: CaseRow) -> Sealer:
        """The sealer of the case's database fields."""
        return self._case_sealers(st, row)[0]

    def _files(self, st: _State, row: CaseRow) -> Sealer:
        """The sealer of the case's files in the vault."""
        return self._case_sealers(st, row)[1]

    def _touch(self, row: CaseRow, now: datetime) -> None:
        row.updated_at = now
        row.last_activity_at = now

    # ------------------------------------------------------------------ writing

    def _write_case(self, s: Session, st: _State, row: CaseRow, case: Case) -> None:
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
        self, s: Session, row: CaseRow, done_keys: Iterable[str], today: date, now: datetime
    ) -> None:
        wanted = list(dict.fromkeys(done_keys))
        existing = {
            step.key: step
            for step in s.execute(select(StepRow).where(StepRow.case_id == row.id)).scalars()
        }
        for key, step in existing.items():
            if step.done != (key in wanted):
                step.done = key in wanted
                step.done_on = today if step.done else None
                step.updated_at = now
        for key in wanted:
            if key not in existing:
                s.add(StepRow(case_id=row.id, key=key, done=True, done_on=today, updated_at=now))

    def _evidence_row(
        self,
        st: _State,
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
            stored = st.vault.write(row.storage_key, data, self._files(st, row))
        return EvidenceRow(
            case_id=row.id,
            number=number,
            recorded_at=now,
            captured_at=columns["captured_at"],
            published_at=columns["published_at"],
            details=self._fields(st, row).seal_json(
                details or None, self._aad(row, "evidence.details", number)
            ),
            sha256=sha,
            file_size=None if data is None else len(data),
            stored_file=stored,
        )

    def _append_evidence(
        self,
        s: Session,
        st: _State,
        row: CaseRow,
        item: Evidence,
        data: bytes | None,
        now: datetime,
        actor: str,
        written: list[tuple[str, str]],
    ) -> EvidenceRow:
        """Add the next journal row (its file, if any, noted in `written` for clean-up)."""
        self._check_quotas(s, row, items=1, size=0 if data is None else len(data))
        last = s.execute(
            select(func.max(EvidenceRow.number)).where(EvidenceRow.case_id == row.id)
        ).scalar()
        ev = self._evidence_row(st, row, (last or 0) + 1, item, data, now)
        if ev.stored_file is not None:
            written.append((row.storage_key, ev.stored_file))
        s.add(ev)
        self._touch(row, now)
        self._audit(s, st, row, actor, "evidence_added", {"number": ev.number})
        return ev

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
        q = self.quotas
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

    def _new_code(self, s: Session) -> str:
        for _ in range(50):
            code = generate_code()
            if s.execute(select(CaseRow.id).where(CaseRow.code == code)).first() is None:
                return code
        raise RuntimeError("no free case code after 50 attempts")  # pragma: no cover

    # ------------------------------------------------------------------ reading

    def _record(self, s: Session, st: _State, row: CaseRow) -> CaseRecord:
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
                data["incident"] = join_incident(_incident_columns(incident), details)
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
            letters=tuple(_letter_record(r) for r in rows(LetterRow, LetterRow.number)),
        )

    # ------------------------------------------------------------------ public API

    def ensure_ready(self) -> None:
        """Migrate the database and open (on first run, create) the key; raise if impossible.

        `riposte serve` calls it before starting Rasa, whose channels and tracker store need
        the key to exist.
        """
        self._ready()

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
        _check_files(parsed.evidence, files)
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
                    s.add(self._evidence_row(st, row, index + 1, item, data, now))
                detail = {"evidence": len(parsed.evidence), "files": len(files)}
                self._audit(s, st, row, actor, "created", detail)
                code = row.code
        except BaseException:
            st.vault.remove_case(storage_key)
            raise
        _LOG.info("case created (%d evidence items)", len(parsed.evidence))
        _LOG.debug("case %s created", code)
        return NewCase(code, secret)

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
        self, st: _State, case_id: int, who: str, now: datetime
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
        st: _State,
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

    def use_link(self, link_id: str, expires: datetime) -> bool:
        """Record that the single-use link `link_id` serves now; False if it already has.

        Recorded until `expires` (then the link no longer reads anyway): expired records
        are purged here. Atomic across processes (a unique key).
        """
        st = self._ready()
        now = self._now()
        try:
            with st.sessions.begin() as s:
                s.execute(delete(LinkUseRow).where(LinkUseRow.expires_at < now))
                s.add(LinkUseRow(link_id=link_id, used_at=now, expires_at=expires))
        except IntegrityError:
            return False
        return True

    def link_used(self, link_id: str) -> bool:
        """Whether the single-use link `link_id` has already served."""
        st = self._ready()
        with st.sessions() as s:
            query = select(LinkUseRow.id).where(LinkUseRow.link_id == link_id)
            return s.execute(query).first() is not None

    def release_link(self, link_id: str) -> None:
        """Give back a link taken by `use_link` whose use then failed (it may serve again)."""
        st = self._ready()
        with st.sessions.begin() as s:
            s.execute(delete(LinkUseRow).where(LinkUseRow.link_id == link_id))

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
    ) -> CaseRecord:
        """Apply `changes` to the case as a JSON Merge Patch (RFC 7386) and validate it.

        `null` removes a field; `steps_done`, when given, replaces the list (newly listed
        steps are marked done today, the others not done). Evidence is added one item at a
        time with `add_evidence`, never through this method.
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
                self._set_steps(s, row, parsed.steps_done, day, now)
            self._touch(row, now)
            self._audit(s, st, row, actor, "updated", {"sections": sorted(changes)})
            s.flush()
            return self._record(s, st, row)

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
        _check_files((item,), {} if file_bytes is None else {0: file_bytes})
        written: list[tuple[str, str]] = []
        try:
            with st.sessions.begin() as s:
                row = self._find_for(s, st, code, actor, conversation)
                ev = self._append_evidence(s, st, row, item, file_bytes, now, actor, written)
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

    # ------------------------------------------------------------------ the inbox

    def _inbox_ref(self, st: _State, ref: str) -> str:
        return self._inbox_refs(st, ref)[0]

    @staticmethod
    def _inbox_refs(st: _State, ref: str) -> list[str]:
        """The keyed hash of `ref` under the current key, then under the previous ones."""
        return [
            hmac.new(key, ref.encode("utf-8"), hashlib.sha256).hexdigest()
            for key in st.keys.derived_all("inbox-ref")
        ]

    @staticmethod
    def _inbox_aad(column: str, ref: str, sender: str) -> str:
        return f"inbox.{column}:{ref}/{sender}"

    def put_inbox_file(
        self, sender: str, data: bytes, *, filename: str, caption: str | None = None
    ) -> str:
        """Keep a file a chat channel received until the action server files it in a case.

        `sender` is the pseudonym Rasa knows the conversation by; the file, its name and
        caption are sealed, bound to it and to the new random reference returned (for Rasa).
        The entry is deleted when filed (`add_inbox_evidence`) or after `INBOX_HOURS`.
        """
        st = self._ready()
        ref = secrets.token_urlsafe(_INBOX_REF_BYTES)
        details = {"filename": filename, "caption": caption}
        with st.sessions.begin() as s:
            s.add(
                InboxRow(
                    ref=self._inbox_ref(st, ref),
                    received_at=self._now(),
                    content=st.keys.files.seal(data, self._inbox_aad("content", ref, sender)),
                    details=st.keys.fields.seal_json(
                        details, self._inbox_aad("details", ref, sender)
                    ),
                )
            )
        _LOG.info("file put in the inbox (%d bytes)", len(data))
        return ref

    def add_inbox_evidence(
        self,
        code: str,
        ref: str,
        sender: str,
        *,
        actor: str = "chat",
        conversation: Conversation | None = None,
    ) -> EvidenceRecord:
        """File inbox entry `ref` as a new journal item of the case, in one transaction.

        The item gets the file (fingerprinted, sealed in the vault), its name and, as the
        excerpt, its caption; the inbox entry is deleted by the same commit. Raises
        `InboxFileMissingError` when the entry is unknown, already filed, expired, or was
        received from another sender than `sender`.
        """
        st = self._ready()
        now = self._now()
        self.purge_inbox(now)
        written: list[tuple[str, str]] = []
        try:
            with st.sessions.begin() as s:
                query = select(InboxRow).where(InboxRow.ref.in_(self._inbox_refs(st, ref)))
                entry = s.execute(query).scalar_one_or_none()
                if entry is None:
                    raise InboxFileMissingError()
                try:
                    data = st.keys.files.open(
                        entry.content, self._inbox_aad("content", ref, sender)
                    )
                    details = st.keys.fields.open_json(
                        entry.details, self._inbox_aad("details", ref, sender)
                    )
                except DecryptionError:  # another sender's entry (or altered data)
                    raise InboxFileMissingError() from None
                fields = {"file": details.get("filename"), "excerpt": details.get("caption")}
                wanted = {k: v for k, v in fields.items() if v}
                item = parse_case({"evidence": [wanted]}, now.date()).evidence[0]
                row = self._find_for(s, st, code, actor, conversation)
                taken = s.execute(delete(InboxRow).where(InboxRow.id == entry.id))
                if taken.rowcount != 1:  # filed meanwhile by a concurrent call
                    raise InboxFileMissingError()
                ev = self._append_evidence(s, st, row, item, data, now, actor, written)
        except BaseException:
            for storage_key, name in written:
                st.vault.remove(storage_key, name)
            raise
        _LOG.info("inbox file filed as an evidence item (%d bytes)", len(data))
        return EvidenceRecord(
            number=ev.number,
            item=replace(item, sha256=ev.sha256),
            recorded_at=now,
            file_size=ev.file_size,
        )

    def purge_inbox(self, now: datetime | None = None) -> int:
        """Delete the inbox entries received more than `INBOX_HOURS` ago; returns how many."""
        st = self._ready()
        cutoff = (now or self._now()) - timedelta(hours=INBOX_HOURS)
        with st.sessions.begin() as s:
            result = s.execute(delete(InboxRow).where(InboxRow.received_at < cutoff))
        count = int(result.rowcount or 0)
        if count:
            _LOG.info("%d expired inbox file(s) deleted", count)
        return count

    def mark_step(
        self,
        code: str,
        key: str,
        done: bool = True,
        when: date | None = None,
        *,
        actor: str = "chat",
        conversation: Conversation | None = None,
    ) -> StepRecord:
        """Record a step's status (`done_on` defaults to today when done)."""
        from riposte.knowledge import load as load_knowledge

        if key not in load_knowledge().steps:
            raise CaseError([message("errors.unknown_step", key=key)])
        st = self._ready()
        now = self._now()
        with st.sessions.begin() as s:
            row = self._find_for(s, st, code, actor, conversation)
            query = select(StepRow).where(StepRow.case_id == row.id, StepRow.key == key)
            step = s.execute(query).scalar() or StepRow(case_id=row.id, key=key)
            step.done = done
            step.done_on = (when or now.date()) if done else None
            step.updated_at = now
            s.add(step)
            self._touch(row, now)
            self._audit(s, st, row, actor, "step_marked", {"step": key, "done": done})
            return StepRecord(key=key, done=done, done_on=step.done_on, updated_at=now)

    def record_letter(
        self,
        code: str,
        kind: str,
        content: bytes | None = None,
        *,
        media_type: str | None = None,
        actor: str = "chat",
        conversation: Conversation | None = None,
    ) -> LetterRecord:
        """Record a generated letter (kind, date, fingerprint; the content sealed if given)."""
        if not _LETTER_KIND_RE.match(kind):
            raise CaseError([message("errors.bad_letter_kind", kind=kind[:40])])
        st = self._ready()
        now = self._now()
        written: list[tuple[str, str]] = []
        try:
            with st.sessions.begin() as s:
                row = self._find_for(s, st, code, actor, conversation)
                self._check_quotas(s, row, letters=1, size=len(content or b""))
                last = s.execute(
                    select(func.max(LetterRow.number)).where(LetterRow.case_id == row.id)
                ).scalar()
                stored = None
                if content is not None:
                    stored = st.vault.write(row.storage_key, content, self._files(st, row))
                    written.append((row.storage_key, stored))
                letter = LetterRow(
                    case_id=row.id,
                    number=(last or 0) + 1,
                    kind=kind,
                    created_at=now,
                    media_type=media_type,
                    sha256=None if content is None else hashlib.sha256(content).hexdigest(),
                    size=None if content is None else len(content),
                    stored_file=stored,
                )
                s.add(letter)
                self._touch(row, now)
                self._audit(s, st, row, actor, "letter_recorded", {"kind": kind})
        except BaseException:
            for storage_key, name in written:
                st.vault.remove(storage_key, name)
            raise
        return _letter_record(letter)

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

    def letter_content(self, code: str, number: int) -> bytes | None:
        """The decrypted content of letter `number` of the case (None when not kept)."""
        st = self._ready()
        with st.sessions() as s:
            row = self._find(s, code)
            query = select(LetterRow.stored_file).where(
                LetterRow.case_id == row.id, LetterRow.number == number
            )
            stored = s.execute(query).scalar()
        return self._read_file(st, row, stored)

    def _read_file(self, st: _State, row: CaseRow, stored: str | None) -> bytes | None:
        if stored is None:
            return None
        try:
            return st.vault.read(row.storage_key, stored, self._files(st, row))
        except DecryptionError:
            raise StoreConfigError(message("keys.cannot_decrypt")) from None
        except FileNotFoundError:
            raise StoreConfigError(message("errors.file_missing")) from None

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

    def purge(
        self,
        older_than_days: int = DEFAULT_PURGE_DAYS,
        now: datetime | None = None,
        *,
        actor: str = "purge",
    ) -> list[DeletionReport]:
        """Delete every case with no activity (creation, opening, change) for that many days.

        Expired inbox entries (files received more than `INBOX_HOURS` ago) go too.
        """
        if older_than_days < 0:
            raise ValueError("older_than_days must be >= 0")
        st = self._ready()
        self.purge_inbox(now)
        cutoff = (now or self._now()) - timedelta(days=older_than_days)
        with st.sessions() as s:
            query = select(CaseRow.code).where(CaseRow.last_activity_at < cutoff)
            codes = list(s.execute(query.order_by(CaseRow.id)).scalars())
        return [self.delete_case(code, actor=actor, reason="purge") for code in codes]

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
            facts = [
                (code, _clear_case(inc, dates.get(case_id, []))) for case_id, code, inc in rows
            ]
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

    def audit_trail(self, code: str) -> list[AuditEntry]:
        """Every audit entry of a code, the deletion record included (oldest first)."""
        st = self._ready()
        canonical = normalise_code(code) or code
        with st.sessions() as s:
            query = (
                select(AuditRow)
                .where(AuditRow.subject.in_(self._subjects(st, canonical)))
                .order_by(AuditRow.id)
            )
            return [
                AuditEntry(at=r.at, actor=r.actor, action=r.action, detail=r.detail)
                for r in s.execute(query).scalars()
            ]

    def rekey(self) -> RekeyReport:
        """Seal every value of the store again with the current master key (`riposte rekey`);
        values sealed by previous keys (`RIPOSTE_PREVIOUS_KEYS`) are opened with them."""
        from riposte.store.rekey import rekey_store

        report = rekey_store(self, self._ready())
        _LOG.info("store re-sealed with the current key (%d values)", report.values)
        return report

    def pseudonymise(self, channel: str, user_id: str) -> str:
        from riposte.privacy import pseudonymise

        return pseudonymise(channel, user_id, self._ready().keys.master)


def _incident_columns(row: IncidentRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in INCIDENT_COLUMNS}


def _evidence_columns(row: EvidenceRow) -> dict[str, Any]:
    return {
        "captured_at": row.captured_at,
        "sha256": row.sha256,
        "published_at": row.published_at,
    }


def _clear_case(row: IncidentRow, published: list[date | None]) -> Case:
    """The incident and the statements' publication dates from the clear columns only
    (enough for deadlines; nothing decrypted). Evidence items keep their order."""
    data = {
        "incident": join_incident(_incident_columns(row), None),
        "evidence": [{"published_at": _iso_day(day)} for day in published],
    }
    return parse_case(data, date.max)


def _iso_day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _evidence_dict(item: Evidence) -> dict[str, Any]:
    items: list[dict[str, Any]] = Case(evidence=(item,)).to_dict()["evidence"]
    return items[0]


def _by_deadline(d: Deadline) -> tuple[date, str]:
    return (d.deadline, d.offense)


def _letter_record(row: LetterRow) -> LetterRecord:
    return LetterRecord(
        number=row.number,
        kind=row.kind,
        created_at=row.created_at,
        media_type=row.media_type,
        sha256=row.sha256,
        size=row.size,
    )


def _check_files(evidence: Iterable[Evidence], files: Mapping[int, bytes]) -> None:
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


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


_shared: CaseRepository | None = None
_shared_lock = threading.Lock()


def shared_repository() -> CaseRepository:
    """The process's repository, configured from the environment on first use.

    Used by every long-running process (action server, web page); one engine per process.
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = CaseRepository.from_env()
        return _shared


def reset_shared_repository() -> None:
    """Close and forget the process's repository (tests change the configuration)."""
    global _shared
    with _shared_lock:
        if _shared is not None:
            _shared.close()
        _shared = None
