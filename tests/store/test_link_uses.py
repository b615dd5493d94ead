"""Single-use links: the store remembers which link ids have served, across processes."""

from __future__ import annotations

from datetime import timedelta

from riposte.store.config import StoreConfig
from riposte.store.repository import CaseRepository
from tests.store.conftest import START, FakeClock


def _rows(repo: CaseRepository) -> int:
    with repo._ready().engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT COUNT(*) FROM link_uses").scalar_one())


def test_a_link_serves_once(repo: CaseRepository) -> None:
    expires = START + timedelta(hours=24)
    assert repo.link_used("lien-1") is False
    assert repo.use_link("lien-1", expires) is True
    assert repo.link_used("lien-1") is True
    assert repo.use_link("lien-1", expires) is False
    assert repo.use_link("lien-2", expires) is True


def test_a_released_link_serves_again(repo: CaseRepository) -> None:
    """An upload that failed after the link was taken gives the link back."""
    expires = START + timedelta(hours=24)
    assert repo.use_link("lien-1", expires)
    repo.release_link("lien-1")
    assert repo.use_link("lien-1", expires)


def test_the_use_is_seen_by_another_process(
    config: StoreConfig, repo: CaseRepository, clock: FakeClock
) -> None:
    expires = START + timedelta(hours=24)
    assert repo.use_link("lien-1", expires)
    other = CaseRepository(config, clock=clock)
    assert other.use_link("lien-1", expires) is False
    other.close()


def test_expired_uses_are_purged(repo: CaseRepository, clock: FakeClock) -> None:
    assert repo.use_link("vieux", START + timedelta(hours=1))
    assert repo.use_link("recent", START + timedelta(hours=24))
    clock.advance(hours=2)
    assert repo.use_link("nouveau", clock.now + timedelta(hours=24))
    assert _rows(repo) == 2  # the expired one is gone (it could not be read any more anyway)
