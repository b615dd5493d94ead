"""An NLU component: the intent model (riposte/nlp/intents.py) in Rasa's pipeline.

Trained by `rasa train` on the NLU examples of every intent (a retrieval intent such as
`faq/…` counts as `faq`; riposte_rasa/nlu/faq_selector.py picks the answer), with the
sentence vectors of the pipeline's SpacyFeaturizer; saved in the model archive. For each
typed message it sets `intent` and `intent_ranking` (the `LABEL_RANKING_LENGTH` most likely)
as Rasa's classifiers do, so the FallbackClassifier and the components after it read them
unchanged.

Rasa caches each trained component by the fingerprint of its inputs (the training data and
the features); `fingerprint_addon` adds the hash of the training code, so a change to it
retrains.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from riposte.nlp import intents, learned
from riposte.nlp.intents import IntentModel
from riposte_rasa.nlu.storage import read_saved

log = logging.getLogger(__name__)

MODEL_FILE = "intent-model.joblib"


def sentence_vector(message: Message) -> Any:
    """The message's sentence vector from the pipeline's dense featurizer, or None."""
    _, sentence = message.get_dense_features(TEXT)
    if sentence is None:
        return None
    return sentence.features.reshape(-1)


def training_code_fingerprint() -> str:
    """The hash of the training code and of the text features it shares with the facts model
    (a component's `fingerprint_addon`: a change to either retrains)."""
    source = inspect.getsource(intents) + inspect.getsource(learned)
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def fit(messages: list[Message], labels: list[str], config: dict[str, Any]) -> IntentModel:
    """The model trained on these messages' texts and labels, with their sentence vectors
    when every message has one (else from the words alone)."""
    vectors = [sentence_vector(m) for m in messages]
    with_vectors = bool(vectors) and all(v is not None for v in vectors)
    return IntentModel.train(
        [str(m.get(TEXT)) for m in messages],
        labels,
        vectors if with_vectors else None,
        c=float(config["c"]),
        seed=int(config["random_seed"]),
    )


def rank(model: IntentModel, messages: list[Message]) -> list[list[tuple[str, float]]]:
    """Each message's labels, most likely first, read with the sentence vectors when every
    message has one (else from the words alone)."""
    vectors = [sentence_vector(m) for m in messages]
    usable = model.vector_size and all(v is not None for v in vectors)
    return model.predict_many([str(m.get(TEXT)) for m in messages], vectors if usable else None)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class RiposteIntentClassifier(GraphComponent, IntentClassifier):
    """The intent model in the pipeline (see the module docstring)."""

    @classmethod
    def required_components(cls) -> list[type]:
        return []

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"c": intents.C, "random_seed": 42, "ranking_length": LABEL_RANKING_LENGTH}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        return training_code_fingerprint()

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: IntentModel | None = None,
    ) -> None:
        self._config = config
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RiposteIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(INTENT) and m.get(TEXT)]
        self._model = fit(examples, [str(m.get(INTENT)) for m in examples], self._config)
        with self._storage.write_to(self._resource) as directory:
            (directory / MODEL_FILE).write_bytes(self._model.dumps())
        log.info(
            "intent model trained on %d examples of %d intents (%s sentence vectors)",
            len(examples),
            len(self._model.intents),
            "with" if self._model.vector_size else "without",
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
    ) -> RiposteIntentClassifier:
        model = read_saved(
            model_storage,
            resource,
            lambda directory: IntentModel.loads((directory / MODEL_FILE).read_bytes()),
            "the intent model",
        )
        return cls(config, model_storage, resource, model)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        typed = []
        for message in messages:
            if str(message.get(TEXT) or "").strip():
                typed.append(message)
            else:
                # Nothing to read: no intent, as Rasa's classifiers say it (the components
                # after this one, the FallbackClassifier first, expect the key).
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        if not typed:
            return messages
        rankings = rank(self._model, typed)
        length = int(self._config["ranking_length"])
        for message, ranking in zip(typed, rankings, strict=True):
            top, confidence = ranking[0]
            message.set(INTENT, {"name": top, "confidence": confidence}, add_to_output=True)
            shown = ranking[:length] if length > 0 else ranking
            message.set(
                INTENT_RANKING_KEY,
                [{"name": name, "confidence": p} for name, p in shown],
                add_to_output=True,
            )
        return messages
