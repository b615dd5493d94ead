"""« Signaler à la plateforme » : the notice form and its delivery, against a real store."""

from __future__ import annotations

import base64
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.common import repository
from actions.notice import (
    ActionAskNoticePlatform,
    ActionCorrectNotice,
    ActionDeliverNotice,
    ActionExplainNoticeQuestion,
    ActionNoticeSummary,
    ActionStartNotice,
    ValidateNoticeForm,
)
from riposte.letters import links
from riposte.web.letters import letter_response
from tests.actions.test_case_actions import message
from tests.actions.test_letter_actions import LAWFUL_CRITICISM
from tests.actions.test_triage_actions import make_tracker, responses, slot_events

GOOGLE = (
    "Le 3 novembre, un patient a publié sur ma fiche Google un avis public qui dit que je suis "
    "un charlatan et un escroc qui tue ses patients. Je suis généraliste libéral, c'est un seul "
    "avis."
)
TWO_PLATFORMS = (
    "Depuis le 2 novembre, un ancien patient me harcèle : chaque jour des vidéos TikTok et des "
    "avis Google où il me traite d'escroc, je suis généraliste libérale"
)
URL = "https://maps.app.goo.gl/AbCd123"
ANSWERS = {
    "letter_name": "Dr Camille Zorglubin",
    "notice_email": "camille.zorglubin@exemple.fr",
    "letter_summary": "Un patient a publié un avis qui me traite de charlatan et d'escroc.",
    "notice_url": f"le lien : {URL}",
    "letter_statement": "« ce charlatan est un escroc qui tue ses patients »",
    "letter_statement_date": "le 3/11",
}
NOTICE_QUESTIONS = list(ANSWERS)


async def describe(domain: dict[str, Any], text: str) -> tuple[str, str, dict[str, Any]]:
    """Describe a situation, then say yes to the case file; returns the new case's code, its
    secret and the slots."""
    from actions.case import ActionOpenCase
    from actions.triage import ActionAnalyzeSituation

    dispatcher = CollectingDispatcher()
    slots = slot_events(await ActionAnalyzeSituation().run(dispatcher, make_tracker(text), domain))
    tracker = make_tracker("ouvrir un dossier", intent="open_case", slots=slots)
    slots.update(slot_events(await ActionOpenCase().run(dispatcher, tracker, domain)))
    created = message(dispatcher, "utter_case_created")
    return created["code"], created["secret"], slots


async def start(
    domain: dict[str, Any], slots: dict[str, Any], request: str = "signaler à la plateforme"
) -> tuple[CollectingDispatcher, dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(request, intent="request_platform_notice", slots=slots)
    events = await ActionStartNotice().run(dispatcher, tracker, domain)
    return dispatcher, slot_events(events)


async def answer(
    domain: dict[str, Any], slots: dict[str, Any], question: str, text: str, **kwargs: Any
) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, intent="inform", slots=slots, **kwargs)
    validate = getattr(ValidateNoticeForm(), f"validate_{question}")
    result = await validate(text, dispatcher, tracker, domain)
    return result, responses(dispatcher)


async def test_no_notice_before_the_facts(domain: dict[str, Any]) -> None:
    dispatcher, found = await start(domain, {})
    assert responses(dispatcher) == ["utter_notice_needs_facts"]
    assert found == {"notice_possible": False}


