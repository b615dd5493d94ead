"""Every French message the store and its commands use exists in riposte/store/messages.yml."""

from __future__ import annotations

import re
from pathlib import Path

from riposte.store.errors import messages

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*sorted((ROOT / "riposte" / "store").glob("*.py")), ROOT / "riposte" / "privacy.py"]
CLI = ROOT / "riposte" / "cli" / "case.py"


def used_paths() -> set[str]:
    found: set[str] = set()
    for path in [*SOURCES, CLI]:
        text = path.read_text(encoding="utf-8")
        found.update(re.findall(r'\bmessage\(\s*"([a-z_.]+)"', text))
        if path == CLI:
            found.update(f"cli.{key}" for key in re.findall(r'\b_msg\(\s*"([a-z_]+)"', text))
    return found


def test_every_message_used_exists_and_formats() -> None:
    paths = used_paths()
    assert len(paths) > 40  # the scan finds the calls
    missing = sorted(p for p in paths if not messages().has(p))
    assert not missing, missing


def test_no_french_sentence_is_hard_coded_in_python() -> None:
    accented = re.compile(r'"[^"\n]*[àâçéèêëîïôûùüÿœ][^"\n]*"')
    offenders = []
    for path in [*SOURCES, CLI]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith("#") or '"""' in stripped:
                continue
            if accented.search(line):
                offenders.append(f"{path.name}:{number}: {stripped}")
    assert not offenders, offenders
