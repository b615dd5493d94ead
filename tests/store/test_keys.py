"""Key ids, key rotation (previous keys, `riposte rekey`) and erasure by key destruction."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from riposte.privacy import decode_key, generate_key_text, load_keys
from riposte.store.config import StoreConfig
from riposte.store.crypto import KEY_ID_BYTES, VERSION, DecryptionError, Sealer, key_id_of
from riposte.store.errors import StoreConfigError
from riposte.store.repository import CaseRepository
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
