"""The case file from the chat: actions run on the real domain against a real store."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, text

from actions.advice import ActionMarkStepDone
from actions.case import (
    ActionAskDeleteCase,
    ActionCaseResumed,
    ActionDeclineCase,
    ActionDeleteCase,
    ActionOpenCase,
    ActionSessionStart,
    ActionTellDeadlines,
    ValidateResumeForm,
)
from actions.common import repository
from actions.evidence import ActionSaveEvidence, ValidateEvidenceForm
from actions.triage import ActionAnalyzeSituation, ActionRestartTriage, ValidateTriageForm
from riposte.chat import case
from riposte.store.errors import UnknownCaseError
from tests.actions.conftest import TODAY
from tests.actions.test_triage_actions import make_tracker, responses, slot_events

DESCRIPTION = (
    "Depuis le 2 novembre des dizaines de comptes me traitent d'escroc sur TikTok, "
    "je suis généraliste libéral"
)


def message(dispatcher: CollectingDispatcher, response: str) -> dict[str, Any]:
    found = [m for m in dispatcher.messages if m["response"] == response]
    assert found, f"{response} not sent; sent: {responses(dispatcher)}"
    return found[0]


async def start_case(domain: dict[str, Any], sender: str = "test") -> tuple[str, str, dict]:
    """Describe a situation, then say yes to the case file; returns the new case's code, its
    secret and the slots.

    The case is linked to `sender`'s conversation (make_tracker's by default), the only one
    whose later actions reach it.
    """
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(DESCRIPTION)
    tracker.sender_id = sender
    events = await ActionAnalyzeSituation().run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert "utter_case_created" not in responses(dispatcher)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("ouvrir un dossier", intent="open_case", slots=slots)
    tracker.sender_id = sender
    events = await ActionOpenCase().run(dispatcher, tracker, domain)
    created = message(dispatcher, "utter_case_created")
    slots.update(slot_events(events))
    assert slots["case_code"] == created["code"]
    return created["code"], created["secret"], slots


async def test_the_case_opens_on_a_yes_with_the_facts_said_before(
    domain: dict[str, Any],
) -> None:
    code, secret, slots = await start_case(domain)
    case = repository().open_case(code, secret).to_dict()
    assert case["incident"]["platforms"] == ["tiktok"]
    assert case["incident"]["offenses"] == slots["offenses"]
    assert case["incident"]["first_published"] == "2026-11-02"
    assert case["victim"]["practice"] == "liberal"


async def test_facts_alone_open_no_case(domain: dict[str, Any]) -> None:
    """The first description is read and kept in the conversation; no case, no code."""
    for said in ("bonjour", DESCRIPTION):
        dispatcher = CollectingDispatcher()
        events = await ActionAnalyzeSituation().run(dispatcher, make_tracker(said), domain)
        assert "case_code" not in slot_events(events)
        assert "utter_case_created" not in responses(dispatcher)
    assert "utter_facts_noted" in responses(dispatcher)


async def test_answers_in_the_form_update_the_same_case(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAnalyzeSituation().run(
        dispatcher, make_tracker("on m'insulte sur Facebook"), domain
    )
    slots = slot_events(events)
    tracker = make_tracker("ouvrir un dossier", intent="open_case", slots=slots)
    slots.update(slot_events(await ActionOpenCase().run(dispatcher, tracker, domain)))
    code = slots["case_code"]
    slots["requested_slot"] = "first_published"
    dispatcher = CollectingDispatcher()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("depuis le 3 octobre", intent="inform", slots=slots)
    tracker.active_loop = {"name": "triage_form"}
    events = await ValidateTriageForm().run(dispatcher, tracker, domain)
    assert slot_events(events)["first_published"] == "2026-10-03"
    assert "case_code" not in slot_events(events)  # no second case
    assert "utter_case_created" not in responses(dispatcher)
    stored = repository().read_case(code).to_dict()
    assert stored["incident"]["first_published"] == "2026-10-03"
    assert stored["incident"]["platforms"] == ["facebook"]


async def test_ticked_step_and_restart_reach_the_store(domain: dict[str, Any]) -> None:
    code, _secret, slots = await start_case(domain)
    slots.update(advice_given=True, current_step="preserve_evidence")
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("c'est fait", intent="mark_step_done", slots=slots)
    await ActionMarkStepDone().run(dispatcher, tracker, domain)
    record = repository().read_case(code)
    assert list(record.case.steps_done) == ["preserve_evidence"]
    assert [s.done_on for s in record.steps if s.key == "preserve_evidence"] == [TODAY]

    dispatcher = CollectingDispatcher()
    tracker = make_tracker("on recommence", intent="restart_triage", slots=slots)
    await ActionRestartTriage().run(dispatcher, tracker, domain)
    assert repository().read_case(code).to_dict().get("incident") is None


async def test_resume_from_another_sender_restores_the_facts(domain: dict[str, Any]) -> None:
    code, secret, slots = await start_case(domain, sender="sender-a")
    dispatcher = CollectingDispatcher()
    words = secret.replace("-", " ")
    tracker = make_tracker(
        f"mon code {code.lower()} et ma phrase {words}", intent="inform", slots={}
    )
    tracker.sender_id = "sender-b"
    tracker.active_loop = {"name": "resume_form"}
    result = await ValidateResumeForm().validate_resume_credentials(
        tracker.latest_message["text"], dispatcher, tracker, domain
    )
    assert result["resume_credentials"] == "ok"
    assert result["case_code"] == code
    for name in ("platforms", "offenses", "first_published", "practice", "volume"):
        assert result[name] == slots[name], name
    assert result["triage_complete"] == (slots["triage_complete"] is True)

    tracker.slots.update(result)
    dispatcher = CollectingDispatcher()
    events = await ActionCaseResumed().run(dispatcher, tracker, domain)
    assert message(dispatcher, "utter_case_resumed")["code"] == code
    assert "il vous reste" in message(dispatcher, "utter_deadlines")["deadlines"]
    assert slot_events(events) == {"resume_credentials": None}
    # Both senders are now linked: deleting the case names them for erasure.
    report = repository().delete_case(code)
    assert set(report.sender_ids) == {"sender-a", "sender-b"}


async def test_wrong_secret_is_refused_then_the_chat_gives_up(domain: dict[str, Any]) -> None:
    code, secret, _ = await start_case(domain)
    wrong = "-".join(reversed(secret.split("-")))
    attempts = 0.0
    for expected in (1.0, 2.0):
        dispatcher = CollectingDispatcher()
        tracker = make_tracker("x", intent="inform", slots={"resume_attempts": attempts})
        tracker.active_loop = {"name": "resume_form"}
        result = await ValidateResumeForm().validate_resume_credentials(
            f"{code} {wrong}", dispatcher, tracker, domain
        )
        assert responses(dispatcher) == ["utter_resume_denied"]
        assert result == {"resume_credentials": None, "resume_attempts": expected}
        attempts = expected
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("x", intent="inform", slots={"resume_attempts": attempts})
    tracker.active_loop = {"name": "resume_form"}
    result = await ValidateResumeForm().validate_resume_credentials(
        f"{code} {wrong}", dispatcher, tracker, domain
    )
    assert result["resume_credentials"] == "failed"
    assert "utter_resume_give_up" in responses(dispatcher)
    assert "case_code" not in result


async def test_resume_locks_after_repeated_failures(domain: dict[str, Any]) -> None:
    code, secret, _ = await start_case(domain)
    wrong = "-".join(reversed(secret.split("-")))
    seen: list[str] = []
    for _ in range(6):
        dispatcher = CollectingDispatcher()
        tracker = make_tracker("x", intent="inform", slots={})
        tracker.active_loop = {"name": "resume_form"}
        await ValidateResumeForm().validate_resume_credentials(
            f"{code} {wrong}", dispatcher, tracker, domain
        )
        seen += responses(dispatcher)
    assert "utter_resume_locked" in seen
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("x", intent="inform", slots={})
    tracker.active_loop = {"name": "resume_form"}
    result = await ValidateResumeForm().validate_resume_credentials(
        f"{code} {secret}", dispatcher, tracker, domain
    )
    assert result["resume_credentials"] == "locked"  # even the right secret, while locked
    assert "case_code" not in result


async def test_a_stranger_holding_the_code_does_not_lock_the_doctor_out(
    domain: dict[str, Any],
) -> None:
    """Someone who saw the code fails again and again from his own conversation: he waits,
    the doctor's conversation opens the case at once with the right secret."""
    code, secret, _ = await start_case(domain, sender="doctor")
    wrong = "-".join(reversed(secret.split("-")))

    async def resume(sender: str, typed: str) -> tuple[dict[str, Any], list[str]]:
        dispatcher = CollectingDispatcher()
        tracker = make_tracker("x", intent="inform", slots={})
        tracker.sender_id = sender
        tracker.active_loop = {"name": "resume_form"}
        result = await ValidateResumeForm().validate_resume_credentials(
            f"{code} {typed}", dispatcher, tracker, domain
        )
        return result, responses(dispatcher)

    seen: list[str] = []
    for _ in range(8):
        seen += (await resume("stranger", wrong))[1]
    assert "utter_resume_locked" in seen
    result, _ = await resume("stranger", secret)
    assert result["resume_credentials"] == "locked"  # his own wait, even with the secret
    result, said = await resume("doctor-new-phone", secret)
    assert result["resume_credentials"] == "ok" and result["case_code"] == code, said


