"""An NLU component: the trained facts model (riposte/nlp/learned.py) in Rasa's pipeline.

Trained by `rasa train` (so by `make train`) on the annotated corpus named by its `corpus`
option (data/situations), saved in the model archive, loaded with the model: nothing outside
the archive is read at run time. For every typed message it

- adds `riposte_facts` to the parse data: the model's probabilities and decisions
  (`LearnedFacts.as_dict()`); the actions combine them with the lexicon
  (`riposte.nlp.learned.combine`, in `riposte.chat.triage.facts_from_text`);
- sets the intent `report_emergency` when the combined facts say the doctor may be in danger,
  whatever the intent classifier said (recall first: the emergency reply comes before anything
  else, in every state of the conversation); a resume (case code and secret) keeps its intent,
  and so does a request to write the complaint (« rédigez ma plainte pour menaces de mort »):
  the complaint form gives the emergency reply first itself (actions/complaint.py);
- sets `describe_situation` for a message the intent classifier did not understand
  (`nlu_fallback`, `out_of_scope`) when the facts show a description: an offence, a lawful
  criticism, or a platform in a sentence of at least `MIN_DESCRIPTION_WORDS` words.

It is trained on the corpus and on the assistant's other NLU examples as background negatives
(`riposte.nlp.learned`); those come from Rasa's training data, an input of this component.
Rasa caches each trained component by the fingerprint of its inputs; the corpus and the
training code are not among them, so `fingerprint_addon` adds their hashes: editing either
retrains.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from riposte import clock
from riposte.nlp import learned
from riposte.nlp.corpus import corpus_files, corpus_fingerprint, load_situations
from riposte.nlp.extract import extract_facts
from riposte.nlp.learned import FactsModel, background_texts, combine
from riposte_rasa.nlu.intent_override import set_intent
from riposte_rasa.nlu.storage import read_saved

log = logging.getLogger(__name__)

FACTS_KEY = "riposte_facts"  # read by actions/common.py (LEARNED_FACTS_KEY)
EMERGENCY_INTENT = "report_emergency"
DESCRIPTION_INTENT = "describe_situation"
NOT_UNDERSTOOD = frozenset({"nlu_fallback", "out_of_scope"})
#: Intents the danger rule leaves alone: a case code and its secret are never a danger; a
#: request for the complaint starts the complaint form, which replies to the danger first.
KEPT_INTENTS = frozenset({"resume_case", "draft_complaint", EMERGENCY_INTENT})
MIN_DESCRIPTION_WORDS = 5
MODEL_FILE = "facts-model.joblib"


def decide_intent(intent: str | None, text: str, model: FactsModel) -> tuple[str | None, dict]:
    """The intent to set instead of `intent` (None: keep it), and the parse-data facts."""
    learned = model.predict(text)
    facts = combine(extract_facts(text, clock.today()), learned)
    if facts.urgent and intent not in KEPT_INTENTS:
        return EMERGENCY_INTENT, learned.as_dict()
    if intent in NOT_UNDERSTOOD:
        words = len(text.split())
        if (
            facts.offenses
            or facts.lawful_criticism
            or (facts.platforms and words >= MIN_DESCRIPTION_WORDS)
        ):
            return DESCRIPTION_INTENT, learned.as_dict()
    return None, learned.as_dict()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FactsClassifier(GraphComponent, IntentClassifier):
    """The facts model in the pipeline (see the module docstring)."""

    @classmethod
    def required_components(cls) -> list[type]:
        # Placed after the intent classifiers in config.yml; Rasa checks required components
        # on the training graph, where this component's training needs none of them.
        return []

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"corpus": "data/situations", "c": 8.0, "random_seed": 42}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        # The corpus, and the training code (riposte/nlp/learned.py): a change to either
        # must retrain this component, which Rasa's cache would otherwise reuse.
        where = Path(str(config.get("corpus") or "data/situations"))
        code = hashlib.sha256(inspect.getsource(learned).encode("utf-8")).hexdigest()
        try:
            return f"{corpus_fingerprint(where)}-{code}"
        except FileNotFoundError:
            return code  # the training itself then stops with a clear message

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: FactsModel | None = None,
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
    ) -> FactsClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        where = Path(str(self._config["corpus"]))
        items = load_situations(corpus_files(where))
        others = background_texts(
            (str(m.get(INTENT) or "").split("/")[0], str(m.get(TEXT) or ""))
            for m in training_data.intent_examples
        )
        self._model = FactsModel.train(
            items, others, c=float(self._config["c"]), seed=int(self._config["random_seed"])
        )
        with self._storage.write_to(self._resource) as directory:
            (directory / MODEL_FILE).write_bytes(self._model.dumps())
        log.info(
            "facts model trained on %d annotated situations from %s and %d background sentences",
            len(items),
            where,
            len(others),
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
    ) -> FactsClassifier:
        model = read_saved(
            model_storage,
            resource,
            lambda directory: FactsModel.loads((directory / MODEL_FILE).read_bytes()),
            "the facts model",
        )
        return cls(config, model_storage, resource, model)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        for message in messages:
            text = str(message.get(TEXT) or "")
            if not text.strip() or text.startswith(INTENT_MESSAGE_PREFIX):
                continue
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            new_intent, facts = decide_intent(intent, text, self._model)
            message.set(FACTS_KEY, facts, add_to_output=True)
            if new_intent is not None:
                log.info("facts: intent %s read as %s", intent, new_intent)
                set_intent(message, new_intent)
        return messages
