"""A `case_code` slot alone opens nothing: another conversation is answered as for an unknown code.

The doctor's conversation created the case (it is linked to it); a second conversation whose
tracker names the same code, as a forged action-server call or a slot set through Rasa's API
would, can neither read the case, mint links for it, change it nor delete it, and gets exactly
the replies an unknown code gets, so it cannot even learn that the code exists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.advice import ActionMarkStepDone
from actions.case import ActionDeleteCase
from actions.common import repository
from actions.complaint import (
    ActionComplaintSummary,
    ActionDeliverComplaint,
    ActionStartComplaint,
    ValidateComplaintForm,
)
from actions.danger import _record_danger
from actions.evidence import ActionSaveEvidence, ActionSaveEvidenceFile
from tests.actions.test_case_actions import start_case
from tests.actions.test_triage_actions import make_tracker, responses

DOCTOR = "the-doctors-conversation"
INTRUDER = "another-conversation"
UNKNOWN = "RIP-0000-00"
VICTIM = {
    "first_name": "Camille",
    "last_name": "Zorglubin",
    "address": "12 rue des Lilas",
    "postal_code": "44000",
    "city": "Nantes",
}
EVIDENCE = {
    "evidence_url": "https://x.com/troll_quixotique/status/1",
    "evidence_seen_at": "2026-11-24T09:00:00+00:00",
    "evidence_author": "@troll_quixotique",
    "evidence_excerpt": "escroc",
    "evidence_published_at": None,
}


Run = Callable[[CollectingDispatcher, Tracker, dict[str, Any]], Awaitable[Any]]


async def _validate_name(d: CollectingDispatcher, t: Tracker, domain: dict[str, Any]) -> Any:
    return await ValidateComplaintForm().validate_letter_name("Camille Durand", d, t, domain)


async def _danger(d: CollectingDispatcher, t: Tracker, domain: dict[str, Any]) -> Any:
    await _record_danger(d, t, str(t.get_slot("case_code")))


async def _file(d: CollectingDispatcher, t: Tracker, domain: dict[str, Any]) -> Any:
    ref = repository().put_inbox_file(t.sender_id, b"\xff\xd8\xff photo", filename="p.jpg")
    t.latest_message["entities"] = [{"entity": "evidence_file_ref", "value": ref}]
    return await ActionSaveEvidenceFile().run(d, t, domain)


ENTRY_POINTS: dict[str, Run] = {
    "summary": ActionComplaintSummary().run,
    "deliver": ActionDeliverComplaint().run,
    "delete": ActionDeleteCase().run,
    "save_evidence": ActionSaveEvidence().run,
    "evidence_file": _file,
    "start_complaint": ActionStartComplaint().run,
    "complaint_answer": _validate_name,
    "mark_step": ActionMarkStepDone().run,
    "danger": _danger,
}


async def doctors_case(domain: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    code, _secret, slots = await start_case(domain, sender=DOCTOR)
    repo = repository()
    summary = "Des dizaines de comptes me traitent d'escroc."
    repo.update_case(code, {"victim": VICTIM, "incident": {"summary": summary}}, actor="cli")
    repo.add_evidence(code, {"excerpt": "escroc"}, actor="cli")
    return code, slots


def snapshot(code: str) -> tuple[Any, ...]:
    record = repository().read_case(code, actor="cli")
    chat = [(e.actor, e.action) for e in repository().audit_trail(code) if e.actor == "chat"]
    return record.to_dict(), record.letters, chat


async def run_as(
    run: Run, sender: str, code: str, slots: dict[str, Any], domain: dict[str, Any]
) -> CollectingDispatcher:
    tracker = make_tracker(
        "oui",
        intent="affirm",
        slots={
            **slots,
            **EVIDENCE,
            "case_code": code,
            "advice_given": True,
            "current_step": "preserve_evidence",
        },
    )
    tracker.sender_id = sender
    dispatcher = CollectingDispatcher()
    await run(dispatcher, tracker, domain)
    return dispatcher


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
async def test_another_conversation_gets_the_unknown_code_reply_and_reaches_nothing(
    domain: dict[str, Any], entry: str
) -> None:
    code, slots = await doctors_case(domain)
    before = snapshot(code)
    run = ENTRY_POINTS[entry]

    forged = await run_as(run, INTRUDER, code, slots, domain)
    unknown = await run_as(run, INTRUDER, UNKNOWN, slots, domain)

    assert responses(forged) == responses(unknown), entry
    said = repr(forged.messages)
    for secret in ("Zorglubin", "12 rue des Lilas", "escroc", "/lettres/", "/pieces/"):
        assert secret not in said, (entry, secret)
    assert snapshot(code) == before  # nothing read, written, minted or deleted
