"""The actions are glue, one module per skill: the domain's contracts, and the three actions
no other test runs (ActionNextStep, ActionCancelForm, ActionCorrectComplaint)."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Action
from rasa_sdk.executor import CollectingDispatcher

from actions.advice import ActionNextStep
from actions.case import ActionCancelForm
from actions.complaint import ActionCorrectComplaint
from riposte.chat import complaint as chat
from riposte.chat import triage
from riposte.chat.evidence import EVIDENCE_SLOTS
from tests.actions.conftest import TODAY
from tests.actions.test_triage_actions import FULL, make_tracker, responses, slot_events

ACTIONS = Path(__file__).resolve().parents[2] / "actions"
SKILLS = (
    "advice",
    "case",
    "common",
    "complaint",
    "danger",
    "drafts",
    "evidence",
    "follow_ups",
    "letters",
    "notice",
    "reply",
    "rungs",
    "triage",
)


def served_actions() -> dict[str, list[str]]:
    """Action name -> the modules of actions/ whose classes answer to it."""
    served: dict[str, list[str]] = {}
    for path in sorted(ACTIONS.glob("*.py")):
        module = importlib.import_module(f"actions.{path.stem}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or inspect.isabstract(cls):
                continue
            if issubclass(cls, Action):
                served.setdefault(cls().name(), []).append(path.stem)
    return served


def test_one_module_per_skill() -> None:
    assert {p.stem for p in ACTIONS.glob("*.py")} - {"__init__"} == set(SKILLS)


def test_every_custom_action_of_the_domain_is_served_once(domain: dict[str, Any]) -> None:
    served = served_actions()
    assert set(domain["actions"]) <= set(served), sorted(set(domain["actions"]) - set(served))
    assert {name: mods for name, mods in served.items() if len(mods) > 1} == {}


@pytest.mark.parametrize("path", sorted(ACTIONS.glob("*.py")), ids=lambda p: p.name)
def test_the_glue_holds_no_french_text_and_no_database_code(path: Path) -> None:
    """Replies are the domain's responses, texts the core's YAML; store errors are the core's."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    accented = re.compile(r"[àâäçéèêëîïôöùûüÿœæ«»]", re.IGNORECASE)
    literals = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]
    assert [text for text in literals if accented.search(text)] == []
    assert "la messagerie" not in literals
    imported = [
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    ] + [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    assert [name for name in imported if name.split(".")[0] == "sqlalchemy"] == []


async def test_next_step_before_any_advice_gives_the_advice(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionNextStep().run(
        dispatcher, make_tracker("et ensuite ?", slots=FULL), domain
    )
    assert events == [{"event": "followup", "name": "action_give_advice", "timestamp": None}]
    assert dispatcher.messages == []


async def test_next_step_shows_the_step_after_the_current_one(domain: dict[str, Any]) -> None:
    steps = triage.advice_for(FULL, TODAY).steps
    first, second = steps[0], steps[1]
    slots = {**FULL, "advice_given": True, "current_step": first.key}
    dispatcher = CollectingDispatcher()
    events = await ActionNextStep().run(dispatcher, make_tracker("suivant", slots=slots), domain)
    assert responses(dispatcher) == ["utter_next_step"]
    assert dispatcher.messages[0]["label"] == second.label
    assert slot_events(events) == {
        "current_step": second.key,
        "last_explained": f"step:{second.key}",
    }


async def test_next_step_when_every_other_step_is_done(domain: dict[str, Any]) -> None:
    keys = [s.key for s in triage.advice_for(FULL, TODAY).steps]
    slots = {**FULL, "advice_given": True, "current_step": keys[-1], "steps_done": keys[:-1]}
    dispatcher = CollectingDispatcher()
    events = await ActionNextStep().run(dispatcher, make_tracker("suivant", slots=slots), domain)
    assert responses(dispatcher) == ["utter_all_steps_done"]
    assert slot_events(events) == {"current_step": None}


async def test_cancel_empties_the_evidence_and_resume_forms(domain: dict[str, Any]) -> None:
    slots = {
        "evidence_url": "https://x.com/troll/status/1",
        "evidence_author": "@troll",
        "resume_credentials": None,
        "resume_attempts": 2.0,
        "requested_slot": "evidence_seen_at",
        "case_code": "RIP-1234-56",
    }
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("annuler", intent="cancel", slots=slots, active_loop="evidence_form")
    events = await ActionCancelForm().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_form_cancelled"]
    assert slot_events(events) == {
        **{name: None for name in EVIDENCE_SLOTS},
        "resume_credentials": None,
        "resume_attempts": 0.0,
        "requested_slot": None,
    }  # the case code and the facts stay


async def test_correct_asks_every_question_again_but_the_statement(domain: dict[str, Any]) -> None:
    slots = {"letter_name": "ok", "letter_city": "ok", "letter_missing": [], "case_code": "RIP-1"}
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("corriger", intent="deny", slots=slots)
    events = await ActionCorrectComplaint().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_complaint_correct"]
    found = slot_events(events)
    assert found.pop("letter_missing") == [
        "letter_name",
        "letter_birth_date",
        "letter_birth_place",
        "letter_address",
        "letter_city",
        "letter_court_city",
        "letter_first_published",
        "letter_summary",
    ]
    assert found == {name: None for name in chat.QUESTIONS}
