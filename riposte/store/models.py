"""SQLAlchemy models of the case store (the schema itself is created by Alembic migrations).

Every `LargeBinary` column holds an AES-GCM ciphertext (see `crypto.py`): the victim, the
court city, and the `details` of incidents and evidence items, i.e. every field of the shared
case format that is not listed as a clear fact (so a field added to the format later is
encrypted by default). The clear columns are the facts needed to compute deadlines
(platforms, offenses, dates, volume…, whether the last message seen is itself offending, and
each statement's publication date), the capture dates, the SHA-256 fingerprints and
technical dates. Every timestamp is UTC (stored without time zone, returned time-zone aware).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base
from sqlalchemy.types import TypeDecorator

Base: Any = declarative_base()


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, UTC naive in the database, aware UTC datetimes out."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


def _case_fk() -> Column:
    return Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)


class StoreMeta(Base):
    __tablename__ = "store_meta"

    name = Column(String(64), primary_key=True)
    value = Column(Text, nullable=False)


class CaseRow(Base):
    __tablename__ = "cases"

    id = Column(Integer, primary_key=True)
    code = Column(String(16), nullable=False, unique=True)
    storage_key = Column(String(32), nullable=False, unique=True)
    secret_hash = Column(String(255), nullable=False)
    # Wrong secrets since the last opening, all conversations together (for the audit only:
    # the waits are per conversation, in `open_attempts`). `locked_until` is no longer set.
    failed_attempts = Column(Integer, nullable=False, default=0)
    locked_until = Column(UTCDateTime, nullable=True)
    created_at = Column(UTCDateTime, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)
    last_activity_at = Column(UTCDateTime, nullable=False, index=True)
    victim = Column(LargeBinary, nullable=True)
    court_city = Column(LargeBinary, nullable=True)
    # The case's own random key, sealed with the master-derived `case-keys` key (before: the
    # field key, still read; `riposte rekey` moves it): the case's fields and files are sealed
    # with keys derived from it, and deleting the case destroys it.
    # NULL for cases stored before (sealed with the master-derived keys; `riposte rekey`
    # gives them one).
    data_key = Column(LargeBinary, nullable=True)
    # Follow-ups (riposte/follow_ups.py): stopped by the doctor (« arrêter les rappels ») since
    # then, NULL while they run; whether the first one planned was announced in the chat.
    follow_ups_stopped_at = Column(UTCDateTime, nullable=True)
    follow_ups_announced = Column(Boolean, nullable=False, default=False)


class IncidentRow(Base):
    __tablename__ = "incidents"

    id = Column(Integer, primary_key=True)
    case_id = Column(
        Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    platforms = Column(JSON, nullable=False)
    offenses = Column(JSON, nullable=False)
    discriminatory = Column(Boolean, nullable=False)
    first_published = Column(Date, nullable=True)
    last_seen = Column(Date, nullable=True)
    author_known = Column(Boolean, nullable=True)
    author_relation = Column(String(16), nullable=True)
    volume = Column(String(16), nullable=True)
    public = Column(Boolean, nullable=True)
    physical_danger = Column(Boolean, nullable=False)
    details = Column(LargeBinary, nullable=True)
    last_seen_offending = Column(Boolean, nullable=True)


class EvidenceRow(Base):
    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id = Column(Integer, primary_key=True)
    case_id = _case_fk()
    number = Column(Integer, nullable=False)
    recorded_at = Column(UTCDateTime, nullable=False)
    captured_at = Column(String(40), nullable=True)
    details = Column(LargeBinary, nullable=True)
    sha256 = Column(String(64), nullable=True)
    file_size = Column(Integer, nullable=True)
    stored_file = Column(String(64), nullable=True)
    published_at = Column(Date, nullable=True)


class StepRow(Base):
    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("case_id", "key"),)

    id = Column(Integer, primary_key=True)
    case_id = _case_fk()
    key = Column(String(32), nullable=False)
    done = Column(Boolean, nullable=False)
    done_on = Column(Date, nullable=True)
    updated_at = Column(UTCDateTime, nullable=False)


class LetterRow(Base):
    __tablename__ = "letters"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id = Column(Integer, primary_key=True)
    case_id = _case_fk()
    number = Column(Integer, nullable=False)
    kind = Column(String(32), nullable=False)
    created_at = Column(UTCDateTime, nullable=False)
    media_type = Column(String(100), nullable=True)
    sha256 = Column(String(64), nullable=True)
    size = Column(Integer, nullable=True)
    stored_file = Column(String(64), nullable=True)


class SenderRow(Base):
    """A chat user linked to the case (pseudonym for look-ups, sealed id for erasure)."""

    __tablename__ = "senders"
    __table_args__ = (UniqueConstraint("case_id", "pseudonym"),)

    id = Column(Integer, primary_key=True)
    case_id = _case_fk()
    pseudonym = Column(String(64), nullable=False, index=True)
    sender_id = Column(LargeBinary, nullable=False)
    linked_at = Column(UTCDateTime, nullable=False)


class InboxRow(Base):
    """A file a chat channel received, waiting to be filed in a case (24 hours at most).

    The channels run in the Rasa process and the case is written by the action server: the
    store is all they share. `ref` is a keyed hash of the random reference handed to Rasa;
    `content` (the file) and `details` (its name and caption) are sealed with the reference
    and the sender's pseudonym as associated data, so that only that sender's conversation,
    holding that reference, can open them. Nothing here names a case or a person.
    """

    __tablename__ = "inbox"

    id = Column(Integer, primary_key=True)
    ref = Column(String(64), nullable=False, unique=True)
    received_at = Column(UTCDateTime, nullable=False, index=True)
    content = Column(LargeBinary, nullable=False)
    details = Column(LargeBinary, nullable=False)


class OpenAttemptRow(Base):
    """Wrong secrets typed for one case from one conversation, and how long it must wait.

    `sender` is the conversation's pseudonym (empty for callers without one, such as the
    operator's tools). A wait holds back that conversation only: whoever learnt a code cannot
    keep the doctor, in her own conversation, out of her case. Rows go with the case, on a
    success from that conversation, or after a quiet day (`FAILURE_MEMORY_HOURS`).
    """

    __tablename__ = "open_attempts"
    __table_args__ = (UniqueConstraint("case_id", "sender"),)

    id = Column(Integer, primary_key=True)
    case_id = _case_fk()
    sender = Column(String(64), nullable=False)
    failures = Column(Integer, nullable=False)
    last_failure_at = Column(UTCDateTime, nullable=False, index=True)
    blocked_until = Column(UTCDateTime, nullable=True)


class LinkUseRow(Base):
    """A single-use link that has served (its random id), kept until the link expires."""

    __tablename__ = "link_uses"

    id = Column(Integer, primary_key=True)
    link_id = Column(String(64), nullable=False, unique=True)
    used_at = Column(UTCDateTime, nullable=False)
    expires_at = Column(UTCDateTime, nullable=False, index=True)


class AuditRow(Base):
    """Who did what, when: never personal data (the detail holds counts and keys only).

    `subject` is a keyed hash of the case code; it outlives the case in the deletion record.
    """

    __tablename__ = "audit"

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=True, index=True)
    subject = Column(String(64), nullable=True, index=True)
    at = Column(UTCDateTime, nullable=False)
    actor = Column(String(64), nullable=False)
    action = Column(String(32), nullable=False)
    detail = Column(JSON, nullable=True)


class FollowUpRow(Base):
    """A message the assistant sends the doctor later, on its own (riposte/follow_ups.py).

    `kind`, `ref`, `due_at` and `facts` (the deadline and offence, or the day of the step
    followed) are clear and name no one. `channel` is the Rasa channel that reaches the
    doctor (telegram, signal; the web page's are shown on resuming the case) and `recipient`
    the conversation's id, sealed with the case's key; `conversation` is its keyed hash, as in
    `senders`, for the channels' address book (`contacts`).

    `state`: due, sent, answered (« c'est fait »), cancelled (no longer relevant, the doctor
    stopped them, or the day passed before a channel could take it) or failed (given up).
    A scheduler sends a due one by claiming it (`claim`, a random token, until
    `claimed_until`): one conditional UPDATE, so that one scheduler only gets it whatever
    their number; the action that speaks marks it sent with that token.
    """

    __tablename__ = "follow_ups"
    __table_args__ = (UniqueConstraint("case_id", "kind", "ref"),)

    id = Column(Integer, primary_key=True)
    case_id = _case_fk()
    kind = Column(String(24), nullable=False)
    ref = Column(String(120), nullable=False)
    due_at = Column(UTCDateTime, nullable=False, index=True)
    facts = Column(JSON, nullable=True)
    channel = Column(String(32), nullable=True)
    conversation = Column(String(64), nullable=True, index=True)
    recipient = Column(LargeBinary, nullable=True)
    state = Column(String(12), nullable=False, index=True)
    attempts = Column(Integer, nullable=False, default=0)
    next_try_at = Column(UTCDateTime, nullable=True)
    claim = Column(String(64), nullable=True)
    claimed_until = Column(UTCDateTime, nullable=True)
    sent_at = Column(UTCDateTime, nullable=True)
    created_at = Column(UTCDateTime, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)


class ContactRow(Base):
    """How a chat channel reaches a conversation it pseudonymises (Telegram's chat id,
    Signal's sender), kept only while that conversation has follow-ups due.

    Written by the channel (in the Rasa process) when a message comes from a conversation
    with follow-ups due; read by the channel when Rasa sends a follow-up. `conversation` is
    the keyed hash of `senders`; `address` is sealed with the store's field key, bound to the
    channel and that hash. Deleted with the case's follow-ups.
    """

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("channel", "conversation"),)

    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    conversation = Column(String(64), nullable=False, index=True)
    address = Column(LargeBinary, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)
