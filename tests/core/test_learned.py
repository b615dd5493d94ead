"""The trained facts model and its combination with the lexicon (riposte/nlp/learned.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from riposte.chat.triage import facts_from_text
from riposte.nlp import learned
from riposte.nlp.corpus import Description, corpus_files, intent_examples, load_situations
from riposte.nlp.extract import Facts, extract_facts
from riposte.nlp.learned import FactsModel, LearnedFacts, combine

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 12, 6)


def scores(**values: float) -> LearnedFacts:
    return LearnedFacts(values)


# ------------------------------------------------------------------ the combination rule


def test_the_model_alone_can_raise_the_alarm() -> None:
    facts = combine(Facts(), scores(danger=learned.DANGER_THRESHOLD))
    assert facts.urgent is True
    assert combine(Facts(), scores(danger=learned.DANGER_THRESHOLD - 0.01)).urgent is None


def test_the_lexicon_alarm_is_never_lowered_by_the_model() -> None:
    assert combine(Facts(urgent=True), scores(danger=0.0)).urgent is True


def test_a_denial_wins_over_a_doubtful_model_but_not_over_a_sure_one() -> None:
    denied = Facts(urgent=False, physical_danger=False)
    assert combine(denied, scores(danger=learned.DANGER_DENIAL_OVERRIDE - 0.01)).urgent is False
    assert combine(denied, scores(danger=learned.DANGER_DENIAL_OVERRIDE)).urgent is True


def test_model_offences_complete_the_lexicon_in_the_case_format_order() -> None:
    facts = combine(
        Facts(offenses=["threat"], lawful_criticism=None),
        scores(insult=0.9, threat=0.2, defamation=0.1, lawful=0.0),
    )
    assert facts.offenses == ["insult", "threat"]
    assert facts.evidence["model.offenses"] == ["insult"]


def test_outrage_is_not_added_to_a_public_message() -> None:
    public = combine(Facts(public=True), scores(outrage=0.9, insult=0.9))
    assert public.offenses == ["insult"]
    private = combine(Facts(public=False), scores(outrage=0.9, insult=0.9))
    assert private.offenses == ["insult", "outrage"]


def test_a_lawful_reading_adds_no_offence_when_the_lexicon_found_none() -> None:
    facts = combine(Facts(lawful_criticism=True), scores(insult=0.6, lawful=0.7))
    assert facts.offenses == [] and facts.lawful_criticism is True


def test_an_added_offence_ends_the_lawful_criticism() -> None:
    facts = combine(Facts(lawful_criticism=True), scores(defamation=0.9, lawful=0.1))
    assert facts.offenses == ["defamation"] and facts.lawful_criticism is False


def test_a_sure_lawful_reading_drops_a_doubtful_lexicon_offence_but_never_a_threat() -> None:
    facts = combine(
        Facts(offenses=["insult", "threat"]),
        scores(lawful=learned.LAWFUL_VETO, insult=0.1, threat=0.1),
    )
    assert facts.offenses == ["threat"]
    assert facts.evidence["model.lawful_veto"] == ["insult"]
    only_insult = combine(Facts(offenses=["insult"]), scores(lawful=0.9, insult=0.1))
    assert only_insult.offenses == [] and only_insult.lawful_criticism is True
    # A lexicon offence the model also sees is kept.
    kept = combine(Facts(offenses=["insult"]), scores(lawful=0.9, insult=learned.OFFENSE_VETO))
    assert kept.offenses == ["insult"]


def test_discrimination_from_either_side() -> None:
    assert combine(Facts(), scores(discriminatory=0.7)).discriminatory is True
    assert combine(Facts(discriminatory=True), scores(discriminatory=0.0)).discriminatory is True
    assert combine(Facts(), scores(discriminatory=0.3)).discriminatory is None


def test_no_model_reading_leaves_the_lexicon_as_it_is() -> None:
    lexicon = Facts(offenses=["insult"], urgent=None)
    assert combine(lexicon, None) is lexicon
    assert combine(lexicon, LearnedFacts()) is lexicon


def test_the_lexicon_facts_are_not_modified() -> None:
    lexicon = Facts(offenses=["insult"])
    combine(lexicon, scores(defamation=0.9, danger=0.9))
    assert lexicon.offenses == ["insult"] and lexicon.urgent is None and not lexicon.evidence


@pytest.mark.parametrize(
    "data",
    [None, "x", 3, {}, {"scores": "no"}, {"scores": []}],
)
def test_parse_data_that_is_not_a_reading_gives_none(data: object) -> None:
    assert LearnedFacts.from_dict(data) is None


def test_parse_data_keeps_known_labels_and_clamps_values() -> None:
    read = LearnedFacts.from_dict(
        {"scores": {"danger": 7, "insult": -1, "unknown": 0.9, "threat": True, "lawful": 0.5}}
    )
    assert read is not None
    assert dict(read.scores) == {"danger": 1.0, "insult": 0.0, "lawful": 0.5}
    assert LearnedFacts.from_dict(read.as_dict()) == read


def test_the_triage_reads_with_the_model() -> None:
    text = "elle raconte partout que je suis un danger public et que je vais finir en prison"
    assert "urgent" not in facts_from_text(text, {}, TODAY)
    updates = facts_from_text(text, {}, TODAY, scores(danger=0.9, defamation=0.8))
    assert updates["urgent"] is True and "defamation" in updates["offenses"]


# ------------------------------------------------------------------ the trained model


def _item(i: int, text: str, offenses: set[str], danger: bool) -> Description:
    labels = {"volume": None, "public": None, "author_relation": None, "discriminatory": None}
    return Description(f"t{i}", text, frozenset(), frozenset(offenses), danger, labels)


TINY = [
    _item(i, text, offenses, danger)
    for i, (text, offenses, danger) in enumerate(
        [(f"il va venir me tuer au cabinet ce soir {n}", {"threat"}, True) for n in range(6)]
        + [(f"le médecin était très en retard de {n} heures", set(), False) for n in range(6)]
        + [(f"sale incompétente et grosse nulle numéro {n}", {"insult"}, False) for n in range(6)]
    )
]


@pytest.fixture(scope="module")
def corpus_model() -> FactsModel:
    nlu = sorted((ROOT / "data" / "nlu").glob("*.yml"))
    return FactsModel.train(
        load_situations(corpus_files(ROOT / "data" / "situations")),
        learned.background_texts(intent_examples(nlu)),
    )


def test_a_model_learns_its_labels() -> None:
    model = FactsModel.train(TINY)
    threat = model.predict("il va venir me tuer demain")
    late = model.predict("le médecin était encore en retard hier")
    assert threat.danger and "threat" in threat.offenses and not threat.lawful
    assert not late.danger and late.offenses == [] and late.lawful
    assert model.classifiers["defamation"] is None  # no example: never predicted
    assert "defamation" not in threat.scores


def test_a_short_message_is_left_to_the_lexicon() -> None:
    model = FactsModel.train(TINY)
    assert model.predict("il va me tuer").scores == {}  # fewer than MIN_WORDS words
    assert model.predict("il va venir me tuer demain").scores  # MIN_WORDS words: read
    assert learned.MIN_WORDS == 6


def test_background_sentences_are_negatives_for_every_label() -> None:
    """Sentences of the assistant's other intents teach the model what is no description."""
    chat = [f"merci beaucoup pour votre aide ce soir {n}" for n in range(40)]
    text = "merci beaucoup pour votre aide ce soir"
    without = FactsModel.train(TINY).predict(text)
    with_background = FactsModel.train(TINY, chat).predict(text)
    assert with_background.scores["danger"] < without.scores["danger"]
    assert with_background.scores["insult"] < without.scores["insult"]
    # lawful describes descriptions only: background does not train it
    assert with_background.scores["lawful"] == pytest.approx(without.scores["lawful"], abs=0.25)


