"""The other letters from the chat (erasure request, CNIL complaint, right of reply, declaration
to the Ordre, protection fonctionnelle, letter to the author): the form and the delivery,
against a real store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.common import repository, today
from actions.drafts import (
    EXPLAINED,
    ActionCorrectDraft,
    ActionDeliverDraft,
    ActionDraftSummary,
    ActionExplainDraftQuestion,
    ActionStartDraft,
    ValidateDraftForm,
)
from riposte.chat import drafts as chat
from riposte.letters.filters import date_fr, date_num
from riposte.web.letters import letter_response
from tests.actions.test_case_actions import message
from tests.actions.test_letter_actions import LAWFUL_CRITICISM
from tests.actions.test_notice_actions import GOOGLE, TWO_PLATFORMS, describe
from tests.actions.test_triage_actions import make_tracker, responses, slot_events
from tests.letters.conftest import pdf_text

URL = "https://maps.app.goo.gl/AbCd123"
ANSWERS = {
    "letter_name": "Dr Camille Zorglubin",
    "letter_address": "3 rue des Lilas",
    "letter_city": "44000 Nantes",
    "notice_email": "camille.zorglubin@exemple.fr",
    "draft_profession": "praticienne hospitalière aux urgences",
    "draft_author": "M. Jean Durand",
    "letter_first_published": "le 3 novembre",
    "letter_summary": "Un patient a publié un avis qui me traite de charlatan et d'escroc.",
    "notice_url": f"le lien : {URL}",
    "letter_statement": "« ce charlatan est un escroc qui tue ses patients »",
    "letter_statement_date": "le 3/11",
    "draft_reply": "Je conteste ces affirmations, inexactes ; je ne commenterai pas davantage.",
}


def choice(kind: str) -> list[dict[str, Any]]:
    return [{"entity": "choice", "value": f"draft_kind={kind}"}]


async def start(
    domain: dict[str, Any], slots: dict[str, Any], request: str, kind: str | None = None
) -> tuple[CollectingDispatcher, dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    entities = choice(kind) if kind else None
    tracker = make_tracker(request, intent="request_letter", slots=slots, entities=entities)
    events = await ActionStartDraft().run(dispatcher, tracker, domain)
    return dispatcher, slot_events(events)


async def answer(
    domain: dict[str, Any], slots: dict[str, Any], question: str, text: str, **kwargs: Any
) -> tuple[dict[str, Any], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, intent="inform", slots=slots, **kwargs)
    validate = getattr(ValidateDraftForm(), f"validate_{question}")
    return await validate(text, dispatcher, tracker, domain), dispatcher


async def fill(domain: dict[str, Any], slots: dict[str, Any]) -> list[str]:
    """Answer every question the form asks, in its order; the questions asked."""
    form = ValidateDraftForm()
    asked: list[str] = []
    while True:
        tracker = make_tracker("x", slots=slots)
        left = await form.required_slots(
            form.domain_slots(domain), CollectingDispatcher(), tracker, domain
        )
        left = [name for name in left if slots.get(name) is None]
        if not left:
            return asked
        question = left[0]
        result, dispatcher = await answer(domain, slots, question, ANSWERS[question])
        assert result.get(question) is not None, (question, responses(dispatcher))
        asked.append(question)
        slots.update(result)


async def deliver(
    domain: dict[str, Any], slots: dict[str, Any], code: str, kind: str, folder: Path
) -> tuple[CollectingDispatcher, str]:
    """The summary, then « oui »: the letter's PDF, read back through its download link."""
    dispatcher = CollectingDispatcher()
    await ActionDraftSummary().run(dispatcher, make_tracker("x", slots=slots), domain)
    summary = message(dispatcher, "utter_draft_summary")["summary"]
    assert chat.letter_label(kind) in summary
    dispatcher = CollectingDispatcher()
    events = await ActionDeliverDraft().run(dispatcher, make_tracker("oui", slots=slots), domain)
    ready = message(dispatcher, "utter_draft_ready")
    assert responses(dispatcher)[-1] == f"utter_draft_send_{kind}"
    assert slot_events(events)["draft_possible"] is None
    assert [x.kind for x in repository().read_case(code).letters][-2:] == [kind, kind]
    token = ready["pdf"].rsplit("/", 1)[1].rsplit(".", 1)[0]
    status, body, _headers = letter_response(token)
    assert status == 200 and body.startswith(b"%PDF")
    path = folder / f"{kind}.pdf"
    path.write_bytes(body)
    text = " ".join(pdf_text(path).split())
    assert "Camille ZORGLUBIN" in text, kind
    return dispatcher, text


