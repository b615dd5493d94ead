"""Key ids, key rotation (previous keys, `riposte rekey`) and erasure by key destruction."""

from __future__ import annotations

import base64
import os
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import create_engine, text

from riposte.cli import main
from riposte.privacy import KeySet, MasterKey, decode_key, generate_key_text, load_keys
from riposte.store.config import StoreConfig
from riposte.store.crypto import KEY_ID_BYTES, VERSION, DecryptionError, Sealer, key_id_of
from riposte.store.errors import StoreConfigError
from riposte.store.files import FileVault
from riposte.store.repository import CaseRepository
from riposte.store.tracker import SEALED_PREFIX, events_aad, events_sealer
from tests.store.conftest import FakeClock, sample_case, sample_files

KEY_A = os.urandom(32)
KEY_B = os.urandom(32)


# ---------------------------------------------------------------------------- key ids


def test_a_sealed_value_names_the_key_that_sealed_it() -> None:
    sealed = Sealer(KEY_A).seal(b"secret", "aad")
    assert sealed[:1] == VERSION == b"\x02"
    assert sealed[1 : 1 + KEY_ID_BYTES] == key_id_of(KEY_A) != key_id_of(KEY_B)


def test_values_sealed_before_key_ids_stay_readable() -> None:
    nonce = os.urandom(12)
    old = b"\x01" + nonce + AESGCM(KEY_A).encrypt(nonce, b"ancien", b"aad")
    assert Sealer(KEY_A).open(old, "aad") == b"ancien"
    assert Sealer(KEY_B, KEY_A).open(old, "aad") == b"ancien"
    with pytest.raises(DecryptionError):
        Sealer(KEY_B).open(old, "aad")


def test_a_rotated_sealer_opens_with_previous_keys_and_seals_with_the_current() -> None:
    under_a = Sealer(KEY_A).seal(b"secret", "aad")
    rotated = Sealer(KEY_B, KEY_A)
    assert rotated.open(under_a, "aad") == b"secret"
    assert not rotated.is_current(under_a)
    resealed = rotated.reseal(under_a, "aad")
    assert resealed is not None and rotated.is_current(resealed)
    assert rotated.reseal(resealed, "aad") is None
    assert Sealer(KEY_B).open(resealed, "aad") == b"secret"
    with pytest.raises(DecryptionError):
        Sealer(KEY_B).open(under_a, "aad")
    with pytest.raises(DecryptionError):  # the right id, the wrong associated data
        rotated.open(resealed, "other")


# ---------------------------------------------------------------------------- configuration


def _with_keys(config: StoreConfig, current: str, *previous: str) -> StoreConfig:
    return replace(config, secret_key=current, previous_keys=tuple(previous))


def test_previous_keys_come_from_the_environment_or_the_key_file(tmp_path: Path) -> None:
    a, b = generate_key_text(), generate_key_text()
    env = {"RIPOSTE_VAR_DIR": str(tmp_path), "RIPOSTE_SECRET_KEY": b}
    env["RIPOSTE_PREVIOUS_KEYS"] = f" {a} , {b}"  # the current key listed again is ignored
    keys = load_keys(StoreConfig.from_env(env), create=False)
    assert [k.raw for k in keys.previous] == [decode_key(a)]
    config = StoreConfig.from_env({"RIPOSTE_VAR_DIR": str(tmp_path)})
    config.key_file.write_text(f"{b}\n{a}\n")
    config.key_file.chmod(0o600)
    from_file = load_keys(config, create=False)
    assert from_file.current.raw == keys.current.raw
    assert [k.raw for k in from_file.previous] == [k.raw for k in keys.previous]


def test_an_invalid_previous_key_is_named_by_position(tmp_path: Path) -> None:
    env = {
        "RIPOSTE_VAR_DIR": str(tmp_path),
        "RIPOSTE_SECRET_KEY": generate_key_text(),
        "RIPOSTE_PREVIOUS_KEYS": f"{generate_key_text()},pas-une-cle",
    }
    with pytest.raises(StoreConfigError) as caught:
        load_keys(StoreConfig.from_env(env), create=False)
    assert "RIPOSTE_PREVIOUS_KEYS" in str(caught.value) and "n° 2" in str(caught.value)
    assert "pas-une-cle" not in str(caught.value)


