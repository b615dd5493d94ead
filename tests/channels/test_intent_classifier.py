"""The intent model (riposte/nlp/intents.py) and its Rasa component
(riposte_rasa/nlu/intent_classifier.py): trained, saved, loaded, and run like Rasa's
classifiers (intent, ranking), with and without the pipeline's sentence vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_RESPONSE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from riposte.nlp.intents import IntentModel
from riposte_rasa.nlu.intent_classifier import MODEL_FILE, RiposteIntentClassifier

# Written for these tests: three small intents, far apart.
EXAMPLES = {
    "greet": ["bonjour", "bonsoir docteur", "salut", "bonjour à vous", "coucou", "hello"],
    "draft_complaint": [
        "je veux porter plainte",
        "rédigez ma plainte au procureur",
        "aidez-moi à écrire une plainte",
        "préparer la plainte pour le procureur",
        "faire une plainte contre lui",
        "je souhaite déposer plainte",
    ],
    "faq": [
        "c'est quoi la CNIL ?",
        "combien de temps pour agir ?",
        "qu'est-ce qu'une diffamation ?",
        "quel délai de prescription ?",
        "comment marche le signalement ?",
        "à quoi sert le procureur ?",
    ],
}


def _data() -> tuple[list[str], list[str]]:
    texts = [t for ts in EXAMPLES.values() for t in ts]
    intents = [i for i, ts in EXAMPLES.items() for _ in ts]
    return texts, intents


def _vectors(texts: list[str], size: int = 4) -> np.ndarray:
    # A stand-in for spaCy's sentence vector: a fixed function of the text.
    return np.array(
        [[len(t) % 7 + 1, t.count(" ") + 1, t.count("e") + 1, 1.0][:size] for t in texts]
    )


def test_a_request_worded_otherwise_is_read() -> None:
    model = IntentModel.train(*_data())
    ranking = model.predict_many(["pouvez-vous rédiger une plainte ?", "bonsoir"])
    assert [r[0][0] for r in ranking] == ["draft_complaint", "greet"]
    first = ranking[0]
    assert sorted(name for name, _ in first) == sorted(EXAMPLES)
    assert [p for _, p in first] == sorted((p for _, p in first), reverse=True)
    assert sum(p for _, p in first) == pytest.approx(1.0)


def test_training_is_deterministic_and_survives_saving() -> None:
    texts, intents = _data()
    one = IntentModel.train(texts, intents, _vectors(texts))
    two = IntentModel.loads(IntentModel.train(texts, intents, _vectors(texts)).dumps())
    probe = ["je veux écrire au procureur", "salut"]
    assert one.predict_many(probe, _vectors(probe)) == two.predict_many(probe, _vectors(probe))
    assert two.vector_size == 4 and two.trained_on == len(texts)


def test_the_sentence_vector_is_read() -> None:
    texts, intents = _data()
    with_vectors = IntentModel.train(texts, intents, _vectors(texts))
    probe = ["quel délai ?"]
    read = with_vectors.predict_many(probe, _vectors(probe))[0]
    # Without its vector the message is read from its words alone, with other probabilities.
    assert with_vectors.predict_many(probe)[0] != read


def test_vectors_of_the_wrong_size_or_count_are_refused() -> None:
    texts, intents = _data()
    model = IntentModel.train(texts, intents, _vectors(texts))
    with pytest.raises(ValueError, match="size 3"):
        model.predict_many(["bonjour"], _vectors(["bonjour"], size=3))
    with pytest.raises(ValueError, match="expected 2 sentence vectors"):
        model.predict_many(["bonjour", "salut"], _vectors(["bonjour"]))


@pytest.mark.parametrize(
    ("texts", "intents", "error"),
    [
        (["bonjour"], ["greet", "faq"], "one intent per text"),
        (["bonjour", "salut"], ["greet", "greet"], "at least two intents"),
    ],
)
def test_unusable_training_data_is_refused(
    texts: list[str], intents: list[str], error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        IntentModel.train(texts, intents)


def test_a_saved_file_that_is_not_a_model_is_refused() -> None:
    import io

    import joblib

    buffer = io.BytesIO()
    joblib.dump({"not": "a model"}, buffer)
    with pytest.raises(ValueError, match="train the model again"):
        IntentModel.loads(buffer.getvalue())


@pytest.mark.parametrize("text", ["", "   ", "x" * 50_000, "{{ 7*7 }} <script>", "🙂🙂"])
def test_odd_input_gives_a_ranking_without_error(text: str) -> None:
    model = IntentModel.train(*_data())
    ranking = model.predict_many([text])[0]
    assert len(ranking) == len(EXAMPLES)


# The Rasa component.


def _message(text: str, intent: str | None = None, key: str | None = None) -> Message:
    message = Message(data={TEXT: text})
    if intent:
        message.set(INTENT, intent)
    if key:
        message.set(INTENT_RESPONSE_KEY, key)
    vector = _vectors([text])
    message.add_features(Features(vector, FEATURE_TYPE_SENTENCE, TEXT, "SpacyFeaturizer"))
    return message


def _component(tmp_path: Path) -> tuple[RiposteIntentClassifier, LocalModelStorage, Resource]:
    (tmp_path / "storage").mkdir(parents=True)
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("intents")
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**RiposteIntentClassifier.get_default_config(), "ranking_length": 2}
    return RiposteIntentClassifier.create(config, storage, resource, context), storage, resource


def test_trained_saved_loaded_and_run_in_the_pipeline(tmp_path: Path) -> None:
    component, storage, resource = _component(tmp_path)
    examples = [_message(t, i) for t, i in zip(*_data(), strict=True)]
    # A retrieval intent's examples count as their intent (the FAQ selector picks the
    # answer): `faq/delay` is learned as `faq`.
    examples.append(_message("au bout de combien de jours c'est trop tard ?", "faq", "faq/delay"))
    component.train(TrainingData(training_examples=examples))
    assert (tmp_path / "storage" / "intents" / MODEL_FILE).is_file()
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**RiposteIntentClassifier.get_default_config(), "ranking_length": 2}
    loaded = RiposteIntentClassifier.load(config, storage, resource, context)
    request, hello, empty = (
        _message("pourriez-vous préparer ma plainte ?"),
        _message("bonjour"),
        Message(data={TEXT: ""}),
    )
    loaded.process([request, hello, empty])
    assert request.get(INTENT)["name"] == "draft_complaint"
    assert 0 < request.get(INTENT)["confidence"] <= 1
    ranking = request.get("intent_ranking")
    assert len(ranking) == 2 and ranking[0]["name"] == "draft_complaint"
    assert hello.get(INTENT)["name"] == "greet"
    assert "intent" in request.as_dict(only_output_properties=True)
    # Nothing typed: no intent, in the form the FallbackClassifier reads.
    assert empty.get(INTENT) == {"name": None, "confidence": 0.0}
    FallbackClassifier.create(
        {**FallbackClassifier.get_default_config(), "threshold": 0.3},
        storage,
        resource,
        context,
    ).process([empty, request])
    assert empty.get(INTENT)["name"] == "nlu_fallback"
    assert request.get(INTENT)["name"] == "draft_complaint"
    assert set(loaded._model.intents) == set(EXAMPLES)  # type: ignore[union-attr]


def test_a_message_without_its_vector_is_still_read(tmp_path: Path) -> None:
    component, _, _ = _component(tmp_path)
    component.train(
        TrainingData(training_examples=[_message(t, i) for t, i in zip(*_data(), strict=True)])
    )
    bare = Message(data={TEXT: "je veux porter plainte contre lui"})
    component.process([bare])
    assert bare.get(INTENT)["name"] == "draft_complaint"


def test_a_model_without_its_file_says_to_train_again(tmp_path: Path) -> None:
    (tmp_path / "storage").mkdir(parents=True)
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("intents")
    with storage.write_to(resource):
        pass  # an empty directory: no intent model in it
    context = ExecutionContext(GraphSchema({}), "test")
    with pytest.raises(ValueError, match="make train"):
        RiposteIntentClassifier.load(
            RiposteIntentClassifier.get_default_config(), storage, resource, context
        )