def test_background_excludes_the_intents_that_describe() -> None:
    examples = [
        ("greet", "bonjour"),
        ("faq", "c'est quoi la diffamation ?"),
        ("describe_situation", "on m'insulte sur facebook"),
        ("inform", "il m'a menacé"),
        ("report_emergency", "il est devant chez moi"),
    ]
    assert learned.background_texts(examples) == ["bonjour", "c'est quoi la diffamation ?"]


def test_training_is_deterministic_and_survives_saving() -> None:
    first, second = FactsModel.train(TINY), FactsModel.train(TINY)
    text = "tu vas voir ce soir au cabinet"
    assert first.predict(text) == second.predict(text)
    assert FactsModel.loads(first.dumps()).predict(text) == first.predict(text)


def test_a_saved_file_that_is_not_a_model_is_refused() -> None:
    import io

    import joblib

    buffer = io.BytesIO()
    joblib.dump({"not": "a model"}, buffer)
    with pytest.raises(ValueError, match="train the model again"):
        FactsModel.loads(buffer.getvalue())


def test_an_empty_corpus_is_refused() -> None:
    with pytest.raises(ValueError, match="empty corpus"):
        FactsModel.train([])


@pytest.mark.parametrize("text", ["", "   ", None, "x" * 60_000])
def test_odd_input_gives_a_reading_without_error(corpus_model: FactsModel, text: object) -> None:
    found = corpus_model.predict(text)  # type: ignore[arg-type]
    assert isinstance(found, LearnedFacts)


def test_editing_the_corpus_changes_what_the_model_reads(tmp_path: Path) -> None:
    original = (ROOT / "data" / "situations" / "propos.yml").read_text(encoding="utf-8")
    edited = tmp_path / "propos.yml"
    # Every item of this file labelled as a danger: the model must follow its corpus.
    edited.write_text(original.replace("danger: false", "danger: true"), encoding="utf-8")
    before = FactsModel.train(load_situations([ROOT / "data" / "situations" / "propos.yml"]))
    after = FactsModel.train(load_situations([edited]))
    text = "il m'a traitée de charlatan sur google"
    assert before.predict(text).scores != after.predict(text).scores


@pytest.mark.parametrize(
    "text",
    [
        # Written for this test, not taken from the corpus: the lexicon misses them.
        "jsuis a bout, jen peux plus de tout ca, je pense a en finir ce soir",
        "le mec du forum a ecrit qu'il connaissait l'ecole de mes gosses",
        "je ne dors plus, je pense que ma famille serait mieux sans moi",
    ],
)
def test_dangers_the_lexicon_misses_are_read_by_the_combination(
    corpus_model: FactsModel, text: str
) -> None:
    lexicon = extract_facts(text, TODAY)
    assert lexicon.urgent is not True, "the lexicon now reads it: pick another example"
    assert combine(lexicon, corpus_model.predict(text)).urgent is True


def test_a_late_doctor_review_stays_a_lawful_criticism(corpus_model: FactsModel) -> None:
    text = "avis 2 étoiles : une heure de retard et la secrétaire pas aimable du tout"
    facts = combine(extract_facts(text, TODAY), corpus_model.predict(text))
    assert facts.offenses == [] and facts.urgent is not True
