"""How well Riposte understands a doctor's description, measured on a held-out set.

The held-out set (tests/understanding/heldout.yml) is written from the label definitions
alone (tests/understanding/etiquettes.md) and never trained on. Each description carries the
facts a reader finds in it; each request, the intent it must reach.

    python bench/eval_understanding.py [--heldout FILE] [--model FILE | --facts-only]
                                       [--out FILE] [--today AAAA-MM-JJ]

prints a French table and writes the scores as JSON (`make eval-understanding`). The facts
are read by `extract_facts`, as the chat reads a first message; the intents by the trained
Rasa model (its NLU part), unless --facts-only. With a model, the requests of the tuning set
(--dev, tests/understanding/mise_au_point.yml) are scored too, apart: that set, not the
held-out one, is where intent settings are compared.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from riposte.knowledge import OFFENSE_KEYS
from riposte.nlp.corpus import (
    SINGLE_LABELS,
    Description,
    corpus_files,
    intent_examples,
    load_situations,
    read_description,
)
from riposte.nlp.extract import Facts, extract_facts
from riposte.nlp.learned import FactsModel, LearnedFacts, background_texts, combine

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = ROOT / "tests" / "understanding" / "heldout.yml"
# Requests written apart from both the training data and the held-out set, from the intent
# definitions alone (tests/understanding/intentions.md): where settings are compared, so that
# the held-out set stays a measure only.
DEV = ROOT / "tests" / "understanding" / "mise_au_point.yml"
CORPUS = ROOT / "data" / "situations"
NLU = ROOT / "data" / "nlu"
FOLDS = 5
SEED = 42
MODEL = ROOT / "models" / "riposte.tar.gz"
OUT = ROOT / "var" / "understanding-eval.json"
# The day the descriptions are read on: relative dates do not change any label scored here.
TODAY = dt.date(2026, 12, 6)

OFFENSES = OFFENSE_KEYS
# Intents that handle a description (the triage starts, or the emergency reply first).
DESCRIPTION_INTENTS = frozenset({"describe_situation", "report_emergency"})


@dataclass(frozen=True)
class Request:
    """A request of the held-out set; `kind` is the letter a letter request names (None: it
    names none, the chat then offers the choice), given only for request_letter."""

    id: str
    text: str
    intent: str
    kind: str | None = None


@dataclass(frozen=True)
class HeldOut:
    descriptions: tuple[Description, ...]
    requests: tuple[Request, ...]


def load_heldout(path: Path = HELDOUT) -> HeldOut:
    """Read and check the held-out file (unknown keys or values stop with the item's id)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    descriptions = [read_description(item) for item in raw.get("descriptions") or []]
    requests = [
        Request(
            id=str(r["id"]),
            text=str(r["text"]),
            intent=str(r["intent"]),
            kind=str(r["kind"]) if r.get("kind") else None,
        )
        for r in raw.get("requests") or []
    ]
    ids = [d.id for d in descriptions] + [r.id for r in requests]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate ids in {path.name}")
    return HeldOut(tuple(descriptions), tuple(requests))


def read_facts(
    texts: Iterable[str], today: dt.date = TODAY, model: FactsModel | None = None
) -> list[Facts]:
    """The facts the chat reads: the lexicon's, completed by the trained model when given."""
    texts = list(texts)
    lexicon = [extract_facts(text, today) for text in texts]
    if model is None:
        return lexicon
    return [
        combine(f, learned) for f, learned in zip(lexicon, model.predict_many(texts), strict=True)
    ]


def background(nlu: Path = NLU) -> list[str]:
    """The background sentences the Rasa component trains with (data/nlu)."""
    return background_texts(intent_examples(sorted(nlu.glob("*.yml"))))


def cross_validate(
    items: Sequence[Description],
    folds: int = FOLDS,
    seed: int = SEED,
    today: dt.date = TODAY,
    others: Sequence[str] = (),
) -> list[Facts]:
    """k-fold cross-validation on the corpus: each item is read by a model trained on the
    other folds (shuffled with `seed`) and the background sentences `others`, then combined
    with the lexicon as in the chat."""
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    learned: list[LearnedFacts | None] = [None] * len(items)
    for fold in range(folds):
        held = sorted(order[fold::folds])
        kept = set(held)
        model = FactsModel.train([items[i] for i in order if i not in kept], others, seed=seed)
        for index, found in zip(
            held, model.predict_many([items[i].text for i in held]), strict=True
        ):
            learned[index] = found
    return [
        combine(extract_facts(item.text, today), found)
        for item, found in zip(items, learned, strict=True)
    ]


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "support": tp + fn,
    }


