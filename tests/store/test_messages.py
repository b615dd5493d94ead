"""Every French message the code uses exists in its YAML file, with the placeholders it fills.

The message files and the modules that read them (`message(path, **values)`):
riposte/store/messages.yml (riposte.store.errors), riposte/messages.yml (riposte.messages),
riposte_rasa/messages.yml (riposte_rasa.messages). The scan covers riposte/, riposte_rasa/ and
actions/ (tests/french_text.py).
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path
from typing import Any

import yaml

import riposte.messages
import riposte_rasa.messages
from riposte.follow_ups import KINDS
from riposte.store.errors import MESSAGES_PATH as STORE_MESSAGES_PATH
from riposte.store.errors import messages
from riposte_rasa.channels import evidence_files
from tests.french_text import (
    NOT_TEXT,
    ROOT,
    checked_sources,
    docstring_nodes,
    python_sources,
    relative,
)

CLI = ROOT / "riposte" / "cli" / "case.py"
# loader module -> its YAML file
LOADERS = {
    "riposte.store.errors": STORE_MESSAGES_PATH,
    "riposte.messages": riposte.messages.MESSAGES_PATH,
    "riposte_rasa.messages": riposte_rasa.messages.MESSAGES_PATH,
}


def load(path: Path) -> dict[str, str]:
    """The sentences of a message file, by dotted path."""
    flat: dict[str, str] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        else:
            assert isinstance(node, str), prefix
            flat[prefix[:-1]] = node

    walk(yaml.safe_load(path.read_text(encoding="utf-8")), "")
    return flat


def placeholders(template: str) -> set[str]:
    return {
        re.split(r"[.\[]", field)[0]
        for _, field, _, _ in string.Formatter().parse(template)
        if field is not None
    }


def message_calls(path: Path) -> list[tuple[str, str, ast.Call]]:
    """(loader module, dotted path, call) for each `message("a.b", ...)` of a loader in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    local: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in LOADERS:
            for alias in node.names:
                if alias.name == "message":
                    local[alias.asname or alias.name] = node.module
    calls = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in local
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            calls.append((local[node.func.id], node.args[0].value, node))
    return calls


def test_every_message_used_exists_and_formats() -> None:
    files = {module: load(path) for module, path in LOADERS.items()}
    problems = []
    count = 0
    for source in python_sources():
        for module, key, call in message_calls(source):
            count += 1
            where = f"{relative(source)}:{call.lineno}: {key}"
            template = files[module].get(key)
            if template is None:
                problems.append(f"{where}: missing in {LOADERS[module].name}")
                continue
            given = {kw.arg for kw in call.keywords}
            if None not in given and placeholders(template) != given:
                problems.append(f"{where}: fills {sorted(given)}, needs {placeholders(template)}")
    assert count > 80  # the scan finds the calls
    assert not problems, problems


def test_the_case_command_messages_exist() -> None:
    used = re.findall(r'\b_msg\(\s*"([a-z_]+)"', CLI.read_text(encoding="utf-8"))
    assert len(used) > 20
    missing = sorted(key for key in used if not messages().has(f"cli.{key}"))
    assert not missing, missing


def test_every_service_and_channel_sentence_is_used() -> None:
    """riposte/messages.yml and riposte_rasa/messages.yml hold no dead sentence."""
    constants: set[str] = set()
    for source in python_sources():
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                constants.add(node.value)
    reasons = {
        evidence_files.TOO_LARGE,
        evidence_files.WRONG_TYPE,
        evidence_files.NOT_RECEIVED,
        evidence_files.NOT_STORED,
    }
    constants |= {f"files.{reason}" for reason in reasons}  # Refused(reason)
    # One sentence per kind of follow-up (actions/follow_ups.py).
    constants |= {f"follow_ups.{part}.{kind}" for part in ("what", "step_label") for kind in KINDS}
    for path in (riposte.messages.MESSAGES_PATH, riposte_rasa.messages.MESSAGES_PATH):
        unused = sorted(set(load(path)) - constants)
        assert not unused, (path.name, unused)


def test_no_french_sentence_is_hard_coded_in_python() -> None:
    """Line by line, outside comments and docstrings (the AST scan is in test_knowledge.py)."""
    accented = re.compile(r'"[^"\n]*[àâçéèêëîïôûùüÿœ][^"\n]*"')
    offenders = []
    for path in checked_sources():
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        docs = docstring_nodes(tree)
        allowed = NOT_TEXT.get(relative(path), set())
        in_docstring = {  # docstrings, and the characters of NOT_TEXT
            line
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and (id(node) in docs or node.value in allowed)
            for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
        }
        for number, line in enumerate(text.splitlines(), 1):
            stripped = line.strip()
            if number in in_docstring or stripped.startswith("#"):
                continue
            code = stripped.split("  # ")[0]
            if accented.search(code):
                offenders.append(f"{relative(path)}:{number}: {stripped}")
    assert not offenders, offenders
