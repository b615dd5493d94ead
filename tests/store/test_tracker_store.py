"""Rasa's tracker store encrypted at rest (`EncryptedSQLTrackerStore`), erasure on request,
and the purge of idle conversations (`riposte.store.tracker.purge_conversations`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config
from sqlalchemy import create_engine

from riposte.privacy import generate_key_text
from riposte.store.errors import StoreConfigError
from riposte.store.tracker import erase_conversation, purge_conversations
from riposte_rasa.tracker_store import EncryptedSQLTrackerStore

ROOT = Path(__file__).resolve().parents[2]
STORE_TYPE = "riposte_rasa.tracker_store.EncryptedSQLTrackerStore"
MESSAGE = "Je suis le Dr Zorglubin, harcelée par @troll_quixotique"
SLOT_VALUE = "Gaspard Malvoisin"
SECRETS = (b"Zorglubin", b"troll_quixotique", b"Gaspard", b"Malvoisin")

DOMAIN_YAML = """
version: "3.1"
intents: [greet, delete_case, resume_case]
slots:
  author_name:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
  erase_conversation:
    type: bool
    influence_conversation: false
    mappings: [{type: custom}]
  resume_credentials:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
"""


@pytest.fixture(autouse=True)
def key_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh master key and var dir: nothing touches the developer's var/."""
    key = generate_key_text()
    monkeypatch.setenv("RIPOSTE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("RIPOSTE_SECRET_KEY", key)
    monkeypatch.delenv("RIPOSTE_DATABASE_URL", raising=False)
    return key


@pytest.fixture
def domain() -> Domain:
    return Domain.from_yaml(DOMAIN_YAML)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "tracker.db"


@pytest.fixture
def url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"


@pytest.fixture
def store(url: str, domain: Domain) -> Iterator[EncryptedSQLTrackerStore]:
    tracker_store = EncryptedSQLTrackerStore(domain=domain, host=url)
    yield tracker_store
    tracker_store.engine.dispose()


def conversation(sender_id: str, domain: Domain, *events: Event) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender_id, domain.slots)
    tracker.update_with_events(
        [
            ActionExecuted("action_session_start"),
            SessionStarted(),
            ActionExecuted("action_listen"),
            UserUttered(MESSAGE, {"name": "greet", "confidence": 0.98}),
            SlotSet("author_name", SLOT_VALUE),
            BotUttered("Bonjour Dr Zorglubin."),
            *events,
        ],
        domain,
    )
    return tracker


def rows(db_path: Path, sender_id: str | None = None) -> list[tuple[Any, ...]]:
    query = "SELECT sender_id, type_name, intent_name, action_name, data FROM events"
    with sqlite3.connect(db_path) as connection:
        if sender_id is None:
            return connection.execute(query + " ORDER BY id").fetchall()
        return connection.execute(
            query + " WHERE sender_id = ? ORDER BY id", (sender_id,)
        ).fetchall()


def dicts(tracker: DialogueStateTracker) -> list[dict[str, Any]]:
    return [event.as_dict() for event in tracker.events]


async def test_events_are_encrypted_at_rest_and_read_back(
    store: EncryptedSQLTrackerStore, domain: Domain, db_path: Path
) -> None:
    tracker = conversation("sender-a", domain)
    await store.save(tracker)

    content = db_path.read_bytes()
    assert [s for s in SECRETS if s in content] == []
    stored = rows(db_path)
    assert len(stored) == len(tracker.events) == 6
    assert all(data.startswith("enc1:") for *_, data in stored)
    # Rasa's clear columns: names from the domain only, nothing typed by the doctor.
    assert [row[1:4] for row in stored] == [
        ("action", None, "action_session_start"),
        ("session_started", None, None),
        ("action", None, "action_listen"),
        ("user", "greet", None),
        ("slot", None, "author_name"),
        ("bot", None, None),
    ]

    restored = await store.retrieve("sender-a")
    assert restored is not None
    assert dicts(restored) == dicts(tracker)[1:]  # Rasa: the latest session only
    assert restored.latest_message is not None and restored.latest_message.text == MESSAGE
    assert restored.get_slot("author_name") == SLOT_VALUE
    full = await store.retrieve_full_tracker("sender-a")
    assert full is not None and dicts(full) == dicts(tracker)
    assert list(await store.keys()) == ["sender-a"]
    assert await store.retrieve("nobody") is None


