"""`riposte letter CASE.json --kind KIND [--format md|html|docx|pdf] [--out FILE]`.

Drafts one letter from a case file. The letter is written whole or not at all: it is rendered
in memory, written to a temporary file in the target folder, then renamed.

Exit status: 0 when the letter is written (or printed); 2 when the input is invalid, when a
field the kind requires is missing (each one named by its JSON path), or when the letter must
not be written (for example every offence is prescribed). French messages on stderr.
With `--case CODE` the case comes from the case store (`RIPOSTE_DATABASE_URL`, see
riposte/store/config.py); the read is audited (actor `cli`) and the letter written is recorded
in the case (kind, date, SHA-256, and the content, encrypted). Exit status 1 when the store
cannot work (missing key, unreachable database).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from riposte import clock

EXIT_OK = 0
EXIT_STORE = 1
EXIT_BAD_INPUT = 2
_EXTENSIONS = {".md": "md", ".markdown": "md", ".txt": "md", ".html": "html", ".htm": "html"}
_EXTENSIONS.update({".docx": "docx", ".pdf": "pdf"})
_STDIN = "-"


def register(subparsers: Any) -> None:
    """Add the `letter` sub-command (help texts come from riposte/letters/data/messages.yml)."""
    from riposte.knowledge import LETTER_KINDS, PLATFORM_KEYS
    from riposte.letters.build import load_messages
    from riposte.letters.output import FORMATS

    m = load_messages()
    parser = subparsers.add_parser(
        "letter",
        help=m.raw("letter_cli.description"),
        description=m.raw("letter_cli.description"),
    )
    parser.add_argument(
        "case", nargs="?", metavar="DOSSIER.json", help=m.raw("letter_cli.help_case")
    )
    parser.add_argument(
        "--case", dest="case_code", metavar="CODE", help=m.raw("letter_cli.help_case_code")
    )
    parser.add_argument(
        "--kind",
        required=True,
        choices=LETTER_KINDS,
        metavar="TYPE",
        help=m.get("letter_cli.help_kind", kinds=", ".join(LETTER_KINDS)),
    )
    parser.add_argument(
        "--format", dest="fmt", choices=FORMATS, help=m.raw("letter_cli.help_format")
    )
    parser.add_argument("--out", metavar="FICHIER", help=m.raw("letter_cli.help_out"))
    parser.add_argument("--today", metavar="AAAA-MM-JJ", help=m.raw("letter_cli.help_today"))
    parser.add_argument(
        "--platform",
        choices=PLATFORM_KEYS,
        metavar="PLATEFORME",
        help=m.get("letter_cli.help_platform", platforms=", ".join(PLATFORM_KEYS)),
    )
    parser.add_argument(
        "--civil-party", action="store_true", help=m.raw("letter_cli.help_civil_party")
    )
    parser.add_argument("--reply-file", metavar="FICHIER", help=m.raw("letter_cli.help_reply_file"))
    parser.set_defaults(func=run)


def _parse_today(value: str | None) -> date | None:
    return clock.today() if value is None else clock.parse_iso_date(value)


def _fail(err: TextIO, header: str, lines: list[str] | tuple[str, ...] = ()) -> int:
    print(header, file=err)
    for line in lines:
        print(f"- {line}", file=err)
    return EXIT_BAD_INPUT


def _read_reply(path: str, stdin: TextIO) -> str:
    if path == _STDIN:
        return stdin.read()
    return Path(path).read_text(encoding="utf-8")


def run(
    args: argparse.Namespace,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    from riposte.case import CaseError, load_case
    from riposte.knowledge import load
    from riposte.letters.build import LetterError, LetterOptions, build_letter, load_messages
    from riposte.letters.output import BINARY_FORMATS, render, write_atomic

    out = out or sys.stdout
    err = err or sys.stderr
    stdin = stdin or sys.stdin
    m = load_messages()
    error = m.raw("letter_cli.error")

    if args.case_code is not None and args.case is not None:
        return _fail(err, error, [m.raw("letter_cli.case_both")])
    if args.case is None and args.case_code is None:
        return _fail(err, error, [m.raw("letter_cli.case_missing")])
    today = _parse_today(args.today)
    if today is None:
        return _fail(err, error, [m.get("letter_cli.bad_today", value=args.today)])

    fmt = args.fmt
    target: Path | None = None
    if args.out is not None and args.out != _STDIN:
        target = Path(args.out)
        if fmt is None:
            fmt = _EXTENSIONS.get(target.suffix.lower())
            if fmt is None:
                return _fail(err, error, [m.get("letter_cli.format_guess_failed", out=args.out)])
        if target.is_dir():
            return _fail(err, error, [m.get("letter_cli.out_is_folder", path=args.out)])
        folder = target.parent
        if str(folder) and not folder.is_dir():
            return _fail(err, error, [m.get("letter_cli.out_folder_missing", folder=folder)])
    fmt = fmt or "md"
    if target is None and fmt in BINARY_FORMATS:
        return _fail(err, error, [m.get("letter_cli.binary_needs_out", format=fmt)])

    reply_text = None
    if args.reply_file is not None:
        try:
            reply_text = _read_reply(args.reply_file, stdin)
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            return _fail(
                err,
                error,
                [m.get("letter_cli.reply_file_unreadable", path=args.reply_file, reason=reason)],
            )

    stored: Any = None
    if args.case_code is not None:
        from riposte.store.errors import StoreConfigError, StoreError, UnknownCaseError
        from riposte.store.repository import CaseRepository

        try:
            with CaseRepository.from_env() as repo:
                stored = repo.read_case(args.case_code, actor="cli", action="letter")
        except UnknownCaseError as exc:
            return _fail(err, error, [str(exc)])
        except (StoreConfigError, StoreError) as exc:
            print(error, file=err)
            print(str(exc), file=err)
            return EXIT_STORE
    try:
        case = stored.case if stored is not None else load_case(args.case, today=today)
        options = LetterOptions(
            platform=args.platform, civil_party=args.civil_party, reply_text=reply_text
        )
        document = build_letter(case, args.kind, today, options)
    except CaseError as exc:
        messages = load().messages
        return _fail(err, messages.raw("cli.error"), exc.errors)
    except LetterError as exc:
        print(error, file=err)
        for line in exc.lines():
            print(line, file=err)
        return EXIT_BAD_INPUT

    data = render(document, fmt)
    if target is None:
        out.write(data.decode("utf-8"))
    else:
        try:
            write_atomic(target, data)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            return _fail(err, error, [m.get("letter_cli.write_failed", path=target, reason=reason)])
    if stored is not None:
        status = _record_letter(stored.code, args.kind, data, fmt, err)
        if status != EXIT_OK:
            return status
    if target is None:
        return EXIT_OK
    label = load().letters[args.kind].label
    print(m.get("letter_cli.written", path=target, label=label, format=fmt), file=err)
    return EXIT_OK


_MEDIA_TYPES = {
    "md": "text/markdown",
    "html": "text/html",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def _record_letter(code: str, kind: str, data: bytes, fmt: str, err: TextIO) -> int:
    """Keep the letter in the stored case (its history of letters)."""
    from riposte.letters.build import load_messages
    from riposte.store.errors import StoreError
    from riposte.store.repository import CaseRepository

    try:
        with CaseRepository.from_env() as repo:
            repo.record_letter(code, kind, data, media_type=_MEDIA_TYPES[fmt], actor="cli")
    except StoreError as exc:
        print(load_messages().raw("letter_cli.error"), file=err)
        print(str(exc), file=err)
        return EXIT_STORE
    return EXIT_OK
