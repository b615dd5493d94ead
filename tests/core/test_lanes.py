"""The test lanes' scheduling (tests/conftest.py): the order the pytest-xdist workers receive
the modules in."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tests import conftest as lanes

TESTS = Path(__file__).resolve().parents[1]


def item(path: str, *markers: str) -> Any:
    """What `run_order` reads of a collected test: its path and its markers."""
    return SimpleNamespace(
        path=TESTS / path,
        get_closest_marker=lambda name: name if name in markers else None,
    )


def test_every_module_named_longest_first_exists() -> None:
    missing = [name for name in lanes.LONGEST_FIRST if not (TESTS / name).is_file()]
    assert not missing, f"renamed or removed: update tests/conftest.py ({missing})"
    assert len(set(lanes.LONGEST_FIRST)) == len(lanes.LONGEST_FIRST)


def test_the_longest_modules_come_first_and_the_stack_stoppers_last() -> None:
    items = [
        item("integration/test_serve_stop.py", "stops_stacks"),
        item("core/test_text.py"),
        item("channels/test_facts_classifier.py"),
        item("understanding/test_heldout.py"),
        item("integration/test_serve.py"),
        item("integration/test_follow_ups_stack.py"),
    ]
    items.sort(key=lanes.run_order)
    assert [i.path.relative_to(TESTS).as_posix() for i in items] == [
        "integration/test_follow_ups_stack.py",
        "understanding/test_heldout.py",
        "channels/test_facts_classifier.py",
        "core/test_text.py",  # the others keep their file order
        "integration/test_serve.py",
        "integration/test_serve_stop.py",
    ]
