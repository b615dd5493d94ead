"""The facts model as a Rasa NLU component (riposte_rasa/nlu/facts_classifier.py): trained,
saved and loaded like the rest of the model, retrained when the corpus changes, and its rules
on the intent (danger first, no description left to the fallback)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.training.fingerprinting import calculate_fingerprint_key
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from riposte.nlp.learned import FactsModel
from riposte_rasa.nlu.facts_classifier import FACTS_KEY, FactsClassifier, decide_intent

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "data" / "situations"
# Written for these tests (not in the corpus nor in data/nlu).
DANGER = "il m'a ecrit qu'il savait ou etait l'ecole de mes enfants et qu'il passerait les voir"
INSULT = "sur google un patient me traite de boucher incompétent et de sale charlatan"


@dataclass
class Trained:
    """The component trained once for the module, as `make train` trains it: the whole corpus,
    and the intent examples of data/nlu as background."""

    component: FactsClassifier
    storage: LocalModelStorage
    resource: Resource


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    component, storage = _component(tmp_path_factory.mktemp("facts"), CORPUS)
    resource = component.train(load_data(str(ROOT / "data" / "nlu")))
    return Trained(component, storage, resource)


@pytest.fixture(scope="module")
def model(trained: Trained) -> FactsModel:
    assert trained.component._model is not None
    return trained.component._model


def small_corpus(tmp_path: Path) -> Path:
    """Two files of the corpus (for the tests where its size does not matter): enough dangers
    and offences for their classifiers, trained in a fraction of the whole corpus's time."""
    copy = tmp_path / "situations"
    copy.mkdir()
    for name in ("menaces.yml", "propos.yml"):
        shutil.copy(CORPUS / name, copy / name)
    return copy


def message(text: str, intent: str) -> Message:
    return Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": 0.4},
            "intent_ranking": [{"name": intent, "confidence": 0.4}],
        }
    )


@pytest.mark.parametrize(
    "intent", ["faq", "greet", "thank", "affirm", "inform", "nlu_fallback", "out_of_scope"]
)
def test_danger_comes_first_whatever_the_classifier_said(model: FactsModel, intent: str) -> None:
    new, facts = decide_intent(intent, DANGER, model)
    assert new == "report_emergency"
    assert facts["danger"] is True


@pytest.mark.parametrize("intent", ["resume_case", "report_emergency", "draft_complaint"])
def test_a_resume_a_complaint_request_and_an_emergency_keep_their_intent(
    model: FactsModel, intent: str
) -> None:
    new, facts = decide_intent(intent, DANGER, model)
    assert new is None
    assert facts["danger"] is True  # still carried: the complaint form replies to it


@pytest.mark.parametrize("intent", ["nlu_fallback", "out_of_scope"])
def test_a_description_is_not_left_to_the_fallback(model: FactsModel, intent: str) -> None:
    assert decide_intent(intent, INSULT, model)[0] == "describe_situation"


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("nlu_fallback", "qsdfqsdf azerty"),
        ("nlu_fallback", "facebook"),  # a platform alone is not a description
        ("out_of_scope", "quel temps fera-t-il demain à Lyon ?"),
        ("faq", INSULT),  # understood: kept
        ("greet", "bonjour"),
    ],
)
def test_other_messages_keep_their_intent(model: FactsModel, intent: str, text: str) -> None:
    assert decide_intent(intent, text, model)[0] is None


def _component(tmp_path: Path, corpus: Path) -> tuple[FactsClassifier, LocalModelStorage]:
    (tmp_path / "storage").mkdir(parents=True)
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("facts")
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**FactsClassifier.get_default_config(), "corpus": str(corpus)}
    return FactsClassifier.create(config, storage, resource, context), storage


def test_trained_saved_loaded_and_run_in_the_pipeline(trained: Trained) -> None:
    context = ExecutionContext(GraphSchema({}), "test")
    config = FactsClassifier.get_default_config()
    loaded = FactsClassifier.load(config, trained.storage, trained.resource, context)
    assert loaded._model is not trained.component._model  # read back from the storage
    danger, payload, hello = (
        message(DANGER, "faq"),
        message("/greet", "greet"),
        message("bonjour", "greet"),
    )
    loaded.process([danger, payload, hello])
    assert danger.get("intent")["name"] == "report_emergency"
    assert [r["name"] for r in danger.get("intent_ranking")] == ["report_emergency", "faq"]
    assert danger.get(FACTS_KEY)["danger"] is True
    assert FACTS_KEY in danger.as_dict(only_output_properties=True)
    assert payload.get(FACTS_KEY) is None  # a button payload is not read
    assert hello.get("intent")["name"] == "greet" and hello.get(FACTS_KEY)["danger"] is False


def test_a_model_without_its_facts_file_says_to_train_again(tmp_path: Path) -> None:
    (tmp_path / "storage").mkdir(parents=True)
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("facts")
    with storage.write_to(resource):
        pass  # an empty directory: no facts model in it
    context = ExecutionContext(GraphSchema({}), "test")
    with pytest.raises(ValueError, match="make train"):
        FactsClassifier.load(FactsClassifier.get_default_config(), storage, resource, context)


def _fingerprint(corpus: Path) -> str:
    config: dict[str, Any] = {**FactsClassifier.get_default_config(), "corpus": str(corpus)}
    return calculate_fingerprint_key(FactsClassifier, config, {})


def test_editing_the_corpus_changes_the_fingerprint_so_rasa_trains_again(tmp_path: Path) -> None:
    copy = tmp_path / "situations"
    shutil.copytree(CORPUS, copy)
    before = _fingerprint(copy)
    assert _fingerprint(copy) == before  # stable: an unchanged corpus uses Rasa's cache
    target = copy / "propos.yml"
    target.write_text(
        target.read_text(encoding="utf-8").replace("danger: false", "danger: true", 1),
        encoding="utf-8",
    )
    assert _fingerprint(copy) != before


def test_editing_the_corpus_changes_the_trained_component(tmp_path: Path) -> None:
    copy = small_corpus(tmp_path)
    first, storage = _component(tmp_path / "a", copy)
    first.train(TrainingData())
    target = copy / "propos.yml"
    target.write_text(
        target.read_text(encoding="utf-8").replace("danger: false", "danger: true"),
        encoding="utf-8",
    )
    second, _ = _component(tmp_path / "b", copy)
    second.train(TrainingData())
    one, two = message(INSULT, "describe_situation"), message(INSULT, "describe_situation")
    first.process([one])
    second.process([two])
    assert one.get(FACTS_KEY)["scores"] != two.get(FACTS_KEY)["scores"]


def test_the_other_intents_examples_are_its_background(tmp_path: Path) -> None:
    component, _ = _component(tmp_path, small_corpus(tmp_path))
    examples = [
        Message(data={"text": "zorglubon nous salue bien bas ce matin", "intent": "greet"}),
        Message(data={"text": "vertigonte frappe mon cabinet ce soir", "intent": "inform"}),
    ]
    component.train(TrainingData(training_examples=examples))
    model = component._model
    assert model is not None
    words = model.features.transformer_list[1][1].vocabulary_
    assert "zorglubon" in words  # a greeting: background
    assert "vertigonte" not in words  # an answer may describe the situation: not background
