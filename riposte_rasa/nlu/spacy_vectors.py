"""Rasa's SpacyNLP, loading only what the pipeline reads: the tokenizer and the word vectors.

Rasa's SpacyNLP loads the whole French pipeline (tagger, lemmatizer, named entities…) and
runs it on every message. Riposte's NLU components read the tokens and the sentence vector
(mean of the word vectors) only: the intent model, the FAQ answers and the facts model
(riposte/nlp/intents.py, riposte/nlp/learned.py). The other pipes cost about 190 MB of memory
in the Rasa server and a few milliseconds per message (docs/mesures.md); here they are not
loaded (spaCy's `exclude`). The tokens and the vectors are the same.

The class keeps the name `SpacyNLP`: Rasa's recipe hands the loaded model to SpacyTokenizer
and SpacyFeaturizer by that name (`model_from="SpacyNLP"`), and registers components by class
name, so this one takes the place of Rasa's in the recipe once config.yml names it.
"""

from __future__ import annotations

import logging

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.model import InvalidModelError
from rasa.nlu.utils import spacy_utils
from rasa.nlu.utils.spacy_utils import SpacyModel

log = logging.getLogger(__name__)


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.MODEL_LOADER,
        DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER,
    ],
    is_trainable=False,
    model_from="SpacyNLP",
)
class SpacyNLP(spacy_utils.SpacyNLP):
    """The spaCy model without its trained pipes (see the module docstring)."""

    @staticmethod
    def load_model(spacy_model_name: str) -> SpacyModel:
        import spacy

        if not spacy_model_name or not spacy.util.is_package(spacy_model_name):
            # No name, no such package, or a path: Rasa's own loader (and its clear message).
            return spacy_utils.SpacyNLP.load_model(spacy_model_name)
        info = spacy.util.get_model_meta(spacy.util.get_package_path(spacy_model_name))
        required = str(info.get("spacy_version") or "")
        if required and not spacy.util.is_compatible_version(spacy.about.__version__, required):
            raise InvalidModelError(
                f"the spaCy model {spacy_model_name} needs spaCy {required}, "
                f"not {spacy.about.__version__}: run `make install`"
            )
        pipes = [str(name) for name in info.get("pipeline") or []]
        language = spacy.load(spacy_model_name, exclude=pipes)
        log.info("spaCy %s loaded without its pipes (%s)", spacy_model_name, ", ".join(pipes))
        return SpacyModel(model=language, model_name=spacy_model_name)
