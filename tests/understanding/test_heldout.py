"""The held-out understanding set: never trained on, scored honestly, and a floor under the
scores so that a change that makes Riposte understand less fails here.

The set (heldout.yml) was written from etiquettes.md alone, without the training data or the
lexicon. Scores: `make eval-understanding` (or `python bench/eval_understanding.py`).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import eval_understanding as evaluation  # noqa: E402
from eval_understanding import Description, HeldOut, Request, load_heldout

from riposte.nlp.extract import Facts

ROOT = Path(__file__).resolve().parents[2]

# Measured on 2026-12-06 by `python bench/eval_understanding.py --facts-only` (the lexicon and
# the facts model trained on data/situations with the fixed seed, as in the chat); a change that
# lowers one of them fails. Raise them when understanding improves, never lower them.
# The assistant's other NLU examples are the facts model's background negatives: the requests of
# the rungs (2026-12-07: notice, reply, wait, « ça recommence ») moved the scores within noise
# (held-out danger recall 0.779 → 0.809, false alarms 0.070 → 0.076, offences F1 0.835 → 0.830;
# corpus F1 0.755 → 0.748); the examples that quote what was published are not background.
# 2026-12-07: 680 more corpus situations (data/situations: menaces, atteintes, ecrits, nuances)
# and the lexicon's calls, online articles and other named platforms.
FLOORS = {
    "danger_recall": 0.83,  # measured 0.838 (0.809 before; lexicon alone 0.559)
    "danger_false_alarm_rate_max": 0.065,  # measured 0.058 (0.076 before)
    "offenses_micro_f1": 0.835,  # measured 0.842 (0.826 before; lexicon alone 0.493)
    "platforms_exact": 0.97,  # measured 0.975 (0.912 before the calls, articles, Discord…)
    "lawful_left_without_offence": 0.90,  # measured 0.904 (0.885 before)
}
# The same on the corpus by 5-fold cross-validation (seed 42); the corpus grew from 1,040 to
# 1,720 situations, with harder look-alikes of a danger.
# The lexicon's veiled threats and distress (2026-12-07) were written from the corpus items the
# model missed in this cross-validation, so its danger recall (0.880 -> 0.945) is no longer an
# outside measure: the held-out figures above are (unchanged by those patterns).
CROSS_VALIDATION_FLOORS = {
    "danger_recall": 0.93,  # measured 0.945 (0.880 before the patterns, 0.861 on 1,040 items)
    "danger_false_alarm_rate_max": 0.10,  # measured 0.098
    "offenses_micro_f1": 0.78,  # measured 0.784
}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", letters))


@pytest.fixture(scope="module")
def heldout() -> HeldOut:
    return load_heldout()


@pytest.fixture(scope="module")
def result(heldout: HeldOut) -> dict:
    corpus = evaluation.load_situations(evaluation.corpus_files(evaluation.CORPUS))
    return evaluation.evaluate(heldout, model=None, corpus=corpus)


def test_the_set_is_large_and_covers_every_label(heldout: HeldOut) -> None:
    descriptions = heldout.descriptions
    assert len(descriptions) >= 200 and len(heldout.requests) >= 50
    for key in evaluation.OFFENSES:
        assert sum(key in d.offenses for d in descriptions) >= 10, key
    assert sum(not d.offenses for d in descriptions) >= 0.15 * len(descriptions)
    assert sum(d.danger for d in descriptions) >= 40


@pytest.fixture(scope="module")
def trained_sentences() -> frozenset[str]:
    """Every sentence the assistant is trained on (data/**/*.yml), folded."""
    trained: set[str] = set()
    for path in (ROOT / "data").rglob("*.yml"):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            for line in str(item.get("examples") or "").splitlines():
                text = line.strip().removeprefix("- ").strip()
                if text:
                    trained.add(_fold(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)))
    return frozenset(trained)


def test_no_held_out_sentence_is_in_the_training_data(
    heldout: HeldOut, trained_sentences: frozenset[str]
) -> None:
    held = [x.text for x in heldout.descriptions] + [x.text for x in heldout.requests]
    assert not [t for t in held if _fold(t) in trained_sentences]


def test_the_tuning_set_is_apart_from_training_and_held_out_and_covers_the_requests(
    heldout: HeldOut, trained_sentences: frozenset[str]
) -> None:
    dev = load_heldout(evaluation.DEV)
    assert not dev.descriptions and len(dev.requests) >= 380
    texts = [_fold(r.text) for r in dev.requests]
    assert len(set(texts)) == len(texts)
    assert not set(texts) & trained_sentences
    assert not set(texts) & {_fold(r.text) for r in heldout.requests}
    counts = {i: sum(r.intent == i for r in dev.requests) for i in {r.intent for r in dev.requests}}
    assert {r.intent for r in heldout.requests} <= set(counts)
    assert min(counts.values()) >= 7, counts


def test_the_tuning_set_is_scored_apart_with_a_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a model, the tuning requests get their own scores, next to the held-out's."""
    described = Description("h1", "il m'insulte", frozenset(), frozenset(), False, _labels())
    held = HeldOut((described,), (Request("r1", "rédige ma plainte", "draft_complaint"),))
    dev = (Request("d1", "un", "faq"), Request("d2", "deux", "open_case"))
    answers = {
        "il m'insulte": "describe_situation",
        "rédige ma plainte": "draft_complaint",
        "un": "faq",
        "deux": "decline_case",
    }

    async def parse_all(model: Path, texts: list[str]) -> list[str]:
        return [answers[t] for t in texts]

    monkeypatch.setattr(evaluation, "_parse_all", parse_all)
    result = evaluation.evaluate(held, Path("model.tar.gz"), dev=dev)
    assert result["intents"]["requests_right_intent"] == 1.0
    assert result["dev_intents"]["requests"] == 2
    assert result["dev_intents"]["requests_right_intent"] == 0.5
    assert result["dev_intents"]["requests_right_intent_by_intent"] == {
        "faq": 1.0,
        "open_case": 0.0,
    }
    assert "Jeu de mise au point (2 demandes" in evaluation.report_text(result)