async def test_without_a_letter_named_the_doctor_chooses(domain: dict[str, Any]) -> None:
    dispatcher, found = await start(domain, {}, "rédigez-moi un courrier")
    assert responses(dispatcher) == ["utter_ask_draft_kind"]
    assert found == {"draft_possible": False}
    buttons = domain["responses"]["utter_ask_draft_kind"][0]["buttons"]
    kinds = [
        b["payload"].split("draft_kind=")[1].rstrip('"}')
        for b in buttons
        if "draft_kind" in b["payload"]
    ]
    assert kinds == list(chat.KINDS)
    # The complaint and the notice have their own skill: sent there.
    dispatcher, found = await start(domain, {}, "je veux porter plainte au procureur")
    assert responses(dispatcher) == ["utter_draft_other_skill_procureur"]


async def test_no_letter_before_the_facts(domain: dict[str, Any]) -> None:
    dispatcher, found = await start(domain, {}, "demande d'effacement", "erasure_request")
    assert responses(dispatcher) == ["utter_draft_needs_facts"]
    assert found["draft_possible"] is False


async def test_erasure_request_end_to_end(domain: dict[str, Any], tmp_path: Path) -> None:
    code, _secret, slots = await describe(domain, GOOGLE)
    dispatcher, found = await start(domain, slots, "je veux faire effacer cet avis (RGPD)")
    assert found["draft_kind"] == "erasure_request" and found["draft_possible"] is True
    assert found["notice_platform"] == "google_reviews"
    start_message = message(dispatcher, "utter_draft_start")
    assert start_message["count"] == len(found["draft_missing"])
    slots.update(found)
    assert await fill(domain, slots) == [
        "letter_name",
        "letter_address",
        "letter_city",
        "notice_email",
        "notice_url",
        "letter_statement",
        "letter_statement_date",
    ]
    _dispatcher, pdf = await deliver(domain, slots, code, "erasure_request", tmp_path)
    assert URL in pdf and "camille.zorglubin@exemple.fr" in pdf and "RGPD" in pdf


async def test_cnil_complaint_after_the_erasure_request(
    domain: dict[str, Any], tmp_path: Path
) -> None:
    code, _secret, slots = await describe(domain, GOOGLE)
    dispatcher, found = await start(domain, slots, "saisir la CNIL")
    assert found["draft_kind"] == "cnil_complaint"
    assert found["draft_missing"][0] == "draft_erasure_date"
    slots.update(found)
    # Not sent yet: the form goes on with the erasure request.
    result, dispatcher = await answer(domain, slots, "draft_erasure_date", "non, pas encore")
    assert responses(dispatcher)[:2] == ["utter_draft_erasure_first", "utter_draft_start"]
    assert result["draft_kind"] == "erasure_request" and result["draft_erasure_date"] == "no"
    assert "draft_erasure_date" not in result["draft_missing"]

    # Sent 40 days ago: the step is marked on that day, the complaint cites it.
    sent = today() - timedelta(days=40)
    dispatcher, found = await start(domain, slots, "plainte CNIL", "cnil_complaint")
    slots.update(found)
    result, dispatcher = await answer(domain, slots, "draft_erasure_date", date_num(sent))
    assert message(dispatcher, "utter_draft_erasure_recorded")["date"] == date_num(sent)
    assert result == {"draft_erasure_date": sent.isoformat(), "steps_done": ["erasure_request"]}
    steps = {s.key: s for s in repository().read_case(code).steps}
    assert steps["erasure_request"].done and steps["erasure_request"].done_on == sent
    slots.update(result)
    await fill(domain, slots)
    _dispatcher, pdf = await deliver(domain, slots, code, "cnil_complaint", tmp_path)
    assert f"J'ai adressé le {date_fr(sent)} au responsable du traitement" in pdf
    letter = repository().read_case(code).letters[-2]
    text = repository().letter_content(code, letter.number)
    assert text is not None and text.startswith(b"%PDF")

    # Asked again later: the date is known, not asked again.
    _dispatcher, found = await start(domain, slots, "plainte CNIL", "cnil_complaint")
    assert "draft_erasure_date" not in found["draft_missing"]


