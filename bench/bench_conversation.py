"""Benchmark the running assistant: start-up time, memory, per-turn latency over REST.

Starts `riposte serve` on free ports (trained model required), plays a realistic triage
conversation several times, and prints a JSON report (also written to bench/results/).
Numbers only: nothing here asserts a time.

    .venv/bin/python bench/bench_conversation.py [--conversations 20]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RIPOSTE = Path(sys.executable).parent / "riposte"

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        name = "rasa" if " rasa run" in cmdline else "actions" if "rasa_sdk" in cmdline else "other"
        result[name] = int(fields["VmRSS"].split()[0]) / 1024
    return result


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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=20)
    args = parser.parse_args()
    ports = [free_port() for _ in range(3)]
    tmp = Path(tempfile.mkdtemp(prefix="riposte-bench-"))
    env = dict(os.environ)
    env.update(
        RIPOSTE_RASA_PORT=str(ports[0]),
        RIPOSTE_ACTIONS_PORT=str(ports[1]),
        RIPOSTE_WEB_PORT=str(ports[2]),
        RIPOSTE_VAR_DIR=str(tmp),
        RIPOSTE_API_TOKEN="",
    )
    out = open(tmp / "serve.out", "wb")  # noqa: SIM115
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(RIPOSTE), "serve"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
    )
    try:
        while "Riposte est prêt" not in (tmp / "serve.out").read_text(errors="replace"):
            if process.poll() is not None:
                print((tmp / "serve.out").read_text(), file=sys.stderr)
                return 1
            time.sleep(0.2)
        startup = time.perf_counter() - start
        say(ports[0], "warm-up", "Bonjour")
        latencies: list[float] = []
        begin = time.perf_counter()
        for n in range(args.conversations):
            for turn in TURNS:
                latencies.append(say(ports[0], f"bench-{n}", turn))
        elapsed = time.perf_counter() - begin
        report: dict[str, Any] = {
            "turns": len(latencies),
            "startup_s": round(startup, 1),
            "latency_ms": {
                "p50": round(statistics.median(latencies), 1),
                "p95": round(percentile(latencies, 0.95), 1),
                "p99": round(percentile(latencies, 0.99), 1),
                "max": round(max(latencies), 1),
            },
            "throughput_turns_per_s_sequential": round(len(latencies) / elapsed, 1),
            "rss_mb": {k: round(v) for k, v in children_rss_mb(process.pid).items()},
        }
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "conversation.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
