"""A trained facts model, and the rule that combines it with the lexicon.

The lexicon (riposte/knowledge/lexicon.yml, read by `riposte.nlp.extract`) is precise but
only knows the words it lists; people write otherwise. `FactsModel` is trained on the
annotated corpus (data/situations, `riposte.nlp.corpus`) and reads what the lexicon misses:

- features: TF-IDF of character n-grams inside words (2 to 5 characters: typos, SMS spelling,
  missing accents) and of words and word pairs, both on the folded text (lower case, no
  accents), from scikit-learn (kept, documented, already required by Rasa);
- one logistic regression per label (scikit-learn, `class_weight="balanced"`): each offence
  key of the case format, `danger`, `lawful` (no offence at all) and `discriminatory`;
- **background**: the assistant's other training sentences (greetings, questions, requests:
  the NLU examples of every intent but `BACKGROUND_EXCLUDED`) are negatives for every label
  but `lawful` (a description's label), with weight `BACKGROUND_WEIGHT`. Without them, a
  message unlike any description (« qui a gagné le match ? ») got a high danger probability:
  the corpus holds descriptions only.

`combine(lexicon_facts, learned)` is the documented rule (README, « Compréhension »):

- messages of fewer than `MIN_WORDS` words are read by the lexicon alone;
- **danger, recall first**: urgent when the lexicon says so, or when the model's danger
  probability reaches `DANGER_THRESHOLD` (set low on purpose: when in doubt, 17 and 112 first).
  An explicit denial the lexicon read (« je ne suis pas en danger ») wins over a model
  probability below `DANGER_DENIAL_OVERRIDE` only;
- **offences**: the lexicon's offences (high precision) plus each offence whose probability
  reaches `OFFENSE_THRESHOLD`, unless the model reads a lawful criticism (probability of
  `lawful` at least `LAWFUL_THRESHOLD`) and the lexicon found no offence: then none is added;
  an offence added this way makes `lawful_criticism` false, and outrage (said in private) is
  not added to a message the lexicon reads as public. When the model reads a lawful
  criticism with probability at least `LAWFUL_VETO`, a lexicon offence to which it gives less
  than `OFFENSE_VETO` is dropped (a word such as « nul » or « menteur » inside an ordinary bad
  review), except a threat;
- **discriminatory**: the lexicon's finding, or the model's probability at least
  `DISCRIMINATORY_THRESHOLD`.

Platforms, volume, visibility, author, dates and handles stay the lexicon's. This module does
not import rasa: the Rasa component is riposte_rasa/nlu/facts_classifier.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from riposte.knowledge import OFFENSE_KEYS
from riposte.nlp import fold
from riposte.nlp.corpus import Description
from riposte.nlp.extract import Facts
from riposte.nlp.saved import from_bytes, to_bytes

if TYPE_CHECKING:  # scikit-learn is imported when a model is trained or used, not before
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

__all__ = [
    "DANGER_THRESHOLD",
    "FactsModel",
    "LABELS",
    "LearnedFacts",
    "background_texts",
    "combine",
    "prepare_text",
    "text_features",
]

DANGER = "danger"
LAWFUL = "lawful"
DISCRIMINATORY = "discriminatory"
#: The labels the model predicts: the offence keys, then the three facts above.
LABELS: tuple[str, ...] = (*OFFENSE_KEYS, DANGER, LAWFUL, DISCRIMINATORY)

# Thresholds on the model's probabilities (chosen by cross-validation on the corpus,
# `make eval-understanding`; never on the held-out set).
DANGER_THRESHOLD = 0.58
DANGER_DENIAL_OVERRIDE = 0.8
OFFENSE_THRESHOLD = 0.5
LAWFUL_THRESHOLD = 0.4
LAWFUL_VETO = 0.6
OFFENSE_VETO = 0.3
#: Never dropped by the veto: a threat matters even inside a criticism.
NOT_VETOED = frozenset({"threat"})
DISCRIMINATORY_THRESHOLD = 0.6
#: Intents whose examples may describe a situation (or a danger), or quote what was published
#: (« ça recommence, il me traite de… », « faire retirer l'avis où il dit que… »): not
#: background.
BACKGROUND_EXCLUDED = frozenset(
    {
        "describe_situation",
        "inform",
        "report_emergency",
        "situation_worse",
        "request_reply_help",
        "request_platform_notice",
        "platform_refused",
        "request_letter",
        "request_legal_action",
    }
)
BACKGROUND_WEIGHT = 0.1
#: A label with fewer positive examples than this is not learned (always 0).
MIN_POSITIVES = 4
#: A shorter message is left to the lexicon: a few words (« à la prochaine », « il y a deux
#: semaines ») give the model too little to read, and it is unreliable on them.
MIN_WORDS = 6
#: Longer texts are cut before featurising (a chat message is far shorter).
MAX_CHARS = 5_000
FORMAT_VERSION = 1


@dataclass(frozen=True)
class LearnedFacts:
    """What the model reads in one message: its probabilities and the decisions they give."""

    scores: Mapping[str, float] = field(default_factory=dict)

    @property
    def danger(self) -> bool:
        return self.scores.get(DANGER, 0.0) >= DANGER_THRESHOLD

    @property
    def lawful(self) -> bool:
        return self.scores.get(LAWFUL, 0.0) >= LAWFUL_THRESHOLD

    @property
    def discriminatory(self) -> bool:
        return self.scores.get(DISCRIMINATORY, 0.0) >= DISCRIMINATORY_THRESHOLD

    @property
    def offenses(self) -> list[str]:
        return [k for k in OFFENSE_KEYS if self.scores.get(k, 0.0) >= OFFENSE_THRESHOLD]

    def as_dict(self) -> dict[str, Any]:
        """The form carried in Rasa's parse data (JSON): rounded scores and the decisions."""
        return {
            "scores": {k: round(float(v), 4) for k, v in self.scores.items()},
            "danger": self.danger,
            "lawful": self.lawful,
            "discriminatory": self.discriminatory,
            "offenses": self.offenses,
        }

    @classmethod
    def from_dict(cls, data: Any) -> LearnedFacts | None:
        """Back from parse data; None for anything else (a message the model did not read)."""
        if not isinstance(data, Mapping):
            return None
        scores = data.get("scores")
        if not isinstance(scores, Mapping):
            return None
        clean: dict[str, float] = {}
        for key, value in scores.items():
            if key in LABELS and isinstance(value, (int, float)) and not isinstance(value, bool):
                clean[key] = min(1.0, max(0.0, float(value)))
        return cls(clean)


