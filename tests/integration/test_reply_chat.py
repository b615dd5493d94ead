"""« Je veux répondre » through the real stack: the rules of a good reply, a draft that names the
patient and a diagnosis gets each problem and a proposal, the proposal is given to copy, and a
clean draft is accepted."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Stack

BAD_DRAFT = (
    "Bonjour Madame Lefèvre, votre dépression explique sans doute votre ressenti. Je regrette "
    "que votre expérience ait été décevante et je reste à votre écoute. Cordialement."
)
CLEAN_DRAFT = (
    "Bonjour, je regrette que votre expérience ne vous ait pas satisfait. Le secret médical ne "
    "me permet pas de commenter une situation particulière ; toute personne qui le souhaite "
    "peut contacter le cabinet directement. Cordialement."
)


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def payloads(replies: list[dict[str, Any]]) -> list[str]:
    return [b["payload"] for r in replies for b in r.get("buttons", [])]


def test_a_reply_is_reviewed_in_the_chat(stack: Stack) -> None:
    sender = "reply-1"
    stack.say(
        sender,
        "Le 20 novembre, un patient a laissé un avis une étoile sur ma fiche Google : il écrit "
        "qu'il a attendu une heure et que je l'ai expédié en cinq minutes. Je trouve ça injuste. "
        "Je suis généraliste libérale.",
    )
    replies = stack.say(sender, "je veux répondre")
    answer = texts(replies)
    assert "Une bonne réponse publique" in answer and "Sources" in answer, answer
    # A lawful criticism: replying publicly fits, no warning.
    assert "n'est pas ce que je vous recommande" not in answer, answer
    assert "projet de réponse" in answer and payloads(replies) == ["/cancel"]
    assert "Je n'ai rien reçu" not in answer, answer  # nothing was typed yet

    replies = stack.say(sender, BAD_DRAFT)
    answer = texts(replies)
    assert "passage(s) à revoir" in answer, answer
    assert "Madame Lefèvre" in answer and "« dépression »" in answer
    assert "secret" in answer and "Proposition" in answer
    assert payloads(replies) == ["/request_reply_help", "/affirm", "/cancel"]

    replies = stack.say(sender, "/affirm")
    answer = texts(replies)
    assert "Voici la réponse proposée" in answer, answer
    proposal = answer.split("telle quelle :")[1].split("Publiez-la")[0].strip()
    assert "regrette que votre expérience ait été décevante" in proposal
    assert "Lefèvre" not in proposal and "dépression" not in proposal

    replies = stack.say(sender, "/request_reply_help")
    answer = texts(replies)
    assert "projet de réponse" in answer and "Une bonne réponse publique" not in answer, answer
    assert "Je n'ai rien reçu" not in answer, answer
    replies = stack.say(sender, CLEAN_DRAFT)
    answer = texts(replies)
    assert "Je n'ai rien repéré" in answer and "compte propriétaire" in answer, answer


def test_where_a_reply_is_not_advised_it_is_said_first_and_cancel_leaves(stack: Stack) -> None:
    sender = "reply-2"
    stack.say(
        sender,
        "Depuis le 2 novembre des dizaines de comptes me traitent d'escroc sur TikTok, "
        "je suis généraliste libéral",
    )
    replies = stack.say(sender, "et si je veux répondre ?")
    answer = texts(replies)
    assert answer.index("n'est pas ce que je vous recommande") < answer.index(
        "Une bonne réponse publique"
    ), answer
    assert "alimenter la polémique" in answer
    replies = stack.say(sender, "annuler")
    assert "j'arrête la relecture" in texts(replies), texts(replies)
