"""Benchmark letter rendering: one complaint to PDF and to DOCX, first run and median of N.

Runs in a fresh process so that the first run includes the lazy imports and the loading of
templates, fonts and knowledge. Numbers only: nothing here asserts a time.

    .venv/bin/python bench/bench_letters.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASE = ROOT / "tests" / "letters" / "cases" / "hospital_raid_contre_x.json"
TODAY = date(2026, 11, 24)


def _time(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func()
    return (time.perf_counter() - start) * 1000, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    import_ms, _ = _time(lambda: __import__("riposte.letters.output"))
    from riposte.letters.build import build_letter
    from riposte.letters.output import render

    report: dict[str, Any] = {
        "case": str(CASE.relative_to(ROOT)),
        "kind": "procureur",
        "runs": args.runs,
        "python": platform.python_version(),
        "import_ms": round(import_ms, 1),
    }
    first_build_ms, document = _time(lambda: build_letter(CASE, "procureur", TODAY))
    report["build_first_ms"] = round(first_build_ms, 1)
    builds = [_time(lambda: build_letter(CASE, "procureur", TODAY))[0] for _ in range(args.runs)]
    report["build_median_ms"] = round(statistics.median(builds), 1)
    for fmt in ("pdf", "docx"):

        def once(fmt: str = fmt) -> bytes:
            return render(document, fmt)

        first_ms, data = _time(once)
        times = [_time(once)[0] for _ in range(args.runs)]
        report[fmt] = {
            "first_ms": round(first_ms, 1),
            "median_ms": round(statistics.median(times), 1),
            "min_ms": round(min(times), 1),
            "max_ms": round(max(times), 1),
            "bytes": len(data),
        }
    end_to_end = [
        _time(lambda: render(build_letter(CASE, "procureur", TODAY), "pdf"))[0]
        for _ in range(args.runs)
    ]
    report["case_to_pdf_median_ms"] = round(statistics.median(end_to_end), 1)
    json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