def background_texts(examples: Iterable[tuple[str, str]]) -> list[str]:
    """The background sentences among (intent, text) pairs: every intent but the excluded."""
    return [text for intent, text in examples if intent not in BACKGROUND_EXCLUDED]


def _targets(item: Description) -> dict[str, bool]:
    values = {key: key in item.offenses for key in OFFENSE_KEYS}
    values[DANGER] = item.danger
    values[LAWFUL] = not item.offenses
    values[DISCRIMINATORY] = item.labels.get("discriminatory") is True
    return values


def prepare_text(text: str) -> str:
    """The text the models read: folded (lower case, no accents), cut to `MAX_CHARS`."""
    return fold(text[:MAX_CHARS])


def text_features() -> FeatureUnion:
    """TF-IDF of character n-grams inside words and of words and word pairs (unfitted)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    min_df=1,
                    sublinear_tf=True,
                    token_pattern=r"(?u)\b\w+\b",
                ),
            ),
        ]
    )


@dataclass
class FactsModel:
    """The fitted features and one classifier per label (None: too few examples to learn)."""

    features: FeatureUnion
    classifiers: dict[str, LogisticRegression | None]
    trained_on: int = 0
    version: int = FORMAT_VERSION

    @classmethod
    def train(
        cls,
        items: Sequence[Description],
        background: Sequence[str] = (),
        *,
        c: float = 8.0,
        seed: int = 42,
    ) -> FactsModel:
        """Fit on annotated descriptions and background sentences (negatives for every label);
        deterministic for given data and seed."""
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        if not items:
            raise ValueError("cannot train the facts model on an empty corpus")
        texts = [prepare_text(item.text) for item in items]
        others = [
            prepare_text(text) for text in background if isinstance(text, str) and text.strip()
        ]
        features = text_features()
        matrix = features.fit_transform(texts + others)
        weights = np.concatenate([np.ones(len(texts)), np.full(len(others), BACKGROUND_WEIGHT)])
        lawful_weights = np.concatenate([np.ones(len(texts)), np.zeros(len(others))])
        targets = [_targets(item) for item in items]
        classifiers: dict[str, LogisticRegression | None] = {}
        for label in LABELS:
            y = np.array([t[label] for t in targets] + [False] * len(others), dtype=int)
            positives = int(y[: len(texts)].sum())
            if positives < MIN_POSITIVES or positives > len(texts) - MIN_POSITIVES:
                classifiers[label] = None
                continue
            # The dual problem: far more n-gram features than sentences, where liblinear's dual
            # solver reaches the same optimum (probabilities within 1e-4 on the held-out set,
            # no decision changed) in about half the time of the primal one.
            model = LogisticRegression(
                C=c,
                class_weight="balanced",
                solver="liblinear",
                dual=True,
                max_iter=1000,
                random_state=seed,
            )
            # `lawful` says which descriptions are mere criticism: background is no description.
            model.fit(matrix, y, sample_weight=weights if label != LAWFUL else lawful_weights)
            classifiers[label] = model
        return cls(features, classifiers, trained_on=len(items))

    def predict_many(self, texts: Iterable[str]) -> list[LearnedFacts]:
        prepared = [prepare_text(t) if isinstance(t, str) else "" for t in texts]
        if not prepared:
            return []
        readable = [i for i, text in enumerate(prepared) if len(text.split()) >= MIN_WORDS]
        found = [LearnedFacts() for _ in prepared]
        if readable:
            for i, reading in zip(
                readable, self._read([prepared[i] for i in readable]), strict=True
            ):
                found[i] = reading
        return found

    def _read(self, prepared: list[str]) -> list[LearnedFacts]:
        import numpy as np

        labels, weights, intercepts = self._stacked()
        # The same as each classifier's predict_proba (a binary logistic regression is the
        # sigmoid of its decision function), in one product for all the labels.
        logits = self.features.transform(prepared) @ weights + intercepts
        probabilities = 1.0 / (1.0 + np.exp(-np.asarray(logits)))
        return [
            LearnedFacts({label: float(p) for label, p in zip(labels, row, strict=True)})
            for row in probabilities
        ]

    def _stacked(self) -> tuple[list[str], Any, Any]:
        """The classifiers' weights side by side (computed once per loaded model)."""
        cached = self.__dict__.get("_stacked_weights")
        if cached is None:
            import numpy as np

            labels = [label for label, model in self.classifiers.items() if model is not None]
            models = [self.classifiers[label] for label in labels]
            weights = np.vstack([m.coef_[0] for m in models]).T  # type: ignore[union-attr]
            intercepts = np.array([m.intercept_[0] for m in models])  # type: ignore[union-attr]
            cached = (labels, weights, intercepts)
            self.__dict__["_stacked_weights"] = cached
        return cached

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_stacked_weights", None)  # derived: not saved
        return state

    def predict(self, text: str) -> LearnedFacts:
        if not isinstance(text, str) or not text.strip():
            return LearnedFacts()
        return self.predict_many([text])[0]

    def dumps(self) -> bytes:
        return to_bytes(self)

    @classmethod
    def loads(cls, data: bytes) -> FactsModel:
        """Read a model this code saved (the model archive is trusted: it is trained here)."""
        return from_bytes(data, cls, FORMAT_VERSION, "a facts model")


