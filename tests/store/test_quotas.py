"""What one case may hold: evidence items, stored file bytes, letters (riposte/store)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from riposte.case import CaseError
from riposte.store.config import StoreConfig
from riposte.store.errors import QuotaExceededError, StoreError
from riposte.store.repository import CaseRepository, Quotas
from tests.store.conftest import FakeClock

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def small(config: StoreConfig, clock: FakeClock) -> Iterator[CaseRepository]:
    repository = CaseRepository(
        config, clock=clock, quotas=Quotas(evidence_items=3, stored_bytes=100, letters=2)
    )
    yield repository
    repository.close()


def test_the_default_quotas_are_generous_and_named() -> None:
    quotas = Quotas()
    assert quotas.evidence_items >= 200 and quotas.letters >= 50
    assert quotas.stored_bytes >= 200 * 1024 * 1024


def test_evidence_items_stop_at_the_quota_with_a_french_error(small: CaseRepository) -> None:
    code, secret = small.create_case({})
    for n in range(3):
        small.add_evidence(code, {"url": f"https://x.com/troll/status/{n}"}, actor="cli")
    with pytest.raises(QuotaExceededError, match="3 preuves") as raised:
        small.add_evidence(code, {"url": "https://x.com/troll/status/9"}, actor="cli")
    assert isinstance(raised.value, CaseError) and isinstance(raised.value, StoreError)
    assert len(small.open_case(code, secret).case.evidence) == 3  # nothing lost, nothing added


def test_a_new_case_with_too_many_items_or_bytes_is_refused(small: CaseRepository) -> None:
    items = [{"url": f"https://x.com/troll/status/{n}"} for n in range(4)]
    with pytest.raises(QuotaExceededError):
        small.create_case({"evidence": items})
    with pytest.raises(QuotaExceededError, match="Mo"):
        small.create_case({"evidence": items[:1]}, files={0: PNG + b"x" * 200})


def test_stored_bytes_count_evidence_files_and_letters(small: CaseRepository) -> None:
    code, _ = small.create_case({})
    small.add_evidence(code, {"url": "https://x.com/troll/status/1"}, PNG + b"x" * 40, actor="cli")
    small.record_letter(code, "procureur", b"%PDF" + b"y" * 40, actor="cli")
    small.add_evidence(code, {"url": "https://x.com/troll/status/2"}, actor="cli")
    with pytest.raises(QuotaExceededError):
        small.attach_evidence_file(code, 2, PNG + b"z" * 40, "piece-2.png", actor="cli")
    assert small.evidence_content(code, 2) is None
    small.attach_evidence_file(code, 2, PNG, "piece-2.png", actor="cli")  # what still fits is kept


def test_letters_stop_at_the_quota(small: CaseRepository) -> None:
    code, _ = small.create_case({})
    small.record_letter(code, "procureur", actor="cli")
    small.record_letter(code, "procureur", actor="cli")
    with pytest.raises(QuotaExceededError, match="2 courriers"):
        small.record_letter(code, "procureur", actor="cli")
    assert len(small.read_case(code).letters) == 2


def test_inbox_files_count_toward_the_case(small: CaseRepository) -> None:
    code, _ = small.create_case({})
    ref = small.put_inbox_file("sender", PNG + b"x" * 200, filename="capture.png")
    with pytest.raises(QuotaExceededError):
        small.add_inbox_evidence(code, ref, "sender", actor="cli")
    assert small.read_case(code).case.evidence == ()
