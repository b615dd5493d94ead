"""action_save_evidence_file: a photo or document received on Telegram or Signal, waiting in the
store's inbox, is filed in the conversation's case (real domain, real store)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.case import ActionDeclineCase, ActionOpenCase
from actions.common import repository
from actions.evidence import ActionSaveEvidenceFile
from riposte.store.errors import StoreConfigError
from tests.actions.test_case_actions import message, start_case
from tests.actions.test_triage_actions import make_tracker, responses, slot_events

SENDER = "sender-a"  # the pseudonym the channel used for the inbox and Rasa for the tracker
PHOTO = b"\xff\xd8\xff\xe0 photo: un avis Google injurieux"
NAME = "telegram-20261124-093000-photo.jpg"


def file_tracker(
    ref: str | None, slots: dict[str, Any] | None = None, channel: str = "telegram"
) -> Tracker:
    text = "/send_evidence_file" + (f'{{"evidence_file_ref": "{ref}"}}' if ref else "")
    entities = [{"entity": "evidence_file_ref", "value": ref}] if ref else []
    user = {"event": "user", "text": text, "input_channel": channel}
    tracker = make_tracker(
        text,
        intent="send_evidence_file",
        slots={**(slots or {}), "evidence_file_ref": ref},
        entities=entities,
        events=[{"event": "action", "name": "action_listen"}, user],
    )
    tracker.sender_id = SENDER
    return tracker


async def test_a_received_file_is_filed_in_the_case(domain: dict[str, Any]) -> None:
    code, secret, slots = await start_case(domain, sender=SENDER)
    ref = repository().put_inbox_file(SENDER, PHOTO, filename=NAME, caption="sale escroc")
    dispatcher = CollectingDispatcher()
    events = await ActionSaveEvidenceFile().run(dispatcher, file_tracker(ref, slots), domain)

    saved = message(dispatcher, "utter_evidence_file_saved")
    fingerprint = hashlib.sha256(PHOTO).hexdigest()
    assert saved["number"] == 1 and saved["channel"] == "Telegram"
    assert saved["fingerprint"] == fingerprint[:16]
    assert saved["recorded"].endswith("UTC")
    assert slot_events(events) == {"evidence_file_ref": None}
    item = repository().open_case(code, secret).case.evidence[0]
    assert (item.sha256, item.file, item.excerpt) == (fingerprint, NAME, "sale escroc")
    assert repository().evidence_content(code, 1) == PHOTO
    # The reply reminds what the file alone does not prove.
    text = domain["responses"]["utter_evidence_file_saved"][0]["text"]
    assert "ajouter une preuve" in text and "URL" in text


async def test_without_a_case_the_file_waits_for_a_yes(domain: dict[str, Any]) -> None:
    ref = repository().put_inbox_file(SENDER, PHOTO, filename=NAME)
    dispatcher = CollectingDispatcher()
    tracker = file_tracker(ref, channel="signal")
    events = await ActionSaveEvidenceFile().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_case_offer_file"]
    assert slot_events(events) == {"evidence_file_ref": ref, "case_offer": "file"}

    dispatcher = CollectingDispatcher()
    tracker = file_tracker(ref, {"evidence_file_ref": ref, "case_offer": "file"}, "signal")
    tracker.latest_message.update(intent={"name": "open_case", "confidence": 1.0}, entities=[])
    events = await ActionOpenCase().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_case_created", "utter_evidence_file_saved"]
    created = message(dispatcher, "utter_case_created")
    assert message(dispatcher, "utter_evidence_file_saved")["channel"] == "Signal"
    found = slot_events(events)
    assert found["case_code"] == created["code"] and found["evidence_file_ref"] is None
    record = repository().open_case(created["code"], created["secret"])
    assert [e.sha256 for e in record.case.evidence] == [hashlib.sha256(PHOTO).hexdigest()]


async def test_a_no_to_the_case_deletes_the_file_received(domain: dict[str, Any]) -> None:
    ref = repository().put_inbox_file(SENDER, PHOTO, filename=NAME)
    dispatcher = CollectingDispatcher()
    tracker = file_tracker(ref, {"evidence_file_ref": ref, "case_offer": "file"})
    tracker.latest_message.update(intent={"name": "deny", "confidence": 1.0}, entities=[])
    events = await ActionDeclineCase().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_case_declined_file"]
    assert slot_events(events) == {"case_offer": "declined", "evidence_file_ref": None}
    # Gone from the inbox at once, not at its expiry: a later yes finds nothing to file.
    code, _secret, slots = await start_case(domain, sender=SENDER)
    dispatcher = CollectingDispatcher()
    await ActionSaveEvidenceFile().run(dispatcher, file_tracker(ref, slots), domain)
    assert responses(dispatcher) == ["utter_evidence_file_missing"]


async def test_another_senders_file_is_not_taken(domain: dict[str, Any]) -> None:
    code, _secret, slots = await start_case(domain, sender=SENDER)
    ref = repository().put_inbox_file("someone-else", PHOTO, filename=NAME)
    dispatcher = CollectingDispatcher()
    events = await ActionSaveEvidenceFile().run(dispatcher, file_tracker(ref, slots), domain)
    assert responses(dispatcher) == ["utter_evidence_file_missing"]
    assert slot_events(events) == {"evidence_file_ref": None}
    assert repository().read_case(code).evidence == ()
    # Still waiting for its own sender.
    assert repository().add_inbox_evidence(code, ref, "someone-else", actor="cli").number == 1


async def test_an_unknown_or_missing_reference_is_told(domain: dict[str, Any]) -> None:
    _code, _secret, slots = await start_case(domain, sender=SENDER)
    for ref in ("x" * 24, None):
        dispatcher = CollectingDispatcher()
        await ActionSaveEvidenceFile().run(dispatcher, file_tracker(ref, slots), domain)
        assert responses(dispatcher) == ["utter_evidence_file_missing"]


async def test_a_store_failure_is_told_and_the_file_stays_in_the_inbox(
    domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    code, _secret, slots = await start_case(domain, sender=SENDER)
    ref = repository().put_inbox_file(SENDER, PHOTO, filename=NAME, caption="Zorglubin")
    real = repository().add_inbox_evidence

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise StoreConfigError("clé différente")

    monkeypatch.setattr(repository(), "add_inbox_evidence", broken)
    dispatcher = CollectingDispatcher()
    await ActionSaveEvidenceFile().run(dispatcher, file_tracker(ref, slots), domain)
    assert responses(dispatcher) == ["utter_evidence_file_not_saved"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "StoreConfigError" in logged and "Zorglubin" not in logged and ref not in logged
    assert real(code, ref, SENDER, actor="cli").number == 1  # nothing was lost
