"""Deleting a case erases everything personal (rows, files, conversations); purge by age."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, select

from riposte.store.config import DEFAULT_PURGE_DAYS, StoreConfig
from riposte.store.errors import AccessDeniedError, UnknownCaseError
from riposte.store.repository import CaseRepository
from riposte.store.tracker import erase_conversation
from tests.store.conftest import START, FakeClock, sample_case, sample_files
from tests.store.test_privacy import database_bytes


def make_tracker(url: str, senders: dict[str, int]) -> None:
    """A fake Rasa SQL tracker store: table `events` keyed by `sender_id`."""
    engine = create_engine(url, future=True)
    metadata = MetaData()
    events = Table(
        "events",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("sender_id", String(255), nullable=False, index=True),
        Column("type_name", String(255), nullable=False),
        Column("data", Text),
    )
    metadata.create_all(engine)
    with engine.begin() as connection:
        for sender, count in senders.items():
            for index in range(count):
                connection.execute(
                    events.insert().values(
                        sender_id=sender, type_name="user", data=f'{{"text": "message {index}"}}'
                    )
                )
    engine.dispose()


def tracker_senders(url: str) -> list[str]:
    engine = create_engine(url, future=True)
    metadata = MetaData()
    events = Table("events", metadata, autoload_with=engine)
    with engine.connect() as connection:
        rows = [row.sender_id for row in connection.execute(select(events.c.sender_id))]
    engine.dispose()
    return rows


def row_values(repo: CaseRepository) -> set[bytes]:
    """Every distinctive value stored in any row (sealed blobs, hashes, codes, keys)."""
    engine = repo._ready().engine
    metadata = MetaData()
    metadata.reflect(engine)
    values: set[bytes] = set()
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for value in row:
                    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
                    if len(data) >= 16:  # long enough to be specific to one case
                        values.add(bytes(data))
    return values


def case_rows(repo: CaseRepository) -> dict[str, int]:
    """How many rows each table of the store holds."""
    engine = repo._ready().engine
    metadata = MetaData()
    metadata.reflect(engine)
    counts: dict[str, int] = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            counts[table.name] = len(connection.execute(select(table)).all())
    return counts


def test_delete_erases_rows_files_and_conversations(
    repo: CaseRepository, config: StoreConfig, tmp_path: Path
) -> None:
    kept, kept_secret = repo.create_case({"victim": {"last_name": "Autre"}})
    repo.link_sender(kept, "telegram", "tg-999")
    values_of_kept = row_values(repo)
    code, secret = repo.create_case(sample_case(), files=sample_files())
    repo.add_evidence(
        code, {"url": "https://x.com/troll_quixotique/status/7"}, b"more", actor="cli"
    )
    repo.record_letter(code, "procureur", b"letter", actor="cli")
    steps = ["preserve_evidence", "block_authors", "pharos_report"]
    repo.update_case(code, {"steps_done": steps}, actor="cli")
    repo.link_sender(code, "telegram", "tg-111")
    repo.link_sender(code, "socketio", "web-222")
    values_of_case = row_values(repo) - values_of_kept
    storage_dirs = [p for p in config.data_dir.iterdir() if p.is_dir()]
    assert len(storage_dirs) == 1  # only the sample case has files
    tracker_url = f"sqlite:///{tmp_path}/tracker.db"
    make_tracker(tracker_url, {"tg-111": 3, "web-222": 2, "tg-999": 4})

    before = database_bytes(config)
    report = repo.delete_case(code, actor="cli")
    assert report.code == code and report.evidence_items == 5 and report.files_removed == 5
    assert sorted(report.sender_ids) == ["tg-111", "web-222"]
    assert erase_conversation(tracker_url, report.sender_ids) == 5
    assert sorted(set(tracker_senders(tracker_url))) == ["tg-999"]

    # Nothing of the case is left: no rows, no files, no code.
    assert not storage_dirs[0].exists()
    assert [p for p in config.data_dir.rglob("*") if p.is_file()] == []
    counts = case_rows(repo)
    assert counts["cases"] == 1 and counts["incidents"] == 0 and counts["evidence"] == 0
    assert counts["steps"] == 0 and counts["letters"] == 0 and counts["senders"] == 1
    after = database_bytes(config)
    assert code.encode() in before and code.encode() not in after
    # No sealed value, hash or key of the case is left, but the keyed hash of its code in the
    # deletion record.
    subject = repo._subject(repo._ready(), code).encode()
    leftovers = [v for v in values_of_case if v in after]
    assert leftovers == [subject], leftovers
    with pytest.raises(UnknownCaseError):
        repo.read_case(code)
    with pytest.raises(AccessDeniedError):
        repo.open_case(code, secret)
    # The other case is untouched.
    assert repo.open_case(kept, kept_secret).to_dict() == {"victim": {"last_name": "Autre"}}


def test_deletion_leaves_one_non_personal_record(repo: CaseRepository) -> None:
    code, secret = repo.create_case(sample_case(), files=sample_files())
    repo.open_case(code, secret, actor="chat:0123456789abcdef")
    repo.link_sender(code, "chat", "0123456789abcdef")
    conversation = ("chat", "0123456789abcdef")
    repo.delete_case(code, actor="chat:0123456789abcdef", conversation=conversation)
    trail = repo.audit_trail(code)
    assert len(trail) == 1
    record = trail[0]
    assert (record.action, record.actor) == ("deleted", "chat")
    assert record.detail == {"reason": "request", "evidence": 4}
    counts = case_rows(repo)
    assert counts["audit"] == 1


def test_delete_unknown_code(repo: CaseRepository) -> None:
    with pytest.raises(UnknownCaseError):
        repo.delete_case("RIP-0000-00")


def test_erase_conversation_without_events_table_or_senders(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/empty.db"
    assert erase_conversation(url, []) == 0
    assert not (tmp_path / "empty.db").exists()  # nothing connected for no senders
    assert erase_conversation(url, ["someone"]) == 0


def test_purge_by_age(repo: CaseRepository, clock: FakeClock, config: StoreConfig) -> None:
    old, _ = repo.create_case(sample_case(), files=sample_files())
    clock.advance(days=100)
    touched, _ = repo.create_case({})
    clock.advance(days=1)
    old_but_opened, secret = repo.create_case({})
    clock.now = START  # the old case is older than the cut-off; the third is reopened later
    clock.advance(days=DEFAULT_PURGE_DAYS + 50)
    repo.open_case(old_but_opened, secret)
    now = START + timedelta(days=DEFAULT_PURGE_DAYS + 60)
    # Last activity: old = START; touched = START+100d (160 days ago); reopened = START+230d.
    reports = repo.purge(DEFAULT_PURGE_DAYS, now=now)
    assert [r.code for r in reports] == [old]
    assert [p for p in config.data_dir.rglob("*") if p.is_file()] == []
    assert repo.read_case(touched).code == touched
    reports = repo.purge(30, now=now)
    assert [r.code for r in reports] == [touched]
    assert repo.read_case(old_but_opened).code == old_but_opened
    assert repo.audit_trail(old)[0].detail == {"reason": "purge", "evidence": 4}
    with pytest.raises(ValueError):
        repo.purge(-1, now=now)
