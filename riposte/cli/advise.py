"""`riposte advise CASE.json [--today YYYY-MM-DD] [--json]`: advice for a case file.

Exit status: 0 on success; 2 when the case file or `--today` is invalid (French message on
stderr naming the field).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any, TextIO

from riposte import clock

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def register(subparsers: Any) -> None:
    """Add the `advise` sub-command (help texts come from messages.yml)."""
    from riposte.knowledge import load_messages

    messages = load_messages()
    parser = subparsers.add_parser(
        "advise",
        help=messages.raw("cli.description"),
        description=messages.raw("cli.description"),
    )
    parser.add_argument("case", metavar="DOSSIER.json", help=messages.raw("cli.help_case"))
    parser.add_argument("--today", metavar="AAAA-MM-JJ", help=messages.raw("cli.help_today"))
    parser.add_argument("--json", action="store_true", help=messages.raw("cli.help_json"))
    parser.set_defaults(func=run)


def _parse_today(value: str | None) -> date | None:
    return clock.today() if value is None else clock.parse_iso_date(value)


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from riposte.advice.engine import advise
    from riposte.advice.render import render_cli
    from riposte.case import CaseError, load_case
    from riposte.knowledge import load

    out = out or sys.stdout
    err = err or sys.stderr
    messages = load().messages
    today = _parse_today(args.today)
    if today is None:
        print(messages.get("cli.bad_today", value=args.today), file=err)
        return EXIT_BAD_INPUT
    try:
        case = load_case(args.case, today=today)
    except CaseError as exc:
        print(messages.raw("cli.error"), file=err)
        for line in exc.errors:
            print(f"- {line}", file=err)
        return EXIT_BAD_INPUT
    advice = advise(case, today)
    if args.json:
        json.dump(advice.to_dict(), out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        out.write(render_cli(advice.to_dict()))
    return EXIT_OK


def render_text(advice: dict[str, Any]) -> str:
    """The advice (in its JSON form) as readable French text: `riposte.advice.render.render_cli`,
    kept under this name for its callers."""
    from riposte.advice.render import render_cli

    return render_cli(advice)
