"""The public-reply checker: what breaches secrecy or deontology is flagged, neutral text passes."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

import riposte.cli
from riposte.letters.reply_check import Finding, check_reply, fold, suggest_neutral_reply

FLAGGED: list[tuple[str, str, str]] = [
    # (reply, kind, excerpt that must be flagged)
    ("Bonjour Madame Dupont, merci pour votre retour.", "person_name", "Madame Dupont"),
    ("Merci Jean-Pierre Martin pour ce message.", "person_name", "Jean-Pierre Martin"),
    (
        "Lors de votre consultation, j'ai pris le temps.",
        "care_relationship",
        "Lors de votre consultation",
    ),
    ("Je me souviens de vous, vous étiez pressé.", "care_relationship", "Je me souviens de vous"),
    ("Votre traitement était adapté.", "care_relationship", "Votre traitement"),
    ("Je vous ai reçue avec attention.", "care_relationship", "Je vous ai reçue"),
    ("Votre fils a été vu rapidement.", "care_relationship", "Votre fils"),
    ("Le 12 mars, le cabinet était plein.", "consultation_detail", "12 mars"),
    ("Vous êtes arrivé à 14h30 sans rendez-vous.", "consultation_detail", "14h30"),
    ("L'attente n'a duré que 20 minutes.", "consultation_detail", "20 minutes"),
    ("Mardi dernier, tout s'est bien passé.", "consultation_detail", "Mardi dernier"),
    ("Un antidépresseur ne se prescrit pas à la légère.", "health_term", "antidépresseur"),
    ("L'arrêt de travail n'était pas justifié.", "health_term", "arrêt de travail"),
    ("Une IRM n'était pas indiquée.", "health_term", "IRM"),
    ("Vous êtes de mauvaise foi.", "aggressive", "mauvaise foi"),
    ("C'est totalement FAUX ET MENSONGER", "aggressive", "FAUX ET MENSONGER"),
    ("Je vais porter plainte contre vous.", "aggressive", "porter plainte"),
    ("Quel avis ridicule !!!", "aggressive", "!!!"),
    (
        "Nos patients satisfaits le savent : je suis le meilleur.",
        "promotional",
        "patients satisfaits",
    ),
    ("N'hésitez pas à prendre rendez-vous sur Doctolib.", "promotional", "Doctolib"),
    ("Laissez un avis 5 étoiles si vous êtes content.", "promotional", "Laissez un avis"),
]

CLEAN: list[str] = [
    suggest_neutral_reply(),
    "Bonjour, merci pour votre message. Je ne peux pas répondre publiquement à un avis en raison "
    "du secret médical. Je reste à l'écoute de toute personne qui souhaite échanger. "
    "Cordialement.",
    "Merci pour ce retour, que je prends en compte pour améliorer l'accueil du cabinet.",
    "Bonjour, nous sommes désolés que votre expérience n'ait pas été satisfaisante. "
    "Vous pouvez nous écrire directement.",
]


@pytest.mark.parametrize(("reply", "kind", "excerpt"), FLAGGED, ids=[f[1] for f in FLAGGED])
def test_flags_what_breaches_secrecy_or_deontology(reply: str, kind: str, excerpt: str) -> None:
    findings = check_reply(reply)
    matching = [f for f in findings if f.kind == kind]
    assert matching, f"{kind} not flagged in {reply!r}: {findings}"
    assert any(excerpt in f.excerpt or f.excerpt in excerpt for f in matching), matching
    for finding in findings:
        start, end = finding.span
        assert reply[start:end] == finding.excerpt
        assert finding.explanation and "art." in finding.explanation
        assert finding.article in finding.explanation


@pytest.mark.parametrize("reply", CLEAN)
def test_neutral_replies_pass(reply: str) -> None:
    assert check_reply(reply) == []


def test_articles_named_for_each_kind() -> None:
    text = (
        "Madame Durand, lors de votre consultation du 3 mai, votre diabète était connu ; "
        "vous mentez. Prenez rendez-vous !"
    )
    articles = {f.kind: f.article for f in check_reply(text)}
    assert "R.4127-4" in articles["person_name"]
    assert "R.4127-4" in articles["care_relationship"]
    assert "R.4127-4" in articles["consultation_detail"]
    assert "226-13" in articles["health_term"]
    assert "R.4127-31" in articles["aggressive"]
    assert "R.4127-19" in articles["promotional"]


def test_own_name_in_the_signature_is_not_flagged() -> None:
    reply = "Merci pour votre message. Dr Claire Martin"
    assert [f.kind for f in check_reply(reply)] == ["person_name"]
    assert check_reply(reply, own_names=["Claire Martin"]) == []


def test_titles_are_found_without_the_language_model() -> None:
    findings = check_reply("Merci Monsieur Lambert.", use_ner=False)
    assert [(f.kind, f.excerpt) for f in findings] == [("person_name", "Monsieur Lambert")]


def test_findings_are_in_text_order_and_overlaps_merged() -> None:
    findings = check_reply("lors de votre consultation, votre consultation")
    assert [f.span for f in findings] == [(0, 26), (28, 46)]
    assert all(isinstance(f, Finding) for f in findings)


def test_fold_keeps_offsets() -> None:
    text = "Élève À L’ŒIL – déjà"
    assert len(fold(text)) == len(text)
    assert fold(text) == "eleve a l'œil - deja"


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = riposte.cli.main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_command_exit_1_with_findings_and_a_neutral_wording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "reponse.txt"
    path.write_text("Je me souviens de vous et de votre ordonnance.", encoding="utf-8")
    status, out, _ = _run(["reply-check", str(path)], capsys)
    assert status == 1
    assert "point(s) à revoir" in out
    assert "[Relation de soin confirmée] « je me souviens de vous »" in out.replace("Je", "je")
    assert "R.4127-4" in out
    assert suggest_neutral_reply() in out


def test_command_exit_0_when_clean_reading_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(suggest_neutral_reply()))
    status, out, _ = _run(["reply-check", "-"], capsys)
    assert status == 0
    assert "Aucun point bloquant" in out


def test_command_bad_input_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _run(["reply-check", str(tmp_path / "absent.txt")], capsys)
    assert status == 2 and "Impossible de lire" in err
    empty = tmp_path / "vide.txt"
    empty.write_text("  \n", encoding="utf-8")
    status, _, err = _run(["reply-check", str(empty)], capsys)
    assert status == 2 and "vide" in err