async def test_resume_request_alone_asks_without_counting(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("reprendre mon dossier", intent="resume_case", slots={})
    result = await ValidateResumeForm().validate_resume_credentials(
        "reprendre mon dossier", dispatcher, tracker, domain
    )
    assert result == {"resume_credentials": None}
    assert dispatcher.messages == []


async def test_deadlines_on_request_and_at_session_start(domain: dict[str, Any]) -> None:
    _code, _secret, slots = await start_case(domain)
    dispatcher = CollectingDispatcher()
    await ActionTellDeadlines().run(dispatcher, make_tracker("mes délais", slots=slots), domain)
    text = message(dispatcher, "utter_deadlines")["deadlines"]
    # First publication 2026-11-02, public insult: 3 months, until 02/02/2027.
    assert "il vous reste 70 jours pour agir en justice, jusqu'au 02/02/2027" in text

    dispatcher = CollectingDispatcher()
    events = await ActionSessionStart().run(dispatcher, make_tracker("", slots=slots), domain)
    assert events[0]["event"] == "session_started"
    assert events[-1] == {
        "event": "action",
        "name": "action_listen",
        "policy": None,
        "confidence": None,
        "action_text": None,
        "hide_rule_turn": False,
        "timestamp": None,
    } or (events[-1]["event"] == "action" and events[-1]["name"] == "action_listen")
    assert slot_events(events)["case_code"] == slots["case_code"]
    assert "jusqu'au 02/02/2027" in message(dispatcher, "utter_deadlines_reminder")["deadlines"]


async def test_no_deadlines_before_any_fact(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    await ActionTellDeadlines().run(dispatcher, make_tracker("mes délais"), domain)
    assert responses(dispatcher) == ["utter_no_deadlines_yet"]
    dispatcher = CollectingDispatcher()
    await ActionSessionStart().run(dispatcher, make_tracker(""), domain)
    assert dispatcher.messages == []


def _tracker_db_with(url: str, senders: list[str]) -> None:
    engine = create_engine(url, future=True)
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id TEXT)")
        )
        for sender in senders:
            connection.execute(text("INSERT INTO events (sender_id) VALUES (:s)"), {"s": sender})
    engine.dispose()


