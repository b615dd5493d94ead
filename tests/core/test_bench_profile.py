"""The profile summary of bench/bench_profile.py counts each part's samples once per stack."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import bench_profile as bp  # noqa: E402

HEAD = "<module> (rasa/__main__.py:1);receive (riposte_rasa/channels/rest.py:90)"
SITE = "/v/site-packages/rasa"
RAW = "\n".join(
    [
        f"{HEAD};_parse_message_with_graph ({SITE}/core/processor.py:800)"
        f";process ({SITE}/nlu/utils/spacy_utils.py:10) 7",
        f"{HEAD};run ({SITE}/core/actions/action.py:780)"
        ";_validate_action_result (riposte_rasa/patches.py:40)"
        ";_validate_action_result (riposte_rasa/patches.py:40) 3",
        f"{HEAD};save_tracker ({SITE}/core/processor.py:900) 5",
        "idle 2",
    ]
)


def test_parts_count_inclusive_samples_once_per_stack(tmp_path: Path) -> None:
    raw = tmp_path / "profile.txt"
    raw.write_text(RAW)
    total, stacks = bp.parse_raw(raw)
    assert total == 17
    counts = bp.part_samples(stacks, bp.RASA_PARTS)
    assert counts["whole turn (REST handler)"] == 15
    assert counts["NLU (all)"] == 7 and counts["  spaCy fr_core_news_md"] == 7
    assert counts["action calls (HTTP, JSON)"] == 3
    assert counts["  answer validation"] == 3  # the recursive frame is not counted twice
    assert counts["tracker store: save"] == 5
    assert counts["  RulePolicy"] == 0 and counts["  intent model (Riposte)"] == 0
    top = dict(bp.top_functions(stacks))
    assert top["receive (riposte_rasa/channels/rest.py)"] == 15


def test_the_servers_are_found_by_the_launcher_serve_starts(tmp_path: Path) -> None:
    commands = {
        "101": "/v/bin/python -m riposte_rasa.server run --port 5005 --enable-api",
        "102": "/v/bin/python -m riposte_rasa.action_server --port 5055",
        "103": "/v/bin/python -m riposte_rasa.server run --port 6005",
        "self": "not a process",
    }
    for pid, command in commands.items():
        (tmp_path / pid).mkdir()
        (tmp_path / pid / "cmdline").write_bytes(command.replace(" ", "\0").encode())
    assert bp.child_pid(1, "rasa", 5005, proc=tmp_path) == 101
    assert bp.child_pid(1, "actions", 5055, proc=tmp_path) == 102
    with pytest.raises(RuntimeError, match="7005"):
        bp.child_pid(1, "rasa", 7005, proc=tmp_path)
