"""Privacy by design: nothing personal in clear at rest or in logs; the key is handled safely."""

from __future__ import annotations

import logging
import re
import stat
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, select

from riposte.privacy import MasterKey, generate_key_text, load_master_key, pseudonymise
from riposte.store.config import StoreConfig
from riposte.store.errors import AccessDeniedError, StoreConfigError
from riposte.store.repository import CaseRepository
from tests.store.conftest import (
    SECRET_WORDS,
    FakeClock,
    sample_case,
    sample_files,
)


def database_bytes(config: StoreConfig) -> bytes:
    """Everything the database holds: the SQLite files as bytes, and every row of every table."""
    chunks: list[bytes] = []
    path = config.sqlite_path
    if path is not None:
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-journal")):
            if candidate.exists():
                chunks.append(candidate.read_bytes())
    engine = create_engine(config.database_url, future=True)
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for value in row:
                    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
                    chunks.append(bytes(data))
    engine.dispose()
    return b"\n".join(chunks)


def data_bytes(config: StoreConfig) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(config.data_dir.rglob("*")) if p.is_file())


def assert_no_plaintext(blob: bytes, secret: str | None = None) -> None:
    words = list(SECRET_WORDS) + ([secret] if secret else [])
    found = [w for w in words if w.encode("utf-8") in blob]
    assert not found, f"personal data in clear: {found}"


def test_database_and_files_hold_no_plaintext(
    repo: CaseRepository, config: StoreConfig, clock: FakeClock
) -> None:
    code, secret = repo.create_case(sample_case(), files=sample_files())
    repo.add_evidence(
        code, {"url": "https://x.com/troll_quixotique/status/9"}, b"Zorglubin", actor="cli"
    )
    repo.update_case(code, {"incident": {"summary": "Gaspard Malvoisin recommence."}}, actor="cli")
    repo.link_sender(code, "signal", "+33612345678")
    repo.record_letter(code, "procureur", b"Plainte de Camille Zorglubin", actor="cli")
    repo.put_inbox_file(
        "a-pseudonym", b"inbox capture of Zorglubin", filename="capture-zorglubin.png"
    )
    repo.put_inbox_file("a-pseudonym", b"\x89PNG", filename="x.png", caption="Gaspard Malvoisin")
    repo.open_case(code, secret)
    repo.close()
    db = database_bytes(config)
    files = data_bytes(config)
    assert b"RIP-" in db  # the scan does see the rows
    assert len(files) > sum(len(c) for c in sample_files().values())  # and the files
    assert_no_plaintext(db, secret)
    assert_no_plaintext(files, secret)
    assert b"+33612345678" not in db and b"Plainte de" not in files
    assert b"inbox capture" not in db and b"inbox capture" not in files
    # The files are not the plaintext under another name either.
    for content in sample_files().values():
        assert content not in files


def test_key_file_is_created_with_mode_0600(repo: CaseRepository, config: StoreConfig) -> None:
    assert not config.key_file.exists()
    repo.create_case({})
    mode = stat.S_IMODE(config.key_file.stat().st_mode)
    assert mode == 0o600
    assert len(config.key_file.read_text().strip()) == 44
    assert stat.S_IMODE(config.data_dir.stat().st_mode) == 0o700


def test_evidence_files_are_private(repo: CaseRepository, config: StoreConfig) -> None:
    repo.create_case(sample_case(), files=sample_files())
    files = [p for p in config.data_dir.rglob("*") if p.is_file()]
    assert len(files) == 3
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    assert all("zorglubin" not in str(p).lower() and "capture" not in str(p) for p in files)


def test_wrong_key_gives_a_clear_french_error(
    repo: CaseRepository, config: StoreConfig, clock: FakeClock
) -> None:
    code, secret = repo.create_case(sample_case(), files=sample_files())
    repo.close()
    other = StoreConfig(
        database_url=config.database_url,
        data_dir=config.data_dir,
        key_file=config.key_file,
        secret_key=generate_key_text(),
    )
    with pytest.raises(StoreConfigError) as caught:
        CaseRepository(other, clock=clock).open_case(code, secret)
    text = str(caught.value)
    assert "n'est pas celle qui a chiffré les dossiers existants" in text
    expected_id = load_master_key(config, create=False).key_id
    assert expected_id in text


