"""« Rédiger ma plainte » : the complaint form and its delivery, against a real store."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.common import repository
from actions.complaint import (
    ActionComplaintSummary,
    ActionDeliverComplaint,
    ActionStartComplaint,
    ValidateComplaintForm,
)
from riposte.letters import links
from riposte.web.letters import letter_response
from tests.actions.test_case_actions import message, start_case
from tests.actions.test_triage_actions import make_tracker, responses, slot_events
from tests.slots import lawful_review

ANSWERS = {
    "letter_name": "Camille Zorglubin",
    "letter_birth_date": "12/03/1978",
    "letter_birth_place": "<i>Rezé</i> {{ 7*7 }}",
    "letter_address": "12 rue des Lilas",
    "letter_city": "44000 Nantes",
    "letter_court_city": "la même",
    "letter_summary": "Depuis le 2 novembre, des dizaines de comptes me traitent d'escroc.",
    "letter_statement": "« cette généraliste est une escroc »",
    "letter_statement_date": "le 20/11",
}
# The slots of a lawful criticism on Google (no offence): no letter against it.
LAWFUL_CRITICISM = lawful_review()


async def test_no_complaint_before_the_facts(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionStartComplaint().run(dispatcher, make_tracker("plainte"), domain)
    assert responses(dispatcher) == ["utter_complaint_needs_facts"]
    assert slot_events(events) == {"letter_possible": False}


async def test_lawful_criticism_gets_no_complaint(domain: dict[str, Any]) -> None:
    slots = dict(LAWFUL_CRITICISM)
    dispatcher = CollectingDispatcher()
    events = await ActionStartComplaint().run(dispatcher, make_tracker("x", slots=slots), domain)
    # Refused from the conversation's facts at once: no case file offered for nothing.
    assert responses(dispatcher) == ["utter_complaint_refused"]
    assert slot_events(events) == {"letter_possible": False}


async def test_complaint_from_the_chat_end_to_end(domain: dict[str, Any]) -> None:
    code, secret, slots = await start_case(domain)
    dispatcher = CollectingDispatcher()
    events = await ActionStartComplaint().run(dispatcher, make_tracker("x", slots=slots), domain)
    found = slot_events(events)
    assert found["letter_possible"] is True
    # The date is known from the triage: not asked again.
    assert found["letter_missing"] == list(ANSWERS)
    slots.update(found)

    form = ValidateComplaintForm()
    tracker = make_tracker("x", slots=slots)
    asked = await form.required_slots(form.domain_slots(domain), dispatcher, tracker, domain)
    assert asked == list(ANSWERS)
    for question, answer in ANSWERS.items():
        dispatcher = CollectingDispatcher()
        result = await getattr(form, f"validate_{question}")(answer, dispatcher, tracker, domain)
        # The statement waits in its slot for its date, then both are recorded together.
        kept = answer if question == "letter_statement" else "ok"
        assert result == {question: kept}, (question, responses(dispatcher))
        tracker.slots.update(result)
    case = repository().open_case(code, secret).to_dict()
    assert case["victim"]["last_name"] == "Zorglubin"
    assert (case["victim"]["postal_code"], case["court_city"]) == ("44000", "Nantes")
    assert [(e["excerpt"], e.get("published_at")) for e in case["evidence"]] == [
        (ANSWERS["letter_statement"], "2026-11-20")
    ]
    # HTML and template syntax are kept as text.
    assert (case["victim"]["birth_date"], case["victim"]["birth_place"]) == (
        "1978-03-12",
        "<i>Rezé</i> {{ 7*7 }}",
    )

    dispatcher = CollectingDispatcher()
    await ActionComplaintSummary().run(dispatcher, tracker, domain)
    assert (
        "Camille Zorglubin, 12 rue des Lilas, 44000 Nantes"
        in message(dispatcher, "utter_complaint_summary")["summary"]
    )

    dispatcher = CollectingDispatcher()
    await ActionDeliverComplaint().run(dispatcher, tracker, domain)
    ready = message(dispatcher, "utter_complaint_ready")
    assert "plainte" in ready["letter"].lower() and "brouillon à vérifier" in ready["letter"]
    letters = repository().read_case(code).letters
    assert [(x.kind, x.media_type) for x in letters] == [
        ("procureur", "application/pdf"),
        ("procureur", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ]
    for url, number, magic in ((ready["pdf"], 1, b"%PDF"), (ready["docx"], 2, b"PK")):
        token = url.rsplit("/", 1)[1].rsplit(".", 1)[0]
        link = links.read_token(links.link_key(), token)
        assert link is not None and (link.code, link.number) == (code, number)
        status, body, headers = letter_response(token)
        assert status == 200 and body.startswith(magic)
        assert body == repository().letter_content(code, number)
        assert "attachment" in headers["Content-Disposition"]
    assert letter_response("forged.token")[0] == 404


async def test_a_bad_answer_is_explained_and_nothing_is_written(domain: dict[str, Any]) -> None:
    code, secret, slots = await start_case(domain)
    slots["case_code"] = code
    dispatcher = CollectingDispatcher()
    result = await ValidateComplaintForm().validate_letter_city(
        "Nantes", dispatcher, make_tracker("x", slots=slots), domain
    )
    assert result == {"letter_city": None}
    assert responses(dispatcher) == ["utter_complaint_city_unreadable"]
    assert repository().open_case(code, secret).to_dict()["victim"].get("city") is None


async def test_birth_questions_can_be_skipped_and_refuse_a_future_date(
    domain: dict[str, Any],
) -> None:
    """Optional questions: « passer » writes nothing (the letter leaves a blank); a date in the
    future is explained and asked again; nothing already recorded is lost."""
    code, secret, slots = await start_case(domain)
    slots["case_code"] = code
    tracker = make_tracker("x", slots=slots)
    form = ValidateComplaintForm()
    before = repository().open_case(code, secret).to_dict()
    for question in ("letter_birth_date", "letter_birth_place"):
        dispatcher = CollectingDispatcher()
        validate = getattr(form, f"validate_{question}")
        assert await validate("je passe", dispatcher, tracker, domain) == {question: "ok"}
        assert responses(dispatcher) == ["utter_complaint_birth_skipped"]
    dispatcher = CollectingDispatcher()
    result = await form.validate_letter_birth_date("le 3 mars 2030", dispatcher, tracker, domain)
    assert result == {"letter_birth_date": None}
    assert responses(dispatcher) == ["utter_complaint_birth_date_future"]
    after = repository().open_case(code, secret).to_dict()
    assert after == before
    assert "birth_date" not in after.get("victim", {})


async def test_on_telegram_the_complaint_also_comes_as_documents(domain: dict[str, Any]) -> None:
    import base64

    code, _secret, slots = await start_case(domain)
    repo = repository()
    victim = {
        "first_name": "Camille",
        "last_name": "Zorglubin",
        "address": "12 rue des Lilas",
        "postal_code": "44000",
        "city": "Nantes",
    }
    summary = "Des dizaines de comptes me traitent d'escroc."
    repo.update_case(code, {"victim": victim, "incident": {"summary": summary}}, actor="cli")
    repo.add_evidence(code, {"excerpt": "escroc"}, actor="cli")
    sent: dict[str, list[dict[str, Any]]] = {}
    for channel in ("telegram", "rest"):
        events = [
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": "/affirm", "input_channel": channel},
        ]
        dispatcher = CollectingDispatcher()
        tracker = make_tracker("/affirm", intent="affirm", slots=slots, events=events)
        await ActionDeliverComplaint().run(dispatcher, tracker, domain)
        assert "utter_complaint_ready" in responses(dispatcher)
        sent[channel] = [m["custom"] for m in dispatcher.messages if m.get("custom")]
    assert sent["rest"] == []
    pdf, docx = (base64.b64decode(d["document"]["data_base64"]) for d in sent["telegram"])
    assert pdf.startswith(b"%PDF") and docx.startswith(b"PK")
    assert sent["telegram"][0]["document"]["filename"] == "plainte-procureur.pdf"
    assert "brouillon" in sent["telegram"][0]["caption"]
    # The documents are the letters kept in the case (Telegram ran first: letters 1 and 2).
    assert pdf == repo.letter_content(code, 1) and docx == repo.letter_content(code, 2)


async def test_a_case_full_of_letters_gets_a_french_refusal_not_an_outage(
    domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from riposte.letters import build, output
    from riposte.store.repository import Quotas

    code, _secret, slots = await start_case(domain)
    monkeypatch.setattr(build, "build_letter", lambda case, kind, today, options=None: "lettre")
    monkeypatch.setattr(output, "render", lambda document, fmt: b"%PDF lettre")
    monkeypatch.setattr(repository(), "quotas", Quotas(letters=1))
    dispatcher = CollectingDispatcher()
    events = await ActionDeliverComplaint().run(
        dispatcher, make_tracker("x", slots={**slots, "case_code": code}), domain
    )
    assert "courriers" in message(dispatcher, "utter_complaint_refused")["reason"]
    assert "utter_store_unavailable" not in responses(dispatcher)
    assert slot_events(events) == {"letter_possible": None}
    assert len(repository().read_case(code).letters) == 1
