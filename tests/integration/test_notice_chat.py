"""« Signaler à la plateforme » through the real stack: the notice to the platform (article 16
of the Digital Services Act) asks only what the case lacks, chooses or asks the platform, and
is downloaded from the web page's link, then read back."""

from __future__ import annotations

from pathlib import Path

from tests.integration.conftest import Stack
from tests.integration.letters import letter_urls, pdf_text, texts

NAME = "Camille Zorglubin"
EMAIL = "camille.zorglubin@exemple.fr"
STORY = (
    "Un patient que je n'ai jamais soigné a publié un avis qui me traite de charlatan et d'escroc."
)


def buttons(replies: list[dict]) -> list[dict]:
    return [b for r in replies for b in r.get("buttons", [])]


def test_a_google_review_is_notified_to_google(stack: Stack, tmp_path: Path) -> None:
    sender = "notice-1"
    stack.say(
        sender,
        "Le 3 novembre, un patient a publié sur ma fiche Google un avis public qui dit que je "
        "suis un charlatan et un escroc. Je suis généraliste libéral, c'est un seul avis.",
    )
    replies = stack.say(sender, "je veux signaler l'avis à Google")
    assert "dossier chiffré" in texts(replies) and "/open_case" in str(buttons(replies))
    # The yes to the case file: opened (code and secret in one message), then the notice,
    # for the site the request named.
    replies = stack.say(sender, "/open_case")
    # The code, the secret and what to do with them: one message.
    assert "Code du dossier" in replies[0]["text"] and "Notez-les" in replies[0]["text"], replies
    # The case's first follow-up (the review's press deadline) is announced.
    assert "Un rappel est prévu le" in replies[1]["text"], replies
    replies = replies[2:]
    assert len(replies) == 2 and "notification à la plateforme" in replies[0]["text"], replies
    # One platform in the case: not asked.
    assert "figurer sur la notification" in texts(replies)
    assert "plateforme** voulez-vous" not in texts(replies)
    answers = [
        (NAME, "adresse électronique"),
        ("camille chez exemple", "Je ne reconnais pas d'adresse électronique"),  # asked again
        (EMAIL, "en quoi c'est faux ou insultant"),
        (STORY, "adresse exacte"),
        ("aucune", "doit indiquer l'adresse exacte"),  # refused, asked again
        ("https://maps.app.goo.gl/AbCd123", "propos exacts"),
        ("« ce charlatan est un escroc, fuyez »", "date affichée sous le contenu"),
        ("le 3 novembre", "Est-ce juste ?"),
    ]
    for answer, expected in answers:
        replies = stack.say(sender, answer)
        assert expected in texts(replies), (answer, texts(replies))
    summary = texts(replies)
    assert "Avis Google" in summary and "https://maps.app.goo.gl/AbCd123" in summary
    assert f"{NAME}, {EMAIL}" in summary
    assert [b["payload"] for b in buttons(replies)] == ["/affirm", "/deny"]

    replies = stack.say(sender, "/affirm")
    answer = texts(replies)
    assert "Votre notification est prête" in answer and "brouillon à vérifier" in answer
    urls = letter_urls(answer)
    assert len(urls) == 2, answer
    text = pdf_text(urls[0], tmp_path)
    assert "article 16 du règlement (UE) 2022/2065" in " ".join(text.split())
    assert "Avis Google" in text and "https://maps.app.goo.gl/AbCd123" in text
    assert "ce charlatan est un escroc, fuyez" in text
    assert EMAIL in text and "ZORGLUBIN" in text.upper()


def test_with_two_platforms_the_chat_asks_which_one(stack: Stack, tmp_path: Path) -> None:
    sender = "notice-2"
    stack.say(
        sender,
        "Depuis le 2 novembre, un ancien patient me harcèle : chaque jour des vidéos TikTok et "
        "des avis Google où il me traite d'escroc, je suis généraliste libérale",
    )
    stack.say(sender, "/open_case")  # the case file first, with the offer's button
    replies = stack.say(sender, "signaler à la plateforme")
    # The start, then the platform question: no question is answered on opening.
    assert len(replies) == 2 and "plateforme** voulez-vous" in replies[1]["text"], texts(replies)
    choices = buttons(replies)
    assert [b["title"] for b in choices] == ["TikTok", "Avis Google (fiche d'établissement)"]
    replies = stack.say(sender, "Facebook")  # not in the case: explained, asked again
    assert "Choisissez l'une des plateformes" in texts(replies), texts(replies)
    assert [b["title"] for b in buttons(replies)] == [b["title"] for b in choices]
    replies = stack.say(sender, choices[0]["payload"])
    assert "prénom et nom" in texts(replies), texts(replies)
    for answer, expected in [
        (NAME, "adresse électronique"),
        (EMAIL, "en quoi c'est faux ou insultant"),
        (STORY, "adresse exacte"),
        ("https://www.tiktok.com/@zorglub/video/123", "propos exacts"),
        ("passer", "Est-ce juste ?"),  # a video: no quote
    ]:
        replies = stack.say(sender, answer)
        assert expected in texts(replies), (answer, texts(replies))
    assert "**TikTok**" in texts(replies)
    replies = stack.say(sender, "/affirm")
    urls = letter_urls(texts(replies))
    assert len(urls) == 2, texts(replies)
    text = pdf_text(urls[0], tmp_path)
    assert "TikTok" in text and "https://www.tiktok.com/@zorglub/video/123" in text


def test_no_notice_without_facts(stack: Stack) -> None:
    replies = stack.say("notice-3", "je veux signaler l'avis à Google")
    assert "il me faut d'abord les faits" in texts(replies), texts(replies)