async def test_cnil_complaint_waits_for_the_month(domain: dict[str, Any]) -> None:
    code, _secret, slots = await describe(domain, GOOGLE)
    _dispatcher, found = await start(domain, slots, "plainte CNIL", "cnil_complaint")
    slots.update(found)
    sent = today() - timedelta(days=10)
    result, dispatcher = await answer(domain, slots, "draft_erasure_date", date_num(sent))
    pending = message(dispatcher, "utter_draft_refused_erasure_pending")
    assert pending["sent_on"] == date_num(sent) and pending["due"] > ""
    assert result["draft_possible"] is False
    slots.update(result)
    form = ValidateDraftForm()
    left = await form.required_slots(
        form.domain_slots(domain), CollectingDispatcher(), make_tracker("x", slots=slots), domain
    )
    assert left == []  # the form ends: no question, no summary
    dispatcher = CollectingDispatcher()
    assert await ActionDraftSummary().run(dispatcher, make_tracker("x", slots=slots), domain) == []
    assert dispatcher.messages == []
    # Asked again before the month is out: the date is known, the wait is told at once.
    dispatcher, found = await start(domain, slots, "plainte CNIL", "cnil_complaint")
    assert message(dispatcher, "utter_draft_refused_erasure_pending")["sent_on"] == date_num(sent)
    assert found["draft_possible"] is False


async def test_functional_protection_for_a_hospital_doctor(
    domain: dict[str, Any], tmp_path: Path
) -> None:
    code, _secret, slots = await describe(
        domain,
        "Je suis praticienne hospitalière aux urgences du CHU. Depuis le 3 novembre, un inconnu "
        "publie chaque jour sur Facebook des messages publics où il me traite d'incompétente et "
        "de criminelle.",
    )
    assert slots.get("practice") == "hospital"
    dispatcher, found = await start(domain, slots, "ma demande de protection fonctionnelle")
    assert found.get("draft_kind") == "functional_protection", [
        (m["response"], m.get("reason")) for m in dispatcher.messages
    ]
    slots.update(found)
    asked = await fill(domain, slots)
    assert "draft_profession" in asked and "notice_url" not in asked
    _dispatcher, pdf = await deliver(domain, slots, code, "functional_protection", tmp_path)
    assert "protection fonctionnelle" in pdf and ANSWERS["draft_profession"] in pdf


async def test_functional_protection_refused_in_private_practice(domain: dict[str, Any]) -> None:
    _code, _secret, slots = await describe(domain, GOOGLE)  # « généraliste libéral »
    dispatcher, found = await start(domain, slots, "protection fonctionnelle")
    assert responses(dispatcher)[-1] == "utter_draft_refused_hospital_practice"
    assert found["draft_possible"] is False


async def test_declaration_to_the_ordre(domain: dict[str, Any], tmp_path: Path) -> None:
    code, _secret, slots = await describe(domain, GOOGLE)
    _dispatcher, found = await start(domain, slots, "déclarer l'incident au CDOM")
    assert found["draft_kind"] == "cdom_declaration"
    slots.update(found)
    asked = await fill(domain, slots)
    assert asked[:2] == ["letter_name", "letter_city"] and "notice_email" not in asked
    _dispatcher, pdf = await deliver(domain, slots, code, "cdom_declaration", tmp_path)
    assert "conseil départemental" in pdf and "Nantes" in pdf


