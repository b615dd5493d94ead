"""How well Riposte understands a doctor's description, measured on a held-out set.

The held-out set (tests/understanding/heldout.yml) is written from the label definitions
alone (tests/understanding/etiquettes.md) and never trained on. Each description carries the
facts a reader finds in it; each request, the intent it must reach.

    python bench/eval_understanding.py [--heldout FILE] [--model FILE | --facts-only]
                                       [--out FILE] [--today AAAA-MM-JJ]

prints a French table and writes the scores as JSON (`make eval-understanding`). The facts
are read by `extract_facts`, as the chat reads a first message; the intents by the trained
Rasa model (its NLU part), unless --facts-only.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from riposte.knowledge import OFFENSE_KEYS, PLATFORM_KEYS
from riposte.nlp.extract import Facts, extract_facts

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = ROOT / "tests" / "understanding" / "heldout.yml"
MODEL = ROOT / "models" / "riposte.tar.gz"
OUT = ROOT / "var" / "understanding-eval.json"
# The day the descriptions are read on: relative dates do not change any label scored here.
TODAY = dt.date(2026, 12, 6)

OFFENSES = OFFENSE_KEYS
SINGLE_LABELS = ("volume", "public", "author_relation", "discriminatory")
# Intents that handle a description (the triage starts, or the emergency reply first).
DESCRIPTION_INTENTS = frozenset({"describe_situation", "report_emergency"})


@dataclass(frozen=True)
class Description:
    id: str
    text: str
    platforms: frozenset[str]
    offenses: frozenset[str]
    danger: bool
    labels: Mapping[str, Any]  # volume, public, author_relation, discriminatory (None: unsaid)


@dataclass(frozen=True)
class Request:
    id: str
    text: str
    intent: str


@dataclass(frozen=True)
class HeldOut:
    descriptions: tuple[Description, ...]
    requests: tuple[Request, ...]


PLATFORMS = frozenset(PLATFORM_KEYS)
ALLOWED: dict[str, set[object]] = {
    "volume": {"single", "repeated", "raid", None},
    "public": {True, False, None},
    "author_relation": {"patient", "colleague", "unknown", "other", None},
    "discriminatory": {True, False, None},
}
FIELDS = ("id", "text", "platforms", "offenses", "danger", *SINGLE_LABELS)


def read_description(item: Mapping[str, Any]) -> Description:
    """One annotated description (held-out set or corpus), checked against the label guide
    (tests/understanding/etiquettes.md): a missing field or unknown value names the item."""
    where = item.get("id", "?")
    missing = [name for name in FIELDS if name not in item]
    if missing:
        raise ValueError(f"{where}: missing {missing}")
    if not str(item["text"] or "").strip():
        raise ValueError(f"{where}: empty text")
    offenses = frozenset(item["offenses"] or [])
    platforms = frozenset(item["platforms"] or [])
    if offenses - set(OFFENSES) or platforms - PLATFORMS:
        raise ValueError(
            f"{where}: unknown keys {sorted((offenses - set(OFFENSES)) | (platforms - PLATFORMS))}"
        )
    if item["danger"] not in (True, False):
        raise ValueError(f"{where}: danger must be true or false")
    for name, allowed in ALLOWED.items():
        if item[name] not in allowed:
            raise ValueError(f"{where}: {name} {item[name]!r} is not allowed")
    return Description(
        id=str(item["id"]),
        text=str(item["text"]),
        platforms=platforms,
        offenses=offenses,
        danger=bool(item["danger"]),
        labels={name: item[name] for name in SINGLE_LABELS},
    )


def load_situations(paths: Iterable[Path]) -> tuple[Description, ...]:
    """The annotated corpus (data/situations/*.yml, key `situations`)."""
    items: list[Description] = []
    for path in paths:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        items.extend(read_description(item) for item in raw.get("situations") or [])
    ids = [item.id for item in items]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate ids in the corpus")
    return tuple(items)


def load_heldout(path: Path = HELDOUT) -> HeldOut:
    """Read and check the held-out file (unknown keys or values stop with the item's id)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    descriptions = [read_description(item) for item in raw.get("descriptions") or []]
    requests = [
        Request(id=str(r["id"]), text=str(r["text"]), intent=str(r["intent"]))
        for r in raw.get("requests") or []
    ]
    ids = [d.id for d in descriptions] + [r.id for r in requests]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate ids in the held-out set")
    return HeldOut(tuple(descriptions), tuple(requests))


def read_facts(texts: Iterable[str], today: dt.date = TODAY) -> list[Facts]:
    return [extract_facts(text, today) for text in texts]


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
    return {
        "requests_right_intent": round(len(reached) / len(requests), 4) if requests else 1.0,
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


def report_text(result: Mapping[str, Any]) -> str:
    s = result["scores"]
    lines = [
        f"Compréhension sur le jeu de test indépendant ({result['descriptions']} descriptions, "
        f"{result['requests']} demandes de plainte)",
        _row("Danger : rappel (urgences repérées)", f"{s['danger']['recall']:.3f}"),
        _row(
            "Danger : fausses alertes (part des non urgentes)",
            f"{s['danger']['false_alarm_rate']:.3f}",
        ),
        _row("Infractions : F1 micro", f"{s['offenses_micro']['f1']:.3f}"),
        _row("Infractions : liste exacte", f"{s['offenses_exact']:.3f}"),
        _row("Plateformes : liste exacte", f"{s['platforms_exact']:.3f}"),
        _row("Critique licite laissée sans infraction", f"{s['lawful_left_without_offence']:.3f}"),
    ]
    for name in SINGLE_LABELS:
        lines.append(_row(f"{name} : exactitude (quand il est dit)", f"{s[name]['accuracy']:.3f}"))
    if "intents" in result:
        i = result["intents"]
        lines.append(
            _row("Demandes de plainte vers le bon formulaire", f"{i['requests_right_intent']:.3f}")
        )
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
    lines.append("  Par infraction (précision / rappel / F1 / exemples) :")
    for key, v in s["offenses"].items():
        scores = f"{v['precision']:.2f} / {v['recall']:.2f} / {v['f1']:.2f} / {v['support']}"
        lines.append(f"    {key:<20} {scores}")
    return "\n".join(lines)


def evaluate(heldout: HeldOut, model: Path | None, today: dt.date = TODAY) -> dict[str, Any]:
    facts = read_facts((d.text for d in heldout.descriptions), today)
    fact_scores = score_facts(heldout.descriptions, facts)
    result: dict[str, Any] = {
        "descriptions": len(heldout.descriptions),
        "requests": len(heldout.requests),
        "scores": fact_scores.scores,
        "misses": fact_scores.misses,
    }
    if model is not None:
        texts = [d.text for d in heldout.descriptions] + [r.text for r in heldout.requests]
        intents = asyncio.run(_parse_all(model, texts))
        n = len(heldout.descriptions)
        result["intents"] = score_intents(
            heldout.descriptions, heldout.requests, intents[:n], intents[n:]
        )
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
    args = parser.parse_args(argv)
    model = None if args.facts_only else args.model
    if model is not None and not model.is_file():
        print(
            f"Modèle introuvable : {model} (lancez `make train`, ou --facts-only).", file=sys.stderr
        )
        return 2
    result = evaluate(load_heldout(args.heldout), model, args.today)
    result["date"] = dt.date.today().isoformat()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(report_text(result))
    print(f"Détail (erreurs par étiquette) : {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
