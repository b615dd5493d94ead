"""The follow-up actions against a real case store: announced once, said once with the
scheduler's claim, « c'est fait », stopped and resumed, shown on resuming on the web page."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.advice import ActionMarkStepDone
from actions.case import ActionCaseResumed
from actions.follow_ups import (
    ActionFollowUp,
    ActionFollowUpDone,
    ActionResumeFollowUps,
    ActionStopFollowUps,
    plan_follow_ups,
)
from riposte.chat.case import repository
from tests.actions.test_triage_actions import make_tracker, responses, slot_events
from tests.store.test_follow_ups import INSULT  # an insult of 10 November 2026

SENDER = "test"  # make_tracker's conversation
DUE = datetime(2027, 1, 11, 9, 30, tzinfo=timezone.utc)  # after the 30-day reminder's 9 a.m.


def channel_events(channel: str, text: str = "bonjour") -> list[dict[str, Any]]:
    return [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "input_channel": channel},
    ]


def new_case() -> str:
    code, _ = repository().create_case(INSULT)
    repository().link_sender(code, "chat", SENDER)
    return code


def message(dispatcher: CollectingDispatcher, response: str) -> dict[str, Any]:
    return next(m for m in dispatcher.messages if m["response"] == response)


async def test_the_first_follow_up_is_announced_once_with_how_to_stop() -> None:
    code = new_case()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("x", slots={"case_code": code}, events=channel_events("telegram"))
    await plan_follow_ups(dispatcher, tracker, code)
    assert responses(dispatcher) == ["utter_follow_ups_announced"]
    said = message(dispatcher, "utter_follow_ups_announced")
    assert (said["weekday"], said["date"]) == ("lundi", "11/01/2027")
    assert said["what"] == (
        "il restera 30 jours pour porter plainte pour injure publique envers un particulier "
        "(jusqu'au 10/02/2027)"
    )
    again = CollectingDispatcher()
    await plan_follow_ups(again, tracker, code)
    assert again.messages == []


async def test_on_the_web_page_the_announcement_says_it_shows_them_on_resuming() -> None:
    code = new_case()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("x", slots={"case_code": code}, events=channel_events("socketio"))
    await plan_follow_ups(dispatcher, tracker, code)
    assert responses(dispatcher) == ["utter_follow_ups_announced_web"]


async def claimed_entity(code: str) -> str:
    tracker = make_tracker("x", slots={"case_code": code}, events=channel_events("telegram"))
    await plan_follow_ups(CollectingDispatcher(), tracker, code)
    (claimed,) = repository().claim_follow_ups(1, now=DUE)
    return claimed.entity


def follow_up_tracker(code: str, entity: str) -> Any:
    return make_tracker(
        "EXTERNAL: follow_up_due",
        intent="follow_up_due",
        slots={"case_code": code},
        entities=[{"entity": "follow_up", "value": entity}],
        events=channel_events("telegram", "EXTERNAL: follow_up_due"),
    )


async def test_a_follow_up_is_said_once_with_its_claim(domain: dict[str, Any]) -> None:
    code = new_case()
    entity = await claimed_entity(code)
    dispatcher = CollectingDispatcher()
    events = await ActionFollowUp().run(dispatcher, follow_up_tracker(code, entity), domain)
    assert responses(dispatcher) == ["utter_follow_up_deadline"]
    said = message(dispatcher, "utter_follow_up_deadline")
    assert said["deadline"] == "10/02/2027" and said["weekday"] == "mercredi"
    assert said["days_left"] == 78  # from the actions' day, 24 November 2026
    assert slot_events(events) == {"follow_up_step": "file_complaint"}
    twice = CollectingDispatcher()
    assert await ActionFollowUp().run(twice, follow_up_tracker(code, entity), domain) == []
    assert twice.messages == []  # the same claim never speaks twice
    forged = CollectingDispatcher()
    assert await ActionFollowUp().run(forged, follow_up_tracker(code, "1.forged"), domain) == []
    assert forged.messages == []


async def test_cest_fait_after_a_follow_up_records_the_complaint(domain: dict[str, Any]) -> None:
    code = new_case()
    entity = await claimed_entity(code)
    await ActionFollowUp().run(CollectingDispatcher(), follow_up_tracker(code, entity), domain)
    # « c'est fait » while a form's question came back after the follow-up.
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "EXTERNAL: follow_up_due", "input_channel": "telegram"},
        {"event": "action", "name": "action_follow_up"},
        {"event": "action", "name": "triage_form"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "c'est fait", "input_channel": "telegram"},
    ]
    slots = {"case_code": code, "follow_up_step": "file_complaint", "advice_given": True}
    tracker = make_tracker("c'est fait", intent="mark_step_done", slots=slots, events=events)
    followed = await ActionMarkStepDone().run(CollectingDispatcher(), tracker, domain)
    assert followed == [{"event": "followup", "name": "action_follow_up_done", "timestamp": None}]
    dispatcher = CollectingDispatcher()
    done = slot_events(await ActionFollowUpDone().run(dispatcher, tracker, domain))
    assert responses(dispatcher) == ["utter_follow_up_done", "utter_follow_up_done_none"]
    assert message(dispatcher, "utter_follow_up_done")["label"] == "Plainte déposée"
    assert done == {"steps_done": ["file_complaint"], "follow_up_step": None}
    record = repository().read_case(code)
    assert [(s.key, s.done) for s in record.steps] == [("file_complaint", True)]
    states = [f.state for f in repository().follow_ups_of(code)]
    assert states == ["answered", "cancelled", "cancelled"]


async def test_cest_fait_without_a_follow_up_is_the_checklists() -> None:
    tracker = make_tracker("c'est fait", intent="mark_step_done", slots={"follow_up_step": None})
    followed = await ActionFollowUpDone().run(CollectingDispatcher(), tracker, {})
    assert followed == [{"event": "followup", "name": "action_mark_step_done", "timestamp": None}]


async def test_stop_and_resume(domain: dict[str, Any]) -> None:
    code = new_case()
    tracker = make_tracker("x", slots={"case_code": code}, events=channel_events("signal"))
    await plan_follow_ups(CollectingDispatcher(), tracker, code)
    dispatcher = CollectingDispatcher()
    await ActionStopFollowUps().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_follow_ups_stopped"]
    assert repository().claim_follow_ups(now=DUE) == []
    dispatcher = CollectingDispatcher()
    await ActionResumeFollowUps().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_follow_ups_resumed"]
    assert message(dispatcher, "utter_follow_ups_resumed")["count"] == 3
    assert len(repository().claim_follow_ups(now=DUE)) == 1


async def test_without_a_case_stop_says_what_follow_ups_are_for(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    await ActionStopFollowUps().run(dispatcher, make_tracker("arrêter les rappels"), domain)
    assert responses(dispatcher) == ["utter_follow_ups_no_case"]


async def test_resuming_on_the_web_page_shows_what_fell_due(
    domain: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = new_case()
    tracker = make_tracker("x", slots={"case_code": code}, events=channel_events("socketio"))
    await plan_follow_ups(CollectingDispatcher(), tracker, code)
    clock_file = tmp_path / "clock.txt"
    clock_file.write_text(DUE.isoformat())
    monkeypatch.setenv("RIPOSTE_CLOCK_FILE", str(clock_file))
    slots = {"case_code": code, "resume_credentials": "ok"}
    resumed = make_tracker("x", slots=slots, events=channel_events("socketio"))
    dispatcher = CollectingDispatcher()
    await ActionCaseResumed().run(dispatcher, resumed, domain)
    said = responses(dispatcher)
    away = said.index("utter_follow_ups_while_away")
    assert said[away + 1] == "utter_follow_up_deadline"
    assert said.count("utter_follow_up_deadline") == 1
    assert message(dispatcher, "utter_follow_ups_while_away")["count"] == 1
    again = CollectingDispatcher()
    await ActionCaseResumed().run(again, resumed, domain)
    assert "utter_follow_ups_while_away" not in responses(again)