def combine(lexicon: Facts, learned: LearnedFacts | None) -> Facts:
    """The lexicon's facts completed by the model's (the rule in the module docstring)."""
    if learned is None or not learned.scores:
        return lexicon
    facts = dataclasses.replace(
        lexicon, offenses=list(lexicon.offenses), evidence=dict(lexicon.evidence)
    )
    danger_score = learned.scores.get(DANGER, 0.0)
    if lexicon.urgent is not True and learned.danger:
        if lexicon.urgent is None or danger_score >= DANGER_DENIAL_OVERRIDE:
            facts.urgent = True
            facts.evidence["model.danger"] = [f"{danger_score:.2f}"]
    kept = list(lexicon.offenses)
    if learned.scores.get(LAWFUL, 0.0) >= LAWFUL_VETO:
        vetoed = [
            k for k in kept if k not in NOT_VETOED and learned.scores.get(k, 0.0) < OFFENSE_VETO
        ]
        if vetoed:
            kept = [k for k in kept if k not in vetoed]
            facts.offenses = kept
            facts.evidence["model.lawful_veto"] = vetoed
            if not kept and facts.lawful_criticism is None:
                facts.lawful_criticism = True
    added = [k for k in learned.offenses if k not in kept]
    if lexicon.public is True:
        # Outrage is said in private (a message, a mail, a call): never on a public page.
        added = [k for k in added if k != "outrage"]
    if added and not (learned.lawful and not kept):
        found = set(kept) | set(added)
        facts.offenses = [k for k in OFFENSE_KEYS if k in found]
        facts.evidence["model.offenses"] = added
        if facts.lawful_criticism:
            facts.lawful_criticism = False
    if not facts.discriminatory and learned.discriminatory:
        facts.discriminatory = True
        facts.evidence["model.discriminatory"] = [f"{learned.scores.get(DISCRIMINATORY, 0.0):.2f}"]
    return facts