async def test_a_second_save_appends_only_the_new_events(
    store: EncryptedSQLTrackerStore, domain: Domain, db_path: Path
) -> None:
    await store.save(conversation("sender-a", domain))
    first = rows(db_path)
    tracker = await store.retrieve("sender-a")
    assert tracker is not None
    tracker.update(UserUttered("Il s'appelle Malvoisin", {"name": "greet", "confidence": 1.0}))
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)

    stored = rows(db_path)
    assert stored[: len(first)] == first  # earlier rows untouched
    assert len(stored) == len(first) + 2
    again = await store.retrieve("sender-a")
    assert again is not None and dicts(again) == dicts(tracker)
    assert b"Malvoisin" not in db_path.read_bytes()


async def test_wrong_key_fails_with_a_clear_error(
    store: EncryptedSQLTrackerStore,
    domain: Domain,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await store.save(conversation("sender-a", domain))
    monkeypatch.setenv("RIPOSTE_SECRET_KEY", generate_key_text())
    other = EncryptedSQLTrackerStore(domain=domain, host=url)
    try:
        with pytest.raises(StoreConfigError, match="ne peut pas être déchiffrée"):
            await other.retrieve("sender-a")
    finally:
        other.engine.dispose()


async def test_previous_keys_open_conversations_sealed_before_a_rotation(
    store: EncryptedSQLTrackerStore,
    domain: Domain,
    url: str,
    db_path: Path,
    key_env: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await store.save(conversation("sender-a", domain))
    monkeypatch.setenv("RIPOSTE_SECRET_KEY", generate_key_text())
    monkeypatch.setenv("RIPOSTE_PREVIOUS_KEYS", key_env)
    rotated = EncryptedSQLTrackerStore(domain=domain, host=url)
    try:
        tracker = await rotated.retrieve("sender-a")
        assert tracker is not None and tracker.get_slot("author_name") == SLOT_VALUE
        tracker.update(UserUttered("Il s'appelle Malvoisin", {"name": "greet", "confidence": 1.0}))
        await rotated.save(tracker)  # new rows sealed with the new key, old ones kept
        again = await rotated.retrieve("sender-a")
        assert again is not None and dicts(again) == dicts(tracker)
    finally:
        rotated.engine.dispose()


async def test_a_row_moved_to_another_conversation_does_not_open(
    store: EncryptedSQLTrackerStore, domain: Domain, db_path: Path
) -> None:
    await store.save(conversation("sender-a", domain))
    await store.save(conversation("sender-b", domain))
    with sqlite3.connect(db_path) as connection:
        connection.execute(
            "UPDATE events SET data = (SELECT data FROM events WHERE sender_id = 'sender-a' "
            "AND type_name = 'user') WHERE sender_id = 'sender-b' AND type_name = 'user'"
        )
    assert await store.retrieve("sender-a") is not None
    with pytest.raises(StoreConfigError, match="ne peut pas être déchiffrée"):
        await store.retrieve("sender-b")


async def test_missing_key_is_a_clear_error_and_nothing_is_written(
    store: EncryptedSQLTrackerStore,
    domain: Domain,
    db_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RIPOSTE_SECRET_KEY")
    with pytest.raises(StoreConfigError) as error:
        await store.save(conversation("sender-a", domain))
    assert str(tmp_path / "var" / "secret.key") in str(error.value)
    assert "RIPOSTE_SECRET_KEY" in str(error.value)
    assert rows(db_path) == []
    assert not (tmp_path / "var" / "secret.key").exists()  # never created here


async def test_the_key_file_is_used_when_the_variable_is_empty(
    domain: Domain, url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key_env: str
) -> None:
    monkeypatch.delenv("RIPOSTE_SECRET_KEY")
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret.key").write_text(key_env + "\n")
    (tmp_path / "var" / "secret.key").chmod(0o600)
    with_file = EncryptedSQLTrackerStore(domain=domain, host=url)
    await with_file.save(conversation("sender-a", domain))
    with_file.engine.dispose()
    monkeypatch.setenv("RIPOSTE_SECRET_KEY", key_env)  # the same key, from the environment
    with_env = EncryptedSQLTrackerStore(domain=domain, host=url)
    restored = await with_env.retrieve("sender-a")
    with_env.engine.dispose()
    assert restored is not None and restored.get_slot("author_name") == SLOT_VALUE


async def test_rows_of_the_plain_sql_store_remain_readable(
    domain: Domain, url: str, db_path: Path
) -> None:
    plain = SQLTrackerStore(domain=domain, host=url)
    tracker = conversation("sender-a", domain)
    await plain.save(tracker)
    plain.engine.dispose()
    assert b"Zorglubin" in db_path.read_bytes()  # the old format, in clear

    encrypted = EncryptedSQLTrackerStore(domain=domain, host=url)
    try:
        full = await encrypted.retrieve_full_tracker("sender-a")
        assert full is not None and dicts(full) == dicts(tracker)
        restored = await encrypted.retrieve("sender-a")
        assert restored is not None
        restored.update(BotUttered("Nouvelle réponse pour Quasimodo"))
        await encrypted.save(restored)
        stored = rows(db_path)
        assert len(stored) == 7
        assert not any(data.startswith("enc1:") for *_, data in stored[:6])
        assert stored[6][4].startswith("enc1:") and b"Quasimodo" not in db_path.read_bytes()
        again = await encrypted.retrieve_full_tracker("sender-a")
        assert again is not None and dicts(again) == [*dicts(tracker), dicts(restored)[-1]]
    finally:
        encrypted.engine.dispose()


async def test_erasure_on_request_deletes_the_conversation_and_writes_nothing(
    store: EncryptedSQLTrackerStore,
    domain: Domain,
    db_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await store.save(conversation("sender-a", domain))
    await store.save(conversation("sender-b", domain))
    kept = rows(db_path, "sender-b")
    tracker = await store.retrieve("sender-a")
    assert tracker is not None
    tracker.update(UserUttered("/delete_case", {"name": "delete_case", "confidence": 1.0}))
    tracker.update(ActionExecuted("action_delete_case"))
    tracker.update(SlotSet("erase_conversation", True))

    with caplog.at_level("INFO", logger="riposte_rasa.tracker_store"):
        await store.save(tracker)

    assert rows(db_path, "sender-a") == []
    assert rows(db_path, "sender-b") == kept
    assert "conversation erased on request" in caplog.messages
    assert not any("sender-a" in text for text in caplog.messages)
    assert await store.retrieve("sender-a") is None
    assert list(await store.keys()) == ["sender-b"]
    # The next message starts an empty conversation, and saving it writes only its events.
    fresh = await store.get_or_create_tracker("sender-a")
    assert [type(e) for e in fresh.events] == [ActionExecuted]
    assert fresh.get_slot("author_name") is None and fresh.get_slot("erase_conversation") is None
    assert len(rows(db_path, "sender-a")) == 1


async def test_a_false_erase_slot_saves_normally(
    store: EncryptedSQLTrackerStore, domain: Domain, db_path: Path
) -> None:
    tracker = conversation("sender-a", domain, SlotSet("erase_conversation", False))
    await store.save(tracker)
    assert len(rows(db_path, "sender-a")) == 7


async def test_erasure_works_when_the_slot_is_missing_from_the_domain(
    url: str, db_path: Path
) -> None:
    domain = Domain.from_yaml('version: "3.1"\nintents: [greet]\n')
    store = EncryptedSQLTrackerStore(domain=domain, host=url)
    try:
        await store.save(conversation("sender-a", domain))
        tracker = await store.retrieve("sender-a")
        assert tracker is not None
        tracker.update(SlotSet("erase_conversation", True))  # Rasa ignores the unknown slot
        assert tracker.get_slot("erase_conversation") is None
        await store.save(tracker)
        assert rows(db_path, "sender-a") == []
    finally:
        store.engine.dispose()


async def test_rasa_loads_the_store_from_the_project_endpoints(
    domain: Domain, url: str, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_STORE_URL", url)
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("RIPOSTE_ACTION_SECRET", "a-secret-for-the-tests")
    config = read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store")
    assert config is not None and config.type == STORE_TYPE
    for endpoint in (config, EndpointConfig(url=url, type=STORE_TYPE)):
        tracker_store = TrackerStore.create(endpoint, domain)
        assert isinstance(tracker_store, EncryptedSQLTrackerStore)  # not wrapped, not in memory
        assert str(tracker_store.engine.url) == url
        tracker_store.engine.dispose()
    tracker_store = TrackerStore.create(config, domain)
    await tracker_store.save(conversation("sender-a", domain))
    tracker_store.engine.dispose()
    assert len(rows(db_path, "sender-a")) == 6
    assert b"Zorglubin" not in db_path.read_bytes()


# --------------------------------------------------------------------------- purge


DAY = 86400.0
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def make_events(url: str, timestamps: dict[str, list[float | None]]) -> None:
    """Rows in Rasa's own `events` table with controlled timestamps."""
    engine = create_engine(url, future=True)
    SQLTrackerStore.Base.metadata.create_all(engine)
    with engine.begin() as connection:
        for sender, stamps in timestamps.items():
            for stamp in stamps:
                connection.execute(
                    SQLTrackerStore.SQLEvent.__table__.insert().values(
                        sender_id=sender, type_name="user", timestamp=stamp, data="{}"
                    )
                )
    engine.dispose()


def senders(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as connection:
        found = connection.execute("SELECT DISTINCT sender_id FROM events ORDER BY sender_id")
        return [sender for (sender,) in found.fetchall()]


def test_purge_erases_conversations_whose_newest_event_is_older_than_the_cutoff(
    url: str, db_path: Path
) -> None:
    now = NOW.timestamp()
    make_events(
        url,
        {
            "idle": [now - 400 * DAY, now - 200 * DAY],
            "idle-just-past": [now - 30 * DAY - 1],
            "active-again": [now - 400 * DAY, now - 29 * DAY],
            "recent": [now - 3600],
            "no-timestamp": [None],
        },
    )
    assert purge_conversations(url, 30, now=NOW) == 3
    assert senders(db_path) == ["active-again", "recent"]
    with sqlite3.connect(db_path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM events").fetchone() == (3,)
    assert purge_conversations(url, 30, now=NOW) == 0
    assert purge_conversations(url, 10, now=now) == 1  # a UNIX time works too
    assert senders(db_path) == ["recent"]
    assert purge_conversations(url, 0, now=NOW + timedelta(hours=2)) == 1
    assert senders(db_path) == []


def test_purge_and_erase_without_a_database_or_an_events_table(tmp_path: Path) -> None:
    missing = tmp_path / "absent" / "tracker.db"
    assert purge_conversations(f"sqlite:///{missing}", 30) == 0
    assert erase_conversation(f"sqlite:///{missing}", ["someone"]) == 0
    assert not missing.parent.exists()
    absent = tmp_path / "tracker.db"
    assert purge_conversations(f"sqlite:///{absent}", 30) == 0
    assert not absent.exists()  # not created by the purge
    sqlite3.connect(absent).execute("CREATE TABLE other (x INTEGER)").connection.close()
    assert purge_conversations(f"sqlite:///{absent}", 30) == 0
    with pytest.raises(ValueError):
        purge_conversations(f"sqlite:///{absent}", -1)


async def test_credentials_are_masked_in_what_is_kept(
    store: EncryptedSQLTrackerStore, domain: Domain
) -> None:
    """The code and passphrase typed, and the passphrase shown once, never reach the store."""
    passphrase = "piste-simple-escargot-bretzel-hermine"
    typed = "Voici RIP-7KQ2-M9 et Piste simple ESCARGOT bretzel hermines"
    tracker = conversation(
        "sender-a",
        domain,
        BotUttered(
            f"- Code du dossier : **RIP-7KQ2-M9**\n- Phrase secrète : **{passphrase}**",
            metadata={"utter_action": "utter_case_created", "secret": passphrase},
        ),
        UserUttered("reprendre mon dossier", {"name": "resume_case", "confidence": 1.0}),
        UserUttered(typed, {"name": "inform", "confidence": 0.4}, parse_data={"text": typed}),
        SlotSet("resume_credentials", typed),
        SlotSet("resume_credentials", "ok"),
        UserUttered("piste simple escargot bretzel", {"name": "inform", "confidence": 0.4}),
        SlotSet("resume_credentials", "piste simple escargot bretzel"),
    )
    await store.save(tracker)

    restored = await store.retrieve_full_tracker("sender-a")
    assert restored is not None
    kept = str(dicts(restored)).lower()
    for word in passphrase.split("-"):
        assert word not in kept
    assert "[code masqué]" in kept and "[phrase secrète masquée]" in kept
    # Everything else is kept as it was: the doctor's other words, the slot outcome, the
    # assistant's message but for the passphrase (with the code, which it names elsewhere).
    assert "voici" in kept
    shown = [e.text for e in restored.events if isinstance(e, BotUttered)]
    assert shown[-1] == (
        "- Code du dossier : **RIP-7KQ2-M9**\n- Phrase secrète : **[phrase secrète masquée]**"
    )
    typed_kept = [e.text for e in restored.events if isinstance(e, UserUttered)]
    assert not any("7KQ2" in (text or "") for text in typed_kept)
    assert MESSAGE.lower() in kept
    assert restored.get_slot("resume_credentials") == "[…] […] […] […]"
    assert len(restored.events) == len(tracker.events)