def _predicted(facts: Facts, name: str) -> Any:
    if name == "discriminatory":
        return bool(facts.discriminatory)
    return getattr(facts, name)


@dataclass
class FactScores:
    """The facts part of the evaluation; `misses` lists, per label, the ids it got wrong."""

    scores: dict[str, Any] = field(default_factory=dict)
    misses: dict[str, list[str]] = field(default_factory=dict)


def score_facts(descriptions: Sequence[Description], facts: Sequence[Facts]) -> FactScores:
    """Offences (per label and micro), platforms (exact set), danger, lawful criticism left
    without an offence, and the single-valued labels (accuracy where the label is said)."""
    out = FactScores()
    counts = {key: [0, 0, 0] for key in OFFENSES}
    for item, found in zip(descriptions, facts, strict=True):
        predicted = set(found.offenses)
        for key in OFFENSES:
            if key in predicted and key in item.offenses:
                counts[key][0] += 1
            elif key in predicted:
                counts[key][1] += 1
            elif key in item.offenses:
                counts[key][2] += 1
        if predicted != set(item.offenses):
            out.misses.setdefault("offenses", []).append(item.id)
        if set(found.platforms) != set(item.platforms):
            out.misses.setdefault("platforms", []).append(item.id)
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    out.scores["offenses"] = {key: _prf(*c) for key, c in counts.items()}
    out.scores["offenses_micro"] = _prf(*total)
    n = len(descriptions)
    out.scores["offenses_exact"] = round(1 - len(out.misses.get("offenses", [])) / n, 4)
    out.scores["platforms_exact"] = round(1 - len(out.misses.get("platforms", [])) / n, 4)

    urgent = [d for d, f in zip(descriptions, facts, strict=True) if d.danger]
    calm = [(d, f) for d, f in zip(descriptions, facts, strict=True) if not d.danger]
    missed = [d.id for d, f in zip(descriptions, facts, strict=True) if d.danger and not f.urgent]
    alarms = [d.id for d, f in calm if f.urgent]
    out.misses["danger_missed"] = missed
    out.misses["danger_false_alarm"] = alarms
    out.scores["danger"] = {
        "recall": round(1 - len(missed) / len(urgent), 4) if urgent else 1.0,
        "false_alarm_rate": round(len(alarms) / len(calm), 4) if calm else 0.0,
        "urgent": len(urgent),
        "not_urgent": len(calm),
    }
    lawful = [(d, f) for d, f in zip(descriptions, facts, strict=True) if not d.offenses]
    accused = [d.id for d, f in lawful if f.offenses]
    out.misses["lawful_with_offence"] = accused
    out.scores["lawful_left_without_offence"] = (
        round(1 - len(accused) / len(lawful), 4) if lawful else 1.0
    )
    for name in SINGLE_LABELS:
        said = [
            (d, f) for d, f in zip(descriptions, facts, strict=True) if d.labels[name] is not None
        ]
        wrong = [d.id for d, f in said if _predicted(f, name) != d.labels[name]]
        out.misses[name] = wrong
        out.scores[name] = {
            "accuracy": round(1 - len(wrong) / len(said), 4) if said else 1.0,
            "support": len(said),
        }
    return out


def score_letter_kinds(requests: Sequence[Request]) -> dict[str, Any]:
    """The letter a letter request names, as the chat reads it (riposte/chat/drafts.py)."""
    from riposte.chat.drafts import kind_from_text

    asked = [r for r in requests if r.intent == "request_letter"]
    wrong = [r.id for r in asked if kind_from_text(r.text) != r.kind]
    return {
        "accuracy": round(1 - len(wrong) / len(asked), 4) if asked else 1.0,
        "support": len(asked),
        "wrong": wrong,
    }


