"""The inbox: files received by a chat channel wait there, sealed and bound to their sender,
until the action server files them in a case (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from riposte.store.config import StoreConfig
from riposte.store.errors import InboxFileMissingError, UnknownCaseError
from riposte.store.models import InboxRow
from riposte.store.repository import CaseRepository
from tests.store.conftest import FakeClock
from tests.store.test_privacy import data_bytes, database_bytes

SENDER = "3c1f9a0e5b7d42c8a6e1f0b9d8c7a6e5"  # a pseudonym, as the channels give it
OTHER = "0a9b8c7d6e5f40312a3b4c5d6e7f8091"
SCREENSHOT = b"\x89PNG\r\n\x1a\n screenshot: Zorglubin est un charlatan patente"
NAME = "telegram-20261124-093000-capture-zorglubin.png"
CAPTION = "Avis de @troll_quixotique sur Google"


def inbox_rows(repo: CaseRepository) -> int:
    state = repo._state
    assert state is not None
    with state.sessions() as s:
        return int(s.execute(select(func.count(InboxRow.id))).scalar() or 0)


def test_a_file_is_filed_once_with_its_fingerprint_name_and_caption(
    repo: CaseRepository, clock: FakeClock
) -> None:
    code, secret = repo.create_case({})
    repo.add_evidence(code, {"excerpt": "déjà là"}, actor="cli")
    ref = repo.put_inbox_file(SENDER, SCREENSHOT, filename=NAME, caption=CAPTION)
    assert inbox_rows(repo) == 1
    clock.advance(minutes=1)

    record = repo.add_inbox_evidence(code, ref, SENDER, actor="cli")
    assert record.number == 2
    assert record.item.sha256 == hashlib.sha256(SCREENSHOT).hexdigest()
    assert (record.item.file, record.item.excerpt) == (NAME, CAPTION)
    assert record.recorded_at == clock.now and record.file_size == len(SCREENSHOT)
    assert repo.evidence_content(code, 2) == SCREENSHOT
    stored = repo.open_case(code, secret).case.evidence[1]
    assert (stored.file, stored.excerpt, stored.sha256) == (NAME, CAPTION, record.item.sha256)
    assert inbox_rows(repo) == 0  # deleted by the same transaction
    with pytest.raises(InboxFileMissingError):
        repo.add_inbox_evidence(code, ref, SENDER, actor="cli")  # never filed twice
    assert [a.action for a in repo.audit_trail(code)].count("evidence_added") == 2


def test_without_caption_the_item_has_no_excerpt(repo: CaseRepository) -> None:
    code, _ = repo.create_case({})
    ref = repo.put_inbox_file(SENDER, SCREENSHOT, filename=NAME)
    record = repo.add_inbox_evidence(code, ref, SENDER, actor="cli")
    assert record.item.excerpt is None and record.item.file == NAME


def test_only_the_sender_can_file_it_and_a_wrong_reference_finds_nothing(
    repo: CaseRepository,
) -> None:
    code, _ = repo.create_case({})
    ref = repo.put_inbox_file(SENDER, SCREENSHOT, filename=NAME)
    with pytest.raises(InboxFileMissingError):
        repo.add_inbox_evidence(code, ref, OTHER, actor="cli")
    with pytest.raises(InboxFileMissingError):
        repo.add_inbox_evidence(
            code, ref[:-1] + ("A" if ref[-1] != "A" else "B"), SENDER, actor="cli"
        )
    assert inbox_rows(repo) == 1  # still there for its sender
    assert repo.read_case(code).evidence == ()
    assert repo.add_inbox_evidence(code, ref, SENDER, actor="cli").number == 1


def test_an_unknown_case_leaves_the_file_in_the_inbox(repo: CaseRepository) -> None:
    ref = repo.put_inbox_file(SENDER, SCREENSHOT, filename=NAME)
    with pytest.raises(UnknownCaseError):
        repo.add_inbox_evidence("RIP-0000-00", ref, SENDER, actor="cli")
    assert inbox_rows(repo) == 1


def test_entries_expire_after_24_hours(repo: CaseRepository, clock: FakeClock) -> None:
    code, _ = repo.create_case({})
    old = repo.put_inbox_file(SENDER, SCREENSHOT, filename=NAME)
    clock.advance(hours=23, minutes=59)
    recent = repo.put_inbox_file(SENDER, SCREENSHOT + b"2", filename=NAME)
    assert (
        repo.add_inbox_evidence(code, old, SENDER, actor="cli").number == 1
    )  # 23 h 59 min: still there
    clock.advance(hours=24, seconds=1)
    with pytest.raises(InboxFileMissingError):
        repo.add_inbox_evidence(code, recent, SENDER, actor="cli")
    assert inbox_rows(repo) == 0  # the expired entry was deleted on the way
    assert len(repo.read_case(code).evidence) == 1


def test_purge_removes_expired_entries_only(repo: CaseRepository, clock: FakeClock) -> None:
    repo.create_case({})
    repo.put_inbox_file(SENDER, SCREENSHOT, filename=NAME)
    clock.advance(hours=25)
    repo.put_inbox_file(SENDER, SCREENSHOT, filename=NAME)
    assert repo.purge() == []  # no idle case
    assert inbox_rows(repo) == 1
    assert repo.purge_inbox() == 0
    clock.advance(hours=25)
    assert repo.purge_inbox() == 1 and inbox_rows(repo) == 0


def test_nothing_of_the_file_is_in_clear_at_rest(repo: CaseRepository, config: StoreConfig) -> None:
    ref = repo.put_inbox_file(SENDER, SCREENSHOT, filename=NAME, caption=CAPTION)
    assert inbox_rows(repo) == 1
    repo.close()
    db = database_bytes(config)
    assert len(db) > len(SCREENSHOT)  # the scan does see the sealed row
    for clear in (SCREENSHOT, b"Zorglubin", NAME.encode(), CAPTION.encode(), b"troll"):
        assert clear not in db
    assert ref.encode() not in db and SENDER.encode() not in db
    if config.data_dir.exists():
        assert SCREENSHOT not in data_bytes(config)


def test_a_file_declined_is_deleted_at_once_by_its_sender_only(repo: CaseRepository) -> None:
    """No case file wanted: the received file goes now, not at its expiry."""
    mine = repo.put_inbox_file(SENDER, SCREENSHOT, filename=NAME)
    theirs = repo.put_inbox_file(OTHER, SCREENSHOT, filename=NAME)
    assert not repo.discard_inbox_file(theirs, SENDER)  # another sender's: untouched
    assert inbox_rows(repo) == 2
    assert repo.discard_inbox_file(mine, SENDER)
    assert inbox_rows(repo) == 1
    assert not repo.discard_inbox_file(mine, SENDER)  # already gone
    code, _ = repo.create_case({})
    with pytest.raises(InboxFileMissingError):
        repo.add_inbox_evidence(code, mine, SENDER, actor="cli")
