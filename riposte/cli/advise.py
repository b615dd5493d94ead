"""`riposte advise CASE.json [--today YYYY-MM-DD] [--json]`: advice for a case file.

Exit status: 0 on success; 2 when the case file or `--today` is invalid (French message on
stderr naming the field).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import TYPE_CHECKING, Any, TextIO

from riposte import clock

if TYPE_CHECKING:
    from riposte.knowledge import Messages

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
        out.write(render_text(advice.to_dict()))
    return EXIT_OK


def _fr_date(iso: str) -> str:
    day = date.fromisoformat(iso)
    return day.strftime("%d/%m/%Y")


def _deadline_details(q: dict[str, Any], m: Messages) -> list[str]:
    """The act-by day when the deadline is not a working day, the date the deadline was
    counted from (press offences), and each dated statement's own deadline."""
    from riposte.advice.engine import PRESS_OFFENSES, day_with_weekday, non_working_reason

    p = q["prescription"]
    lines: list[str] = []
    if p.get("act_by") and p["act_by"] != p["deadline"] and not p["expired"]:
        deadline = date.fromisoformat(p["deadline"])
        act_by = date.fromisoformat(p["act_by"])
        lines.append(
            m.get(
                "cli.act_by",
                act_by=day_with_weekday(m, act_by),
                day=day_with_weekday(m, deadline),
                when=non_working_reason(m, deadline),
            )
        )
    used = p.get("date_used")
    if q["offense"] not in PRESS_OFFENSES or used is None:
        return lines
    if used != "statements":
        lines.append(m.get(f"cli.date_used.{used}", date=_fr_date(p["start"])))
        return lines
    lines.append(m.raw("cli.date_used.statements"))
    for st in p["statements"]:
        values = {
            "number": st["evidence"] + 1,
            "published": _fr_date(st["published_at"]),
            "deadline": _fr_date(st["deadline"]),
        }
        if st["expired"]:
            line = m.get("cli.statement_expired", **values)
        elif st["days_left"] == 0:
            line = m.get("cli.statement_today", **values)
        else:
            line = m.get("cli.statement_open", days=st["days_left"], **values)
        if not st["expired"] and st["act_by"] != st["deadline"]:
            shown = day_with_weekday(m, date.fromisoformat(st["act_by"]))
            line += m.get("cli.statement_act_by", act_by=shown)
        lines.append(line)
    return lines


def render_text(advice: dict[str, Any]) -> str:
    """The advice (in its JSON form) as readable French text."""
    from riposte.knowledge import load

    kb = load()
    m = kb.messages
    lines: list[str] = [m.get("cli.title", today=_fr_date(advice["today"])), ""]

    def heading(key: str) -> None:
        title = m.raw(key)
        lines.extend([title, "=" * len(title)])

    heading("cli.urgent_heading")
    lines.append(m.raw("cli.urgent_yes") if advice["urgent"] else m.raw("cli.urgent_no"))
    lines.append("")

    heading("cli.strategy_heading")
    lines.append(m.get("cli.strategy_level", label=advice["strategy"]["label"]))
    lines.extend(f"- {reason}" for reason in advice["strategy"]["why"])
    lines.append("")

    heading("cli.ladder_heading")
    for index, rung in enumerate(advice["ladder"], start=1):
        status = m.raw(
            "cli.rung_recommended" if rung["recommended"] else "cli.rung_not_recommended"
        )
        lines.append(m.get("cli.rung_line", index=index, label=rung["label"], status=status))
        lines.append(f"   {rung['why']}")
    lines.append("")

    heading("cli.steps_heading")
    for index, step in enumerate(advice["steps"], start=1):
        box = m.raw("cli.box_done" if step["done"] else "cli.box_todo")
        lines.append(m.get("cli.step_line", index=index, box=box, label=step["label"]))
        lines.append("   " + m.get("cli.step_what", text=step["what"]))
        lines.append("   " + m.get("cli.step_how", text=step["how"]))
        lines.append("   " + m.get("cli.step_why", text=step["why"]))
    lines.append("")

    heading("cli.qualifications_heading")
    if not advice["qualifications"]:
        lines.append(m.raw("cli.qualifications_none"))
    for q in advice["qualifications"]:
        p = q["prescription"]
        lines.append(f"- {q['label']}")
        lines.append("  " + m.get("cli.qualification_texts", texts=" ; ".join(q["texts"])))
        lines.append("  " + m.get("cli.qualification_penalty", penalty=q["penalty"]))
        lines.append("  " + m.get("cli.qualification_rule", rule=p["rule"]))
        if p["deadline"] is None:
            lines.append("  " + m.raw("cli.deadline_unknown"))
        elif p["expired"]:
            lines.append("  " + m.get("cli.deadline_expired", deadline=_fr_date(p["deadline"])))
        elif p["days_left"] == 0:
            lines.append("  " + m.get("cli.deadline_today", deadline=_fr_date(p["deadline"])))
        else:
            lines.append(
                "  "
                + m.get("cli.deadline_open", deadline=_fr_date(p["deadline"]), days=p["days_left"])
            )
        lines.extend("  " + line for line in _deadline_details(q, m))
    lines.append("")

    heading("cli.letters_heading")
    if not advice["letters"]:
        lines.append(m.raw("cli.letters_none"))
    lines.extend(f"- {kb.letters[kind].label}" for kind in advice["letters"])
    lines.append("")

    heading("cli.warnings_heading")
    lines.extend(f"- {warning}" for warning in advice["warnings"])
    lines.append("")

    heading("cli.sources_heading")
    for source in advice["sources"]:
        lines.append(
            "- "
            + m.get(
                "cli.source_line",
                id=source["id"],
                title=source["title"],
                url=source["url"],
                checked=_fr_date(source["last_checked"]),
            )
        )
    return "\n".join(lines) + "\n"