def score_intents(
    descriptions: Sequence[Description],
    requests: Sequence[Request],
    description_intents: Sequence[str],
    request_intents: Sequence[str],
) -> dict[str, Any]:
    """Letter requests reaching their intent; descriptions handled as descriptions, and never
    left to the fallback."""
    reached = [r.id for r, got in zip(requests, request_intents, strict=True) if got == r.intent]
    fallback = [
        d.id
        for d, got in zip(descriptions, description_intents, strict=True)
        if got == "nlu_fallback"
    ]
    handled = [
        d.id
        for d, got in zip(descriptions, description_intents, strict=True)
        if got in DESCRIPTION_INTENTS
    ]
    by_intent: dict[str, float] = {}
    for intent in sorted({r.intent for r in requests}):
        asked = [r.id for r in requests if r.intent == intent]
        by_intent[intent] = round(sum(1 for i in asked if i in set(reached)) / len(asked), 4)
    return {
        "requests_right_intent": round(len(reached) / len(requests), 4) if requests else 1.0,
        "requests_right_intent_by_intent": by_intent,
        "descriptions_as_description": (
            round(len(handled) / len(descriptions), 4) if descriptions else 1.0
        ),
        "descriptions_to_fallback": len(fallback),
        "requests_missed": [r.id for r in requests if r.id not in set(reached)],
        "descriptions_fallback_ids": fallback,
    }


async def _parse_all(model: Path, texts: Sequence[str]) -> list[str]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    intents = []
    for text in texts:
        parsed = await agent.parse_message(text)
        intents.append(str((parsed.get("intent") or {}).get("name")))
    return intents


def _row(label: str, value: str) -> str:
    return f"  {label:<52} {value}"


def _summary_lines(s: Mapping[str, Any], platforms: bool = False) -> list[str]:
    lines = [
        _row("Danger : rappel (urgences repérées)", f"{s['danger']['recall']:.3f}"),
        _row(
            "Danger : fausses alertes (part des non urgentes)",
            f"{s['danger']['false_alarm_rate']:.3f}",
        ),
        _row("Infractions : F1 micro", f"{s['offenses_micro']['f1']:.3f}"),
        _row("Infractions : liste exacte", f"{s['offenses_exact']:.3f}"),
    ]
    if platforms:
        lines.append(_row("Plateformes : liste exacte", f"{s['platforms_exact']:.3f}"))
    lines.append(
        _row("Critique licite laissée sans infraction", f"{s['lawful_left_without_offence']:.3f}")
    )
    return lines


def report_text(result: Mapping[str, Any]) -> str:
    s = result["scores"]
    lines: list[str] = []
    if "cross_validation" in result:
        cv = result["cross_validation"]
        lines.append(
            f"Validation croisée sur le corpus annoté ({cv['folds']} blocs, "
            f"{cv['situations']} situations, graine {cv['seed']})"
        )
        lines.extend(_summary_lines(cv["scores"]))
    if "lexicon_only" in result:
        lines.append("Jeu de test indépendant, lexique seul (pour comparaison)")
        lines.extend(_summary_lines(result["lexicon_only"]))
    lines.append(
        f"Compréhension sur le jeu de test indépendant ({result['descriptions']} descriptions, "
        f"{result['requests']} demandes)"
    )
    lines += _summary_lines(s, platforms=True)
    for name in SINGLE_LABELS:
        lines.append(_row(f"{name} : exactitude (quand il est dit)", f"{s[name]['accuracy']:.3f}"))
    if "intents" in result:
        i = result["intents"]
        lines.append(
            _row("Demandes reconnues (bonne intention)", f"{i['requests_right_intent']:.3f}")
        )
        for intent, ratio in i.get("requests_right_intent_by_intent", {}).items():
            lines.append(_row(f"  dont {intent}", f"{ratio:.3f}"))
        lines.append(
            _row(
                "Descriptions traitées comme des descriptions",
                f"{i['descriptions_as_description']:.3f}",
            )
        )
        lines.append(
            _row(
                "Descriptions laissées au « je n'ai pas compris »",
                str(i["descriptions_to_fallback"]),
            )
        )
    if "dev_intents" in result:
        d = result["dev_intents"]
        lines.append(
            f"Jeu de mise au point ({d['requests']} demandes, où se comparent les réglages)"
        )
        lines.append(
            _row("Demandes reconnues (bonne intention)", f"{d['requests_right_intent']:.3f}")
        )
        for intent, ratio in d["requests_right_intent_by_intent"].items():
            lines.append(_row(f"  dont {intent}", f"{ratio:.3f}"))
    if "letter_kinds" in result:
        k = result["letter_kinds"]
        lines.append(
            _row(
                f"Courrier reconnu dans les demandes de courrier ({k['support']})",
                f"{k['accuracy']:.3f}",
            )
        )
    lines.append("  Par infraction (précision / rappel / F1 / exemples) :")
    for key, v in s["offenses"].items():
        scores = f"{v['precision']:.2f} / {v['recall']:.2f} / {v['f1']:.2f} / {v['support']}"
        lines.append(f"    {key:<20} {scores}")
    return "\n".join(lines)


