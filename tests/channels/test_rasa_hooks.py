"""The changes riposte_rasa.patches makes to Rasa keep Rasa's contract."""

from __future__ import annotations

import asyncio
import logging
import warnings
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.trackers import DialogueStateTracker

from riposte_rasa import patches as rasa_hooks

VALID = [
    {},
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "case_code", "value": "RIP-7KQ2-M9", "timestamp": None},
            {"event": "active_loop", "name": None},
            {"event": "followup", "name": "action_listen"},
        ],
        "responses": [{"text": "Bonjour", "buttons": [{"title": "Oui", "payload": "/affirm"}]}],
    },
]
INVALID = [
    {"events": {"event": "slot"}},  # not a list
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"name": "x"}]},  # no event type
    {"responses": ["text"]},
    [],
]


@pytest.fixture()
def installed() -> None:
    rasa_hooks.install()


def test_install_replaces_the_validation_once(installed: None) -> None:
    assert RemoteAction._validate_action_result is rasa_hooks._validate_action_result
    rasa_hooks.install()
    assert rasa_hooks.ORIGINALS["validator"] is not rasa_hooks._validate_action_result


@pytest.mark.parametrize("answer", VALID)
def test_valid_answers_pass_as_with_rasa(installed: None, answer: Any) -> None:
    action = RemoteAction("action_x", None)
    assert rasa_hooks.ORIGINALS["validator"](action, answer) is True
    assert action._validate_action_result(answer) is True


@pytest.mark.parametrize("answer", INVALID)
def test_invalid_answers_fail_as_with_rasa(installed: None, answer: Any) -> None:
    action = RemoteAction("action_x", None)
    with pytest.raises(jsonschema.ValidationError) as rasa_error:
        rasa_hooks.ORIGINALS["validator"](action, answer)
    with pytest.raises(jsonschema.ValidationError) as ours:
        action._validate_action_result(answer)
    assert ours.value.message == rasa_error.value.message
    assert "Failed to validate Action server response" in ours.value.message


