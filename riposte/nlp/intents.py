"""The intent model: which request a message is (a greeting, a question, a letter request…).

One multinomial logistic regression (scikit-learn) over

- the same text features as the facts model (`riposte.nlp.learned.text_features`): TF-IDF of
  character n-grams inside words (typos, SMS spelling, missing accents) and of words and word
  pairs, on the folded text;
- the message's sentence vector that the Rasa pipeline already computes (spaCy
  fr_core_news_md, mean of the word vectors), L2-normalised and weighted by `VECTOR_WEIGHT`:
  it carries meaning across synonyms the training examples do not contain.

It replaces Rasa's DIETClassifier, measured on the same data (`make eval-understanding`,
docs/mesures.md): the same accuracy within noise, trained in seconds instead of about
13 minutes on 2 cores, and no TensorFlow call during a turn. Rasa's own
LogisticRegressionClassifier reads raw word counts: it reached the same accuracy in
cross-validation but took about a minute to fit, without converging.

This module does not import rasa: the Rasa component is riposte_rasa/nlu/intent_classifier.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from riposte.nlp.learned import prepare_text, text_features
from riposte.nlp.saved import from_bytes, to_bytes

if TYPE_CHECKING:  # scikit-learn is imported when a model is trained or used, not before
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

__all__ = ["IntentModel"]

#: Inverse regularisation strength, chosen by 5-fold cross-validation on the NLU examples:
#: accuracy 0.797 / 0.801 / 0.803 with C = 10 / 30 / 100, and the probabilities grow sharper,
#: so fewer right readings fall under the FallbackClassifier's threshold (config.yml).
C = 100.0
#: Weight of the normalised sentence vector next to the TF-IDF features (0.5 to 2 gave the
#: same cross-validated accuracy; without it, two points lower).
VECTOR_WEIGHT = 1.0
FORMAT_VERSION = 1


@dataclass
class IntentModel:
    """The fitted text features, the vector size, and the classifier."""

    features: FeatureUnion
    classifier: LogisticRegression
    vector_size: int
    trained_on: int = 0
    version: int = FORMAT_VERSION

    @property
    def intents(self) -> list[str]:
        return [str(name) for name in self.classifier.classes_]

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        intents: Sequence[str],
        vectors: Any = None,
        *,
        c: float = C,
        seed: int = 42,
    ) -> IntentModel:
        """Fit on examples (text, intent) and their sentence vectors (rows of an array, or
        None when the pipeline computes none); deterministic for given data."""
        from sklearn.linear_model import LogisticRegression

        if len(texts) != len(intents):
            raise ValueError("one intent per text is needed")
        if len(set(intents)) < 2:
            raise ValueError("the intent model needs examples of at least two intents")
        features = text_features()
        sparse = features.fit_transform([prepare_text(t) for t in texts])
        vector_size = 0 if vectors is None else int(_as_matrix(vectors, len(texts)).shape[1])
        matrix = _join(sparse, vectors, vector_size, len(texts))
        classifier = LogisticRegression(
            C=c, class_weight="balanced", max_iter=2000, random_state=seed
        )
        classifier.fit(matrix, list(intents))
        return cls(features, classifier, vector_size, trained_on=len(texts))

    def predict_many(
        self, texts: Sequence[str], vectors: Any = None
    ) -> list[list[tuple[str, float]]]:
        """For each text, every intent with its probability, most likely first."""
        if not texts:
            return []
        sparse = self.features.transform(
            [prepare_text(t) if isinstance(t, str) else "" for t in texts]
        )
        matrix = _join(sparse, vectors, self.vector_size, len(texts))
        names = self.intents
        rankings = []
        for row in self.classifier.predict_proba(matrix):
            ranked = sorted(zip(names, (float(p) for p in row), strict=True), key=lambda x: -x[1])
            rankings.append(ranked)
        return rankings

    def dumps(self) -> bytes:
        return to_bytes(self)

    @classmethod
    def loads(cls, data: bytes) -> IntentModel:
        """Read a model this code saved (the model archive is trusted: it is trained here)."""
        return from_bytes(data, cls, FORMAT_VERSION, "an intent model")


def _as_matrix(vectors: Any, rows: int) -> Any:
    import numpy as np

    matrix = np.asarray(vectors, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != rows:
        raise ValueError(f"expected {rows} sentence vectors, got an array of shape {matrix.shape}")
    return matrix


def _join(sparse: Any, vectors: Any, vector_size: int, rows: int) -> Any:
    """The TF-IDF features, then the normalised sentence vectors (zeros where missing)."""
    import numpy as np
    from scipy.sparse import csr_matrix, hstack

    if vector_size == 0:
        return sparse
    if vectors is None:
        dense = np.zeros((rows, vector_size))
    else:
        dense = _as_matrix(vectors, rows)
        if dense.shape[1] != vector_size:
            raise ValueError(
                f"sentence vectors of size {dense.shape[1]}, the model was trained on {vector_size}"
            )
        norms = np.linalg.norm(dense, axis=1, keepdims=True)
        dense = np.divide(dense, norms, out=np.zeros_like(dense), where=norms > 0)
    return hstack([sparse, csr_matrix(dense * VECTOR_WEIGHT)]).tocsr()