def test_a_store_sealed_under_a_opens_with_b_current_and_a_previous(
    config: StoreConfig, clock: FakeClock
) -> None:
    a, b = generate_key_text(), generate_key_text()
    with CaseRepository(_with_keys(config, a), clock=clock) as repo:
        code, secret = repo.create_case(sample_case(), files=sample_files())
        before = repo.read_case(code)
        first = repo.evidence_content(code, 1)
    with pytest.raises(StoreConfigError):  # B alone: refused, as before
        CaseRepository(_with_keys(config, b), clock=clock).read_case(code)
    with CaseRepository(_with_keys(config, b, a), clock=clock) as repo:
        assert repo.open_case(code, secret).case == before.case
        assert repo.evidence_content(code, 1) == first
        new_code = repo.create_case(sample_case(), files=sample_files()).code
        assert repo.read_case(new_code).case == before.case
        assert len(repo.audit_trail(code)) > 1


# ---------------------------------------------------------------------------- riposte rekey


def _use_keys(monkeypatch: pytest.MonkeyPatch, current: str, previous: str = "") -> None:
    monkeypatch.setenv("RIPOSTE_SECRET_KEY", current)
    monkeypatch.setenv("RIPOSTE_PREVIOUS_KEYS", previous)


def _make_events(url: str, key: str, count: int) -> None:
    """Rasa's `events` table with `count` rows sealed as `EncryptedSQLTrackerStore` does."""
    sealer = events_sealer(KeySet(MasterKey(decode_key(key) or b"")))
    engine = create_engine(url, future=True)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
                "timestamp REAL, intent_name TEXT, action_name TEXT, data TEXT)"
            )
        )
        for number in range(count):
            sealed = sealer.seal(f'{{"n": {number}}}'.encode(), events_aad("s1", "user"))
            data = SEALED_PREFIX + base64.b64encode(sealed).decode()
            connection.execute(
                text(
                    "INSERT INTO events (sender_id, type_name, timestamp, data) "
                    "VALUES (:s, :t, 1, :d)"
                ),
                {"s": "s1", "t": "user", "d": data},
            )
    engine.dispose()


def _open_events(url: str, key: str) -> list[str]:
    sealer = events_sealer(KeySet(MasterKey(decode_key(key) or b"")))
    engine = create_engine(url, future=True)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT sender_id, type_name, data FROM events")).all()
    engine.dispose()
    return [
        sealer.open(base64.b64decode(data[len(SEALED_PREFIX) :]), events_aad(s, t)).decode()
        for s, t, data in rows
    ]


@pytest.fixture
def cli_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The command line's environment; returns the tracker store's URL."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    url = f"sqlite:///{tmp_path}/tracker.db"
    monkeypatch.setenv("TRACKER_STORE_URL", url)
    return url


