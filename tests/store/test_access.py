"""Opening a case: the secret, and the back-off after repeated failures, per code and sender
(so whoever learnt a code cannot keep the doctor out), across repository instances."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from riposte.store.codes import normalise_secret
from riposte.store.config import (
    BACKOFF_FIRST_MINUTES,
    BACKOFF_MAX_MINUTES,
    FAILURE_MEMORY_HOURS,
    MAX_FAILED_ATTEMPTS,
    StoreConfig,
)
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


DOCTOR = ("telegram", "4242")
STRANGER = ("rest", "intrus")


def _fail(repo: CaseRepository, code: str, sender: tuple[str, str]) -> AccessDeniedError:
    with pytest.raises(AccessDeniedError) as caught:
        repo.open_case(code, "mauvais-secret", sender=sender)
    return caught.value


def test_a_stranger_cannot_lock_the_doctor_out(repo: CaseRepository, clock: FakeClock) -> None:
    """Someone who learnt the code fails 20 times; the doctor, from her own conversation,
    opens the case at once with the right secret."""
    code, secret = repo.create_case({})
    for _ in range(20):
        _fail(repo, code, STRANGER)
        clock.advance(minutes=BACKOFF_MAX_MINUTES)  # each wait served: every failure counts
    assert isinstance(_fail(repo, code, STRANGER), CaseLockedError)
    assert repo.open_case(code, secret, sender=DOCTOR).code == code
    # The stranger is still held back, and the doctor's success did not free him.
    with pytest.raises(CaseLockedError):
        repo.open_case(code, secret, sender=STRANGER)
    actions = [e.action for e in repo.audit_trail(code)]
    assert actions.count("open_failed") == 21 and actions[-1] == "opened"


def test_the_same_sender_waits_longer_after_each_failure(
    repo: CaseRepository, clock: FakeClock
) -> None:
    code, secret = repo.create_case({})
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        assert not isinstance(_fail(repo, code, DOCTOR), CaseLockedError)
    waits = []
    for _ in range(9):
        start = clock.now
        locked = _fail(repo, code, DOCTOR)
        assert isinstance(locked, CaseLockedError)
        waits.append(locked.locked_until - start)
        # While it waits, even the right secret is refused, and nothing more is counted.
        clock.advance(seconds=waits[-1].total_seconds() - 1)
        with pytest.raises(CaseLockedError) as again:
            repo.open_case(code, secret, sender=DOCTOR)
        assert again.value.locked_until == locked.locked_until
        clock.advance(seconds=1)
    minutes = [w / timedelta(minutes=1) for w in waits]
    first = BACKOFF_FIRST_MINUTES
    assert minutes == [min(first * 2**i, BACKOFF_MAX_MINUTES) for i in range(9)]
    assert minutes[0] < minutes[1] < minutes[2] and minutes[-1] == BACKOFF_MAX_MINUTES
    assert repo.open_case(code, secret, sender=DOCTOR).code == code
    # A success starts the count again from zero.
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        assert not isinstance(_fail(repo, code, DOCTOR), CaseLockedError)


def test_attempts_sent_at_once_do_not_slip_past_the_wait(repo: CaseRepository) -> None:
    """Twelve wrong secrets sent together from one conversation: only the first
    `MAX_FAILED_ATTEMPTS` are checked, the others are refused before any check."""
    code, _ = repo.create_case({})
    start = threading.Barrier(12)

    def attempt() -> AccessDeniedError:
        start.wait(timeout=30)
        return _fail(repo, code, STRANGER)

    with ThreadPoolExecutor(max_workers=12) as pool:
        errors = list(pool.map(lambda _: attempt(), range(12)))
    locked = [e for e in errors if isinstance(e, CaseLockedError)]
    assert len(locked) == 12 - MAX_FAILED_ATTEMPTS + 1  # the 5th sets the wait, 7 meet it
    actions = [e.action for e in repo.audit_trail(code)]
    assert actions.count("open_failed") == MAX_FAILED_ATTEMPTS


def test_the_wait_is_shown_in_paris_time(repo: CaseRepository) -> None:
    code, _ = repo.create_case({})
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        _fail(repo, code, DOCTOR)
    locked = _fail(repo, code, DOCTOR)
    assert isinstance(locked, CaseLockedError)
    assert locked.locked_until == START + timedelta(minutes=BACKOFF_FIRST_MINUTES)
    assert "attendez le 24/11/2026 à 10:31 (heure de Paris)" in str(locked)


def test_failures_are_forgotten_after_a_quiet_day(repo: CaseRepository, clock: FakeClock) -> None:
    code, _ = repo.create_case({})
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        _fail(repo, code, DOCTOR)
    clock.advance(hours=FAILURE_MEMORY_HOURS, seconds=1)
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        assert not isinstance(_fail(repo, code, DOCTOR), CaseLockedError)


def test_the_wait_holds_across_repository_instances(
    config: StoreConfig, repo: CaseRepository, clock: FakeClock
) -> None:
    """The chat's action servers are separate processes sharing the database."""
    code, secret = repo.create_case({})
    for _ in range(MAX_FAILED_ATTEMPTS - 2):
        _fail(repo, code, DOCTOR)
    other = CaseRepository(config, clock=clock)
    assert not isinstance(_fail(other, code, DOCTOR), CaseLockedError)
    locked = _fail(repo, code, DOCTOR)  # the first instance counts the second's failure
    assert isinstance(locked, CaseLockedError)
    with pytest.raises(CaseLockedError):
        other.open_case(code, secret, sender=DOCTOR)
    other.close()
    third = CaseRepository(config, clock=clock)
    with pytest.raises(CaseLockedError):
        third.open_case(code, secret, sender=DOCTOR)
    assert third.open_case(code, secret, sender=STRANGER).code == code
    clock.advance(minutes=BACKOFF_FIRST_MINUTES)
    assert third.open_case(code, secret, sender=DOCTOR).code == code
    third.close()