def test_scores_count_hits_misses_and_false_alarms() -> None:
    """The scoring itself, on three hand-made descriptions with known answers."""
    items = [
        Description("a", "", frozenset({"x"}), frozenset({"insult"}), False, _labels()),
        Description("b", "", frozenset({"sms"}), frozenset({"threat"}), True, _labels()),
        Description("c", "", frozenset(), frozenset(), False, _labels(public=True)),
    ]
    found = [
        Facts(platforms=["x"], offenses=["insult", "defamation"], urgent=False),
        Facts(platforms=["sms"], offenses=[], urgent=None),
        Facts(platforms=[], offenses=["insult"], urgent=True, public=True),
    ]
    scored = evaluation.score_facts(items, found)
    s = scored.scores
    assert s["offenses"]["insult"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1}
    assert s["offenses"]["threat"]["recall"] == 0.0
    assert s["offenses_micro"]["precision"] == round(1 / 3, 4)
    assert s["platforms_exact"] == 1.0 and s["offenses_exact"] == 0.0
    assert s["danger"] == {"recall": 0.0, "false_alarm_rate": 0.5, "urgent": 1, "not_urgent": 2}
    assert scored.misses["danger_missed"] == ["b"]
    assert scored.misses["danger_false_alarm"] == ["c"]
    assert s["lawful_left_without_offence"] == 0.0
    assert s["public"] == {"accuracy": 1.0, "support": 1}


def test_intent_scores_count_the_fallback() -> None:
    items = [Description(i, "", frozenset(), frozenset(), False, _labels()) for i in "ab"]
    requests = [Request("r1", "", "draft_complaint"), Request("r2", "", "draft_complaint")]
    scores = evaluation.score_intents(
        items, requests, ["describe_situation", "nlu_fallback"], ["draft_complaint", "faq"]
    )
    assert scores["requests_right_intent"] == 0.5 and scores["requests_missed"] == ["r2"]
    assert scores["descriptions_to_fallback"] == 1
    assert scores["descriptions_as_description"] == 0.5


def test_intent_scores_are_also_given_per_intent() -> None:
    """One letter's requests stolen by another show in its own score (bench/eval_understanding)."""
    requests = [
        Request("r1", "", "draft_complaint"),
        Request("r2", "", "request_platform_notice"),
        Request("r3", "", "request_platform_notice"),
    ]
    scores = evaluation.score_intents(
        [], requests, [], ["draft_complaint", "draft_complaint", "request_platform_notice"]
    )
    assert scores["requests_right_intent_by_intent"] == {
        "draft_complaint": 1.0,
        "request_platform_notice": 0.5,
    }


def test_the_letter_a_request_names_is_scored_on_letter_requests_only() -> None:
    requests = [
        Request("l1", "je veux saisir la CNIL", "request_letter", "cnil_complaint"),
        Request("l2", "rédigez-moi un courrier", "request_letter", None),
        Request("l3", "mon droit de réponse", "request_letter", "erasure_request"),  # misread
        Request("r1", "ma plainte au procureur", "draft_complaint"),
    ]
    scores = evaluation.score_letter_kinds(requests)
    assert scores == {"accuracy": round(2 / 3, 4), "support": 3, "wrong": ["l3"]}
    # The held-out file gives the letter of each letter request, or null for « a letter ».
    held = evaluation.load_heldout().requests
    asked = [r for r in held if r.intent == "request_letter"]
    assert len(asked) >= 30 and {r.kind for r in asked} >= {None, "cnil_complaint"}
    assert all(r.kind is None for r in held if r.intent != "request_letter")


def test_understanding_does_not_fall_below_its_floor(result: dict) -> None:
    s = result["scores"]
    assert s["danger"]["recall"] >= FLOORS["danger_recall"], result["misses"]["danger_missed"]
    assert s["danger"]["false_alarm_rate"] <= FLOORS["danger_false_alarm_rate_max"]
    assert s["offenses_micro"]["f1"] >= FLOORS["offenses_micro_f1"]
    assert s["platforms_exact"] >= FLOORS["platforms_exact"]
    assert s["lawful_left_without_offence"] >= FLOORS["lawful_left_without_offence"]


def test_the_facts_model_adds_to_the_lexicon(result: dict) -> None:
    """The combination is what the chat uses: it must read more than the lexicon alone."""
    combined, lexicon = result["scores"], result["lexicon_only"]
    assert combined["danger"]["recall"] > lexicon["danger"]["recall"]
    assert combined["offenses_micro"]["f1"] > lexicon["offenses_micro"]["f1"]


def test_cross_validation_does_not_fall_below_its_floor(result: dict) -> None:
    cv = result["cross_validation"]
    assert cv["folds"] == 5 and cv["situations"] >= 1000
    s = cv["scores"]
    assert s["danger"]["recall"] >= CROSS_VALIDATION_FLOORS["danger_recall"]
    assert s["danger"]["false_alarm_rate"] <= CROSS_VALIDATION_FLOORS["danger_false_alarm_rate_max"]
    assert s["offenses_micro"]["f1"] >= CROSS_VALIDATION_FLOORS["offenses_micro_f1"]


def _labels(**said: object) -> dict[str, object]:
    labels: dict[str, object] = dict.fromkeys(evaluation.SINGLE_LABELS)
    labels.update(said)
    return labels
