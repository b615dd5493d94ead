"""The command `riposte serve` runs to start the Signal bridge is a working module entry point."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from riposte.cli.serve import signal_bridge_command

ROOT = Path(__file__).resolve().parents[2]


def test_the_signal_bridge_command_reaches_the_bridge(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RIPOSTE_VAR_DIR": str(tmp_path),
        "SIGNAL_NUMBER": "+33700000001",
        "SIGNAL_API_URL": "http://127.0.0.1:9",
        "SIGNAL_BRIDGE_TOKEN": "",  # refused before any connection: the bridge's own check
    }
    done = subprocess.run(
        signal_bridge_command(), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert "SIGNAL_BRIDGE_TOKEN manque ou est trop court" in done.stderr
