"""The folders are the layers: each one imports only from the layers it may use.

    riposte/            the core (knowledge, advice, deadlines, case, nlp, letters, store, text)
    riposte/chat/       the skills' logic, from slots to the case file   -> core
    riposte/web/        the web server (page, letters, uploads)           -> core
    riposte/cli/        the `riposte` commands                            -> core, chat, web
    riposte_rasa/       everything that imports Rasa (plug-ins, launchers) -> core, chat, rasa
    actions/            the rasa_sdk actions                              -> riposte, rasa_sdk

Imports are read from the source (at any depth, inside functions too), so a lazy import does
not escape the rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

# layer -> the top-level names or riposte sub-packages it must never import
FORBIDDEN = {
    "core": (
        "rasa",
        "rasa_sdk",
        "riposte_rasa",
        "actions",
        "riposte.cli",
        "riposte.web",
        "riposte.chat",
    ),
    "riposte.chat": ("rasa", "rasa_sdk", "riposte_rasa", "actions", "riposte.cli", "riposte.web"),
    "riposte.web": ("rasa", "rasa_sdk", "riposte_rasa", "actions", "riposte.cli", "riposte.chat"),
    "riposte.cli": ("rasa", "rasa_sdk", "riposte_rasa", "actions"),
    "riposte_rasa": ("actions", "riposte.cli", "riposte.web"),
    "actions": ("rasa", "riposte_rasa", "riposte.cli"),
}


def layer_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[0] == "riposte":
        if len(parts) > 2 and parts[1] in ("chat", "web", "cli"):
            return f"riposte.{parts[1]}"
        return "core"
    return parts[0]


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def sources() -> list[Path]:
    return sorted(
        path
        for folder in ("riposte", "riposte_rasa", "actions")
        for path in (ROOT / folder).rglob("*.py")
    )


def violates(module: str, forbidden: str) -> bool:
    return module == forbidden or module.startswith(forbidden + ".")


def test_every_module_belongs_to_a_layer() -> None:
    assert {layer_of(path) for path in sources()} == set(FORBIDDEN)


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_layer_imports(path: Path) -> None:
    forbidden = FORBIDDEN[layer_of(path)]
    offenders = sorted(
        {
            module
            for module in imported_modules(path)
            for banned in forbidden
            if violates(module, banned)
        }
    )
    assert offenders == [], f"{layer_of(path)} must not import {offenders}"


def test_the_guard_sees_a_lazy_import(tmp_path: Path) -> None:
    source = tmp_path / "lazy.py"
    source.write_text("def f():\n    from rasa.core import agent\n    import riposte_rasa\n")
    assert {"rasa.core", "rasa.core.agent", "riposte_rasa"} <= set(imported_modules(source))


def _class_paths() -> list[str]:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    paths = [item["name"] for item in config["pipeline"] + config["policies"]]
    paths += list(credentials)
    paths += [
        section["type"]
        for section in endpoints.values()
        if isinstance(section, dict) and "type" in section
    ]
    return [path for path in paths if "." in path]


def test_rasa_loads_riposte_code_from_riposte_rasa_only() -> None:
    ours = [path for path in _class_paths() if path.startswith(("riposte", "actions"))]
    assert ours, "config.yml, credentials.yml and endpoints.yml name Riposte's plug-ins"
    for class_path in ours:
        module, _, name = class_path.rpartition(".")
        assert module.startswith("riposte_rasa."), class_path
        file = ROOT / (module.replace(".", "/") + ".py")
        assert f"class {name}" in file.read_text(encoding="utf-8"), class_path
