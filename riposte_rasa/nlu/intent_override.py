"""Setting a message's intent from a rule that knows better than the classifier (used by the
pipeline's last components): the new intent comes first in the ranking, with confidence 1."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message


def set_intent(message: Message, name: str) -> None:
    """Make `name` the message's intent, first in its ranking (no duplicate entry)."""
    chosen = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
    message.set(INTENT, chosen, add_to_output=True)
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
    message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)


class IntentOverride(GraphComponent, IntentClassifier):
    """A pipeline component, after the intent classifiers, that sets the intent a rule knows
    better (`override`: the intent to set for a message's text and current intent, or None).
    Subclasses are registered with DefaultV1Recipe (not trainable)."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IntentOverride:
        return cls()

    def override(self, text: str, intent: str | None) -> str | None:
        raise NotImplementedError

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            chosen = self.override(str(message.get(TEXT) or ""), intent)
            if chosen is not None:
                set_intent(message, chosen)
        return messages