def evaluate(
    heldout: HeldOut,
    model: Path | None,
    today: dt.date = TODAY,
    corpus: Sequence[Description] | None = None,
    folds: int = FOLDS,
    dev: Sequence[Request] = (),
) -> dict[str, Any]:
    """Scores on the held-out set (lexicon and facts model trained on `corpus`, as in the chat;
    the lexicon alone for comparison), the corpus's cross-validation, and with a Rasa model the
    intents."""
    texts = [d.text for d in heldout.descriptions]
    others = background() if corpus else []
    facts_model = FactsModel.train(corpus, others, seed=SEED) if corpus else None
    fact_scores = score_facts(heldout.descriptions, read_facts(texts, today, facts_model))
    result: dict[str, Any] = {
        "descriptions": len(heldout.descriptions),
        "requests": len(heldout.requests),
        "scores": fact_scores.scores,
        "misses": fact_scores.misses,
        "letter_kinds": score_letter_kinds(heldout.requests),
    }
    if corpus:
        result["lexicon_only"] = score_facts(heldout.descriptions, read_facts(texts, today)).scores
        result["cross_validation"] = {
            "folds": folds,
            "seed": SEED,
            "situations": len(corpus),
            "scores": score_facts(
                corpus, cross_validate(corpus, folds, SEED, today, others)
            ).scores,
        }
    if model is not None:
        # One model load for the held-out texts and the tuning requests.
        texts = [d.text for d in heldout.descriptions] + [r.text for r in heldout.requests]
        intents = asyncio.run(_parse_all(model, texts + [r.text for r in dev]))
        n, m = len(heldout.descriptions), len(texts)
        result["intents"] = score_intents(
            heldout.descriptions, heldout.requests, intents[:n], intents[n:m]
        )
        if dev:
            got = intents[m:]
            result["dev_intents"] = {"requests": len(dev), **score_intents((), dev, (), got)}
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python bench/eval_understanding.py",
        description="Mesure la compréhension sur le jeu de test indépendant.",
    )
    parser.add_argument("--heldout", type=Path, default=HELDOUT)
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--facts-only", action="store_true", help="sans le modèle Rasa")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=TODAY)
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="corpus annoté (entraînement)")
    parser.add_argument(
        "--lexicon-only", action="store_true", help="sans le modèle de faits (lexique seul)"
    )
    parser.add_argument("--folds", type=int, default=FOLDS, help="blocs de validation croisée")
    parser.add_argument(
        "--dev", type=Path, default=DEV, help="demandes de mise au point (réglages des intentions)"
    )
    args = parser.parse_args(argv)
    model = None if args.facts_only else args.model
    if model is not None and not model.is_file():
        print(
            f"Modèle introuvable : {model} (lancez `make train`, ou --facts-only).", file=sys.stderr
        )
        return 2
    corpus = None if args.lexicon_only else load_situations(corpus_files(args.corpus))
    dev = load_heldout(args.dev).requests if model is not None else ()
    result = evaluate(load_heldout(args.heldout), model, args.today, corpus, args.folds, dev)
    result["date"] = dt.date.today().isoformat()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(report_text(result))
    print(f"Détail (erreurs par étiquette) : {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