def test_the_schema_is_not_checked_again_for_each_answer(
    installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("jsonschema.validate rebuilds the validator for each answer")

    monkeypatch.setattr(jsonschema, "validate", forbidden)
    monkeypatch.setattr(jsonschema.validators, "validate", forbidden)
    assert RemoteAction("action_x", None)._validate_action_result(VALID[2]) is True


def test_the_stores_rasa_loads_install_the_hooks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from riposte_rasa.lock_store import AtomicRedisLockStore
    from riposte_rasa.tracker_store import EncryptedSQLTrackerStore

    for build in (
        lambda: EncryptedSQLTrackerStore(host=f"sqlite:///{tmp_path / 't.db'}"),
        lambda: AtomicRedisLockStore(url="", check=False),
    ):
        monkeypatch.setattr(
            RemoteAction,
            "_validate_action_result",
            rasa_hooks.ORIGINALS.get("validator") or RemoteAction._validate_action_result,
        )
        monkeypatch.setattr(rasa_hooks, "_INSTALLED", set())
        build()
        assert RemoteAction._validate_action_result is rasa_hooks._validate_action_result


def replaced() -> dict[str, tuple[Any, str, Any]]:
    """ORIGINALS key: (class, attribute, replacement) for items 2 and 3."""
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import FailSafeTrackerStore

    return {
        "remote_run": (RemoteAction, "run", rasa_hooks._run_remote_action),
        "predict": (
            MessageProcessor,
            "predict_next_with_tracker_if_should",
            rasa_hooks._predict_next_with_tracker_if_should,
        ),
        "save_tracker": (MessageProcessor, "save_tracker", rasa_hooks._save_tracker),
        "handle_message": (MessageProcessor, "handle_message", rasa_hooks._handle_message),
        "store_error": (
            FailSafeTrackerStore,
            "on_tracker_store_error",
            rasa_hooks._tracker_store_failed,
        ),
        "store_retrieve_error": (
            FailSafeTrackerStore,
            "on_tracker_store_retrieve_error",
            rasa_hooks._tracker_store_failed,
        ),
    }


def test_install_replaces_each_failure_path_once(installed: None) -> None:
    for key, (owner, attribute, replacement) in replaced().items():
        assert getattr(owner, attribute) is replacement, key
        original = rasa_hooks.ORIGINALS[key]
        assert original is not replacement and original.__module__.startswith("rasa."), key
    rasa_hooks.install()
    for key, (owner, attribute, replacement) in replaced().items():
        assert getattr(owner, attribute) is replacement, key
        assert rasa_hooks.ORIGINALS[key] is not replacement, key


def test_the_stores_rasa_loads_install_the_failure_paths(
    installed: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from riposte_rasa.lock_store import AtomicRedisLockStore
    from riposte_rasa.tracker_store import EncryptedSQLTrackerStore

    for build in (
        lambda: EncryptedSQLTrackerStore(host=f"sqlite:///{tmp_path / 't.db'}"),
        lambda: AtomicRedisLockStore(url="", check=False),
    ):
        for key, (owner, attribute, _) in replaced().items():
            monkeypatch.setattr(owner, attribute, rasa_hooks.ORIGINALS[key])
        monkeypatch.setattr(rasa_hooks, "_INSTALLED", {"validator"})
        build()
        for key, (owner, attribute, replacement) in replaced().items():
            assert getattr(owner, attribute) is replacement, key


# --------------------------------------------------------------------------- 2. action server down
#
# A real `MessageProcessor` (Rasa's own code for a message: session start, slot extraction,
# forms, the prediction loop, the save) with a scripted policy instead of a trained model, and
# a small action server of our own that can be up, down (nothing listening), answering 500 or
# too slow.

SECRET_TEXT = "mon numéro de RPPS est 10101010101"  # must never reach the logs
DOMAIN_YAML = """
version: "3.1"
intents: [greet, inform]
slots:
  counter:
    type: float
    mappings: [{type: custom}]
  place:
    type: text
    mappings:
      - type: from_text
        conditions: [{active_loop: place_form, requested_slot: place}]
  when:
    type: text
    mappings:
      - type: from_text
        conditions: [{active_loop: place_form, requested_slot: when}]
forms:
  place_form:
    required_slots: [place, when]
responses:
  utter_ask_place: [{text: "Où ?"}]
  utter_ask_when: [{text: "Quand ?"}]
actions: [action_count, validate_place_form]
"""


class FakeActionServer:
    """`action_count` counts and says so; `validate_place_form` accepts the form's slots."""

    def __init__(self) -> None:
        self.mode = "up"  # "up", "500", "slow", "reject", "garbled"
        self.port = 0
        self.calls: list[str] = []
        self._runner: Any = None

    async def _webhook(self, request: Any) -> Any:
        from aiohttp import web

        body = await request.json()
        name = body["next_action"]
        self.calls.append(name)
        if self.mode == "500":
            return web.json_response({"error": "boom"}, status=500)
        if self.mode == "slow":
            # Ten times Rasa's shortened timeout (SLOW_CLIENT_TIMEOUT): the client, in this
            # same event loop, always gives up first, however loaded the machine.
            await asyncio.sleep(10 * SLOW_CLIENT_TIMEOUT)
        if self.mode == "reject":
            return web.json_response({"action_name": name, "error": "rejected"}, status=400)
        if self.mode == "garbled":  # a 200 whose body is not Rasa's format
            return web.json_response({"events": [{"event": "no_such_event", "x": SECRET_TEXT}]})
        slots = body["tracker"]["slots"]
        if name == "action_count":
            count = (slots.get("counter") or 0) + 1
            return web.json_response(
                {
                    "events": [{"event": "slot", "name": "counter", "value": count}],
                    "responses": [{"text": f"Compté : {count:g}"}],
                }
            )
        if name == "validate_place_form":
            events = [
                {"event": "slot", "name": key, "value": slots[key]}
                for key in ("place", "when")
                if slots.get(key)
            ]
            return web.json_response({"events": events, "responses": []})
        if name == "action_session_start":
            return web.json_response(
                {
                    "events": [
                        {"event": "session_started"},
                        {"event": "action", "name": "action_listen"},
                    ],
                    "responses": [{"text": "Bienvenue."}],
                }
            )
        return web.json_response({"error": "unknown"}, status=404)

    async def start(self) -> None:
        from aiohttp import web

        app = web.Application()
        app.router.add_post("/webhook", self._webhook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"


def _scripted_policy(domain: Any) -> Any:
    """The next action, as a trained model would predict it in these tests."""
    from rasa.core.policies.policy import PolicyPrediction

    def predict(tracker: Any) -> Any:
        latest = tracker.latest_action_name
        if latest == "action_listen":
            if tracker.active_loop_name:
                name = tracker.active_loop_name
            elif tracker.latest_message.intent.get("name") == "inform":
                name = "place_form"
            else:
                name = "action_count"
        elif latest == "place_form" and not tracker.active_loop_name:
            name = "action_count"  # the form is complete
        else:
            name = "action_listen"
        return PolicyPrediction.for_action_name(domain, name, "scripted")

    return predict


def make_processor(action_url: str, custom_session_start: bool = False) -> Any:
    from types import SimpleNamespace

    from rasa.core.lock_store import InMemoryLockStore
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.data import TrainingType
    from rasa.utils.endpoints import EndpointConfig

    yaml = DOMAIN_YAML + ("  - action_session_start\n" if custom_session_start else "")
    yaml = yaml.replace("actions: [action_count, validate_place_form]\n", "actions:\n") + (
        "  - action_count\n  - validate_place_form\n"
    )
    with warnings.catch_warnings():  # Rasa warns that slot auto-fill is gone, every time
        warnings.simplefilter("ignore", UserWarning)
        domain = Domain.from_yaml(yaml)
    processor = MessageProcessor.__new__(MessageProcessor)
    processor.domain = domain
    processor.tracker_store = FailSafeTrackerStore(InMemoryTrackerStore(domain))  # as Agent
    processor.lock_store = InMemoryLockStore()
    processor.nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    processor.action_endpoint = EndpointConfig(action_url)
    processor.max_number_of_predictions = 10
    processor.on_circuit_break = None
    processor.http_interpreter = None
    processor.model_metadata = SimpleNamespace(
        training_type=TrainingType.BOTH, model_id="test", assistant_id="test"
    )
    processor._predict_next_with_tracker = _scripted_policy(domain)
    return processor


async def say(processor: Any, text: str, intent: str = "greet", sender: str = "doctor") -> Any:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    output = CollectingOutputChannel()
    parse_data = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": [],
        "intent_ranking": [],
    }
    message = UserMessage(text, output, sender, parse_data=parse_data)
    await processor.handle_message(message)
    return [m.get("text") for m in output.messages]


async def stored(processor: Any, sender: str = "doctor") -> list[dict[str, Any]]:
    tracker = await processor.tracker_store.retrieve(sender)
    if tracker is None:
        return []
    return [event.as_dict() for event in tracker.events]


def user_texts(events: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for e in events if e["event"] == "user"]


@pytest.fixture()
async def action_server() -> Any:
    server = FakeActionServer()
    await server.start()
    yield server
    await server.stop()


# Rasa's timeout for an action call while the action server is "slow" (seconds).
SLOW_CLIENT_TIMEOUT = 0.5


def closed_port_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/webhook"  # nothing listens there: connection refused


async def break_the_action_server(
    processor: Any, server: FakeActionServer, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.utils.endpoints import EndpointConfig

    if how == "down":
        processor.action_endpoint = EndpointConfig(closed_port_url())
    elif how == "slow":
        import rasa.core.actions.action

        monkeypatch.setattr(
            rasa.core.actions.action, "DEFAULT_REQUEST_TIMEOUT", SLOW_CLIENT_TIMEOUT
        )
        server.mode = "slow"
    else:
        server.mode = how


def repair(processor: Any, server: FakeActionServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import rasa.core.actions.action
    from rasa.utils.endpoints import EndpointConfig

    processor.action_endpoint = EndpointConfig(server.url)
    server.mode = "up"
    # The working server is called with the usual timeout again, never the "slow" break's
    # half second, which a loaded machine could exceed.
    monkeypatch.setattr(
        rasa.core.actions.action, "DEFAULT_REQUEST_TIMEOUT", rasa_hooks.ACTION_TIMEOUT_SECONDS
    )


def not_processed_only(replies: list[Any]) -> bool:
    from riposte.settings import NOT_PROCESSED_MESSAGE

    return replies == [NOT_PROCESSED_MESSAGE]


def no_secret_logged(caplog: pytest.LogCaptureFixture) -> bool:
    return all(
        SECRET_TEXT not in record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.INFO
    )


@pytest.mark.parametrize("how", ["down", "500", "slow", "garbled"])
async def test_a_message_whose_action_cannot_run_is_answered_and_not_kept(
    installed: None,
    action_server: FakeActionServer,
    how: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    processor = make_processor(action_server.url)
    assert await say(processor, "bonjour") == ["Compté : 1"]
    before = await stored(processor)

    await break_the_action_server(processor, action_server, how, monkeypatch)
    replies = await say(processor, SECRET_TEXT)
    assert not_processed_only(replies), replies
    assert await stored(processor) == before  # nothing of the message, no half turn
    errors = [r.getMessage() for r in caplog.records if r.name == rasa_hooks.__name__]
    assert any("action_count not run" in e for e in errors), errors
    assert no_secret_logged(caplog)

    repair(processor, action_server, monkeypatch)
    assert await say(processor, SECRET_TEXT) == ["Compté : 2"]
    events = await stored(processor)
    assert user_texts(events) == ["bonjour", SECRET_TEXT]
    assert events[: len(before)] == before
    tracker = await processor.tracker_store.retrieve("doctor")
    assert tracker.get_slot("counter") == 2


async def test_inside_a_form_the_form_stays_where_it_was(
    installed: None, action_server: FakeActionServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    processor = make_processor(action_server.url)
    assert await say(processor, "je veux déclarer", intent="inform") == ["Où ?"]
    assert await say(processor, "Lyon", intent="inform") == ["Quand ?"]
    before = await stored(processor)

    await break_the_action_server(processor, action_server, "down", monkeypatch)
    assert not_processed_only(await say(processor, "hier soir", intent="inform"))
    assert await stored(processor) == before
    tracker = await processor.tracker_store.retrieve("doctor")
    assert tracker.active_loop_name == "place_form"
    assert tracker.get_slot("place") == "Lyon" and tracker.get_slot("when") is None
    assert tracker.get_slot("requested_slot") == "when"

    repair(processor, action_server, monkeypatch)
    assert await say(processor, "hier soir", intent="inform") == ["Compté : 1"]
    tracker = await processor.tracker_store.retrieve("doctor")
    assert tracker.get_slot("place") == "Lyon" and tracker.get_slot("when") == "hier soir"
    assert tracker.active_loop_name is None
    assert user_texts(await stored(processor)) == ["je veux déclarer", "Lyon", "hier soir"]


async def test_a_failed_session_start_keeps_nothing(
    installed: None, action_server: FakeActionServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    processor = make_processor(action_server.url, custom_session_start=True)
    await break_the_action_server(processor, action_server, "down", monkeypatch)
    assert not_processed_only(await say(processor, "bonjour"))
    assert await stored(processor) == []

    repair(processor, action_server, monkeypatch)
    assert await say(processor, "bonjour") == ["Bienvenue.", "Compté : 1"]
    assert action_server.calls == ["action_session_start", "action_count"]


async def test_a_channel_can_tell_the_doctor_its_own_way(
    installed: None, action_server: FakeActionServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    class Output(CollectingOutputChannel):
        told: list[str] = []

        async def send_not_processed(self, recipient_id: str) -> None:
            self.told.append(recipient_id)

    processor = make_processor(action_server.url)
    await break_the_action_server(processor, action_server, "500", monkeypatch)
    output = Output()
    parse_data = {"text": "x", "intent": {"name": "greet", "confidence": 1.0}, "entities": []}
    await processor.handle_message(UserMessage("x", output, "doctor", parse_data=parse_data))
    assert output.told == ["doctor"] and output.messages == []


async def test_a_rejection_is_still_raised_during_a_message(
    installed: None, action_server: FakeActionServer
) -> None:
    from rasa.core.actions.action import ActionExecutionRejection
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    processor = make_processor(action_server.url)
    action_server.mode = "reject"
    action = RemoteAction("validate_place_form", EndpointConfig(action_server.url))
    tracker = DialogueStateTracker("doctor", processor.domain.slots)
    failed: list[str] = []
    token = rasa_hooks._FAILED_ACTIONS.set(failed)  # as during a message
    try:
        with pytest.raises(ActionExecutionRejection):
            await action.run(
                CollectingOutputChannel(),
                TemplatedNaturalLanguageGenerator({}),
                tracker,
                processor.domain,
            )
    finally:
        rasa_hooks._FAILED_ACTIONS.reset(token)
    assert failed == []


async def test_outside_a_message_the_failure_is_raised_as_before(installed: None) -> None:
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.exceptions import RasaException
    from rasa.utils.endpoints import EndpointConfig

    processor = make_processor(closed_port_url())
    action = RemoteAction("action_count", EndpointConfig(closed_port_url()))
    with pytest.raises(RasaException):
        await action.run(
            CollectingOutputChannel(),
            TemplatedNaturalLanguageGenerator({}),
            DialogueStateTracker("doctor", processor.domain.slots),
            processor.domain,
        )


# --------------------------------------------------------------------------- 3. tracker store down


async def test_a_failing_tracker_store_fails_the_message_instead_of_using_memory(
    installed: None, action_server: FakeActionServer, caplog: pytest.LogCaptureFixture
) -> None:
    from rasa.core.tracker_store import FailSafeTrackerStore

    caplog.set_level(logging.INFO)
    processor = make_processor(action_server.url)
    assert await say(processor, "bonjour") == ["Compté : 1"]
    store = processor.tracker_store
    assert isinstance(store, FailSafeTrackerStore)
    before = await stored(processor)
    primary = store._tracker_store

    class DatabaseDown(Exception):
        pass

    async def down(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseDown("connection refused")

    for name in ("retrieve", "save"):
        setattr(primary, name, down)
    with pytest.raises(DatabaseDown):
        await say(processor, SECRET_TEXT)
    with pytest.raises(DatabaseDown):
        await store.retrieve("doctor")
    with pytest.raises(DatabaseDown):
        await store.save(DialogueStateTracker("doctor", []))
    assert store._fallback_tracker_store is None  # never used
    assert no_secret_logged(caplog)
    assert action_server.calls == ["action_count"]  # the message went no further

    del primary.retrieve, primary.save
    assert await stored(processor) == before
    assert await say(processor, SECRET_TEXT) == ["Compté : 2"]
    assert user_texts(await stored(processor)) == ["bonjour", SECRET_TEXT]


def test_a_hung_action_server_is_given_up_after_a_minute_not_five(installed: None) -> None:
    import rasa.core.actions.action as action_module

    assert rasa_hooks.ORIGINALS["action_timeout"] == 300  # Rasa's 5 minutes
    assert action_module.DEFAULT_REQUEST_TIMEOUT == rasa_hooks.ACTION_TIMEOUT_SECONDS == 60


# --------------------------------------------------------------------------- 5. reading events


def test_event_types_resolve_as_with_rasa(installed: None) -> None:
    from rasa.shared.core.events import (
        ActionExecuted,
        Event,
        SlotSet,
        UserUttered,
    )

    original = rasa_hooks.ORIGINALS["resolve_by_type"]
    for name, expected in (("user", UserUttered), ("slot", SlotSet), ("action", ActionExecuted)):
        assert Event.resolve_by_type(name) is expected is original(name)
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    assert Event.resolve_by_type("topic") is None
    with pytest.raises(ValueError, match="no_such_event"):
        Event.resolve_by_type("no_such_event")
    assert Event.from_parameters({"event": "slot", "name": "x", "value": 1}) == SlotSet("x", 1)


def test_a_known_event_type_is_not_looked_up_again(
    installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event, UserUttered

    assert Event.resolve_by_type("user") is UserUttered

    def forbidden(*args: Any) -> Any:
        raise AssertionError("the tree of Event subclasses is walked again")

    monkeypatch.setattr(rasa.shared.utils.common, "all_subclasses", forbidden)
    assert Event.resolve_by_type("user") is UserUttered
