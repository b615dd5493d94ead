"""Benchmark the French text readers on odd and long input: dates and facts, median of N runs.

The tests only check that these inputs are read without hanging (a deadline of minutes); how
fast they are read is measured here. Numbers only: nothing here asserts a time.

    .venv/bin/python bench/bench_text.py [--runs 5] [--out bench/results/text.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TODAY = date(2024, 3, 1)
CHUNK = (
    "Depuis le 3 janvier un patient m'insulte sur Facebook, il m'a menacé, "
    "pas de menace de mort, encore hier un post @troll_1. "
)
INPUTS = {
    "message ordinaire": "Il m'insulte depuis le 3 janvier sur Facebook et encore hier.",
    "préfixes répétés (« il y a un » × 2000)": "il y a un " * 2000,
    "« fin » × 5000 puis un mois": "fin " * 5000 + "mars",
    "« menace de ... » × 3000": "menace de ... " * 3_000,
    "50 000 caractères de récit": (CHUNK * (50_000 // len(CHUNK) + 1))[:50_000],
}


def _median_ms(func: object, text: str, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        func(text, TODAY)  # type: ignore[operator]
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "text.json")
    args = parser.parse_args()

    from riposte.nlp.dates import find_dates, parse_french_date
    from riposte.nlp.extract import extract_facts

    extract_facts(CHUNK, TODAY)  # warm-up: the lexicon is compiled once per process
    results = {}
    print(f"Lecture des textes, médiane de {args.runs} passages (ms) :")
    for label, text in INPUTS.items():
        row = {
            "dates (parse_french_date)": _median_ms(parse_french_date, text, args.runs),
            "dates (find_dates)": _median_ms(find_dates, text, args.runs),
            "faits (extract_facts)": _median_ms(extract_facts, text, args.runs),
        }
        results[label] = {"chars": len(text), **{k: round(v, 2) for k, v in row.items()}}
        cells = "  ".join(f"{k} {v:8.1f}" for k, v in row.items())
        print(f"  {label[:44]:44} {cells}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"machine": platform.machine(), "python": platform.python_version(), "ms": results},
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