async def test_notice_from_the_chat_end_to_end(domain: dict[str, Any]) -> None:
    code, secret, slots = await describe(domain, GOOGLE)
    dispatcher, found = await start(domain, slots, "je veux signaler l'avis à Google")
    assert found["notice_possible"] is True
    # One platform in the case: it is the recipient, not asked.
    assert (found["notice_platform"], found["notice_choices"]) == ("google_reviews", [])
    assert found["notice_missing"] == NOTICE_QUESTIONS
    assert message(dispatcher, "utter_notice_start")["count"] == len(NOTICE_QUESTIONS)
    slots.update(found)

    form = ValidateNoticeForm()
    tracker = make_tracker("x", slots=slots)
    asked = await form.required_slots(form.domain_slots(domain), dispatcher, tracker, domain)
    assert asked == NOTICE_QUESTIONS
    # Refused answers are explained, asked again, and write nothing.
    for question, text, response in (
        ("notice_email", "camille chez exemple", "utter_notice_email_unreadable"),
        ("notice_url", "aucune", "utter_notice_url_needed"),
        ("notice_url", "sur ma fiche", "utter_notice_url_unreadable"),
        ("letter_name", "Camille", "utter_complaint_name_incomplete"),
    ):
        result, sent = await answer(domain, slots, question, text)
        assert (result, sent) == ({question: None}, [response]), question
    for question, text in ANSWERS.items():
        result, sent = await answer(domain, slots, question, text)
        # The address and the quote wait in their slots; the date records all three together.
        kept = {"notice_url": URL, "letter_statement": text}.get(question, "ok")
        assert result == {question: kept}, (question, sent)
        slots.update(result)
    case = repository().open_case(code, secret).to_dict()
    assert case["victim"]["email"] == "camille.zorglubin@exemple.fr"
    assert case["victim"]["last_name"] == "Zorglubin"
    assert [(e["url"], e["excerpt"], e["published_at"]) for e in case["evidence"]] == [
        (URL, ANSWERS["letter_statement"], "2026-11-03")
    ]

    dispatcher = CollectingDispatcher()
    await ActionNoticeSummary().run(dispatcher, make_tracker("x", slots=slots), domain)
    summary = message(dispatcher, "utter_notice_summary")["summary"]
    assert "Avis Google" in summary and URL in summary
    assert "Camille Zorglubin, camille.zorglubin@exemple.fr" in summary

    dispatcher = CollectingDispatcher()
    events = await ActionDeliverNotice().run(dispatcher, make_tracker("x", slots=slots), domain)
    ready = message(dispatcher, "utter_notice_ready")
    assert "Avis Google" in ready["letter"] and "brouillon à vérifier" in ready["letter"]
    assert slot_events(events)["notice_possible"] is None
    letters = repository().read_case(code).letters
    assert [x.kind for x in letters] == ["platform_notice", "platform_notice"]
    for url, number, magic in ((ready["pdf"], 1, b"%PDF"), (ready["docx"], 2, b"PK")):
        token = url.rsplit("/", 1)[1].rsplit(".", 1)[0]
        link = links.read_token(links.link_key(), token)
        assert link is not None and (link.code, link.number) == (code, number)
        status, body, _headers = letter_response(token)
        assert status == 200 and body.startswith(magic)


async def test_several_platforms_the_doctor_chooses(domain: dict[str, Any]) -> None:
    _code, _secret, slots = await describe(domain, TWO_PLATFORMS)
    dispatcher, found = await start(domain, slots)
    assert found["notice_platform"] is None
    assert found["notice_choices"] == ["tiktok", "google_reviews"]
    assert found["notice_missing"][0] == "notice_platform"
    slots.update(found)

    dispatcher = CollectingDispatcher()
    await ActionAskNoticePlatform().run(dispatcher, make_tracker("x", slots=slots), domain)
    buttons = message(dispatcher, "utter_ask_notice_platform")["buttons"]
    assert [b["title"] for b in buttons] == ["TikTok", "Avis Google (fiche d'établissement)"]
    assert buttons[1]["payload"] == '/inform{"choice": "notice_platform=google_reviews"}'

    choice = [{"entity": "choice", "value": "notice_platform=google_reviews"}]
    result, _ = await answer(
        domain, slots, "notice_platform", buttons[1]["payload"], entities=choice
    )
    assert result == {"notice_platform": "google_reviews"}
    assert (await answer(domain, slots, "notice_platform", "tik tok"))[0] == {
        "notice_platform": "tiktok"
    }
    # A platform the case does not name, or nothing recognised: explained and asked again.
    for text in ("Facebook", "je ne sais pas"):
        assert await answer(domain, slots, "notice_platform", text) == (
            {"notice_platform": None},
            ["utter_notice_platform_unknown"],
        )


async def test_the_platform_named_in_the_request_is_the_one(domain: dict[str, Any]) -> None:
    _code, _secret, slots = await describe(domain, TWO_PLATFORMS)
    _dispatcher, found = await start(domain, slots, "je veux faire retirer la vidéo TikTok")
    assert (found["notice_platform"], found["notice_choices"]) == ("tiktok", [])
    assert "notice_platform" not in found["notice_missing"]


async def test_lawful_criticism_is_explained_not_notified(domain: dict[str, Any]) -> None:
    dispatcher, found = await start(domain, dict(LAWFUL_CRITICISM))
    assert "utter_notice_refused_offense_retained" in responses(dispatcher)
    assert found["notice_possible"] is False


async def test_private_messages_get_the_way_forward(domain: dict[str, Any]) -> None:
    _code, _secret, slots = await describe(
        domain,
        "Depuis le 2 novembre un patient m'envoie chaque jour des courriels où il me traite "
        "d'escroc, je suis généraliste libéral",
    )
    dispatcher, found = await start(domain, slots)
    refused = message(dispatcher, "utter_notice_refused_platform_online")
    assert refused["label"] == "Courriel"
    assert found["notice_possible"] is False
    assert domain["responses"]["utter_notice_refused_platform_online"][0]["buttons"] == [
        {"title": "Rédiger ma plainte", "payload": "/draft_complaint"}
    ]


