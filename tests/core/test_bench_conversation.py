"""The benchmark finds the Rasa server and the action server among `riposte serve`'s children
by their command lines, the ones `riposte.services` builds: a renamed launcher would report
0 MB for the Rasa server."""

from __future__ import annotations

import sys
from pathlib import Path

from riposte.services import actions_command, follow_ups_command, rasa_command
from riposte.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import bench_conversation as bc  # noqa: E402


def test_each_child_of_serve_is_told_apart_by_its_command_line() -> None:
    settings = Settings.from_env({})
    assert bc.process_role(" ".join(rasa_command(settings))) == "rasa"
    assert bc.process_role(" ".join(actions_command(settings))) == "actions"
    assert bc.process_role(" ".join(follow_ups_command())) == "other"
    assert bc.process_role("/usr/bin/python /usr/bin/rasa run --model m.tar.gz") == "rasa"
