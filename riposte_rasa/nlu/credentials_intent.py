"""An NLU component: a message made of a case code and its secret is a resume, whatever the
model made of it.

« reprendre mon dossier RIP-7KQ2-M9 lime parfait radis tilleul forgeron »: the five random
words of the secret are noise to the intent classifier, which read about 2 % of such messages
as `nlu_fallback`, `out_of_scope` or `describe_situation` (7 of 400 random secrets with the
trained model). Placed last in config.yml's pipeline, this component sets `resume_case` when
`find_credentials` finds a code and a whole secret, and the message is not understood
(`nlu_fallback`) or holds at most `MAX_OTHER_WORDS` words besides them and the usual resume
words (« reprendre mon dossier, code … phrase secrète … »). A longer message keeps its intent:
a description quoting « RIP … » among common words stays a description. The resume form still
checks the code and the secret against the store.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.constants import INTENT_MESSAGE_PREFIX

from riposte.store.codes import find_credentials, normalise_secret, words_besides_credentials
from riposte_rasa.nlu.intent_override import IntentOverride

FALLBACK_INTENT = "nlu_fallback"
RESUME_INTENT = "resume_case"
MAX_OTHER_WORDS = 3
# Words that go with credentials (accents and case do not matter).
RESUME_WORDS = frozenset(
    normalise_secret(word)
    for word in (
        "reprendre rouvrir ouvrir retrouver continuer récupérer accéder revenir à au mon ma mes "
        "le la les l du de des d un une sur dossier code phrase secrète mot passe voici voilà "
        "c est et je j veux voudrais bonjour merci svp s il vous plaît avec mes identifiants"
    ).split()
)


def resume_intended(text: str, intent: str | None) -> bool:
    """True when the message is a case code and its secret that the model did not read so."""
    if intent == RESUME_INTENT or not text or text.startswith(INTENT_MESSAGE_PREFIX):
        return False
    code, secret = find_credentials(text)
    if code is None or secret is None:
        return False
    if intent == FALLBACK_INTENT:
        return True
    others = [w for w in words_besides_credentials(text) if w not in RESUME_WORDS]
    return len(others) <= MAX_OTHER_WORDS


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CredentialsIntentClassifier(IntentOverride):
    """`resume_case` for a message made of a case code and its secret (see above)."""

    def override(self, text: str, intent: str | None) -> str | None:
        return RESUME_INTENT if resume_intended(text, intent) else None