def test_missing_key_with_existing_data_is_an_error_and_no_key_is_created(
    repo: CaseRepository, config: StoreConfig, clock: FakeClock
) -> None:
    code, _ = repo.create_case(sample_case())
    repo.close()
    config.key_file.unlink()
    with pytest.raises(StoreConfigError) as caught:
        CaseRepository(config, clock=clock).read_case(code)
    assert "Aucune clé secrète" in str(caught.value)
    assert "ne crée pas de nouvelle clé" in str(caught.value)
    assert not config.key_file.exists()


def test_invalid_keys_are_refused(config: StoreConfig, clock: FakeClock) -> None:
    bad_env = StoreConfig(
        database_url=config.database_url,
        data_dir=config.data_dir,
        key_file=config.key_file,
        secret_key="trop-court",
    )
    with pytest.raises(StoreConfigError) as caught:
        CaseRepository(bad_env, clock=clock).create_case({})
    assert "RIPOSTE_SECRET_KEY n'est pas une clé valide" in str(caught.value)
    config.key_file.parent.mkdir(parents=True, exist_ok=True)
    config.key_file.write_text("pas une clé\n")
    with pytest.raises(StoreConfigError) as caught:
        CaseRepository(config, clock=clock).create_case({})
    assert "ne contient pas une clé valide" in str(caught.value)


def test_key_from_the_environment_is_used_and_no_file_is_written(
    config: StoreConfig, clock: FakeClock
) -> None:
    key = generate_key_text()
    with_key = StoreConfig(
        database_url=config.database_url,
        data_dir=config.data_dir,
        key_file=config.key_file,
        secret_key=key,
    )
    code, secret = CaseRepository(with_key, clock=clock).create_case(sample_case())
    assert not config.key_file.exists()
    same = StoreConfig(
        database_url=config.database_url,
        data_dir=config.data_dir,
        key_file=config.key_file,
        secret_key=key.rstrip("="),  # padding is optional
    )
    assert CaseRepository(same, clock=clock).open_case(code, secret).code == code


def test_pseudonyms_are_keyed_stable_and_channel_specific() -> None:
    key = MasterKey(b"k" * 32)
    other = MasterKey(b"o" * 32)
    first = pseudonymise("telegram", "42", key)
    assert first == pseudonymise("telegram", "42", key)
    assert first != pseudonymise("signal", "42", key)
    assert first != pseudonymise("telegram", "43", key)
    assert first != pseudonymise("telegram", "42", other)
    assert re.fullmatch(r"[0-9a-f]{32}", first)


def test_pseudonymise_reads_the_configured_key_but_never_creates_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIPOSTE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("RIPOSTE_SECRET_KEY", raising=False)
    with pytest.raises(StoreConfigError):
        pseudonymise("telegram", "42")
    assert not (tmp_path / "secret.key").exists()
    key = generate_key_text()
    monkeypatch.setenv("RIPOSTE_SECRET_KEY", key)
    from riposte.privacy import decode_key

    raw = decode_key(key)
    assert raw is not None
    assert pseudonymise("telegram", "42") == pseudonymise("telegram", "42", MasterKey(raw))


def test_logs_hold_no_personal_data(
    config: StoreConfig, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    repo = CaseRepository(config, clock=clock)
    code, secret = repo.create_case(sample_case(), files=sample_files())
    repo.open_case(code, secret)
    for _ in range(5):
        with pytest.raises(AccessDeniedError):
            repo.open_case(code, "faux")
    repo.delete_case(code)
    repo.close()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged  # something was logged
    assert_no_plaintext(logged.encode("utf-8"), secret)


def test_key_file_created_with_a_warning(
    repo: CaseRepository, config: StoreConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="riposte.privacy")
    repo.create_case({})
    assert f"Nouvelle clé secrète créée dans {config.key_file}" in caplog.text


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_key_file_readable_by_others_is_refused(
    repo: CaseRepository, config: StoreConfig, clock: FakeClock, mode: int
) -> None:
    code = repo.create_case({}).code
    repo.close()
    config.key_file.chmod(mode)
    with pytest.raises(StoreConfigError) as refused:
        CaseRepository(config, clock=clock).read_case(code)
    text = str(refused.value)
    assert str(config.key_file) in text and "chmod 600" in text
    assert "refuse" in text
    config.key_file.chmod(0o600)
    assert CaseRepository(config, clock=clock).read_case(code).code == code
