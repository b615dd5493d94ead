"""Where a turn's CPU goes: py-spy on the Rasa server and the action server during the bench
conversation, summed into the parts of a turn.

    .venv/bin/python bench/bench_profile.py [--conversations 15] [--concurrency 1]
    make profile

Starts `riposte serve` (the tests' launcher, free ports, throw-away var/), plays the bench's
triage conversation (bench_conversation.TURNS) once to warm up, then samples both processes
with `py-spy record --format raw` while it plays `--conversations` more, and prints the CPU
milliseconds per turn of each part (NLU components, policies, action calls, tracker store;
actions, passphrase hashing and case store on the action server's side). Writes
bench/results/profile.json and keeps the raw samples (bench/results/profile-*.txt, loadable
in speedscope or flamegraph.pl). Numbers only: nothing here asserts a time.

A part's milliseconds are its inclusive samples divided by the sampling rate and the number of
turns; parts of one process may overlap (e.g. "action calls" contains "answer validation").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_conversation as bc  # noqa: E402

from devtools.stack import start_stack, wait_ready  # noqa: E402

RATE = 200  # samples per second

# Part name -> (function, file suffix) frames whose inclusive samples it counts.
RASA_PARTS: dict[str, list[tuple[str, str]]] = {
    "whole turn (REST handler)": [("receive", "channels/rest.py")],
    "NLU (all)": [("_parse_message_with_graph", "rasa/core/processor.py")],
    "  spaCy fr_core_news_md": [("process", "rasa/nlu/utils/spacy_utils.py")],
    "  intent model (Riposte)": [("process", "riposte_rasa/nlu/intent_classifier.py")],
    "  FAQ answers (Riposte)": [("process", "riposte_rasa/nlu/faq_selector.py")],
    "  facts model and lexicon (Riposte)": [("process", "riposte_rasa/nlu/facts_classifier.py")],
    "policies (all predictions)": [("_predict_next_with_tracker", "rasa/core/processor.py")],
    "  MemoizationPolicy": [("predict_action_probabilities", "rasa/core/policies/memoization.py")],
    "  RulePolicy": [("predict_action_probabilities", "rasa/core/policies/rule_policy.py")],
    "action calls (HTTP, JSON)": [("run", "rasa/core/actions/action.py")],
    "  answer validation": [("_validate_action_result", "")],
    "tracker store: load": [("fetch_tracker_and_update_session", "rasa/core/processor.py")],
    "tracker store: save": [("save_tracker", "rasa/core/processor.py")],
    "TensorFlow call overhead": [("canonicalize_function_inputs", "function_spec.py")],
}
ACTION_PARTS: dict[str, list[tuple[str, str]]] = {
    "action requests (rasa-sdk)": [("webhook", "rasa_sdk/endpoint.py")],
    "passphrase hashing (scrypt, pool thread)": [("_scrypt", "riposte/store/codes.py")],
    "case store (SQL, encryption)": [  # the store's modules (its repository.py is a facade)
        ("", f"riposte/store/{name}.py")
        for name in (
            "repository base cases opening evidence inbox letters deletion deadlines audit quotas"
        ).split()
    ],
    "  database commits": [("commit", "sqlalchemy/orm/session.py")],
    "Riposte actions": [("run", "actions/")],
}
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>.*?):\d+\)$")


def parse_raw(path: Path) -> tuple[int, list[tuple[list[tuple[str, str]], int]]]:
    """Total samples and each distinct stack (list of (function, file)) with its count."""
    stacks: list[tuple[list[tuple[str, str]], int]] = []
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        if not line.strip():
            continue
        frames_text, _, count_text = line.rpartition(" ")
        count = int(count_text)
        total += count
        frames = []
        for frame in frames_text.split(";"):
            found = _FRAME.match(frame)
            frames.append((found["function"], found["file"]) if found else (frame, ""))
        stacks.append((frames, count))
    return total, stacks


def _matches(frame: tuple[str, str], pattern: tuple[str, str]) -> bool:
    function, file = frame
    want_function, want_file = pattern
    return (not want_function or function == want_function) and want_file in file


def part_samples(
    stacks: list[tuple[list[tuple[str, str]], int]], parts: dict[str, list[tuple[str, str]]]
) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for frames, count in stacks:
        for name, patterns in parts.items():
            if any(_matches(f, p) for f in frames for p in patterns):
                counts[name] += count
    return {name: counts[name] for name in parts}


def top_functions(stacks: list[tuple[list[tuple[str, str]], int]], n: int = 25) -> list[Any]:
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        for key in {f"{fn} ({file.split('site-packages/')[-1]})" for fn, file in frames}:
            inclusive[key] += count
    return inclusive.most_common(n)


def child_pid(parent: int, role: str, port: int, proc: Path = Path("/proc")) -> int:
    """The process of `role` (bench_conversation.process_role) listening on `port`."""
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if bc.process_role(cmdline) == role and str(port) in cmdline:
            return int(entry.name)
    raise RuntimeError(f"no {role} process on port {port} under {parent}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=15)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        print("py-spy introuvable : `make install` l'installe (requirements.lock).")
        return 2
    bc.RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="riposte-profile-") as name:
        stack = wait_ready(start_stack(Path(name), token=None))
        try:
            rasa = child_pid(stack.process.pid, "rasa", stack.rasa_port)
            actions = child_pid(stack.process.pid, "actions", stack.actions_port)
            for turn in bc.TURNS:
                bc.say(stack.rasa_port, "profile-warm-up", turn)
            outputs = {
                "rasa": bc.RESULTS / "profile-rasa.txt",
                "actions": bc.RESULTS / "profile-actions.txt",
            }
            samplers = [
                subprocess.Popen(
                    [
                        py_spy,
                        "record",
                        "--pid",
                        str(pid),
                        "--rate",
                        str(RATE),
                        "--format",
                        "raw",
                        "--output",
                        str(outputs[label]),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for label, pid in (("rasa", rasa), ("actions", actions))
            ]
            time.sleep(1.5)  # py-spy attaches
            run = asyncio.run(
                bc._concurrent(
                    stack.rasa_port, bc.TURNS, args.concurrency, args.conversations, "profile"
                )
            )
            for sampler in samplers:
                sampler.send_signal(signal.SIGINT)
                sampler.wait(timeout=60)
        finally:
            stack.stop()
    turns = run["turns"]
    report: dict[str, Any] = {
        "turns": turns,
        "concurrency": args.concurrency,
        "turns_per_s": run["turns_per_s"],
        "latency_ms": run["latency_ms"],
        "rate_hz": RATE,
        "cpu_ms_per_turn": {},
        "top_functions": {},
    }
    print(f"{turns} tours, {args.concurrency} conversation(s) à la fois ; CPU ms par tour :")
    for label, parts in (("rasa", RASA_PARTS), ("actions", ACTION_PARTS)):
        _total, stacks = parse_raw(outputs[label])
        per_turn = {
            name: round(count / RATE / turns * 1000, 1)
            for name, count in part_samples(stacks, parts).items()
        }
        report["cpu_ms_per_turn"][label] = per_turn
        report["top_functions"][label] = [
            [name, round(count / RATE / turns * 1000, 2)] for name, count in top_functions(stacks)
        ]
        print(f"\n{'Rasa' if label == 'rasa' else 'serveur d’actions'} :")
        for name, ms in per_turn.items():
            print(f"  {name:<44} {ms:7.1f}")
    (bc.RESULTS / "profile.json").write_text(json.dumps(report, indent=2) + "\n")
    print("\n(bench/results/profile.json ; échantillons bruts : bench/results/profile-*.txt)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
