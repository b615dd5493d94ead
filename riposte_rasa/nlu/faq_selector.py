"""An NLU component: which answer a general question gets (the retrieval intent `faq/<topic>`).

It does what Rasa's ResponseSelector does for `retrieval_intent: faq`, with the intent model
(riposte/nlp/intents.py: a logistic regression on TF-IDF n-grams and the spaCy sentence
vector) trained on the `faq/<topic>` examples only, the topic as label. For each typed
message read as a question (intent `faq`), it writes the ResponseSelector's output
(`response_selector.faq`: the predicted `intent_response_key`, its `utter_action`,
confidence, responses and ranking), read by the `utter_faq` action (Rasa's
ActionRetrieveResponse).

The ResponseSelector is a TensorFlow model: 117 MB in the archive, about 430 MB of memory in
the Rasa server, 25 s of training. This one weighs a few MB (docs/mesures.md). Rasa warns at
training time that no ResponseSelector is configured: this component takes its place.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.nlu.training_data.util import intent_response_key_to_template_key

from riposte.nlp import intents
from riposte.nlp.intents import IntentModel
from riposte_rasa.nlu.intent_classifier import fit, rank, training_code_fingerprint
from riposte_rasa.nlu.storage import read_saved

log = logging.getLogger(__name__)

MODEL_FILE = "faq-model.joblib"
RESPONSES_FILE = "faq-responses.joblib"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FaqSelector(GraphComponent):
    """The answer to a general question (see the module docstring)."""

    @classmethod
    def required_components(cls) -> list[type]:
        return []

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "retrieval_intent": "faq",
            "c": intents.C,
            "random_seed": 42,
            "ranking_length": LABEL_RANKING_LENGTH,
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        return training_code_fingerprint()

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: IntentModel | None = None,
        responses: dict[str, list[dict[str, Any]]] | None = None,
        retrieval_intents: list[str] | None = None,
    ) -> None:
        self._config = config
        self._storage = model_storage
        self._resource = resource
        self._model = model
        self._responses = responses or {}
        self._retrieval_intents = retrieval_intents or []

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FaqSelector:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        import joblib

        intent = str(self._config["retrieval_intent"])
        examples = [
            m
            for m in training_data.intent_examples
            if m.get(INTENT) == intent and m.get(INTENT_RESPONSE_KEY) and m.get(TEXT)
        ]
        keys = [str(m.get(INTENT_RESPONSE_KEY)) for m in examples]
        self._responses = {
            name: list(found)
            for name, found in training_data.responses.items()
            if name.startswith(f"utter_{intent}/")
        }
        self._retrieval_intents = sorted(training_data.retrieval_intents)
        if len(set(keys)) < 2:
            log.warning("no answers to choose from for %s: nothing trained", intent)
            self._model = None
        else:
            self._model = fit(examples, keys, self._config)
            log.info("%s answers: %d examples of %d topics", intent, len(keys), len(set(keys)))
        with self._storage.write_to(self._resource) as directory:
            if self._model is not None:
                (directory / MODEL_FILE).write_bytes(self._model.dumps())
            joblib.dump(
                {"responses": self._responses, "retrieval_intents": self._retrieval_intents},
                directory / RESPONSES_FILE,
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> FaqSelector:
        import joblib

        def read(directory: Path) -> tuple[dict[str, Any], IntentModel | None]:
            saved = joblib.load(directory / RESPONSES_FILE)
            path = directory / MODEL_FILE
            return saved, IntentModel.loads(path.read_bytes()) if path.is_file() else None

        saved, model = read_saved(model_storage, resource, read, "the answers model")
        return cls(
            config,
            model_storage,
            resource,
            model,
            saved.get("responses"),
            saved.get("retrieval_intents"),
        )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        intent = str(self._config["retrieval_intent"])
        # Only a question needs its answer: `utter_faq` follows the intent `faq` alone, and no
        # component after this one sets `faq` (the others turn it into a fallback, a letter
        # request, an emergency or a description). The other messages skip the model.
        typed = [
            m
            for m in messages
            if str(m.get(TEXT) or "").strip()
            and (m.get(INTENT) or {}).get(INTENT_NAME_KEY) == intent
        ]
        if not typed:
            return messages
        rankings = rank(self._model, typed)
        length = int(self._config["ranking_length"])
        selector_key = intent
        for message, ranking in zip(typed, rankings, strict=True):
            key, confidence = ranking[0]
            utter_action = intent_response_key_to_template_key(key)
            shown = ranking[:length] if length > 0 else ranking
            properties = message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}
            properties[RESPONSE_SELECTOR_RETRIEVAL_INTENTS] = self._retrieval_intents
            properties[selector_key] = {
                RESPONSE_SELECTOR_PREDICTION_KEY: {
                    RESPONSE_SELECTOR_RESPONSES_KEY: self._responses.get(utter_action, []),
                    PREDICTED_CONFIDENCE_KEY: confidence,
                    INTENT_RESPONSE_KEY: key,
                    RESPONSE_SELECTOR_UTTER_ACTION_KEY: utter_action,
                },
                RESPONSE_SELECTOR_RANKING_KEY: [
                    {PREDICTED_CONFIDENCE_KEY: p, INTENT_RESPONSE_KEY: name} for name, p in shown
                ],
            }
            message.set(RESPONSE_SELECTOR_PROPERTY_NAME, properties, add_to_output=True)
        return messages
