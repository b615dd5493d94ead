"""Summarise `rasa test nlu --cross-validation` results: F1 per intent and example counts.

Usage: python scripts/nlu_report.py RESULTS_DIR   (written by `make eval-nlu`)
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def example_counts() -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in item:
                lines = [x for x in str(item["examples"]).splitlines() if x.strip()]
                counts[item["intent"]] += len(lines)
    return counts


def main(results: Path) -> int:
    report_file = results / "intent_report.json"
    if not report_file.is_file():
        print(f"Rapport introuvable : {report_file}", file=sys.stderr)
        return 2
    report = json.loads(report_file.read_text())
    counts = example_counts()
    rows = [(k, v) for k, v in report.items() if isinstance(v, dict) and "f1-score" in v]
    print(f"{'intention':<28} {'exemples':>8} {'précision':>9} {'rappel':>7} {'F1':>6}")
    for name, scores in sorted(rows):
        if name in ("macro avg", "weighted avg", "micro avg"):
            continue
        base = name.split("/")[0]
        shown = counts.get(name, counts.get(base, 0)) if "/" not in name else "-"
        print(
            f"{name:<28} {shown!s:>8} {scores['precision']:>9.3f} {scores['recall']:>7.3f} "
            f"{scores['f1-score']:>6.3f}"
        )
    for avg in ("weighted avg", "macro avg"):
        if avg in report:
            f1 = report[avg]["f1-score"]
            print(f"{avg:<28} {sum(counts.values()):>8} {'':>9} {'':>7} {f1:>6.3f}")
    selector = results / "response_selection_report.json"
    if selector.is_file():
        rs = json.loads(selector.read_text())
        if "weighted avg" in rs:
            f1 = rs["weighted avg"]["f1-score"]
            print(f"{'faq (sélecteur de réponses)':<28} {'':>8} {'':>9} {'':>7} {f1:>6.3f}")
    entities = results / "DIETClassifier_report.json"
    print(
        "Entités : aucune entité n'est annotée dans les données (les faits sont extraits par "
        "riposte.nlp.extract, évalué par tests/core/test_extract.py)"
        if not entities.is_file()
        else f"Entités : voir {entities}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "var" / "nlu-eval"))
