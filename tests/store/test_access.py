"""Opening a case: the secret, the lock after repeated failures, across repository instances."""

from __future__ import annotations

from datetime import timedelta

import pytest

from riposte.store.codes import normalise_secret
from riposte.store.config import LOCK_MINUTES, MAX_FAILED_ATTEMPTS, StoreConfig
from riposte.store.errors import AccessDeniedError, CaseLockedError
from riposte.store.repository import CaseRepository
from tests.store.conftest import START, FakeClock, sample_case


def test_right_secret_opens_the_case(repo: CaseRepository) -> None:
    code, secret = repo.create_case(sample_case())
    assert repo.open_case(code, secret).code == code


def test_secret_typing_is_forgiving(repo: CaseRepository) -> None:
    code, secret = repo.create_case({})
    typed = "  " + secret.upper().replace("-", " ").replace("E", "É") + " "
    assert normalise_secret(typed) == secret
    assert repo.open_case(code.lower(), typed).code == code


def test_wrong_secret_fails_with_a_french_message(repo: CaseRepository) -> None:
    code, secret = repo.create_case({})
    with pytest.raises(AccessDeniedError) as caught:
        repo.open_case(code, secret + "-x")
    assert str(caught.value) == "Code de dossier ou phrase secrète incorrect."
    assert not isinstance(caught.value, CaseLockedError)


def test_unknown_code_and_wrong_secret_look_the_same(repo: CaseRepository) -> None:
    repo.create_case({})
    with pytest.raises(AccessDeniedError) as unknown:
        repo.open_case("RIP-0000-00", "abeille-miel")
    with pytest.raises(AccessDeniedError) as malformed:
        repo.open_case("???", "abeille-miel")
    assert str(unknown.value) == str(malformed.value)
    assert type(unknown.value) is AccessDeniedError


def test_lock_after_max_failures_refuses_even_the_right_secret(
    repo: CaseRepository, clock: FakeClock
) -> None:
    code, secret = repo.create_case({})
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(AccessDeniedError) as caught:
            repo.open_case(code, "mauvais-secret")
        assert not isinstance(caught.value, CaseLockedError)
    with pytest.raises(CaseLockedError) as locked:
        repo.open_case(code, "mauvais-secret")
    assert locked.value.locked_until == START + timedelta(minutes=LOCK_MINUTES)
    assert "verrouillé jusqu'au 24/11/2026 à 10:45 (heure de Paris)" in str(locked.value)
    clock.advance(minutes=LOCK_MINUTES - 1)
    with pytest.raises(CaseLockedError):
        repo.open_case(code, secret)
    clock.advance(minutes=1, seconds=1)
    assert repo.open_case(code, secret).code == code
    actions = [e.action for e in repo.audit_trail(code)]
    assert actions.count("open_failed") == MAX_FAILED_ATTEMPTS
    assert actions.count("locked") == 1 and actions[-1] == "opened"


def test_lock_survives_a_new_repository_instance(
    config: StoreConfig, repo: CaseRepository, clock: FakeClock
) -> None:
    code, secret = repo.create_case({})
    for _ in range(MAX_FAILED_ATTEMPTS - 2):
        with pytest.raises(AccessDeniedError):
            repo.open_case(code, "faux")
    repo.close()
    # Another process: the failures counted so far are in the database.
    other = CaseRepository(config, clock=clock)
    with pytest.raises(AccessDeniedError):
        other.open_case(code, "faux")
    with pytest.raises(CaseLockedError):
        other.open_case(code, "faux")
    other.close()
    third = CaseRepository(config, clock=clock)
    with pytest.raises(CaseLockedError):
        third.open_case(code, secret)
    clock.advance(minutes=LOCK_MINUTES + 1)
    assert third.open_case(code, secret).code == code
    third.close()


def test_success_resets_the_failure_count(repo: CaseRepository) -> None:
    code, secret = repo.create_case({})
    for _ in range(3):
        for _ in range(MAX_FAILED_ATTEMPTS - 1):
            with pytest.raises(AccessDeniedError) as caught:
                repo.open_case(code, "faux")
            assert not isinstance(caught.value, CaseLockedError)
        repo.open_case(code, secret)


def test_locks_are_per_code(repo: CaseRepository) -> None:
    locked_code, _ = repo.create_case({})
    other_code, other_secret = repo.create_case({})
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(AccessDeniedError):
            repo.open_case(locked_code, "faux")
    assert repo.open_case(other_code, other_secret).code == other_code


def test_secret_is_stored_only_as_a_scrypt_hash(repo: CaseRepository) -> None:
    code, secret = repo.create_case({})
    with repo._ready().engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT secret_hash FROM cases").scalar_one()
    assert stored.startswith("scrypt$n=32768,r=8,p=1$")
    assert secret not in stored