async def test_right_of_reply_on_a_blog(domain: dict[str, Any], tmp_path: Path) -> None:
    code, _secret, slots = await describe(
        domain,
        "Le 3 novembre, un blog a publié un article public qui affirme que je falsifie des "
        "certificats, c'est faux ; l'auteur est un inconnu, je suis généraliste libérale, on ne "
        "peut pas commenter.",
    )
    _dispatcher, found = await start(domain, slots, "je veux exercer mon droit de réponse")
    assert found["draft_kind"] == "right_of_reply", found
    slots.update(found)
    asked = await fill(domain, slots)
    assert asked[-1] == "draft_reply"
    # The reply is the doctor's text, kept in the slot for the letter.
    assert slots["draft_reply"] == ANSWERS["draft_reply"]
    _dispatcher, pdf = await deliver(domain, slots, code, "right_of_reply", tmp_path)
    assert ANSWERS["draft_reply"] in pdf
    letter = repository().read_case(code).letters[-1]  # the DOCX keeps the text searchable
    content = repository().letter_content(code, letter.number)
    assert content is not None and content.startswith(b"PK")


async def test_right_of_reply_where_one_can_answer_in_place(domain: dict[str, Any]) -> None:
    _code, _secret, slots = await describe(domain, GOOGLE)
    dispatcher, found = await start(domain, slots, "droit de réponse")
    refused = message(dispatcher, "utter_draft_refused_right_of_reply_in_place")
    assert "Google" in refused["label"]
    assert found["draft_possible"] is False


async def test_letter_to_a_known_author(domain: dict[str, Any], tmp_path: Path) -> None:
    code, _secret, slots = await describe(
        domain,
        "Le 3 novembre, un ancien patient (je sais qui c'est) a publié un avis Google public qui "
        "me traite de « grosse conne ». C'est un seul avis, je suis généraliste libérale.",
    )
    dispatcher, found = await start(domain, slots, "écrire à l'auteur pour qu'il retire son avis")
    assert found.get("draft_kind") == "formal_notice", responses(dispatcher)
    slots.update(found)
    asked = await fill(domain, slots)
    assert "draft_author" in asked
    _dispatcher, pdf = await deliver(domain, slots, code, "formal_notice", tmp_path)
    assert "M. Jean Durand" in pdf and "« ce charlatan est un escroc qui tue ses patients »" in pdf


async def test_no_letter_to_a_harasser(domain: dict[str, Any]) -> None:
    _code, _secret, slots = await describe(domain, TWO_PLATFORMS)
    dispatcher, found = await start(domain, slots, "une mise en demeure à l'auteur")
    refused = [r for r in responses(dispatcher) if r.startswith("utter_draft_refused_author_")]
    assert refused and found["draft_possible"] is False
    buttons = domain["responses"][refused[0]][0]["buttons"]
    assert {"title": "Rédiger ma plainte", "payload": "/draft_complaint"} in buttons


async def test_lawful_criticism_is_explained(domain: dict[str, Any]) -> None:
    dispatcher, found = await start(domain, dict(LAWFUL_CRITICISM), "déclaration à l'Ordre")
    assert "utter_draft_refused_offense_retained" in responses(dispatcher)
    assert found["draft_possible"] is False


async def test_several_sites_the_doctor_chooses(domain: dict[str, Any]) -> None:
    _code, _secret, slots = await describe(domain, TWO_PLATFORMS)
    _dispatcher, found = await start(domain, slots, "demande d'effacement RGPD")
    assert found["notice_platform"] is None
    assert found["notice_choices"] == ["tiktok", "google_reviews"]
    assert found["draft_missing"][0] == "notice_platform"


