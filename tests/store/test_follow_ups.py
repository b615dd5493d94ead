"""Follow-ups in the case store: planned from the case, claimed by one scheduler only, said
once, stopped, resumed, cancelled by a step done, gone with the case (SQLite, and PostgreSQL
when configured)."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select

from riposte.store.config import StoreConfig
from riposte.store.models import ContactRow, FollowUpRow
from riposte.store.repository import CaseRepository
from tests.store.conftest import FakeClock

SENDER = "5b1e0c9d7a6f43e2b8c1d0e9f8a7b6c5"  # the conversation's id, as Rasa knows it
OTHER = "9f8e7d6c5b4a43210f1e2d3c4b5a6978"
CHAT = ("chat", SENDER)
TODAY = date(2026, 11, 24)  # the fixture clock's day

# An insult published on X on 10 November 2026: the press deadline is 10 February 2027.
INSULT = {
    "incident": {
        "platforms": ["x"],
        "offenses": ["insult"],
        "first_published": "2026-11-10",
        "public": True,
        "volume": "single",
        "physical_danger": False,
    }
}


def new_case(repo: CaseRepository, facts: dict[str, Any] | None = None) -> str:
    code, _ = repo.create_case(facts if facts is not None else INSULT, today=TODAY)
    repo.link_sender(code, "chat", SENDER)
    return code


def sync(repo: CaseRepository, code: str, channel: str = "telegram", today: date = TODAY) -> Any:
    return repo.sync_follow_ups(code, channel=channel, today=today, actor="chat", conversation=CHAT)


def rows(repo: CaseRepository) -> list[FollowUpRow]:
    state = repo._state
    assert state is not None
    with state.sessions() as s:
        return list(s.execute(select(FollowUpRow).order_by(FollowUpRow.due_at)).scalars())


def paris(day: str, hour: int = 9) -> datetime:
    from riposte.clock import at_paris

    return at_paris(date.fromisoformat(day), hour)


def test_a_press_deadline_is_followed_30_14_and_3_days_before_at_9_in_france(
    repo: CaseRepository,
) -> None:
    code = new_case(repo)
    planned = sync(repo, code)
    assert planned.announce is not None and planned.due == 3
    assert planned.announce.kind == "deadline"
    assert planned.announce.due_at == paris("2027-01-11")  # 30 days before 10 February
    assert planned.next_due == planned.announce.due_at
    assert [(r.due_at, r.facts["days"], r.channel, r.state) for r in rows(repo)] == [
        (paris("2027-01-11"), 30, "telegram", "due"),
        (paris("2027-01-27"), 14, "telegram", "due"),
        (paris("2027-02-07"), 3, "telegram", "due"),
    ]
    assert all(r.facts["deadline"] == "2027-02-10" for r in rows(repo))
    # Announced once per case: planning again announces nothing.
    again = sync(repo, code)
    assert again.announce is None and again.due == 3
    assert len(rows(repo)) == 3
    assert "follow_ups_planned" in [a.action for a in repo.audit_trail(code)]


def test_the_recipient_is_sealed_and_the_facts_name_no_one(
    repo: CaseRepository, config: StoreConfig
) -> None:
    code = new_case(repo)
    sync(repo, code)
    for row in rows(repo):
        assert SENDER.encode() not in row.recipient
        assert SENDER not in str(row.facts) and SENDER != row.conversation


def test_planning_again_unchanged_writes_nothing_and_a_new_conversation_is_sealed_again(
    repo: CaseRepository, clock: FakeClock
) -> None:
    # Every triage message syncs the case: an unchanged plan must not rewrite its rows.
    code = new_case(repo)
    sync(repo, code)
    before = [(r.id, r.updated_at, r.recipient) for r in rows(repo)]
    clock.advance(minutes=5)
    sync(repo, code)
    assert [(r.id, r.updated_at, r.recipient) for r in rows(repo)] == before
    # The doctor goes on in another conversation (Signal): the follow-ups follow, sealed anew.
    clock.advance(minutes=5)
    repo.link_sender(code, "chat", OTHER)
    repo.sync_follow_ups(
        code, channel="signal", today=TODAY, actor="chat", conversation=("chat", OTHER)
    )
    after = rows(repo)
    assert {r.channel for r in after} == {"signal"}
    for row, (_, updated_at, recipient) in zip(after, before, strict=True):
        assert row.recipient != recipient and row.updated_at > updated_at
    (claimed,) = repo.claim_follow_ups(now=paris("2027-01-11", 10))
    assert (claimed.channel, claimed.sender_id) == ("signal", OTHER)


def test_days_already_past_are_not_planned(repo: CaseRepository) -> None:
    code = new_case(repo)
    planned = sync(repo, code, today=date(2027, 1, 20))
    assert [r.facts["days"] for r in rows(repo)] == [14, 3]
    assert planned.due == 2 and planned.next_due == paris("2027-01-27")


def test_one_scheduler_only_claims_a_due_follow_up(
    repo: CaseRepository, config: StoreConfig, clock: FakeClock
) -> None:
    code = new_case(repo)
    sync(repo, code)
    assert repo.claim_follow_ups(now=paris("2027-01-11", 8)) == []  # not yet due
    others = [CaseRepository(config, clock=clock) for _ in range(3)]
    results: list[list[Any]] = []
    barrier = threading.Barrier(4)

    def claim(r: CaseRepository) -> None:
        barrier.wait()
        results.append(r.claim_follow_ups(now=paris("2027-01-11", 10)))

    threads = [threading.Thread(target=claim, args=(r,)) for r in [repo, *others]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in others:
        r.close()
    claimed = [c for result in results for c in result]
    assert len(claimed) == 1
    assert (claimed[0].channel, claimed[0].sender_id, claimed[0].kind) == (
        "telegram",
        SENDER,
        "deadline",
    )


def test_the_conversation_takes_it_once_with_the_claim_then_it_is_settled(
    repo: CaseRepository,
) -> None:
    code = new_case(repo)
    sync(repo, code)
    (claimed,) = repo.claim_follow_ups(now=paris("2027-01-11", 10))
    assert repo.take_follow_up(f"{claimed.id}.wrong-token", SENDER) is None
    assert repo.take_follow_up(claimed.entity, OTHER) is None  # not its conversation
    taken = repo.take_follow_up(claimed.entity, SENDER)
    assert taken is not None and taken.facts["days"] == 30
    assert repo.take_follow_up(claimed.entity, SENDER) is None  # never said twice
    assert repo.settle_follow_up(claimed)
    assert [r.state for r in rows(repo)] == ["sent", "due", "due"]
    # A claim whose scheduler died is taken again once it lapses, and never a sent one.
    assert repo.claim_follow_ups(now=paris("2027-01-11", 11)) == []


def test_a_channel_down_releases_it_with_a_growing_wait(repo: CaseRepository) -> None:
    code = new_case(repo)
    sync(repo, code)
    at = paris("2027-01-11", 10)
    (claimed,) = repo.claim_follow_ups(now=at)
    assert repo.take_follow_up(claimed.entity, SENDER) is not None  # said, then lost
    first = repo.release_follow_up(claimed, now=at)
    assert first == at + timedelta(seconds=30)
    assert rows(repo)[0].state == "due" and rows(repo)[0].attempts == 1
    assert repo.claim_follow_ups(now=at + timedelta(seconds=10)) == []
    (again,) = repo.claim_follow_ups(now=first)
    second = repo.release_follow_up(again, now=first)
    assert second == first + timedelta(seconds=60)
    (third,) = repo.claim_follow_ups(now=second)
    assert repo.take_follow_up(third.entity, SENDER) is not None
    assert repo.settle_follow_up(third)
    assert rows(repo)[0].state == "sent"


def test_a_lapsed_claim_is_taken_again(repo: CaseRepository) -> None:
    code = new_case(repo)
    sync(repo, code)
    at = paris("2027-01-11", 10)
    (dead,) = repo.claim_follow_ups(now=at)  # its scheduler is killed here
    assert repo.claim_follow_ups(now=at + timedelta(minutes=4)) == []
    (taken,) = repo.claim_follow_ups(now=at + timedelta(minutes=6))
    assert repo.take_follow_up(dead.entity, SENDER) is None  # the dead claim says nothing
    assert repo.take_follow_up(taken.entity, SENDER) is not None


def test_stop_then_resume_the_follow_ups(repo: CaseRepository) -> None:
    code = new_case(repo)
    sync(repo, code)
    at = paris("2027-01-11", 10)
    (claimed,) = repo.claim_follow_ups(now=at)
    assert repo.stop_follow_ups(code, actor="chat", conversation=CHAT) == 3
    assert repo.take_follow_up(claimed.entity, SENDER) is None  # stopped meanwhile
    assert repo.claim_follow_ups(now=at + timedelta(days=20)) == []
    assert sync(repo, code).stopped
    assert repo.resume_follow_ups(code, actor="chat", conversation=CHAT) == 3
    late = repo.claim_follow_ups(now=at + timedelta(days=1))
    assert [c.kind for c in late] == ["deadline"]
    actions = [a.action for a in repo.audit_trail(code)]
    assert "follow_ups_stopped" in actions and "follow_ups_resumed" in actions


def test_a_complaint_filed_cancels_the_deadline_reminders(repo: CaseRepository) -> None:
    code = new_case(repo)
    sync(repo, code)
    (claimed,) = repo.claim_follow_ups(now=paris("2027-01-11", 10))
    repo.take_follow_up(claimed.entity, SENDER)
    repo.settle_follow_up(claimed)
    repo.update_case(
        code,
        {"steps_done": ["file_complaint"]},
        today=date(2027, 1, 12),
        actor="chat",
        conversation=CHAT,
    )
    sync(repo, code, today=date(2027, 1, 12))
    assert [r.state for r in rows(repo)] == ["answered", "cancelled", "cancelled"]
    assert repo.claim_follow_ups(now=paris("2027-02-08")) == []


def test_a_platform_report_then_an_erasure_request_and_the_footprint(
    repo: CaseRepository,
) -> None:
    code = new_case(repo, {})
    repo.update_case(
        code,
        {"steps_done": ["report_to_platform", "erasure_request", "monitor_reputation"]},
        today=date(2026, 11, 30),
        actor="chat",
        conversation=CHAT,
    )
    planned = sync(repo, code, channel="signal", today=date(2026, 11, 30))
    assert planned.announce is not None and planned.announce.kind == "platform_answer"
    assert [(r.kind, r.due_at, r.facts) for r in rows(repo)] == [
        ("platform_answer", paris("2026-12-07"), {"sent_on": "2026-11-30"}),
        ("footprint_check", paris("2026-12-30"), {"checked_on": "2026-11-30"}),
        ("erasure_answer", paris("2026-12-31"), {"sent_on": "2026-11-30"}),
    ]
    repo.update_case(
        code,
        {"steps_done": ["report_to_platform", "erasure_request", "cnil_complaint"]},
        today=date(2026, 12, 2),
        actor="chat",
        conversation=CHAT,
    )
    sync(repo, code, channel="signal", today=date(2026, 12, 2))
    states = {r.kind: r.state for r in rows(repo)}
    assert states == {
        "platform_answer": "due",
        "footprint_check": "cancelled",
        "erasure_answer": "cancelled",
    }


def test_the_web_page_shows_what_fell_due_on_resuming(repo: CaseRepository) -> None:
    code = new_case(repo)
    sync(repo, code, channel="socketio")
    at = paris("2027-01-12")
    assert repo.claim_follow_ups(now=at) == []  # no scheduler reaches a closed page
    repo._clock = lambda: at  # type: ignore[method-assign]
    shown = repo.due_follow_ups_shown(code, actor="chat", conversation=CHAT)
    assert [f.facts["days"] for f in shown] == [30]
    assert repo.due_follow_ups_shown(code, actor="chat", conversation=CHAT) == []


def test_the_address_book_keeps_only_conversations_with_follow_ups_due(
    repo: CaseRepository, clock: FakeClock
) -> None:
    assert not repo.remember_contact("telegram", SENDER, "123456789")
    code = new_case(repo)
    sync(repo, code)
    assert repo.remember_contact("telegram", SENDER, "123456789")
    assert repo.contact_address("telegram", SENDER) == "123456789"
    assert repo.contact_address("signal", SENDER) is None
    state = repo._state
    assert state is not None
    with state.sessions() as s:
        (sealed,) = s.execute(select(ContactRow.address)).scalars()
    assert b"123456789" not in sealed
    # The same address again writes nothing; a new one is sealed in its place.
    with state.sessions() as s:
        before = s.execute(select(ContactRow.updated_at)).scalar_one()
    clock.advance(minutes=1)
    assert repo.remember_contact("telegram", SENDER, "123456789")
    with state.sessions() as s:
        assert s.execute(select(ContactRow.address)).scalar_one() == sealed
        assert s.execute(select(ContactRow.updated_at)).scalar_one() == before
    assert repo.remember_contact("telegram", SENDER, "987654321")
    assert repo.contact_address("telegram", SENDER) == "987654321"


def test_deleting_the_case_deletes_its_follow_ups_and_the_address(
    repo: CaseRepository,
) -> None:
    code = new_case(repo)
    sync(repo, code)
    repo.remember_contact("telegram", SENDER, "123456789")
    repo.delete_case(code, actor="cli")
    assert rows(repo) == []
    assert repo.contact_address("telegram", SENDER) is None
    state = repo._state
    assert state is not None
    with state.sessions() as s:
        assert s.execute(select(func.count(ContactRow.id))).scalar() == 0


def test_the_operator_report_names_no_one(repo: CaseRepository) -> None:
    code = new_case(repo)
    sync(repo, code)
    report = repo.follow_up_report(datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert len(report) == 3
    text = str([f.to_dict() for f in report])
    assert code not in text and SENDER not in text
