"""Setting a message's intent from a rule that knows better than the classifier (used by the
pipeline's last components): the new intent comes first in the ranking, with confidence 1."""

from __future__ import annotations

from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message


def set_intent(message: Message, name: str) -> None:
    """Make `name` the message's intent, first in its ranking (no duplicate entry)."""
    chosen = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
    message.set(INTENT, chosen, add_to_output=True)
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
    message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)
