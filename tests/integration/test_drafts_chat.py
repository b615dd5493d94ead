"""The other letters through the real stack: the erasure request, then the CNIL complaint a
month later with the request's date; the right of reply, the declaration to the Ordre, the
protection fonctionnelle and the letter to the author. Each is asked for in free French,
answered, confirmed, downloaded from its link and read back; on Telegram it arrives as files."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from devtools.waiting import wait_until
from riposte.letters.filters import date_fr, date_num
from tests.integration.conftest import TELEGRAM_SECRET, Fakes, Stack
from tests.integration.fakes import ThreadedTelegram
from tests.integration.letters import accept_case, letter_urls, pdf_text, texts
from tests.integration.test_telegram_stack import CHAT_ID, callback, post_update, update
from tests.letters.conftest import pdf_text as read_pdf

NAME = "Camille Zorglubin"
URL = "https://maps.app.goo.gl/AbCd123"
GOOGLE = (
    "Le 3 novembre, un patient a publié sur ma fiche Google un avis public qui dit que je suis "
    "un charlatan et un escroc. Je suis généraliste libéral, c'est un seul avis."
)


def buttons(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for r in replies for b in r.get("buttons", [])]


def converse(stack: Stack, sender: str, answers: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Say each answer and check the reply contains the expected words; the last replies."""
    replies: list[dict[str, Any]] = []
    for said, expected in answers:
        replies = stack.say(sender, said)
        assert expected in texts(replies), (said, texts(replies))
    return replies


def confirm_and_read(stack: Stack, sender: str, folder: Path) -> tuple[str, str]:
    """« C'est juste, rédiger » : the reply and the PDF's text, read back from its link."""
    replies = stack.say(sender, "/affirm")
    answer = texts(replies)
    assert "Votre courrier est prêt" in answer and "brouillon à vérifier" in answer, answer
    urls = letter_urls(answer)
    assert len(urls) == 2, answer
    return answer, " ".join(pdf_text(urls[0], folder).split())


def test_the_erasure_request_then_the_cnil_complaint(stack: Stack, tmp_path: Path) -> None:
    """The CNIL's steps: the erasure request; « saisir la CNIL » asks when it was sent, and a
    month later the complaint cites that day."""
    sender = "drafts-1"
    stack.say(sender, GOOGLE)
    offer = stack.say(sender, "je veux demander à Google d'effacer cet avis, au titre du RGPD")
    answer = texts(accept_case(lambda said: stack.say(sender, said), offer))
    assert "Demande d'effacement" in answer, answer
    replies = converse(
        stack,
        sender,
        [
            (NAME, "adresse"),
            ("12 rue des Lilas", "code postal"),
            ("44000 Nantes", "adresse électronique"),
            ("camille.zorglubin@exemple.fr", "adresse exacte"),
            (URL, "propos exacts"),
            ("« ce charlatan est un escroc »", "De quand datent"),
            ("le 3 novembre", "Est-ce juste ?"),
        ],
    )
    assert [b["payload"] for b in buttons(replies)] == ["/affirm", "/deny"]
    answer, pdf = confirm_and_read(stack, sender, tmp_path)
    assert "un mois" in answer and "CNIL" in answer  # how to send it, and what comes next
    assert "RGPD" in pdf and URL in pdf and "« ce charlatan est un escroc »" in pdf

    sent = date.today() - timedelta(days=40)
    replies = stack.say(sender, "le site n'a pas répondu, je veux saisir la CNIL")
    assert "Quand avez-vous envoyé cette demande" in texts(replies), texts(replies)
    replies = stack.say(sender, date_num(sent))
    assert f"demande d'effacement envoyée le {date_num(sent)}" in texts(replies), texts(replies)
    assert "Est-ce juste ?" in texts(replies)  # nothing else to ask: the case holds the rest
    _answer, pdf = confirm_and_read(stack, sender, tmp_path)
    assert "Commission nationale de l'informatique et des libertés" in pdf
    assert f"J'ai adressé le {date_fr(sent)} au responsable du traitement" in pdf


