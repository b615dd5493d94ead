"""An NLU component: a request for a letter that names one of the other letters beyond doubt
is a `request_letter`, whatever letter the model read.

« je veux porter plainte à la CNIL » reads as `draft_complaint` (the complaint to the procureur:
« plainte » weighs most), « signaler pour effacement RGPD » as `request_platform_notice`. Placed
after the intent classifiers in config.yml's pipeline, this component sets `request_letter`
when the message was read as one of those two requests, or not understood, and names the CNIL,
the right of reply, the protection fonctionnelle or an erasure
(riposte.chat.drafts.distinct_kind). Other intents
keep theirs: « c'est quoi la protection fonctionnelle ? » stays a question. A button's payload
(« /draft_complaint ») is never changed.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.constants import INTENT_MESSAGE_PREFIX

from riposte.chat.drafts import distinct_kind
from riposte_rasa.nlu.intent_override import IntentOverride

LETTER_INTENT = "request_letter"
# The requests of the letters that have their own skill in the chat, the public reply
# (« exercer mon droit de réponse » is a letter, not a reply under the review), and a message
# not understood.
OTHER_LETTER_INTENTS = frozenset(
    {"draft_complaint", "request_platform_notice", "request_reply_help", "nlu_fallback"}
)


def letter_intended(text: str, intent: str | None) -> bool:
    """True when a request read as the complaint or the notice names another letter."""
    if intent not in OTHER_LETTER_INTENTS or not text or text.startswith(INTENT_MESSAGE_PREFIX):
        return False
    return distinct_kind(text) is not None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LetterIntentClassifier(IntentOverride):
    """`request_letter` for a letter request that names another letter (see above)."""

    def override(self, text: str, intent: str | None) -> str | None:
        return LETTER_INTENT if letter_intended(text, intent) else None
