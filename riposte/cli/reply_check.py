"""`riposte reply-check FILE|-`: proof-read a public reply to a review before posting it.

Prints the passages that may breach medical secrecy or deontology, in French, with the article
at stake, then a neutral wording. Exit status: 0 when nothing is flagged, 1 when something is,
2 when the file cannot be read or is empty.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

EXIT_CLEAN = 0
EXIT_FLAGGED = 1
EXIT_BAD_INPUT = 2
_STDIN = "-"


def register(subparsers: Any) -> None:
    """Add the `reply-check` sub-command (help texts from riposte/letters/data/messages.yml)."""
    from riposte.letters.build import load_messages

    m = load_messages()
    parser = subparsers.add_parser(
        "reply-check",
        help=m.raw("reply_check.description"),
        description=m.raw("reply_check.description"),
    )
    parser.add_argument("file", metavar="FICHIER", help=m.raw("reply_check.help_file"))
    parser.add_argument(
        "--own-name",
        action="append",
        default=[],
        metavar="NOM",
        help=m.raw("reply_check.help_own_name"),
    )
    parser.add_argument("--no-ner", action="store_true", help=m.raw("reply_check.help_no_ner"))
    parser.set_defaults(func=run)


def run(
    args: argparse.Namespace,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    from riposte.letters.build import load_messages
    from riposte.letters.reply_check import check_reply, suggest_neutral_reply

    out = out or sys.stdout
    err = err or sys.stderr
    stdin = stdin or sys.stdin
    m = load_messages()
    try:
        text = stdin.read() if args.file == _STDIN else Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        print(m.get("reply_check.unreadable", path=args.file, reason=reason), file=err)
        return EXIT_BAD_INPUT
    if not text.strip():
        print(m.raw("reply_check.empty"), file=err)
        return EXIT_BAD_INPUT
    findings = check_reply(text, own_names=args.own_name, use_ner=not args.no_ner)
    if not findings:
        print(m.raw("reply_check.clean"), file=out)
        return EXIT_CLEAN
    print(m.get("reply_check.header", count=len(findings)), file=out)
    for index, finding in enumerate(findings, start=1):
        excerpt = " ".join(finding.excerpt.split())
        print(
            m.get(
                "reply_check.finding",
                index=index,
                label=finding.label,
                excerpt=excerpt,
                start=finding.start + 1,
                end=finding.end,
            ),
            file=out,
        )
        print(m.get("reply_check.explanation", explanation=finding.explanation), file=out)
    print("", file=out)
    print(m.raw("reply_check.suggestion_header"), file=out)
    print(suggest_neutral_reply(), file=out)
    return EXIT_FLAGGED