def test_the_platform_did_nothing(stack: Stack) -> None:
    """The CNIL's steps: a report the platform ignored leads to the DSA's ways to contest, and
    to the erasure request, drafted from its button."""
    sender = "drafts-5"
    stack.say(sender, GOOGLE)
    replies = stack.say(sender, "j'ai signalé l'avis il y a trois semaines et Google n'a rien fait")
    answer = texts(replies)
    assert "Contester un refus de la plateforme" in answer and "Arcom" in answer, answer
    erasure = next(b for b in buttons(replies) if "effacement" in b["title"])
    offer = stack.say(sender, erasure["payload"])
    answer = texts(accept_case(lambda said: stack.say(sender, said), offer))
    assert "Demande d'effacement" in answer, answer


def test_the_cnil_complaint_before_the_erasure_request(stack: Stack) -> None:
    sender = "drafts-2"
    stack.say(sender, GOOGLE)
    offer = stack.say(sender, "rédige ma plainte à la CNIL")
    replies = accept_case(lambda said: stack.say(sender, said), offer)
    not_sent = next(b for b in buttons(replies) if "pas encore envoyée" in b["title"])
    replies = stack.say(sender, not_sent["payload"])
    answer = texts(replies)
    assert "commençons par la **demande d'effacement**" in answer, answer
    assert "Demande d'effacement" in answer and "prénom et nom" in answer
    # Sent a week ago: the CNIL has to wait for the month the site has to answer.
    replies = converse(stack, sender, [("annuler", "")])
    replies = stack.say(sender, "je veux saisir la CNIL")
    replies = stack.say(sender, date_num(date.today() - timedelta(days=7)))
    answer = texts(replies)
    assert "le site a un mois pour répondre" in answer and "Est-ce juste" not in answer, answer


def test_the_right_of_reply_to_a_blog(stack: Stack, tmp_path: Path) -> None:
    sender = "drafts-3"
    stack.say(
        sender,
        "Le 3 novembre, un blog a publié un article public qui affirme que je falsifie des "
        "certificats, c'est faux ; l'auteur est un inconnu, je suis généraliste libérale.",
    )
    reply = "Ces affirmations sont inexactes. Je n'en dirai pas davantage, par respect du secret."
    offer = stack.say(sender, "je voudrais exercer mon droit de réponse")
    answer = texts(accept_case(lambda said: stack.say(sender, said), offer))
    assert "droit de réponse" in answer, answer
    converse(
        stack,
        sender,
        [
            (NAME, "adresse"),
            ("12 rue des Lilas", "code postal"),
            ("44000 Nantes", "adresse exacte"),
            ("https://blog.exemple.fr/article-42", "propos exacts"),
            ("passer", "doit citer les passages contestés"),  # refused: the law asks them
            ("« elle falsifie des certificats »", "De quand datent"),
            ("le 3 novembre", "texte de votre réponse"),
            (reply, "Est-ce juste ?"),
        ],
    )
    answer, pdf = confirm_and_read(stack, sender, tmp_path)
    assert "recommandé" in answer and "directeur de la publication" in answer
    assert reply in pdf and "https://blog.exemple.fr/article-42" in pdf