def _senders_in(url: str) -> list[str]:
    engine = create_engine(url, future=True)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT sender_id FROM events")).scalars().all()
    engine.dispose()
    return sorted(rows)


async def test_delete_erases_case_and_other_channels(
    domain: dict[str, Any], case_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, secret, slots = await start_case(domain, sender="sender-a")
    repository().link_sender(code, case.CHAT, "sender-b")
    url = f"sqlite:///{case_store}/tracker.db"
    _tracker_db_with(url, ["sender-a", "sender-b", "sender-b", "someone-else"])

    dispatcher = CollectingDispatcher()
    tracker = make_tracker("supprimer mon dossier", intent="delete_case", slots=slots)
    await ActionAskDeleteCase().run(dispatcher, tracker, domain)
    assert message(dispatcher, "utter_ask_delete_case")["code"] == code
    assert repository().read_case(code).code == code  # nothing erased before "oui"

    dispatcher = CollectingDispatcher()
    tracker = make_tracker("oui", intent="affirm", slots=slots)
    tracker.sender_id = "sender-a"
    events = await ActionDeleteCase().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_case_deleted"]
    assert slot_events(events) == {"erase_conversation": True}
    with pytest.raises(UnknownCaseError):
        repository().read_case(code)
    # sender-a (this conversation) is erased by the tracker store when Rasa saves it.
    assert _senders_in(url) == ["sender-a", "someone-else"]


async def test_delete_without_a_case_offers_to_erase_the_conversation(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAskDeleteCase().run(dispatcher, make_tracker("efface"), domain)
    assert responses(dispatcher) == ["utter_ask_delete_conversation"]
    dispatcher = CollectingDispatcher()
    events = await ActionDeleteCase().run(dispatcher, make_tracker("oui"), domain)
    assert slot_events(events) == {"erase_conversation": True}


async def test_evidence_answers_are_checked(domain: dict[str, Any]) -> None:
    form = ValidateEvidenceForm()
    tracker = make_tracker("x", intent="inform")
    cases = [
        (
            "validate_evidence_url",
            "voilà le lien x.com/troll/status/9 ",
            "https://x.com/troll/status/9",
        ),
        ("validate_evidence_url", "n'importe quoi", None),
        ("validate_evidence_url", "aucune, c'était un SMS", ""),
        ("validate_evidence_author", "  @troll_42 ", "@troll_42"),
        ("validate_evidence_excerpt", "x" * 50_000, None),
        ("validate_evidence_seen_at", "dans trois jours", None),
        ("validate_evidence_published_at", "le 20/11/2026", "2026-11-20"),
        ("validate_evidence_published_at", "je ne sais pas", ""),
        ("validate_evidence_published_at", "le 3 mars 2030", None),
        ("validate_evidence_published_at", "<b>{{ 7*7 }}</b>", None),
        ("validate_evidence_published_at", "x" * 50_000, None),
    ]
    for method, answer, expected in cases:
        dispatcher = CollectingDispatcher()
        result = await getattr(form, method)(answer, dispatcher, tracker, domain)
        assert list(result.values()) == [expected], (method, answer)
        assert bool(dispatcher.messages) == (expected is None), (method, answer)


async def test_publication_date_after_the_sighting_or_in_the_future_is_explained(
    domain: dict[str, Any],
) -> None:
    """« De quand date ce message ? » : a clear re-ask, and the other answers are kept."""
    form = ValidateEvidenceForm()
    slots = {"evidence_seen_at": "2026-11-20T10:00:00+01:00", "evidence_excerpt": "escroc"}
    tracker = make_tracker("x", intent="inform", slots=slots)
    for answer, response in [
        ("le 22/11/2026", "utter_evidence_published_after_seen"),
        ("le 3 mars 2030", "utter_evidence_published_in_future"),
        ("n'importe quoi", "utter_evidence_published_unreadable"),
    ]:
        dispatcher = CollectingDispatcher()
        result = await form.validate_evidence_published_at(answer, dispatcher, tracker, domain)
        assert result == {"evidence_published_at": None}, answer
        assert responses(dispatcher) == [response], answer
        assert response in domain["responses"]
    dispatcher = CollectingDispatcher()
    result = await form.validate_evidence_published_at("le même jour", dispatcher, tracker, domain)
    assert result == {"evidence_published_at": "2026-11-20"}


async def test_saved_evidence_is_journaled_in_the_case(domain: dict[str, Any]) -> None:
    code, secret, slots = await start_case(domain)
    evidence = {
        "evidence_url": "https://x.com/troll/status/9",
        "evidence_seen_at": "2026-11-23T22:00:00+01:00",
        "evidence_author": "@troll_42",
        "evidence_excerpt": "espèce d'escroc",
        "evidence_published_at": "2026-11-22",
    }
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("x", slots={**slots, **evidence})
    events = await ActionSaveEvidence().run(dispatcher, tracker, domain)
    assert message(dispatcher, "utter_evidence_saved")["number"] == 1
    assert slot_events(events) == {name: None for name in evidence}
    item = repository().open_case(code, secret).case.evidence[0]
    assert (item.url, item.author, item.excerpt, item.published_at) == (
        "https://x.com/troll/status/9",
        "@troll_42",
        "espèce d'escroc",
        datetime.date(2026, 11, 22),
    )


TYPED_ITEM = {
    "evidence_url": "",
    "evidence_seen_at": "2026-11-23T22:00:00+01:00",
    "evidence_author": "",
    "evidence_excerpt": "sale charlatan",
}


async def test_first_evidence_offers_the_case_and_keeps_the_answers(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("x", slots=dict(TYPED_ITEM))
    events = await ActionSaveEvidence().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_case_offer_evidence"]
    # Nothing emptied: the answers wait for the doctor's yes or no.
    assert slot_events(events) == {"case_offer": "evidence"}


async def test_yes_to_the_case_files_the_evidence_that_waited(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    slots = {**TYPED_ITEM, "case_offer": "evidence"}
    tracker = make_tracker("oui", intent="affirm", slots=slots)
    events = await ActionOpenCase().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_case_created", "utter_evidence_saved"]
    created = message(dispatcher, "utter_case_created")
    set_now = slot_events(events)
    assert set_now["case_code"] == created["code"] and set_now["case_offer"] is None
    assert all(set_now[name] is None for name in TYPED_ITEM)
    record = repository().open_case(created["code"], created["secret"])
    assert [e.excerpt for e in record.case.evidence] == ["sale charlatan"]


async def test_no_to_the_case_gives_the_evidence_back(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    slots = {**TYPED_ITEM, "case_offer": "evidence"}
    tracker = make_tracker("non", intent="deny", slots=slots)
    events = await ActionDeclineCase().run(dispatcher, tracker, domain)
    given = message(dispatcher, "utter_case_declined_evidence")["item"]
    assert "sale charlatan" in given and "23/11/2026 22:00" in given
    assert slot_events(events)["case_offer"] == "declined"
    assert "case_code" not in slot_events(events)


async def test_a_bare_no_with_no_offer_pending_declines_nothing(
    domain: dict[str, Any],
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("non", intent="deny", slots={"case_offer": "advice"})
    assert await ActionDeclineCase().run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == ["utter_default"]


async def test_open_case_twice_keeps_the_first(domain: dict[str, Any]) -> None:
    code, _secret, slots = await start_case(domain)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("ouvrir un dossier", intent="open_case", slots=slots)
    await ActionOpenCase().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_case_already_open"]
    assert message(dispatcher, "utter_case_already_open")["code"] == code


async def test_resumed_incomplete_case_goes_back_to_the_questions(domain: dict[str, Any]) -> None:
    slots = {"platforms": ["facebook"], "offenses": ["insult"], "case_code": "RIP-0000-00"}
    tracker = make_tracker("x", slots={**slots, "resume_credentials": "ok"})
    dispatcher = CollectingDispatcher()
    events = await ActionCaseResumed().run(dispatcher, tracker, domain)
    assert responses(dispatcher)[-1] == "utter_resume_continue_triage"
    assert events[-1] == {"event": "followup", "name": "triage_form", "timestamp": None}


async def test_failed_resume_shows_nothing(domain: dict[str, Any]) -> None:
    tracker = make_tracker("x", slots={"resume_credentials": "failed"})
    dispatcher = CollectingDispatcher()
    events = await ActionCaseResumed().run(dispatcher, tracker, domain)
    assert dispatcher.messages == []
    assert slot_events(events) == {"resume_credentials": None}


async def test_code_given_with_the_request_is_read_at_once(domain: dict[str, Any]) -> None:
    form = ValidateResumeForm()
    dispatcher = CollectingDispatcher()
    said = "reprendre mon dossier RIP-7KQ2-M9 tigre lampe verger moulin cerise"
    tracker = make_tracker(said, intent="resume_case", slots={})
    assert await form.extract_resume_credentials(dispatcher, tracker, domain) == {
        "resume_credentials": said
    }
    tracker = make_tracker("reprendre mon dossier", intent="resume_case", slots={})
    assert await form.extract_resume_credentials(dispatcher, tracker, domain) == {}
    # An answer to the form's question is left to the slot mapping.
    tracker = make_tracker(
        said, intent="resume_case", slots={"requested_slot": "resume_credentials"}
    )
    assert await form.extract_resume_credentials(dispatcher, tracker, domain) == {}


def _multipart(data: bytes, field: str = "fichier") -> tuple[str, bytes]:
    boundary = "----riposte-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="capture.png"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return f"multipart/form-data; boundary={boundary}", body


async def test_screenshot_is_attached_through_the_signed_link(domain: dict[str, Any]) -> None:
    import hashlib

    from riposte.web import uploads as evidence_upload

    code, secret, slots = await start_case(domain)
    item = {
        "evidence_url": "https://x.com/troll/status/9",
        "evidence_seen_at": "2026-11-23T22:00:00+01:00",
        "evidence_author": "@troll_42",
        "evidence_excerpt": "espèce d'escroc",
    }
    dispatcher = CollectingDispatcher()
    await ActionSaveEvidence().run(dispatcher, make_tracker("x", slots={**slots, **item}), domain)
    url = message(dispatcher, "utter_evidence_saved")["upload"]
    token = url.rsplit("/", 1)[1]
    status, page = evidence_upload.page_response(token)
    assert status == 200 and 'for="fichier"' in page.decode() and "pièce n° 1" in page.decode()

    screenshot = b"\x89PNG\r\n\x1a\n" + b"pixels of @troll_42 " * 50
    assert evidence_upload.upload_response(token, *_multipart(b"plain text"))[0] == 415
    assert evidence_upload.upload_response(token, *_multipart(b"", field="autre"))[0] == 400
    assert evidence_upload.upload_response("forged.token", *_multipart(screenshot))[0] == 404
    status, done = evidence_upload.upload_response(token, *_multipart(screenshot))
    fingerprint = hashlib.sha256(screenshot).hexdigest()
    assert status == 200 and fingerprint in done.decode()
    record = repository().open_case(code, secret)
    assert record.case.evidence[0].sha256 == fingerprint
    assert repository().evidence_content(code, 1) == screenshot
    # The link has served: whoever sees it afterwards (history, logs) can do nothing with it.
    status, again = evidence_upload.upload_response(token, *_multipart(screenshot + b"x"))
    assert status == 410 and "déjà servi" in again.decode()
    assert "nouveau lien" in again.decode() and 'type="file"' not in again.decode()
    status, page = evidence_upload.page_response(token)
    assert status == 410 and "déjà servi" in page.decode() and 'type="file"' not in page.decode()
    assert repository().evidence_content(code, 1) == screenshot
    # A fingerprinted file is never replaced, even through another link to the same item.
    from riposte.letters.links import make_token

    other = make_token(evidence_upload.upload_key(), code, 1)
    status, again = evidence_upload.upload_response(other, *_multipart(screenshot + b"x"))
    assert status == 409 and "ne se remplace pas" in again.decode()
    assert repository().evidence_content(code, 1) == screenshot


async def test_the_web_chat_gets_the_upload_outcome_as_json(domain: dict[str, Any]) -> None:
    import hashlib
    import json

    from riposte.web import uploads as evidence_upload

    code, _secret, slots = await start_case(domain)
    item = {"evidence_url": "https://x.com/troll/status/9", "evidence_excerpt": "escroc"}
    dispatcher = CollectingDispatcher()
    await ActionSaveEvidence().run(dispatcher, make_tracker("x", slots={**slots, **item}), domain)
    token = message(dispatcher, "utter_evidence_saved")["upload"].rsplit("/", 1)[1]

    status, body = evidence_upload.upload_json(token, *_multipart(b"<html>texte"))
    refused = json.loads(body)
    assert status == 415 and refused["ok"] is False
    assert refused["message"] == "Ce fichier n'est ni une image ni un PDF."
    status, body = evidence_upload.upload_json("forged.token", *_multipart(b"%PDF-1.7"))
    assert status == 404 and "expiré" in json.loads(body)["message"]

    pdf = b"%PDF-1.7 capture of the review"
    status, body = evidence_upload.upload_json(token, *_multipart(pdf))
    done = json.loads(body)
    assert status == 200 and done["ok"] is True and done["number"] == 1
    assert done["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert "Capture enregistrée" in done["message"]
    assert repository().evidence_content(code, 1) == pdf
    status, body = evidence_upload.upload_json(token, *_multipart(pdf))
    used = json.loads(body)
    assert status == 410 and used["ok"] is False and "déjà servi" in used["message"]


async def test_resume_attempts_are_rate_limited_per_conversation_before_any_scrypt(
    domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each attempt costs a 32 MiB scrypt in the store: past the burst, the store is not asked,
    while another conversation still is."""
    code, secret, _ = await start_case(domain)
    opened: list[str] = []
    real_open = repository().open_case

    def counting_open(*args: Any, **kwargs: Any) -> Any:
        opened.append(args[0])
        return real_open(*args, **kwargs)

    monkeypatch.setattr(repository(), "open_case", counting_open)

    async def attempt(sender: str, text: str) -> tuple[dict[str, Any], CollectingDispatcher]:
        dispatcher = CollectingDispatcher()
        tracker = make_tracker("x", intent="inform", slots={})
        tracker.sender_id = sender
        tracker.active_loop = {"name": "resume_form"}
        result = await ValidateResumeForm().validate_resume_credentials(
            text, dispatcher, tracker, domain
        )
        return result, dispatcher

    unknown = "RIP-2222-22 " + secret  # an unknown code costs a scrypt all the same
    for _ in range(case.RESUME_BURST):
        await attempt("flooder", unknown)
    assert len(opened) == case.RESUME_BURST
    result, dispatcher = await attempt("flooder", unknown)
    assert len(opened) == case.RESUME_BURST  # refused before the store
    assert result == {"resume_credentials": "locked", "resume_attempts": 0.0}
    assert "attendez" in message(dispatcher, "utter_resume_locked")["reason"]
    result, _ = await attempt("doctor", f"{code} {secret}")
    assert result["resume_credentials"] == "ok"


async def test_a_full_case_says_so_in_french_and_keeps_the_conversation_going(
    domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from riposte.store.repository import Quotas

    code, _secret, slots = await start_case(domain)
    monkeypatch.setattr(repository(), "quotas", Quotas(evidence_items=1))
    item = {"evidence_url": "https://x.com/troll/status/9", "evidence_author": "@troll"}
    for expected in ("utter_evidence_saved", None):
        dispatcher = CollectingDispatcher()
        tracker = make_tracker("x", slots={**slots, **item})
        events = await ActionSaveEvidence().run(dispatcher, tracker, domain)
        if expected:
            assert expected in responses(dispatcher)
    assert any("1 preuves" in (m.get("text") or "") for m in dispatcher.messages)
    assert "utter_store_unavailable" not in responses(dispatcher)
    assert {"evidence_url": None}.items() <= slot_events(events).items()
    assert len(repository().read_case(code).case.evidence) == 1


async def test_a_conversation_opens_a_few_cases_a_day_at_most(domain: dict[str, Any]) -> None:
    for _ in range(case.CASES_BURST):
        await start_case(domain, sender="serial")
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("ouvrir un dossier", intent="open_case")
    tracker.sender_id = "serial"
    events = await ActionOpenCase().run(dispatcher, tracker, domain)
    assert "case_code" not in slot_events(events)
    assert any("beaucoup de dossiers" in (m.get("text") or "") for m in dispatcher.messages)
    await start_case(domain, sender="another")


async def test_words_that_may_not_mean_yes_are_asked_about_first(
    domain: dict[str, Any],
) -> None:
    """« Le dossier chiffré, très peu pour moi » read as open_case at 0.76 opens nothing."""
    slots = {**TYPED_ITEM, "case_offer": "evidence"}
    tracker = make_tracker("le dossier chiffré, très peu pour moi", intent="open_case", slots=slots)
    tracker.latest_message["intent"]["confidence"] = 0.76
    dispatcher = CollectingDispatcher()
    events = await ActionOpenCase().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_case_confirm"]
    assert slot_events(events) == {"case_offer": "evidence"}  # the item still waits
    buttons = domain["responses"]["utter_case_confirm"][0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/open_case", "/decline_case"]
    # Its « non »: an answer (the last action asked), the item given back.
    said = [
        {"event": "action", "name": "action_open_case"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "non"},
    ]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("non", intent="deny", slots={"case_offer": "advice"}, events=said)
    found = slot_events(await ActionDeclineCase().run(dispatcher, tracker, domain))
    assert responses(dispatcher) == ["utter_case_declined"] and found == {"case_offer": "declined"}
