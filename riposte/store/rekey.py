"""Key rotation: seal every value of the case store again with the current master key.

Each case's own data key (`cases.data_key`) is sealed again with the current master key; a
case stored before case keys existed gets one, and its values and files are sealed again with
it (from then on, deleting the case makes them unreadable wherever a copy lies).

`riposte rekey` calls `rekey_store` (then `riposte.store.tracker.rekey_conversations` for Rasa's
conversations). Values sealed by a previous key (`RIPOSTE_PREVIOUS_KEYS`, or the key file's
later lines) are opened with it and sealed again with the current key; values already sealed
with the current key are left alone, so running it twice does nothing the second time.

Crash safety: one transaction per case for its database values, each file replaced atomically
(a new file, then a rename), the key check of `store_meta` last. At every moment each value is
sealed with the current key or a previous one: an interrupted run leaves everything readable
with the same configuration, and running it again finishes the work. Only once it reports
success may the previous key be removed from the configuration.

What it cannot seal again: the inbox (files received on Telegram or Signal, waiting to be filed
in a case), whose associated data is the reference only Rasa holds. They are counted; they are
deleted at most `INBOX_HOURS` after their reception, so the previous key must stay that long.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from riposte.store.crypto import KEY_CHECK_AAD, DecryptionError
from riposte.store.errors import StoreConfigError, message
from riposte.store.follow_ups import contact_aad
from riposte.store.models import (
    AuditRow,
    CaseRow,
    ContactRow,
    EvidenceRow,
    FollowUpRow,
    InboxRow,
    IncidentRow,
    LetterRow,
    SenderRow,
    StoreMeta,
)

if TYPE_CHECKING:
    from riposte.store.base import StoreBase, StoreState


@dataclass
class RekeyReport:
    cases: int = 0
    """Cases gone through."""
    values: int = 0
    """Database values sealed again with the current key."""
    files: int = 0
    """Files of the vault sealed again."""
    already_current: int = 0
    """Values and files that were already sealed with the current key."""
    missing_files: int = 0
    """Files named in the database but absent from the data directory."""
    audit_subjects: int = 0
    """Audit entries whose keyed subject was computed again."""
    inbox_waiting: int = 0
    """Inbox entries still sealed with a previous key (deleted within INBOX_HOURS)."""


def _sealed_values(s: Session, repo: StoreBase, row: CaseRow) -> Iterator[tuple[Any, str, str]]:
    """(object, attribute, associated data) of every sealed database value of a case."""
    aad = repo._aad
    yield row, "victim", aad(row, "cases.victim")
    yield row, "court_city", aad(row, "cases.court_city")
    incident = s.execute(select(IncidentRow).where(IncidentRow.case_id == row.id)).scalar()
    if incident is not None:
        yield incident, "details", aad(row, "incidents.details")
    for ev in s.execute(select(EvidenceRow).where(EvidenceRow.case_id == row.id)).scalars():
        yield ev, "details", aad(row, "evidence.details", ev.number)
    for sender in s.execute(select(SenderRow).where(SenderRow.case_id == row.id)).scalars():
        yield sender, "sender_id", aad(row, f"senders.{sender.pseudonym}")
    for follow_up in s.execute(select(FollowUpRow).where(FollowUpRow.case_id == row.id)).scalars():
        yield follow_up, "recipient", aad(row, f"follow_ups.recipient.{follow_up.conversation}")


def _stored_files(s: Session, case_id: int) -> list[str]:
    names: list[str] = []
    for model in (EvidenceRow, LetterRow):
        query = select(model.stored_file).where(
            model.case_id == case_id, model.stored_file.is_not(None)
        )
        names.extend(s.execute(query).scalars())
    return names


def _rekey_case(repo: StoreBase, st: StoreState, case_id: int, report: RekeyReport) -> None:
    with st.sessions.begin() as s:
        # Locked (PostgreSQL) so that a concurrent change of the case, which always updates its
        # row, waits for this transaction rather than being overwritten by an older value.
        row = s.get(CaseRow, case_id, with_for_update=True)
        if row is None:  # deleted meanwhile
            return
        if repo._prepare_case_key(st, row):
            report.values += 1
        else:
            report.already_current += 1
        seal = repo._fields(st, row)
        for obj, attribute, aad in _sealed_values(s, repo, row):
            value = getattr(obj, attribute)
            if value is None:
                continue
            new = seal.reseal(bytes(value), aad)
            if new is None:
                report.already_current += 1
            else:
                setattr(obj, attribute, new)
                report.values += 1
        subject = repo._subject(st, row.code)
        changed = s.execute(
            update(AuditRow)
            .where(AuditRow.case_id == row.id, AuditRow.subject != subject)
            .values(subject=subject)
            .execution_options(synchronize_session=False)
        )
        report.audit_subjects += int(changed.rowcount or 0)
        files = _stored_files(s, row.id)
        storage_key, file_sealer = row.storage_key, repo._files(st, row)
    # After the commit: a file sealed with the case's (new) key is only written once that key
    # is in the database.
    for name in files:
        try:
            if st.vault.reseal(storage_key, name, file_sealer):
                report.files += 1
            else:
                report.already_current += 1
        except FileNotFoundError:
            report.missing_files += 1
    report.cases += 1


def rekey_store(repo: StoreBase, st: StoreState) -> RekeyReport:
    """Seal every value of the store again with the current key (see the module)."""
    report = RekeyReport()
    with st.sessions() as s:
        case_ids = list(s.execute(select(CaseRow.id).order_by(CaseRow.id)).scalars())
    try:
        for case_id in case_ids:
            _rekey_case(repo, st, case_id, report)
    except DecryptionError:
        raise StoreConfigError(message("keys.cannot_decrypt")) from None
    with st.sessions.begin() as s:  # the channels' address book (master-derived field key)
        for contact in s.execute(select(ContactRow)).scalars():
            aad = contact_aad(contact.channel, contact.conversation)
            new = st.keys.fields.reseal(bytes(contact.address), aad)
            if new is None:
                report.already_current += 1
            else:
                contact.address = new
                report.values += 1
    with st.sessions() as s:
        for details in s.execute(select(InboxRow.details)).scalars():
            if not st.keys.fields.is_current(bytes(details)):
                report.inbox_waiting += 1
    with st.sessions.begin() as s:  # last: the key check names the key that opens everything
        check = s.get(StoreMeta, "key_check")
        if check is not None:
            new = st.keys.fields.reseal(base64.b64decode(check.value), KEY_CHECK_AAD.decode())
            if new is not None:
                check.value = base64.b64encode(new).decode("ascii")
        key_id = s.get(StoreMeta, "key_id")
        if key_id is None:
            s.add(StoreMeta(name="key_id", value=st.keys.master.key_id))
        else:
            key_id.value = st.keys.master.key_id
    return report
