"""`riposte knowledge export`: the knowledge base as one document a lawyer can review.

Renders riposte/knowledge/*.yml (the ladder, the chat's checklists, the offences, the steps and
letters, the platforms, the contacts, the sources) into Markdown through
templates/knowledge/connaissances.md.j2, with the sandboxed, strict environment of the letters.
The files are validated first (`riposte.knowledge.load_from`, `load_plans_from`); then every
field of every entry is shown, in the order of the YAML file, so that a key added to the YAML
appears in the document without a code change. The
committed `docs/connaissances.md` is this rendering (tests/core/test_connaissances.py checks it).

The help texts and the field labels are French, so they live beside the template
(templates/knowledge/), not here.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from riposte.knowledge import KNOWLEDGE_DIR, load_from
from riposte.knowledge.plans import FILE as PLANS_FILE
from riposte.knowledge.plans import load_plans_from
from riposte.text import date_fr

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = ROOT / "templates" / "knowledge"
TEMPLATE = "connaissances.md.j2"
DEFAULT_OUTPUT = ROOT / "docs" / "connaissances.md"
STDOUT = "-"

EXIT_OK = 0
EXIT_BAD_KNOWLEDGE = 2


@functools.lru_cache(maxsize=1)
def _texts() -> Mapping[str, str]:
    data = yaml.safe_load((TEMPLATE_DIR / "cli.yml").read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


def register(subparsers: Any) -> None:
    """Add `knowledge export` (help texts from templates/knowledge/cli.yml)."""
    t = _texts()
    parser = subparsers.add_parser("knowledge", help=t["help"], description=t["description"])
    commands = parser.add_subparsers(dest="knowledge_command", metavar="COMMANDE")
    export = commands.add_parser("export", help=t["export_help"], description=t["export_help"])
    export.add_argument(
        "--output",
        metavar="CHEMIN",
        default=str(DEFAULT_OUTPUT),
        help=t["output_help"],
    )
    export.set_defaults(func=run_export)
    parser.set_defaults(func=lambda _args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_BAD_KNOWLEDGE


def _plain(value: Any) -> Any:
    """A YAML value the template can print: dates in French, numbers as text, booleans kept."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, date):
        return date_fr(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return " ".join(str(value).split())  # one line: the document's layout is the template's


def _entries(section: Any) -> list[dict[str, Any]]:
    """`{key: {field: value}}` as a list of {"key", "fields"}, in the file's order."""
    return [
        {"key": str(key), "fields": _plain(fields) if isinstance(fields, Mapping) else {}}
        for key, fields in (section or {}).items()
    ]


def _read(directory: Path, name: str) -> Mapping[str, Any]:
    data = yaml.safe_load((directory / name).read_text(encoding="utf-8"))
    return data if isinstance(data, Mapping) else {}


def knowledge_context(directory: Path = KNOWLEDGE_DIR) -> dict[str, Any]:
    """What the template receives: the validated files, every field of every entry."""
    # Refuse to document a knowledge base the engine, or the chat's checklists, would refuse.
    load_plans_from(directory, load_from(directory))
    plans = _read(directory, PLANS_FILE)
    ladder = _read(directory, "ladder.yml")
    steps = _read(directory, "steps.yml")
    names: dict[str, dict[str, str]] = {
        "steps": {e["key"]: e["fields"].get("label", e["key"]) for e in _entries(steps["steps"])},
        "letters": {
            e["key"]: e["fields"].get("label", e["key"]) for e in _entries(steps.get("letters"))
        },
        "contacts": {
            e["key"]: e["fields"].get("label", e["key"])
            for e in _entries(_read(directory, "contacts.yml").get("contacts"))
        },
    }
    return {
        "ladder_note": _plain(ladder.get("note", "")),
        "ladder": _entries(ladder.get("ladder")),
        "plans_note": _plain(plans.get("note", "")),
        "plans": _plain(plans.get("plans", {})),
        "offenses": _entries(_read(directory, "offenses.yml").get("offenses")),
        "step_order": _plain(steps.get("order", {})),
        "steps": _entries(steps.get("steps")),
        "letters": _entries(steps.get("letters")),
        "platforms": _entries(_read(directory, "platforms.yml").get("platforms")),
        "contacts": _entries(_read(directory, "contacts.yml").get("contacts")),
        "sources": _entries(_read(directory, "sources.yml").get("sources")),
        "names": names,
    }


def render_knowledge(directory: Path = KNOWLEDGE_DIR) -> str:
    """The Markdown document of the knowledge base in `directory`."""
    from riposte.letters.environment import DATA_CLOSE, DATA_OPEN, LINE_BREAK, get_environment

    template = get_environment(TEMPLATE_DIR).get_template(TEMPLATE)
    text = template.render(**knowledge_context(directory))
    # The letters' environment marks each printed value for the letter parser and turns its
    # line breaks into LINE_BREAK; a plain document drops the marks. Values are on one line
    # (`_plain`), so the only line breaks left are those of the template's macros.
    text = text.replace(DATA_OPEN, "").replace(DATA_CLOSE, "").replace(LINE_BREAK, "\n")
    lines: list[str] = []
    for line in (raw.rstrip() for raw in text.splitlines()):
        if line or (lines and lines[-1]):  # no leading or doubled blank line
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def run_export(args: argparse.Namespace) -> int:
    from riposte.knowledge import KnowledgeError

    t = _texts()
    try:
        text = render_knowledge()
    except KnowledgeError as exc:
        print(t["invalid"].format(error=exc), file=sys.stderr)
        return EXIT_BAD_KNOWLEDGE
    if args.output == STDOUT:
        sys.stdout.write(text)
        return EXIT_OK
    output = Path(args.output)
    output.write_text(text, encoding="utf-8")
    print(t["written"].format(path=output), file=sys.stderr)
    return EXIT_OK
