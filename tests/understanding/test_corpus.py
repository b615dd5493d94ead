"""The annotated corpus of situations (data/situations): well-formed, large and varied enough,
and apart from the held-out set."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import eval_understanding as evaluation  # noqa: E402
from eval_understanding import Description, load_heldout, load_situations

from riposte.knowledge import PLATFORM_KEYS
from tests.understanding.test_heldout import _fold

CORPUS = sorted((Path(__file__).resolve().parents[2] / "data" / "situations").glob("*.yml"))


@pytest.fixture(scope="module")
def corpus() -> tuple[Description, ...]:
    return load_situations(CORPUS)


def test_the_corpus_covers_every_label(corpus: tuple[Description, ...]) -> None:
    assert len(corpus) >= 1000
    offenses = Counter(key for item in corpus for key in item.offenses)
    assert all(offenses[key] >= 30 for key in evaluation.OFFENSES), offenses
    platforms = Counter(key for item in corpus for key in item.platforms)
    assert all(platforms[key] >= 10 for key in PLATFORM_KEYS), platforms
    assert sum(not item.offenses for item in corpus) >= 0.15 * len(corpus)
    assert sum(item.danger for item in corpus) >= 150
    assert sum(item.labels["discriminatory"] is True for item in corpus) >= 40


def test_no_sentence_is_repeated_nor_taken_from_the_held_out_set(
    corpus: tuple[Description, ...],
) -> None:
    texts = [_fold(item.text) for item in corpus]
    repeated = [text for text, n in Counter(texts).items() if n > 1]
    assert not repeated
    held = {_fold(item.text) for item in load_heldout().descriptions}
    assert not held & set(texts)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"offenses": ["insulte"]}, "unknown keys ['insulte']"),
        ({"platforms": ["myspace"]}, "unknown keys ['myspace']"),
        ({"danger": "oui"}, "danger must be true or false"),
        ({"volume": "beaucoup"}, "volume 'beaucoup' is not allowed"),
        ({"text": "  "}, "empty text"),
    ],
)
def test_a_wrong_annotation_is_refused_with_its_id(change: dict, message: str) -> None:
    item = {
        "id": "z001",
        "text": "Un avis Google me traite de charlatan.",
        "platforms": ["google_reviews"],
        "offenses": ["insult"],
        "danger": False,
        "discriminatory": None,
        "volume": "single",
        "public": True,
        "author_relation": "unknown",
    }
    evaluation.read_description(item)
    with pytest.raises(ValueError, match="z001") as refused:
        evaluation.read_description({**item, **change})
    assert message in str(refused.value)
    with pytest.raises(ValueError, match=r"z001: missing \['author_relation'\]"):
        evaluation.read_description({k: v for k, v in item.items() if k != "author_relation"})
