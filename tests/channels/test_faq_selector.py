"""The answer to a general question (riposte_rasa/nlu/faq_selector.py): trained on the
`faq/<topic>` examples, saved, loaded, and writing the output Rasa's `utter_faq` action reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.actions.action import ActionRetrieveResponse
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from riposte_rasa.nlu.faq_selector import FaqSelector

# Written for these tests: two topics, and a request of another intent.
TOPICS = {
    "faq/cnil": [
        "c'est quoi la CNIL ?",
        "à quoi sert la CNIL ?",
        "la CNIL peut-elle m'aider ?",
        "quand saisir la CNIL ?",
        "que fait la CNIL pour les données ?",
    ],
    "faq/deadlines": [
        "combien de temps pour porter plainte ?",
        "quel est le délai de prescription ?",
        "j'ai combien de mois pour agir ?",
        "est-ce trop tard après trois mois ?",
        "quel délai pour une injure ?",
    ],
}
RESPONSES = {
    "utter_faq/cnil": [{"text": "La CNIL protège les données personnelles."}],
    "utter_faq/deadlines": [{"text": "Trois mois pour une injure publique."}],
}


READ = {"name": "draft_complaint", "confidence": 0.8}


def _question(text: str) -> Message:
    """A message as the intent classifier leaves it: read as a question."""
    return Message(data={TEXT: text, INTENT: {"name": "faq", "confidence": 0.9}})


def _training_data() -> TrainingData:
    examples = [
        Message(data={TEXT: text, INTENT: "faq", INTENT_RESPONSE_KEY: key})
        for key, texts in TOPICS.items()
        for text in texts
    ]
    examples.append(Message(data={TEXT: "je veux porter plainte", INTENT: "draft_complaint"}))
    return TrainingData(training_examples=examples, responses=RESPONSES)


def _storage(tmp_path: Path) -> tuple[LocalModelStorage, Resource, ExecutionContext]:
    (tmp_path / "storage").mkdir(parents=True, exist_ok=True)
    return (
        LocalModelStorage(tmp_path / "storage"),
        Resource("faq"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def test_trained_saved_loaded_and_read_by_the_retrieval_action(tmp_path: Path) -> None:
    storage, resource, context = _storage(tmp_path)
    config = FaqSelector.get_default_config()
    FaqSelector.create(config, storage, resource, context).train(_training_data())
    loaded = FaqSelector.load(config, storage, resource, context)
    question, empty = _question("la CNIL, elle sert à quoi ?"), _question("")
    request = Message(data={TEXT: "c'est quoi la CNIL ? je veux porter plainte", INTENT: READ})
    loaded.process([question, empty, request])
    selected = question.get("response_selector")
    assert selected["all_retrieval_intents"] == ["faq"]
    response = selected["faq"]["response"]
    assert response["intent_response_key"] == "faq/cnil"
    assert response["utter_action"] == "utter_faq/cnil"
    assert response["responses"] == RESPONSES["utter_faq/cnil"]
    assert 0.5 < response["confidence"] <= 1
    ranking = selected["faq"]["ranking"]
    assert [r["intent_response_key"] for r in ranking] == ["faq/cnil", "faq/deadlines"]
    assert "response_selector" in question.as_dict(only_output_properties=True)
    assert empty.get("response_selector") is None  # nothing typed: nothing chosen
    # Not read as a question: no answer is chosen (`utter_faq` follows the intent faq only).
    assert request.get("response_selector") is None

    # Rasa's utter_faq action picks the answer from this output.
    tracker = DialogueStateTracker.from_events(
        "doctor",
        [UserUttered("la CNIL, elle sert à quoi ?", parse_data=question.as_dict())],
    )
    assert ActionRetrieveResponse("utter_faq").get_full_retrieval_name(tracker) == (
        "utter_faq/cnil"
    )


def test_the_other_topic_is_read_too(tmp_path: Path) -> None:
    storage, resource, context = _storage(tmp_path)
    selector = FaqSelector.create(FaqSelector.get_default_config(), storage, resource, context)
    selector.train(_training_data())
    message = _question("au bout de combien de mois est-ce prescrit ?")
    selector.process([message])
    chosen = message.get("response_selector")["faq"]["response"]
    assert chosen["intent_response_key"] == "faq/deadlines"


def test_without_topics_nothing_is_chosen(tmp_path: Path) -> None:
    storage, resource, context = _storage(tmp_path)
    config = FaqSelector.get_default_config()
    only = TrainingData(
        training_examples=[Message(data={TEXT: "bonjour", INTENT: "greet"})], responses={}
    )
    FaqSelector.create(config, storage, resource, context).train(only)
    loaded = FaqSelector.load(config, storage, resource, context)
    message = _question("c'est quoi la CNIL ?")
    loaded.process([message])
    assert message.get("response_selector") is None


def test_a_model_without_its_files_says_to_train_again(tmp_path: Path) -> None:
    storage, resource, context = _storage(tmp_path)
    with storage.write_to(resource):
        pass  # an empty directory
    with pytest.raises(ValueError, match="make train"):
        FaqSelector.load(FaqSelector.get_default_config(), storage, resource, context)