async def test_why_and_correct(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("pourquoi ?", slots={"requested_slot": "draft_profession"})
    await ActionExplainDraftQuestion().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_why_draft_draft_profession"]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("non", slots={"draft_kind": "functional_protection"})
    events = slot_events(await ActionCorrectDraft().run(dispatcher, tracker, domain))
    assert events["draft_missing"] == [
        "letter_name",
        "letter_city",
        "draft_profession",
        "letter_first_published",
        "letter_summary",
    ]


def test_every_refusal_and_question_has_its_words(domain: dict[str, Any]) -> None:
    said = domain["responses"]
    assert all(f"utter_draft_refused_{detail}" in said for detail in EXPLAINED)
    assert all(f"utter_why_draft_{question}" in said for question in chat.QUESTIONS)
    assert all(f"utter_draft_send_{kind}" in said for kind in chat.KINDS)
    assert all(chat.response_for(key) in said for key in chat.OWN_MESSAGES)


def test_a_step_with_its_letter_offers_to_draft_it() -> None:
    """« Étape suivante » : a step whose letter the chat can draft carries its button."""
    from types import SimpleNamespace

    from actions.advice import step_buttons

    def payloads(letter: str | None, response: str = "utter_next_step") -> list[str]:
        return [b["payload"] for b in step_buttons(SimpleNamespace(letter=letter), response)]

    assert payloads("erasure_request") == [
        '/request_letter{"choice": "draft_kind=erasure_request"}'
    ]
    assert payloads("platform_notice") == ["/request_platform_notice"]
    assert payloads("procureur") == ["/draft_complaint"]
    # The first step that offers the complaint has its button already; no letter, no button.
    assert payloads("procureur", "utter_first_step_complaint") == []
    assert payloads(None) == []
    # Each payload fits Telegram's 64 bytes of callback data.
    assert all(len(payloads(kind)[0].encode()) <= 64 for kind in chat.KINDS)


async def test_the_platform_did_nothing_leads_to_the_ways_to_contest(
    domain: dict[str, Any],
) -> None:
    """The CNIL's steps: a report the platform ignored or refused is ticked (the case keeps its
    day), and the DSA's ways to contest come, with the letters that may follow."""
    from actions.advice import ActionPlatformRefused

    code, _secret, slots = await describe(domain, GOOGLE)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("Google n'a rien fait", intent="platform_refused", slots=slots)
    events = slot_events(await ActionPlatformRefused().run(dispatcher, tracker, domain))
    refused = message(dispatcher, "utter_platform_refused")
    assert refused["label"] == "Contester un refus de la plateforme"
    assert "article 20 du DSA" in refused["what"] and "Arcom" in refused["what"]
    assert [b["title"] for b in refused["buttons"]] == [
        "Demande d'effacement (RGPD)",
        "Rédiger ma plainte",
    ]
    assert "report_to_platform" in events["steps_done"]
    assert (events["current_step"], events["last_explained"]) == ("dsa_appeal", "step:dsa_appeal")
    steps = {s.key: s for s in repository().read_case(code).steps}
    assert steps["report_to_platform"].done and steps["report_to_platform"].done_on == today()

    # Private messages: no platform to contest, the complaint instead.
    _code, _secret, private = await describe(
        domain,
        "Depuis le 2 novembre un patient m'envoie chaque jour des courriels où il me traite "
        "d'escroc, je suis généraliste libéral",
    )
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("il n'a rien fait", intent="platform_refused", slots=private)
    assert await ActionPlatformRefused().run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == ["utter_platform_refused_private"]
    # Before any description: the facts first.
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("rien", intent="platform_refused", slots={})
    await ActionPlatformRefused().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_no_advice_yet"]


async def test_a_step_ticked_tells_what_the_other_side_owes(domain: dict[str, Any]) -> None:
    """« C'est fait » on the report or the erasure request: what comes next, and when."""
    from actions.advice import ActionMarkStepDone

    _code, _secret, slots = await describe(domain, GOOGLE)
    slots["advice_given"] = True
    said: dict[str, list[dict[str, Any]]] = {}
    for step in ("report_to_platform", "erasure_request"):
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(
            "c'est fait", intent="mark_step_done", slots={**slots, "current_step": step}
        )
        await ActionMarkStepDone().run(dispatcher, tracker, domain)
        said[step] = dispatcher.messages
    assert [m["response"] for m in said["report_to_platform"]][:2] == [
        "utter_step_ticked",
        "utter_step_ticked_report_to_platform",
    ]
    due = next(m for m in said["erasure_request"] if m["response"].endswith("erasure_request"))
    assert due["due"] == date_num(chat.answer_due(today(), today()) or today())


def test_the_answers_about_a_letter_offer_to_draft_it() -> None:
    """« C'est quoi la protection fonctionnelle ? » : the answer, and the letter on a button."""
    import yaml

    from tests.actions.conftest import ROOT

    answers = yaml.safe_load((ROOT / "data" / "nlu" / "faq.yml").read_text(encoding="utf-8"))
    offered = {
        key: [b["payload"] for b in value[0].get("buttons", [])]
        for key, value in answers["responses"].items()
    }
    assert offered["utter_faq/cnil"] == [
        '/request_letter{"choice": "draft_kind=erasure_request"}',
        '/request_letter{"choice": "draft_kind=cnil_complaint"}',
    ]
    assert offered["utter_faq/functional_protection"] == [
        '/request_letter{"choice": "draft_kind=functional_protection"}'
    ]
    assert offered["utter_faq/ordre_role"] == [
        '/request_letter{"choice": "draft_kind=cdom_declaration"}'
    ]


async def facts_only(domain: dict[str, Any], text: str) -> dict[str, Any]:
    """Describe a situation and keep no case: the slots."""
    from actions.triage import ActionAnalyzeSituation

    dispatcher = CollectingDispatcher()
    events = await ActionAnalyzeSituation().run(dispatcher, make_tracker(text), domain)
    return slot_events(events)


async def test_a_letter_offers_the_case_file_and_a_yes_opens_it(domain: dict[str, Any]) -> None:
    slots = await facts_only(domain, GOOGLE)
    request = "je veux faire effacer cet avis (RGPD)"
    dispatcher, found = await start(domain, slots, request)
    assert responses(dispatcher) == ["utter_case_offer_letter"]
    assert found["case_offer"] == "letter" and found["draft_possible"] is False
    assert "case_code" not in found
    slots.update(found)
    # « oui »: the start action runs again (data/rules/case.yml) and reads the letter asked
    # for in the request before the yes.
    said = [
        {"event": "user", "text": request, "parse_data": {"intent": {"name": "request_letter"}}},
        {"event": "action", "name": "action_start_draft"},
        {"event": "user", "text": "oui", "parse_data": {"intent": {"name": "affirm"}}},
    ]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("oui", intent="affirm", slots=slots, events=said)
    found = slot_events(await ActionStartDraft().run(dispatcher, tracker, domain))
    # The case's first follow-up (the review's press deadline) is announced as it opens.
    assert responses(dispatcher) == [
        "utter_case_created",
        "utter_follow_ups_announced_web",
        "utter_draft_start",
    ]
    created = message(dispatcher, "utter_case_created")
    assert found["case_code"] == created["code"] and found["case_offer"] is None
    assert found["draft_kind"] == "erasure_request" and found["draft_possible"] is True
    stored = repository().open_case(created["code"], created["secret"]).to_dict()
    assert stored["incident"]["platforms"] == ["google_reviews"]


async def test_a_bare_yes_without_an_offer_opens_no_case(domain: dict[str, Any]) -> None:
    slots = await facts_only(domain, GOOGLE)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("oui", intent="affirm", slots=slots, entities=choice("erasure_request"))
    found = slot_events(await ActionStartDraft().run(dispatcher, tracker, domain))
    assert responses(dispatcher) == ["utter_case_offer_letter"] and "case_code" not in found


async def test_no_to_the_case_for_a_letter_says_what_still_works(
    domain: dict[str, Any],
) -> None:
    from actions.case import ActionDeclineCase

    dispatcher = CollectingDispatcher()
    tracker = make_tracker("non", intent="deny", slots={"case_offer": "letter"})
    found = slot_events(await ActionDeclineCase().run(dispatcher, tracker, domain))
    assert responses(dispatcher) == ["utter_case_declined_letter"]
    assert found == {"case_offer": "declined"}


async def test_a_refused_letter_offers_no_case(domain: dict[str, Any]) -> None:
    slots = dict(LAWFUL_CRITICISM)
    dispatcher, found = await start(domain, slots, "déclaration à l'Ordre", "cdom_declaration")
    assert responses(dispatcher) == ["utter_draft_refused_offense_retained"]
    assert "case_offer" not in found


async def test_an_unsure_open_case_opens_no_case_for_a_letter(domain: dict[str, Any]) -> None:
    slots = {**(await facts_only(domain, GOOGLE)), "case_offer": "letter"}
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("bof, un dossier ?", intent="open_case", slots=slots)
    tracker.latest_message["intent"]["confidence"] = 0.6
    tracker.latest_message["entities"] = choice("erasure_request")
    found = slot_events(await ActionStartDraft().run(dispatcher, tracker, domain))
    assert responses(dispatcher) == ["utter_case_offer_letter"] and "case_code" not in found