def test_the_declaration_to_the_ordre_and_the_letter_to_the_author(
    stack: Stack, tmp_path: Path
) -> None:
    sender = "drafts-4"
    stack.say(
        sender,
        "Le 3 novembre, un ancien patient (je sais qui c'est) a publié un avis Google public "
        "qui me traite de « grosse conne ». C'est un seul avis, je suis généraliste libérale.",
    )
    offer = stack.say(sender, "je veux déclarer l'incident au conseil départemental de l'Ordre")
    answer = texts(accept_case(lambda said: stack.say(sender, said), offer))
    assert "Déclaration d'incident" in answer, answer
    converse(
        stack,
        sender,
        [
            (NAME, "code postal"),
            ("44000 Nantes", "Racontez les **faits**"),  # the description is not kept as is
            ("Un ancien patient a publié un avis Google qui m'insulte.", "Est-ce juste ?"),
        ],
    )
    answer, pdf = confirm_and_read(stack, sender, tmp_path)
    assert "conseil départemental" in answer and "Nantes" in pdf

    replies = stack.say(sender, "écris une lettre à l'auteur pour qu'il retire son avis")
    assert "Demande de retrait adressée à l'auteur" in texts(replies), texts(replies)
    converse(
        stack,
        sender,
        [
            ("12 rue des Lilas", "nom de l'auteur"),
            ("M. Jean Durand", "adresse exacte"),
            (URL, "propos exacts"),
            ("« grosse conne »", "De quand datent"),
            ("le 3 novembre", "Est-ce juste ?"),
        ],
    )
    _answer, pdf = confirm_and_read(stack, sender, tmp_path)
    assert "M. Jean Durand" in pdf and "« grosse conne »" in pdf


@pytest.fixture(scope="module")
def telegram(stacks: dict[str, Stack], fakes: Fakes) -> tuple[Stack, ThreadedTelegram]:
    """The shared token stack, started with TELEGRAM_* pointing at the fake (conftest.py)."""
    return stacks["token"], fakes.telegram


def test_the_protection_fonctionnelle_arrives_on_telegram(
    telegram: tuple[Stack, ThreadedTelegram], tmp_path: Path
) -> None:
    """A hospital doctor asks on Telegram; the letter arrives as two files in her chat."""
    stack, fake = telegram
    chat = CHAT_ID + 20

    def send(number: int, text: str) -> None:
        message = update(number, text)
        message["message"]["chat"]["id"] = message["message"]["from"]["id"] = chat
        assert post_update(stack, message, TELEGRAM_SECRET) == 200

    def to_chat() -> list[Any]:
        return [c for c in fake.api.of("sendMessage") if str(c.fields["chat_id"]) == str(chat)]

    said = [
        "Je suis praticienne hospitalière aux urgences du CHU. Depuis le 3 novembre, un "
        "inconnu publie chaque jour sur Facebook des messages publics où il me traite "
        "d'incompétente et de criminelle.",
        "rédige ma demande de protection fonctionnelle pour mon employeur",
        "oui",  # to the case file the letter is kept in
        NAME,
        "44000 Nantes",
        "praticienne hospitalière aux urgences",
        "Un inconnu publie chaque jour sur Facebook des messages qui m'insultent.",
    ]
    for number, text in enumerate(said, start=300):
        send(number, text)
    wait_until(lambda: any("Est-ce juste ?" in c.fields["text"] for c in to_chat()), "the summary")
    summary = next(c for c in to_chat() if "Est-ce juste ?" in c.fields["text"])
    assert "Demande de protection fonctionnelle" in summary.fields["text"]
    assert "praticienne hospitalière aux urgences" in summary.fields["text"]
    pressed = callback(320, "/affirm")
    pressed["callback_query"]["from"]["id"] = chat
    pressed["callback_query"]["message"]["chat"]["id"] = chat
    before = len(fake.api.of("sendDocument"))
    assert post_update(stack, pressed, TELEGRAM_SECRET) == 200
    documents = fake.wait_for("sendDocument", count=before + 2)[before:]
    assert sorted(c.files["document"][0] for c in documents) == [
        "protection-fonctionnelle.docx",
        "protection-fonctionnelle.pdf",
    ]
    assert all(str(c.fields["chat_id"]) == str(chat) for c in documents)
    pdf = next(c.files["document"][1] for c in documents if c.files["document"][0].endswith("pdf"))
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "protection-fonctionnelle.pdf"
    path.write_bytes(pdf)
    text = " ".join(read_pdf(path).split())
    assert "protection fonctionnelle" in text and "praticienne hospitalière aux urgences" in text
    assert "Camille ZORGLUBIN" in text