async def test_a_quote_can_be_skipped_and_old_statements_without_address_stay_out(
    domain: dict[str, Any],
) -> None:
    code, secret, slots = await describe(domain, GOOGLE)
    repo = repository()
    # A statement kept for the complaint, with no address: the notice cannot locate it.
    repo.add_evidence(code, {"excerpt": "propos sans adresse"}, actor="cli")
    repo.update_case(
        code,
        {
            "victim": {"first_name": "Camille", "last_name": "Zorglubin", "email": "c@z.fr"},
            "incident": {"summary": "Un avis me traite d'escroc."},
        },
        actor="cli",
    )
    _dispatcher, found = await start(domain, slots)
    assert found["notice_missing"] == ["notice_url", "letter_statement", "letter_statement_date"]
    slots.update(found)
    result, _ = await answer(domain, slots, "notice_url", URL)
    slots.update(result)
    result, sent = await answer(domain, slots, "letter_statement", "passer")
    assert result == {"letter_statement": "ok", "letter_statement_date": "ok"}
    assert sent == ["utter_notice_quote_skipped"]
    evidence = repo.open_case(code, secret).to_dict()["evidence"]
    assert [(e.get("url"), e.get("excerpt")) for e in evidence] == [
        (None, "propos sans adresse"),
        (URL, None),
    ]
    dispatcher = CollectingDispatcher()
    await ActionDeliverNotice().run(dispatcher, make_tracker("x", slots=slots), domain)
    ready = message(dispatcher, "utter_notice_ready")
    token = ready["pdf"].rsplit("/", 1)[1].rsplit(".", 1)[0]
    assert letter_response(token)[0] == 200
    summary = CollectingDispatcher()
    await ActionNoticeSummary().run(summary, make_tracker("x", slots=slots), domain)
    text = message(summary, "utter_notice_summary")["summary"]
    assert URL in text and "propos sans adresse" not in text


async def test_on_telegram_the_notice_also_comes_as_documents(domain: dict[str, Any]) -> None:
    code, _secret, slots = await describe(domain, GOOGLE)
    repo = repository()
    victim = {"first_name": "Camille", "last_name": "Zorglubin", "email": "c@z.fr"}
    repo.update_case(
        code,
        {"victim": victim, "incident": {"summary": "Un avis me traite d'escroc."}},
        actor="cli",
    )
    repo.add_evidence(code, {"url": URL, "excerpt": "escroc"}, actor="cli")
    slots["notice_platform"] = "google_reviews"
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "/affirm", "input_channel": "telegram"},
    ]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("/affirm", intent="affirm", slots=slots, events=events)
    await ActionDeliverNotice().run(dispatcher, tracker, domain)
    sent = [m["custom"] for m in dispatcher.messages if m.get("custom")]
    assert [d["document"]["filename"] for d in sent] == [
        "notification-plateforme.pdf",
        "notification-plateforme.docx",
    ]
    assert "notification" in sent[0]["caption"]
    pdf = base64.b64decode(sent[0]["document"]["data_base64"])
    assert pdf == repo.letter_content(code, 1)


async def test_why_and_correct(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("pourquoi ?", intent="ask_why", slots={"requested_slot": "notice_email"})
    await ActionExplainNoticeQuestion().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_why_notice_notice_email"]
    dispatcher = CollectingDispatcher()
    events = await ActionCorrectNotice().run(dispatcher, make_tracker("non"), domain)
    assert responses(dispatcher) == ["utter_notice_correct"]
    assert slot_events(events)["notice_missing"] == [
        "letter_name",
        "notice_email",
        "letter_summary",
    ]


async def test_an_email_read_as_a_complaint_request_is_the_answer(domain: dict[str, Any]) -> None:
    """The NLU reads « camille@exemple.fr » as draft_complaint (0.998 with the trained model):
    the address is still the answer, not a digression."""
    tracker = make_tracker(
        "camille@exemple.fr",
        intent="draft_complaint",
        slots={"requested_slot": "notice_email"},
        active_loop="notice_form",
    )
    found = await ValidateNoticeForm().get_extraction_events(
        CollectingDispatcher(), tracker, domain
    )
    assert slot_events(found) == {"notice_email": "camille@exemple.fr"}


async def test_the_form_opening_validates_no_empty_answer(domain: dict[str, Any]) -> None:
    """action_start_notice empties the form's slots; rasa-sdk then validates every slot set
    since the last user message when the form opens: no question may be answered « rien »."""
    code, _secret, slots = await describe(domain, TWO_PLATFORMS)
    _dispatcher, found = await start(domain, slots)
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "signaler à la plateforme"},
        {"event": "action", "name": "action_start_notice"},
        *({"event": "slot", "name": name, "value": value} for name, value in found.items()),
    ]
    tracker = make_tracker(
        "signaler à la plateforme",
        intent="request_platform_notice",
        slots={**slots, **found, "case_code": code},
        events=events,
        active_loop="notice_form",
    )
    dispatcher = CollectingDispatcher()
    validated = await ValidateNoticeForm().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == []
    assert all(value is None for name, value in slot_events(validated).items() if name in found)