def test_success_resets_the_failure_count(repo: CaseRepository) -> None:
    code, secret = repo.create_case({})
    for _ in range(3):
        for _ in range(MAX_FAILED_ATTEMPTS - 1):
            assert not isinstance(_fail(repo, code, DOCTOR), CaseLockedError)
        repo.open_case(code, secret, sender=DOCTOR)


def test_waits_are_per_code(repo: CaseRepository) -> None:
    locked_code, _ = repo.create_case({})
    other_code, other_secret = repo.create_case({})
    for _ in range(MAX_FAILED_ATTEMPTS):
        _fail(repo, locked_code, DOCTOR)
    assert repo.open_case(other_code, other_secret, sender=DOCTOR).code == other_code


def test_without_a_sender_the_back_off_still_applies(repo: CaseRepository) -> None:
    """The operator's tools and tests call without a sender: one shared count for them."""
    code, secret = repo.create_case({})
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(AccessDeniedError):
            repo.open_case(code, "faux")
    with pytest.raises(CaseLockedError):
        repo.open_case(code, "faux")
    assert repo.open_case(code, secret, sender=DOCTOR).code == code


def test_unknown_codes_cost_the_same_and_store_nothing(repo: CaseRepository) -> None:
    repo.create_case({})
    for _ in range(MAX_FAILED_ATTEMPTS + 1):
        with pytest.raises(AccessDeniedError) as caught:
            repo.open_case("RIP-0000-00", "faux", sender=STRANGER)
        assert type(caught.value) is AccessDeniedError
    with repo._ready().engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT COUNT(*) FROM open_attempts").scalar_one()
    assert rows == 0


def test_secret_is_stored_only_as_a_scrypt_hash(repo: CaseRepository) -> None:
    code, secret = repo.create_case({})
    with repo._ready().engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT secret_hash FROM cases").scalar_one()
    assert stored.startswith("scrypt$n=32768,r=8,p=1$")
    assert secret not in stored


def test_deleting_a_case_removes_its_counts(repo: CaseRepository) -> None:
    code, _ = repo.create_case({})
    for _ in range(MAX_FAILED_ATTEMPTS):
        _fail(repo, code, STRANGER)
    repo.delete_case(code)
    with repo._ready().engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT COUNT(*) FROM open_attempts").scalar_one()
    assert rows == 0
