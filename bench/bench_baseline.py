"""Riposte compared with a bare Rasa 3.6 assistant (`rasa init`'s moodbot), in the same run.

For both: per-turn latency p50/p95/p99 over the REST channel (one conversation at a time),
throughput with 1, 8 and 32 conversations at once, Rasa server memory, start-up time and
training time; for Riposte also the letter rendering time (bench_letters.py). Prints a table
with the ratios and the two targets of issue #8, and writes bench/results/baseline.json
(Riposte's side also to bench/results/conversation.json).

    .venv/bin/python bench/bench_baseline.py [--conversations 20]

The baseline is made by `rasa init --no-prompt` in a temporary folder (its own config, data
and training, no network needed), served by `rasa run` with the REST channel only, no action
server and no API, on a free loopback port; it is deleted at the end.

Riposte's full training (4 to 7 minutes on 2 cores) runs only with RIPOSTE_BENCH_TRAIN=1, into
a temporary folder with a fresh training cache (models/riposte.tar.gz is never touched);
otherwise the table shows the last measured value, labelled with its date.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_conversation as bc  # noqa: E402

from devtools.ports import free_port  # noqa: E402 (bench_conversation set the path)

ROOT = bc.ROOT
RASA = Path(sys.executable).parent / "rasa"
RESULT = bc.RESULTS / "baseline.json"

# Moodbot's dialogue, eight turns like Riposte's: greetings, moods, yes/no, the bot question.
BASELINE_TURNS = [
    "hello",
    "I am very sad today",
    "no",
    "hi there",
    "I am feeling great",
    "are you a bot?",
    "yes",
    "goodbye",
]

TARGET_P95 = 1.5  # Riposte's p95 per turn at most 1.5 x the baseline's
TARGET_THROUGHPUT_8 = 0.7  # Riposte's throughput at 8 conversations at least 0.7 x the baseline's

REST_ONLY = "rest:\n"


def rasa_env(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        TQDM_DISABLE="1",
        RASA_CACHE_DIRECTORY=str(cache),
    )
    return env


def run_timed(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    with open(log, "wb") as out:
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        elapsed = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{log.read_text(errors='replace')[-3000:]}")
    return elapsed


def train_baseline(tmp: Path) -> tuple[Path, float]:
    """`rasa init --no-prompt`: writes moodbot and trains it (the copy itself takes ms)."""
    project = tmp / "moodbot"
    project.mkdir()  # with --no-prompt, rasa init wants an existing folder
    elapsed = run_timed(
        [str(RASA), "init", "--no-prompt", "--init-dir", str(project)],
        cwd=tmp,
        env=rasa_env(tmp / "cache"),
        log=tmp / "init.out",
    )
    models = sorted((project / "models").glob("*.tar.gz"))
    if not models:
        raise RuntimeError("rasa init produced no model:\n" + (tmp / "init.out").read_text())
    return models[-1], elapsed


def train_riposte(tmp: Path) -> float:
    """A full `rasa train` of Riposte into tmp (fresh cache: nothing reused)."""
    tmp.mkdir(parents=True, exist_ok=True)
    return run_timed(
        [
            str(RASA),
            "train",
            "--config",
            "config.yml",
            "--domain",
            "domain",
            "--data",
            "data",
            "--out",
            str(tmp / "models"),
            "--fixed-model-name",
            "riposte-bench",
            "--quiet",
        ],
        cwd=ROOT,
        env=rasa_env(tmp / "cache"),
        log=tmp / "train.out",
    )


def measure_baseline(tmp: Path, model: Path, conversations: int) -> dict[str, Any]:
    project = model.parent.parent
    (tmp / "credentials.yml").write_text(REST_ONLY)
    port = free_port()
    log = tmp / "run.out"
    with open(log, "wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(
            [
                str(RASA),
                "run",
                "--model",
                str(model),
                "--credentials",
                str(tmp / "credentials.yml"),
                "--interface",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=project,
            env=rasa_env(tmp / "cache"),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        while not bc.answers(f"http://127.0.0.1:{port}/"):
            if process.poll() is not None or time.perf_counter() - start > bc.START_TIMEOUT:
                raise RuntimeError(f"`rasa run` did not start:\n{log.read_text()}")
            time.sleep(0.2)
        startup = time.perf_counter() - start
        report: dict[str, Any] = {
            "startup_s": round(startup, 1),
            "rasa_answers_s": round(startup, 1),
        }
        report.update(bc.measure_conversations(port, BASELINE_TURNS, conversations, "base"))
        report["rss_mb_rasa"] = round(bc.process_rss_mb(process.pid))
    finally:
        bc.stop(process)
    return report


def measure_letters() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_letters.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout))


def previous_training() -> dict[str, Any] | None:
    try:
        previous = json.loads(RESULT.read_text())
        training = previous["riposte"]["training"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if training.get("seconds") is None:
        return None
    return dict(training)


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def fmt(value: float | None, unit: str = "") -> str:
    return "—" if value is None else f"{value:g}{unit}"


def table(report: dict[str, Any]) -> str:
    riposte, base = report["riposte"], report["baseline"]
    training = riposte["training"]
    training_label = "training (s)" + ("" if training["measured_now"] else " *")
    rows: list[tuple[str, float | None, float | None]] = [
        ("latency p50 (ms)", riposte["latency_ms"]["p50"], base["latency_ms"]["p50"]),
        ("latency p95 (ms)", riposte["latency_ms"]["p95"], base["latency_ms"]["p95"]),
        ("latency p99 (ms)", riposte["latency_ms"]["p99"], base["latency_ms"]["p99"]),
    ]
    for level in bc.CONCURRENCY:
        rows.append(
            (
                f"turns/s, {level} at once",
                riposte["throughput"][str(level)]["turns_per_s"],
                base["throughput"][str(level)]["turns_per_s"],
            )
        )
        rows.append(
            (
                f"  p95 at {level} at once (ms)",
                riposte["throughput"][str(level)]["latency_ms"]["p95"],
                base["throughput"][str(level)]["latency_ms"]["p95"],
            )
        )
    rows += [
        ("Rasa server RSS (MB)", riposte["rss_mb_rasa"], base["rss_mb_rasa"]),
        ("start-up, Rasa answers (s)", riposte["rasa_answers_s"], base["rasa_answers_s"]),
        ("start-up, all ready (s)", riposte["startup_s"], base["startup_s"]),
        (training_label, training["seconds"], base["training_s"]),
    ]
    letters = riposte.get("letters") or {}
    rows += [
        ("letter PDF, median (ms)", letters.get("pdf", {}).get("median_ms"), None),
        ("letter DOCX, median (ms)", letters.get("docx", {}).get("median_ms"), None),
    ]
    lines = [f"{'':30} {'Riposte':>10} {'baseline':>10} {'ratio':>7}"]
    for name, a, b in rows:
        lines.append(f"{name:30} {fmt(a):>10} {fmt(b):>10} {fmt(ratio(a, b), '×'):>7}")
    failures = {
        who: {level: report[who]["throughput"][str(level)]["failures"] for level in bc.CONCURRENCY}
        for who in ("riposte", "baseline")
    }
    lines.append(f"failed turns by concurrency: {failures}")
    if not training["measured_now"]:
        when = training.get("measured_at") or "never"
        lines.append(f"* not measured in this run (RIPOSTE_BENCH_TRAIN=1 to do so); last: {when}")
    for target in report["targets"].values():
        verdict = "OK" if target["met"] else "MISSED"
        lines.append(f"target {target['rule']}: {target['ratio']}× → {verdict}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="riposte-baseline-"))
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    try:
        print("==> Baseline: rasa init --no-prompt (writes and trains moodbot)", flush=True)
        model, baseline_training = train_baseline(tmp)
        if os.environ.get("RIPOSTE_BENCH_TRAIN") == "1":
            print("==> Riposte: full rasa train into a temporary folder", flush=True)
            training: dict[str, Any] = {
                "seconds": round(train_riposte(tmp / "riposte"), 1),
                "measured_now": True,
                "measured_at": started,
            }
        else:
            training = dict(previous_training() or {"seconds": None, "measured_at": None})
            training["measured_now"] = False
        print("==> Riposte: riposte serve, conversations over REST", flush=True)
        riposte = bc.measure_riposte(args.conversations)
        bc.RESULTS.mkdir(parents=True, exist_ok=True)
        (bc.RESULTS / "conversation.json").write_text(json.dumps(riposte, indent=2) + "\n")
        riposte["training"] = training
        print("==> Riposte: letters", flush=True)
        riposte["letters"] = measure_letters()
        print("==> Baseline: rasa run, conversations over REST", flush=True)
        baseline = measure_baseline(tmp, model, args.conversations)
        baseline["training_s"] = round(baseline_training, 1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    p95 = ratio(riposte["latency_ms"]["p95"], baseline["latency_ms"]["p95"])
    tp8 = ratio(
        riposte["throughput"]["8"]["turns_per_s"], baseline["throughput"]["8"]["turns_per_s"]
    )
    report: dict[str, Any] = {
        "date": started,
        "machine": {"cpus": os.cpu_count(), "load_avg_1min_at_end": os.getloadavg()[0]},
        "conversations": args.conversations,
        "riposte": riposte,
        "baseline": baseline,
        "targets": {
            "p95_latency": {
                "rule": f"p95 ≤ {TARGET_P95}× baseline",
                "ratio": p95,
                "met": p95 is not None and p95 <= TARGET_P95,
            },
            "throughput_8": {
                "rule": f"turns/s at 8 ≥ {TARGET_THROUGHPUT_8}× baseline",
                "ratio": tp8,
                "met": tp8 is not None and tp8 >= TARGET_THROUGHPUT_8,
            },
        },
    }
    report["table"] = table(report).splitlines()
    RESULT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print("\n".join(report["table"]))
    print(f"(written to {RESULT.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
