"""Benchmark the running assistant: start-up time, memory, per-turn latency over REST.

Starts `riposte serve` on free ports (trained model required), plays a realistic triage
conversation several times in a row (per-turn latency p50/p95/p99), then with 1, 8 and 32
conversations at once (throughput), and prints a JSON report (also written to
bench/results/conversation.json). Numbers only: nothing here asserts a time.

    .venv/bin/python bench/bench_conversation.py [--conversations 20]

The functions below are shared with bench_baseline.py, which measures a bare Rasa assistant
the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from devtools.stack import start_stack  # noqa: E402

RESULTS = ROOT / "bench" / "results"
START_TIMEOUT = 600
CONCURRENCY = (1, 8, 32)

TURNS = [
    "Bonjour",
    "Depuis hier des dizaines de comptes m'insultent sur Twitter après mon message sur les vaccins",
    '/inform{"choice": "practice=liberal"}',
    "pourquoi ?",
    "c'est fait",
    "et ensuite ?",
    "c'est quoi Pharos ?",
    "merci, au revoir",
]


def _rss_mb(status: str) -> float:
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def process_rss_mb(pid: int) -> float:
    """Resident memory of one process."""
    try:
        return _rss_mb(Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return 0.0


def children_rss_mb(pid: int) -> dict[str, float]:
    """Resident memory of each process whose parent is `pid`, by command name."""
    result: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("PPid", "0").strip()) != pid:
            continue
        result[process_role(cmdline)] = _rss_mb(status)
    return result


def process_role(cmdline: str) -> str:
    """Which service a child of `riposte serve` is, from its command line."""
    if "riposte_rasa.server" in cmdline or re.search(r"(?:^|[\s/])rasa run(?:\s|$)", cmdline):
        return "rasa"
    if "riposte_rasa.action_server" in cmdline:
        return "actions"
    return "other"


def say(port: int, sender: str, message: str) -> float:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return (time.perf_counter() - start) * 1000


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status) == 200
    except (OSError, urllib.error.URLError):
        return False


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def latency_summary(latencies: Sequence[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(latencies), 1),
        "p95": round(percentile(latencies, 0.95), 1),
        "p99": round(percentile(latencies, 0.99), 1),
        "max": round(max(latencies), 1),
    }


async def _play(
    session: aiohttp.ClientSession,
    url: str,
    sender: str,
    turns: Sequence[str],
    latencies: list[float],
    failures: list[str],
    by_turn: list[list[float]],
) -> None:
    for index, turn in enumerate(turns):
        start = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": turn}) as response:
                body = await response.read()
                if response.status != 200:
                    failures.append(f"HTTP {response.status}")
                elif body.strip() in (b"", b"[]"):
                    failures.append("empty answer")
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            failures.append(type(error).__name__)
        latencies.append((time.perf_counter() - start) * 1000)
        by_turn[index].append(latencies[-1])


async def _concurrent(
    port: int, turns: Sequence[str], concurrency: int, conversations: int, prefix: str
) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    latencies: list[float] = []
    failures: list[str] = []
    by_turn: list[list[float]] = [[] for _ in turns]
    timeout = aiohttp.ClientTimeout(total=300)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(conversations):
            queue.put_nowait(n)

        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                await _play(session, url, f"{prefix}-{n}", turns, latencies, failures, by_turn)

        begin = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - begin
    return {
        "concurrency": concurrency,
        "conversations": conversations,
        "turns": len(latencies),
        "elapsed_s": round(elapsed, 1),
        "turns_per_s": round(len(latencies) / elapsed, 2),
        "latency_ms": latency_summary(latencies),
        "p50_ms_by_turn": [round(statistics.median(values), 1) for values in by_turn],
        "failures": len(failures),
        "failure_kinds": sorted(set(failures)),
    }


def measure_conversations(
    port: int, turns: Sequence[str], conversations: int, prefix: str
) -> dict[str, Any]:
    """Per-turn latency (one conversation at a time) and throughput at 1, 8, 32 at once."""
    for turn in turns:  # warm-up: first calls load lazy parts of the pipeline
        say(port, f"{prefix}-warm-up", turn)
    sequential = asyncio.run(_concurrent(port, turns, 1, conversations, f"{prefix}-seq"))
    report: dict[str, Any] = {
        "turns_per_conversation": len(turns),
        "latency_ms": sequential["latency_ms"],
        "p50_ms_by_turn": dict(zip(turns, sequential["p50_ms_by_turn"], strict=True)),
        "throughput": {"1": sequential},
    }
    for concurrency in CONCURRENCY[1:]:
        # A multiple of the concurrency, at least two rounds: no half-empty last round.
        total = max(2, -(-conversations // concurrency)) * concurrency
        report["throughput"][str(concurrency)] = asyncio.run(
            _concurrent(port, turns, concurrency, total, f"{prefix}-c{concurrency}")
        )
    return report


@dataclass
class Started:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    startup_s: float
    rasa_answers_s: float


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def riposte_stack(tmp: Path) -> Iterator[Started]:
    """`riposte serve` on free ports with a throw-away var/ folder, stopped on exit."""
    start = time.perf_counter()
    # devtools/stack.py, shared with the tests: free ports, no store or token from .env.
    stack = start_stack(tmp, token=None)
    log = tmp / "serve.out"
    try:
        rasa_answers = 0.0
        while "Riposte est prêt" not in log.read_text(errors="replace"):
            if stack.process.poll() is not None or time.perf_counter() - start > START_TIMEOUT:
                raise RuntimeError(f"`riposte serve` did not start:\n{log.read_text()}")
            if not rasa_answers and answers(f"http://127.0.0.1:{stack.rasa_port}/"):
                rasa_answers = time.perf_counter() - start
            time.sleep(0.2)
        startup = time.perf_counter() - start
        yield Started(stack.process, stack.rasa_port, log, startup, rasa_answers or startup)
    finally:
        stack.stop()


def measure_riposte(conversations: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="riposte-bench-") as name, riposte_stack(
        Path(name)
    ) as stack:
        report: dict[str, Any] = {
            "startup_s": round(stack.startup_s, 1),
            "rasa_answers_s": round(stack.rasa_answers_s, 1),
        }
        report.update(measure_conversations(stack.port, TURNS, conversations, "bench"))
        rss = children_rss_mb(stack.process.pid)
        report["rss_mb"] = {k: round(v) for k, v in rss.items()}
        report["rss_mb_rasa"] = round(rss.get("rasa", 0.0))
    return report


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=20)
    args = parser.parse_args()
    report = measure_riposte(args.conversations)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "conversation.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
