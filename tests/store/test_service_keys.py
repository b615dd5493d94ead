"""Service key files: a process given the keys its service needs instead of the master key.

The page server (`riposte.web.server.make_web_server`) runs in this process with the web service's
file and serves a letter download and an evidence upload, while the keys of the other
services (Rasa's conversations, the pseudonyms) are refused to it; the links and cases are made
beforehand with the master key, as the action server does.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.ports import free_port
from riposte.privacy import generate_key_text

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
LETTER = b"%PDF-1.7 lettre au procureur"
DEADLINE = 10.0


@pytest.fixture
def var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A store under tmp_path/var, the process's configuration read from the environment."""
    from riposte.store.repository import reset_shared_repository

    var_dir = tmp_path / "var"
    monkeypatch.setenv("RIPOSTE_VAR_DIR", str(var_dir))
    for name in (
        "RIPOSTE_DATABASE_URL",
        "RIPOSTE_DATA_DIR",
        "RIPOSTE_SECRET_KEY",
        "RIPOSTE_PREVIOUS_KEYS",
        "RIPOSTE_SERVICE_KEYS",
        "RIPOSTE_SERVICE_KEYS_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    reset_shared_repository()
    yield var_dir
    reset_shared_repository()


def derive(service: str, output: Path, *, force: bool = False) -> tuple[int, str, str]:
    """`riposte keys derive --service … --output …` with the current environment."""
    from riposte.cli.case import run_derive_keys

    out, err = io.StringIO(), io.StringIO()
    args = argparse.Namespace(service=service, output=str(output), force=force)
    status = run_derive_keys(args, out, err)
    return status, out.getvalue(), err.getvalue()


def use_service_file(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """From now on this process holds only the service file (no master key)."""
    from riposte.store.repository import reset_shared_repository

    monkeypatch.delenv("RIPOSTE_SECRET_KEY", raising=False)
    monkeypatch.delenv("RIPOSTE_PREVIOUS_KEYS", raising=False)
    monkeypatch.setenv("RIPOSTE_SERVICE_KEYS_FILE", str(path))
    reset_shared_repository()


def make_case_with_links() -> tuple[str, str, str]:
    """A case with a letter and an evidence item; its letter and upload links (master key)."""
    from riposte.letters.links import link_key, make_token
    from riposte.store.repository import shared_repository
    from riposte.web import server as serve
    from riposte.web import uploads as evidence_upload

    repo = shared_repository()
    code, _ = repo.create_case({})
    repo.record_letter(code, "procureur", LETTER, media_type="application/pdf", actor="cli")
    repo.add_evidence(code, {"url": "https://x.com/troll/status/1"}, actor="cli")
    letter = f"{serve.LETTERS_PATH}{make_token(link_key(), code, 1)}.pdf"
    upload = f"{evidence_upload.UPLOAD_PATH}{make_token(evidence_upload.upload_key(), code, 1)}"
    return code, letter, upload


def request(port: int, method: str, path: str, body: bytes = b"", **headers: str) -> tuple:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
    try:
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def serve_letter_and_upload(var: Path, letter: str, upload: str) -> tuple[tuple, tuple]:
    """GET the letter and POST a capture through an in-process page server."""
    from riposte.settings import Settings
    from riposte.web import server as serve

    port = free_port()
    settings = Settings.from_env({"RIPOSTE_WEB_PORT": str(port), "RIPOSTE_VAR_DIR": str(var)})
    server = serve.make_web_server(settings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        got_letter = request(port, "GET", letter)
        boundary = "riposteboundary"
        form = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="fichier"; '
                f'filename="capture.png"\r\nContent-Type: image/png\r\n\r\n'
            ).encode()
            + PNG
            + f"\r\n--{boundary}--\r\n".encode()
        )
        kind = f"multipart/form-data; boundary={boundary}"
        got_upload = request(
            port, "POST", upload, form, **{"Content-Type": kind, "Accept": "application/json"}
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(DEADLINE)
    return got_letter, got_upload


def master_repository(var: Path, *keys: str):  # type: ignore[no-untyped-def]
    from riposte.store.config import StoreConfig
    from riposte.store.repository import CaseRepository

    env = {"RIPOSTE_VAR_DIR": str(var), "RIPOSTE_SECRET_KEY": keys[0]}
    env["RIPOSTE_PREVIOUS_KEYS"] = ",".join(keys[1:])
    return CaseRepository(StoreConfig.from_env(env))


def test_the_web_service_file_serves_letters_and_uploads_but_not_the_other_keys(
    var: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from riposte.privacy import PurposeNotAllowedError, load_keys, pseudonymise
    from riposte.store.config import StoreConfig
    from riposte_rasa.tracker_store import load_tracker_keys

    master = generate_key_text()
    monkeypatch.setenv("RIPOSTE_SECRET_KEY", master)
    code, letter, upload = make_case_with_links()
    web_file = tmp_path / "web.keys"
    assert derive("web", web_file)[0] == 0

    use_service_file(monkeypatch, web_file)
    (letter_status, letter_body), (upload_status, upload_body) = serve_letter_and_upload(
        var, letter, upload
    )
    assert (letter_status, letter_body) == (200, LETTER)
    assert upload_status == 200, upload_body
    assert json.loads(upload_body)["ok"] is True

    keys = load_keys(StoreConfig.from_env(), create=False)
    for purpose in ("tracker-events", "pseudonym", "inbox-ref"):
        with pytest.raises(PurposeNotAllowedError) as refused:
            keys.current.derive(purpose)
        assert f"« {purpose} »" in str(refused.value) and "« web »" in str(refused.value)
    with pytest.raises(PurposeNotAllowedError):
        pseudonymise("rest", "someone", keys.current)
    with pytest.raises(PurposeNotAllowedError):
        from riposte.store.tracker import events_sealer

        events_sealer(load_tracker_keys())

    with master_repository(var, master) as repo:  # the capture is filed, sealed in the case
        assert repo.evidence_content(code, 1) == PNG


def test_the_rasa_service_file_cannot_make_or_read_letter_or_upload_links(
    var: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from riposte.letters.links import link_key
    from riposte.privacy import PurposeNotAllowedError, pseudonymise
    from riposte.store.repository import shared_repository
    from riposte.web import uploads as evidence_upload

    master = generate_key_text()
    monkeypatch.setenv("RIPOSTE_SECRET_KEY", master)
    expected = pseudonymise("rest", "someone", _master_from_env())
    shared_repository().ensure_ready()
    rasa_file = tmp_path / "rasa.keys"
    assert derive("rasa", rasa_file)[0] == 0

    use_service_file(monkeypatch, rasa_file)
    shared_repository().ensure_ready()  # the store's key check passes
    assert shared_repository().pseudonymise("rest", "someone") == expected
    # A file received on Telegram: Rasa's process seals it in the inbox; the action server
    # (master key) files it in the case.
    ref = shared_repository().put_inbox_file(expected, PNG, filename="capture.png")
    with master_repository(var, master) as repo:
        code, _ = repo.create_case({})
        record = repo.add_inbox_evidence(code, ref, expected, actor="cli")
        assert repo.evidence_content(code, record.number) == PNG
    with pytest.raises(PurposeNotAllowedError, match="letter-links"):
        link_key()
    with pytest.raises(PurposeNotAllowedError, match="evidence-upload"):
        evidence_upload.upload_key()


def _master_from_env():  # type: ignore[no-untyped-def]
    from riposte.privacy import load_keys
    from riposte.store.config import StoreConfig

    return load_keys(StoreConfig.from_env(), create=False).current


def test_service_files_from_current_and_previous_keys_open_what_the_previous_key_sealed(
    var: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A key change without `riposte rekey` yet: the new service files still open the old
    values (a letter sealed under the old key, conversations sealed under it)."""
    from riposte.privacy import load_keys
    from riposte.store.config import StoreConfig
    from riposte.store.repository import reset_shared_repository
    from riposte.store.tracker import events_sealer

    old, new = generate_key_text(), generate_key_text()
    monkeypatch.setenv("RIPOSTE_SECRET_KEY", old)
    code, _, _ = make_case_with_links()
    old_events = events_sealer(load_keys(StoreConfig.from_env(), create=False))
    sealed_event = old_events.seal(b'{"event": "user"}', "events:someone/user")

    monkeypatch.setenv("RIPOSTE_SECRET_KEY", new)
    monkeypatch.setenv("RIPOSTE_PREVIOUS_KEYS", old)
    reset_shared_repository()
    _, _, upload = make_case_with_links()  # a case of the new key, for the upload
    assert derive("web", tmp_path / "web.keys")[0] == 0
    assert derive("rasa", tmp_path / "rasa.keys")[0] == 0

    use_service_file(monkeypatch, tmp_path / "rasa.keys")
    rasa_keys = load_keys(StoreConfig.from_env(), create=False)
    assert len(rasa_keys.previous) == 1
    assert events_sealer(rasa_keys).open(sealed_event, "events:someone/user") == (
        b'{"event": "user"}'
    )
    assert rasa_keys.current.key_id == _key_id(new)

    use_service_file(monkeypatch, tmp_path / "web.keys")
    from riposte.letters.links import link_key, make_token
    from riposte.web import LETTERS_PATH

    old_letter = f"{LETTERS_PATH}{make_token(link_key(), code, 1)}.pdf"
    (status, body), _ = serve_letter_and_upload(var, old_letter, upload)
    assert (status, body) == (200, LETTER)  # the case's key is still sealed under the old key


def _key_id(text: str) -> str:
    from riposte.privacy import MasterKey, decode_key

    return MasterKey(decode_key(text) or b"").key_id


def test_a_service_file_readable_by_others_is_refused(
    var: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from riposte.letters.links import link_key
    from riposte.store.errors import StoreConfigError

    monkeypatch.setenv("RIPOSTE_SECRET_KEY", generate_key_text())
    web_file = tmp_path / "web.keys"
    assert derive("web", web_file)[0] == 0
    web_file.chmod(0o644)
    use_service_file(monkeypatch, web_file)
    with pytest.raises(StoreConfigError, match="chmod 600"):
        link_key()


def test_a_service_file_and_the_master_key_together_are_refused(
    var: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from riposte.letters.links import link_key
    from riposte.store.errors import StoreConfigError

    master = generate_key_text()
    monkeypatch.setenv("RIPOSTE_SECRET_KEY", master)
    web_file = tmp_path / "web.keys"
    assert derive("web", web_file)[0] == 0
    monkeypatch.setenv("RIPOSTE_SERVICE_KEYS_FILE", str(web_file))
    with pytest.raises(StoreConfigError, match="clé maîtresse") as refused:
        link_key()
    assert master not in str(refused.value)


def test_the_service_keys_can_be_given_as_content_in_the_environment(
    var: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What the Kubernetes web pod does: the file's content from its Secret."""
    from riposte.letters.links import link_key

    monkeypatch.setenv("RIPOSTE_SECRET_KEY", generate_key_text())
    expected = link_key()
    web_file = tmp_path / "web.keys"
    assert derive("web", web_file)[0] == 0
    monkeypatch.delenv("RIPOSTE_SECRET_KEY")
    monkeypatch.setenv("RIPOSTE_SERVICE_KEYS", web_file.read_text())
    assert link_key() == expected
    # A service's keys never make another service's file (the master key is needed).
    status, _, err = derive("rasa", tmp_path / "rasa.keys")
    assert status == 1 and "clé maîtresse" in err and not (tmp_path / "rasa.keys").exists()


def test_keys_derive_writes_an_owner_only_file_without_the_master_key(
    var: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from riposte.privacy import decode_key

    master, previous = generate_key_text(), generate_key_text()
    monkeypatch.setenv("RIPOSTE_SECRET_KEY", master)
    monkeypatch.setenv("RIPOSTE_PREVIOUS_KEYS", previous)
    umask = os.umask(0o022)  # as a shell would: the file must be 0600 all the same
    try:
        output = tmp_path / "web.keys"
        status, out, _ = derive("web", output)
    finally:
        os.umask(umask)
    assert status == 0 and str(output) in out
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    content = output.read_bytes()
    for key in (master, previous):
        raw = decode_key(key) or b""
        for form in (key.encode(), key.rstrip("=").encode(), raw, base64.b64encode(raw)):
            assert form not in content
    assert set(json.loads(content)["keys"][0]) >= {"letter-links", "evidence-upload"}

    output.write_text("older")
    status, _, err = derive("web", output)
    assert status == 2 and "--force" in err and output.read_text() == "older"
    output.chmod(0o644)
    assert derive("web", output, force=True)[0] == 0
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert json.loads(output.read_text())["service"] == "web"


def _data_key_row(var: Path, code: str) -> tuple[bytes, str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{var}/riposte.db", future=True)
    with engine.connect() as connection:
        wrapped, storage_key = connection.execute(
            text("SELECT data_key, storage_key FROM cases WHERE code = :c"), {"c": code}
        ).one()
    engine.dispose()
    return bytes(wrapped), f"cases.data_key:{storage_key}"


def test_rasa_keys_cannot_unwrap_a_case_key_and_older_wrapped_keys_still_open(
    var: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Cases' data keys are sealed with `case-keys`, which Rasa's file lacks: its field key
    (for the inbox and the key check) does not open a case. A data key sealed with the field
    key (before `case-keys`) still opens, and `riposte rekey` moves it."""
    from riposte.privacy import load_keys
    from riposte.store.config import StoreConfig
    from riposte.store.crypto import DecryptionError, Keyring, Sealer

    master = generate_key_text()
    monkeypatch.setenv("RIPOSTE_SECRET_KEY", master)
    code, _, _ = make_case_with_links()
    keys = load_keys(StoreConfig.from_env(), create=False)
    assert derive("rasa", tmp_path / "rasa.keys")[0] == 0
    use_service_file(monkeypatch, tmp_path / "rasa.keys")
    rasa = load_keys(StoreConfig.from_env(), create=False)
    wrapped, aad = _data_key_row(var, code)
    rasa_fields = Sealer(*(key.derive("store-fields") for key in (rasa.current, *rasa.previous)))
    with pytest.raises(DecryptionError):
        rasa_fields.open(wrapped, aad)

    # A case key wrapped as before (with the field key): the web service still serves it.
    keyring = Keyring(keys.current)
    data_key = keyring.case_keys.open(wrapped, aad)
    legacy = keyring.fields.seal(data_key, aad)
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{var}/riposte.db", future=True)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE cases SET data_key = :k WHERE code = :c"), {"k": legacy, "c": code}
        )
    engine.dispose()
    with master_repository(var, master) as repo:
        assert repo.letter_content(code, 1) == LETTER
        repo.rekey()
    moved, _ = _data_key_row(var, code)
    assert moved != legacy and keyring.case_keys.is_current(moved)
    with pytest.raises(DecryptionError):
        rasa_fields.open(moved, aad)
