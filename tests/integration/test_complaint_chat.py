"""« Rédiger ma plainte » through the real stack: the form asks only what is missing, the
summary is confirmed, and the complaint is downloaded from the web page's link."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.integration.conftest import Stack
from tests.integration.letters import letter_urls, pdf_text, texts

NAME = "Camille Zorglubin"


def test_complaint_is_drafted_in_the_chat_and_downloaded(stack: Stack, tmp_path: Any) -> None:
    sender = "complaint-1"
    stack.say(
        sender,
        "Depuis le 2 novembre des dizaines de comptes me traitent d'escroc sur TikTok, "
        "je suis généraliste libérale",
    )
    replies = stack.say(sender, "rédiger ma plainte")
    # The complaint is kept in the case file: offered first, opened on the doctor's yes.
    assert "dossier chiffré" in texts(replies) and "Je prépare" not in texts(replies)
    assert [b["payload"] for r in replies for b in r.get("buttons", [])] == [
        "/open_case",
        "/decline_case",
    ]
    replies = stack.say(sender, "oui")
    assert "Code du dossier" in texts(replies) and "Phrase secrète" in texts(replies)
    assert "Je prépare votre plainte" in texts(replies)
    assert "prénom et nom" in texts(replies)
    answers = [
        (NAME, "date de naissance"),
        ("le 3 mars 2030", "dans le futur"),  # refused, asked again, nothing lost
        ("12/03/1978", "lieu de naissance"),
        ("passer", "adresse"),  # optional: the complaint leaves a blank
        ("12 rue des Lilas", "code postal"),
        ("Nantes", "code postal à 5 chiffres"),  # refused, asked again, nothing lost
        ("44000 Nantes", "tribunal judiciaire"),
        ("la même", "Racontez les **faits**"),
        ("Depuis le 2 novembre, des dizaines de comptes me traitent d'escroc.", "propos exacts"),
        ("« cette généraliste est une escroc »", "De quand datent ces propos"),
        ("la semaine prochaine", "dans le futur"),  # refused, asked again, the quote kept
        ("il y a une semaine", "Est-ce juste ?"),
    ]
    for answer, expected in answers:
        replies = stack.say(sender, answer)
        assert expected in texts(replies), (answer, texts(replies))
    assert f"{NAME}, 12 rue des Lilas, 44000 Nantes" in texts(replies)
    assert "né(e) le 12/03/1978 à ……………" in texts(replies)
    assert [b["payload"] for r in replies for b in r.get("buttons", [])] == ["/affirm", "/deny"]

    replies = stack.say(sender, "/affirm")
    answer = texts(replies)
    assert "Votre plainte est prête" in answer and "brouillon à vérifier" in answer
    urls = letter_urls(answer)
    assert len(urls) == 2, answer
    pdf_url = urls[0]
    text = pdf_text(pdf_url, tmp_path)
    assert "ZORGLUBIN" in text.upper() and "Procureur de la République" in text
    assert "cette généraliste est une escroc" in text
    assert "12 mars 1978" in text and "signez-la à la main" in text

    forged = pdf_url[: pdf_url.rindex(".") - 3] + "AAA.pdf"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged, timeout=30)
    assert refused.value.code == 404


def test_no_complaint_without_facts(stack: Stack) -> None:
    replies = stack.say("complaint-2", "rédiger ma plainte")
    assert "il me faut d'abord les faits" in texts(replies)