def test_rekey_then_the_previous_key_can_be_dropped(
    config: StoreConfig,
    clock: FakeClock,
    cli_env: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = generate_key_text(), generate_key_text()
    with CaseRepository(_with_keys(config, a), clock=clock) as repo:
        code, secret = repo.create_case(sample_case(), files=sample_files())
        repo.record_letter(
            code, "complaint", b"%PDF lettre", media_type="application/pdf", actor="cli"
        )
        repo.link_sender(code, "telegram", "sender-42")
        before = repo.read_case(code)
    _make_events(cli_env, a, 3)

    _use_keys(monkeypatch, b, a)
    assert main(["rekey"]) == 0
    out = capsys.readouterr().out
    # the case's own key is sealed again; its values and files, sealed with it, stay as they are
    assert "1 dossier(s) parcouru(s), 1 valeur(s) et 0 fichier(s) rechiffré(s)" in out
    assert "3 événement(s) rechiffré(s)" in out
    assert "vous pouvez retirer l'ancienne clé" in out
    assert main(["rekey"]) == 0  # idempotent: nothing left under the previous key
    again = capsys.readouterr().out
    assert "0 valeur(s) et 0 fichier(s) rechiffré(s)" in again
    assert "0 événement(s) rechiffré(s), 3 déjà chiffré(s)" in again

    with CaseRepository(_with_keys(config, b), clock=clock) as repo:  # A is gone
        assert repo.open_case(code, secret).case == before.case
        assert [repo.evidence_content(code, n) for n in (1, 2, 3)] == list(sample_files().values())
        assert repo.letter_content(code, 1) == b"%PDF lettre"
        assert repo.audit_trail(code)[0].action == "created"
        assert repo.delete_case(code).sender_ids == ("sender-42",)
    assert _open_events(cli_env, b) == ['{"n": 0}', '{"n": 1}', '{"n": 2}']


def _old_case(repo: CaseRepository, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A case stored as before case keys: no data key, sealed with the master-derived keys."""
    with monkeypatch.context() as patch:
        patch.setattr(CaseRepository, "_new_case_key", lambda *_: None)
        return tuple(repo.create_case(sample_case(), files=sample_files()))  # type: ignore[return-value]


def test_an_interrupted_rekey_loses_nothing_and_can_be_run_again(
    config: StoreConfig, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = generate_key_text(), generate_key_text()
    with CaseRepository(_with_keys(config, a), clock=clock) as repo:
        code = repo.create_case(sample_case(), files=sample_files()).code
        old, _ = _old_case(repo, monkeypatch)  # its values and files move to a case key
        codes = [code, old]
    with CaseRepository(_with_keys(config, a), clock=clock) as repo:
        before = [repo.read_case(c).case for c in codes]
    original = FileVault.reseal
    done: list[str] = []

    def crash_after_four(self: FileVault, storage_key: str, stored: str, sealer: Sealer) -> bool:
        if len(done) == 4:
            raise OSError("disque plein")
        done.append(stored)
        return original(self, storage_key, stored, sealer)

    monkeypatch.setattr(FileVault, "reseal", crash_after_four)
    with CaseRepository(_with_keys(config, b, a), clock=clock) as repo:
        with pytest.raises(OSError):
            repo.rekey()
    monkeypatch.setattr(FileVault, "reseal", original)

    def everything(repo: CaseRepository) -> list[object]:
        return [
            (repo.read_case(c).case, [repo.evidence_content(c, n) for n in (1, 2, 3)])
            for c in codes
        ]

    expected = [(case, list(sample_files().values())) for case in before]
    with CaseRepository(_with_keys(config, b, a), clock=clock) as repo:
        assert everything(repo) == expected  # half done: readable with B and A
    with pytest.raises(StoreConfigError):  # A still needed: refused, nothing misread
        CaseRepository(_with_keys(config, b), clock=clock).read_case(codes[0])
    with CaseRepository(_with_keys(config, b, a), clock=clock) as repo:
        report = repo.rekey()
    # the first case was done; the second got its key and values, and one of its three files
    assert (report.cases, report.values, report.files) == (2, 0, 2)
    with CaseRepository(_with_keys(config, b), clock=clock) as repo:
        assert everything(repo) == expected
    with CaseRepository(_with_keys(config, b), clock=clock) as repo:
        assert repo.rekey().values == repo.rekey().files == 0


# ---------------------------------------------------------------------------- erasure


def _sealed_residue(config: StoreConfig, code: str) -> dict[str, bytes]:
    """What stays of a case after deletion outside the live rows: the sealed values as dead
    database pages, a copied table or a restored file would hold them, and the vault files."""
    engine = create_engine(config.database_url, future=True)
    with engine.connect() as connection:
        case_id, storage_key, victim = connection.execute(
            text("SELECT id, storage_key, victim FROM cases WHERE code = :c"), {"c": code}
        ).one()
        details = connection.execute(
            text("SELECT details FROM evidence WHERE case_id = :i AND number = 1"), {"i": case_id}
        ).scalar_one()
        stored = connection.execute(
            text("SELECT stored_file FROM evidence WHERE case_id = :i AND number = 1"),
            {"i": case_id},
        ).scalar_one()
    engine.dispose()
    file = (config.data_dir / storage_key / stored).read_bytes()
    return {
        f"cases.victim:{storage_key}": bytes(victim),
        f"evidence.details:{storage_key}/1": bytes(details),
        f"file:{storage_key}/{stored}": file,
    }


def _opens_with_what_is_left(repo: CaseRepository, aad: str, sealed: bytes) -> bool:
    """True when the live store's keys (master-derived, and every remaining case key) open it."""
    st = repo._ready()
    engine = create_engine(repo.config.database_url, future=True)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id FROM cases")).scalars().all()
    engine.dispose()
    sealers = [st.keys.fields, st.keys.files]
    with st.sessions() as s:
        from riposte.store.models import CaseRow

        for case_id in rows:
            row = s.get(CaseRow, case_id)
            sealers += [repo._fields(st, row), repo._files(st, row)]
    for sealer in sealers:
        try:
            sealer.open(sealed, aad)
            return True
        except DecryptionError:
            continue
    return False


def test_deleting_a_case_destroys_its_key_so_its_leftovers_never_open_again(
    config: StoreConfig, clock: FakeClock
) -> None:
    key = generate_key_text()
    with CaseRepository(_with_keys(config, key), clock=clock) as repo:
        code = repo.create_case(sample_case(), files=sample_files()).code
        repo.create_case(sample_case(), files=sample_files())  # another case stays
        residue = _sealed_residue(config, code)
        assert all(_opens_with_what_is_left(repo, aad, v) for aad, v in residue.items())
        wrapped = _wrapped_key(config, code)
        repo.delete_case(code)
        assert not any(_opens_with_what_is_left(repo, aad, v) for aad, v in residue.items())
    database = config.sqlite_path
    if database is not None:  # no copy of the wrapped key left in the file's free pages
        assert wrapped not in database.read_bytes()


def _wrapped_key(config: StoreConfig, code: str) -> bytes:
    engine = create_engine(config.database_url, future=True)
    with engine.connect() as connection:
        value = connection.execute(
            text("SELECT data_key FROM cases WHERE code = :c"), {"c": code}
        ).scalar_one()
    engine.dispose()
    assert value is not None and len(value) > 32
    return bytes(value)


def test_cases_stored_before_case_keys_keep_working_and_get_one_at_rekey(
    config: StoreConfig, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = generate_key_text()
    with CaseRepository(_with_keys(config, key), clock=clock) as repo:
        code, secret = _old_case(repo, monkeypatch)
        before = repo.read_case(code).case
    with CaseRepository(_with_keys(config, key), clock=clock) as repo:
        assert repo.open_case(code, secret).case == before  # the master-derived keys open it
    with CaseRepository(_with_keys(config, key), clock=clock) as repo:
        report = repo.rekey()
        assert (report.values, report.files) == (1 + 7, 3)  # its new key, values, files
        assert repo.open_case(code, secret).case == before
        assert [repo.evidence_content(code, n) for n in (1, 2, 3)] == list(sample_files().values())
        residue = _sealed_residue(config, code)
        repo.delete_case(code)
        assert not any(_opens_with_what_is_left(repo, aad, v) for aad, v in residue.items())


def test_the_case_keys_migration_refuses_to_go_back_while_a_case_has_a_key(
    config: StoreConfig, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alembic import command
    from alembic.config import Config

    from riposte.store.migrate import ALEMBIC_INI

    with CaseRepository(config, clock=clock) as repo:
        code = repo.create_case(sample_case()).code
    monkeypatch.setenv("RIPOSTE_DATABASE_URL", config.database_url)
    with pytest.raises(RuntimeError, match="Retour en arrière impossible"):
        command.downgrade(Config(str(ALEMBIC_INI)), "0003")
    with CaseRepository(config, clock=clock) as repo:
        assert repo.read_case(code).code == code


# ---------------------------------------------------------------------------- clear facts


def test_physical_danger_is_sealed_and_older_rows_still_read(
    config: StoreConfig, clock: FakeClock
) -> None:
    case = sample_case()
    case["incident"]["physical_danger"] = True
    engine = create_engine(config.database_url, future=True)

    def clear_column() -> object:
        with engine.begin() as connection:
            return connection.execute(text("SELECT physical_danger FROM incidents")).scalar_one()

    with CaseRepository(config, clock=clock) as repo:
        code = repo.create_case(case).code
        assert not clear_column()  # nothing to see in clear: the fact is in the sealed details
        assert repo.read_case(code).case.incident.physical_danger is True
        found = repo.cases_with_deadlines(clock().date(), within_days=3000)  # still computed
        assert [c.code for c in found] == [code]
        repo.update_case(code, {"incident": {"physical_danger": False}}, actor="cli")
        assert repo.read_case(code).case.incident.physical_danger is False
        with engine.begin() as connection:  # a row written before: the fact in the column
            connection.execute(text("UPDATE incidents SET physical_danger = :t"), {"t": True})
        assert repo.read_case(code).case.incident.physical_danger is True
        repo.update_case(code, {"incident": {"summary": "Menaces."}}, actor="cli")
        assert not clear_column()
        assert repo.read_case(code).case.incident.physical_danger is True
    engine.dispose()


def test_a_store_written_before_key_ids_still_opens_and_rekey_moves_it(
    config: StoreConfig, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def seal_v1(self: Sealer, plaintext: bytes, aad: str) -> bytes:
        nonce = os.urandom(12)
        return b"\x01" + nonce + self._aead.encrypt(nonce, plaintext, aad.encode("utf-8"))

    key = generate_key_text()
    with monkeypatch.context() as patch:  # the format and the schema use before key ids
        patch.setattr(Sealer, "seal", seal_v1)
        with CaseRepository(_with_keys(config, key), clock=clock) as repo:
            code, secret = _old_case(repo, monkeypatch)
    residue = _sealed_residue(config, code)
    assert all(value[:1] == b"\x01" for value in residue.values())
    with CaseRepository(_with_keys(config, key), clock=clock) as repo:
        before = repo.open_case(code, secret).case
        assert repo.evidence_content(code, 1) == sample_files()[0]
        report = repo.rekey()
        assert (report.values, report.files) == (1 + 7, 3)
        assert all(v[:1] == b"\x02" for v in _sealed_residue(config, code).values())
        assert repo.read_case(code).case == before


def test_rekey_moves_the_follow_ups_recipients_and_the_address_book(
    config: StoreConfig,
    clock: FakeClock,
    cli_env: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from datetime import date, datetime, timezone

    from sqlalchemy import select

    from riposte.store.models import ContactRow

    a, b = generate_key_text(), generate_key_text()
    conversation = ("chat", "conversation-7")
    with CaseRepository(_with_keys(config, a), clock=clock) as repo:
        old, _ = _old_case(repo, monkeypatch)  # no case key yet: rekey gives it one
        new, _ = repo.create_case({})
        for code in (old, new):
            repo.link_sender(code, *conversation)
            repo.update_case(
                code,
                {"steps_done": ["report_to_platform"]},
                today=date(2026, 11, 24),
                actor="chat",
                conversation=conversation,
            )
            repo.sync_follow_ups(
                code,
                channel="telegram",
                today=date(2026, 11, 24),
                actor="chat",
                conversation=conversation,
            )
        assert repo.remember_contact("telegram", "conversation-7", "123456789")
    _use_keys(monkeypatch, b, a)
    assert main(["rekey"]) == 0
    capsys.readouterr()
    with CaseRepository(_with_keys(config, b), clock=clock) as repo:  # A is gone
        due = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)  # the platform's answer
        claimed = repo.claim_follow_ups(now=due)
        assert [c.sender_id for c in claimed] == ["conversation-7", "conversation-7"]
        # The address book is sealed again with the current key (its entries are found by
        # pseudonym, and pseudonyms change with the master key, as Rasa's conversation ids).
        state = repo._state
        assert state is not None
        with state.sessions() as s:
            (sealed,) = s.execute(select(ContactRow.address)).scalars()
        assert state.keys.fields.is_current(bytes(sealed))
