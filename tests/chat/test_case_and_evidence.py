"""riposte.chat.case and riposte.chat.evidence in plain pytest: from slots and a sender id to the
case file and back, no Rasa."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest

from riposte.chat import case, evidence
from riposte.ratelimit import RateLimiter
from riposte.store.repository import reset_shared_repository

TODAY = datetime.date(2026, 11, 24)
FACTS = {"platforms": ["x"], "offenses": ["insult"], "first_published": "2026-11-02"}


@pytest.fixture(autouse=True)
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("RIPOSTE_VAR_DIR", str(tmp_path / "var"))
    for name in ("RIPOSTE_DATABASE_URL", "RIPOSTE_DATA_DIR", "RIPOSTE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(case, "cases_limiter", RateLimiter(case.CASES_RATE, case.CASES_BURST))
    monkeypatch.setattr(case, "resume_limiter", RateLimiter(case.RESUME_RATE, case.RESUME_BURST))
    reset_shared_repository()
    yield
    reset_shared_repository()


def test_facts_alone_open_no_case() -> None:
    """Only the doctor's yes opens a case (`create`): facts stay in the conversation."""
    assert case.sync_case({}, None, "a", TODAY) == case.Synced()
    assert case.sync_case(FACTS, None, "a", TODAY) == case.Synced()


def test_a_yes_opens_a_case_linked_to_the_conversation() -> None:
    synced = case.sync_case(FACTS, None, "a", TODAY, create=True)
    assert synced.code and synced.secret and not synced.gone
    stored = case.read_case_dict(synced.code, "a")
    assert stored is not None and stored["incident"]["platforms"] == ["x"]
    assert case.read_case_dict(synced.code, "b") is None  # another conversation reaches nothing


def test_a_case_gone_is_forgotten_and_replaced_only_on_a_yes() -> None:
    assert case.sync_case(FACTS, "RIP-2222-22", "a", TODAY) == case.Synced(gone=True)
    synced = case.sync_case(FACTS, "RIP-2222-22", "a", TODAY, create=True)
    assert synced.gone and synced.code and synced.code != "RIP-2222-22"


def test_a_conversation_opens_a_few_cases_a_day() -> None:
    for _ in range(case.CASES_BURST):
        assert case.sync_case(FACTS, None, "serial", TODAY, create=True).code
    refused = case.sync_case(FACTS, None, "serial", TODAY, create=True)
    assert refused.code is None and refused.refused and "dossiers" in refused.refused


def test_resume_from_another_conversation_restores_the_facts() -> None:
    synced = case.sync_case(FACTS, None, "a", TODAY, create=True)
    resumed = case.resume_case(f"{synced.code} {synced.secret}", "b", 0, asked=False)
    assert resumed.response is None
    assert resumed.slots["case_code"] == synced.code and resumed.slots["platforms"] == ["x"]
    wrong = case.resume_case(f"{synced.code} {'x' * len(str(synced.secret))}", "c", 2, asked=False)
    assert wrong.response == "utter_resume_give_up"  # the third failure in a row


def test_an_item_is_journaled_with_its_utc_time_in_french() -> None:
    code = str(case.sync_case(FACTS, None, "a", TODAY, create=True).code)
    filed = evidence.file_item(code, {"evidence_url": "https://x.com/t/status/1"}, "a")
    assert filed.ok and filed.number == 1
    assert filed.recorded and filed.recorded.endswith(" UTC") and " à " in filed.recorded


def test_recorded_time_and_channel_names() -> None:
    moment = datetime.datetime(
        2026, 11, 24, 10, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
    )
    assert evidence.recorded_text(moment) == "24/11/2026 à 09:05 UTC"
    assert evidence.channel_name("telegram") == "Telegram"
    assert evidence.channel_name(None) == "la messagerie"
