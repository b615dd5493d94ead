"""The changes riposte.channels.rasa_hooks makes to Rasa keep Rasa's contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from riposte.channels import rasa_hooks

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
    from riposte.store.lock_store import AtomicRedisLockStore
    from riposte.store.tracker_store import EncryptedSQLTrackerStore

    for build in (
        lambda: EncryptedSQLTrackerStore(host=f"sqlite:///{tmp_path / 't.db'}"),
        lambda: AtomicRedisLockStore(url="", check=False),
    ):
        monkeypatch.setattr(
            RemoteAction, "_validate_action_result", rasa_hooks.ORIGINALS.get("validator")
            or RemoteAction._validate_action_result,
        )
        monkeypatch.setattr(rasa_hooks, "_INSTALLED", set())
        build()
        assert RemoteAction._validate_action_result is rasa_hooks._validate_action_result
