"""`riposte case …`, `riposte reminders`, `riposte purge` and `riposte rekey`: the case store's
command line.

    riposte case import DOSSIER.json [--json]   new case; prints the code and the secret (once)
    riposte case show CODE [--json]             the case (JSON: the shared case format)
    riposte case export CODE --bundle FILE.zip  files, bordereau (PDF, JSON) and case.json
    riposte case delete CODE                    erase the case, its files, its audit trail
                                                and its linked conversations
    riposte reminders [--today D] [--within N] [--json]   deadlines in the next N (14) days,
                                                          follow-ups due and sent in the last N
    riposte purge [--older-than DAYS]           erase cases and conversations idle for DAYS
                                                (180) days
    riposte rekey                               seal the cases, their files and Rasa's
                                                conversations again with the current key
                                                (after a key change; see riposte/store/rekey.py)
    riposte keys derive --service S [--output F [--force]]   the service key file of S (the
                                                keys derived for it from the current and
                                                previous master keys; riposte/privacy.py)

These are operator tools, run on the server with the store's configuration (see
`riposte/store/config.py`): they do not ask for the case secret, but every read or export is
written to the case's audit trail with the actor `cli`.

`case delete` and `purge` also erase conversations from Rasa's tracker store
(`TRACKER_STORE_URL`, see `riposte/settings.py`): the conversations linked to the erased
cases, and for `purge` every conversation whose last event is older than DAYS days
(`riposte.store.tracker`). A tracker database that does not exist yet is nothing to erase.

Exit status: 0 on success; 1 when the store cannot work (database unreachable, missing or
wrong secret key, file not writable, tracker store unreachable: the cases are then erased but
not their conversations); 2 for bad input (invalid JSON, schema error naming the field,
missing evidence file, unknown code, bad option). Messages are French, on stderr.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from riposte.case import Case
    from riposte.store.records import CaseRecord
    from riposte.store.repository import CaseRepository

from riposte import clock
from riposte.store.config import DEFAULT_PURGE_DAYS, REMINDER_DAYS
from riposte.text import date_fr, datetime_fr

EXIT_OK = 0
EXIT_STORE_ERROR = 1
EXIT_BAD_INPUT = 2

Runner = Callable[..., int]


def _msg(path: str, /, **values: object) -> str:
    from riposte.store.errors import message

    return message(f"cli.{path}", **values)


# --------------------------------------------------------------------------- parsers


def register(subparsers: Any) -> None:
    """Add the `case`, `reminders` and `purge` sub-commands (help texts from messages.yml)."""
    case = subparsers.add_parser("case", help=_msg("case_short"), description=_msg("case_help"))
    case.set_defaults(func=functools.partial(_print_help, case))
    actions = case.add_subparsers(dest="case_command", metavar="ACTION")

    p = actions.add_parser("import", help=_msg("import_help"), description=_msg("import_help"))
    p.add_argument("file", metavar="DOSSIER.json", help=_msg("help_file"))
    p.add_argument("--json", action="store_true", help=_msg("help_json"))
    p.set_defaults(func=run_import)

    p = actions.add_parser("show", help=_msg("show_help"), description=_msg("show_help"))
    p.add_argument("code", metavar="CODE", help=_msg("help_code"))
    p.add_argument("--json", action="store_true", help=_msg("help_json"))
    p.set_defaults(func=run_show)

    p = actions.add_parser("export", help=_msg("export_help"), description=_msg("export_help"))
    p.add_argument("code", metavar="CODE", help=_msg("help_code"))
    p.add_argument("--bundle", metavar="ARCHIVE.zip", required=True, help=_msg("help_bundle"))
    p.set_defaults(func=run_export)

    p = actions.add_parser("delete", help=_msg("delete_help"), description=_msg("delete_help"))
    p.add_argument("code", metavar="CODE", help=_msg("help_code"))
    p.set_defaults(func=run_delete)

    p = subparsers.add_parser(
        "reminders", help=_msg("reminders_help"), description=_msg("reminders_help")
    )
    p.add_argument("--today", metavar="AAAA-MM-JJ", help=_msg("help_today"))
    p.add_argument(
        "--within",
        metavar="JOURS",
        default=str(REMINDER_DAYS),
        help=_msg("help_within", days=REMINDER_DAYS),
    )
    p.add_argument("--json", action="store_true", help=_msg("help_json"))
    p.set_defaults(func=run_reminders)

    p = subparsers.add_parser("purge", help=_msg("purge_help"), description=_msg("purge_help"))
    p.add_argument(
        "--older-than",
        metavar="JOURS",
        default=str(DEFAULT_PURGE_DAYS),
        help=_msg("help_older_than", days=DEFAULT_PURGE_DAYS),
    )
    p.set_defaults(func=run_purge)

    p = subparsers.add_parser("rekey", help=_msg("rekey_short"), description=_msg("rekey_help"))
    p.set_defaults(func=run_rekey)

    from riposte.privacy import SERVICE_PURPOSES

    keys = subparsers.add_parser("keys", help=_msg("keys_short"), description=_msg("keys_help"))
    keys.set_defaults(func=functools.partial(_print_help, keys))
    keys_actions = keys.add_subparsers(dest="action", metavar="ACTION")
    p = keys_actions.add_parser(
        "derive", help=_msg("derive_short"), description=_msg("derive_help")
    )
    p.add_argument(
        "--service", required=True, choices=sorted(SERVICE_PURPOSES), help=_msg("help_service")
    )
    p.add_argument("--output", metavar="FICHIER", help=_msg("help_output"))
    p.add_argument("--force", action="store_true", help=_msg("help_force"))
    p.set_defaults(func=run_derive_keys)


def _print_help(parser: argparse.ArgumentParser, _args: argparse.Namespace) -> int:
    parser.print_help(sys.stderr)
    return EXIT_BAD_INPUT


# --------------------------------------------------------------------------- error handling


class _BadInput(Exception):
    """An option value is invalid (message already in French)."""


def _guarded(run: Callable[..., int]) -> Runner:
    """Turn every expected failure into a French message and an exit status, never a trace."""

    @functools.wraps(run)
    def wrapper(
        args: argparse.Namespace,
        out: TextIO | None = None,
        err: TextIO | None = None,
        env: Mapping[str, str] | None = None,
    ) -> int:
        from sqlalchemy.exc import SQLAlchemyError

        from riposte.case import CaseError
        from riposte.store.errors import StoreError, UnknownCaseError, message

        out, err = out or sys.stdout, err or sys.stderr
        try:
            return run(args, out, env)
        except _BadInput as exc:
            print(_msg("error", message=str(exc)), file=err)
        except CaseError as exc:
            print(_msg("case_error"), file=err)
            for line in exc.errors:
                print(f"- {line}", file=err)
        except UnknownCaseError as exc:
            print(_msg("error", message=str(exc)), file=err)
        except StoreError as exc:
            print(_msg("error", message=str(exc)), file=err)
            return EXIT_STORE_ERROR
        except SQLAlchemyError as exc:
            text = message("config.database_error", kind=type(exc).__name__)
            print(_msg("error", message=text), file=err)
            return EXIT_STORE_ERROR
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            print(_msg("os_error", path=exc.filename or "?", reason=reason), file=err)
            return EXIT_STORE_ERROR
        return EXIT_BAD_INPUT

    return wrapper


def _repository(env: Mapping[str, str] | None) -> CaseRepository:
    from riposte.store.repository import CaseRepository

    return CaseRepository.from_env(env)


def _parse_today(value: str | None) -> date:
    day = clock.today() if value is None else clock.parse_iso_date(value)
    if day is None:
        raise _BadInput(_msg("bad_today", value=value))
    return day


def _parse_days(option: str, value: str) -> int:
    if not re.fullmatch(r"[0-9]{1,6}", value.strip()):
        raise _BadInput(_msg("bad_days", option=option, value=value))
    return int(value)


def _dump(data: Any, out: TextIO) -> None:
    json.dump(data, out, ensure_ascii=False, indent=2)
    out.write("\n")


# --------------------------------------------------------------------------- case import


def read_evidence_files(json_path: Path, case: Case) -> dict[int, bytes]:
    """The bytes of each evidence `file`, read relative to the JSON file's folder.

    A file must exist and lie inside that folder. Raises `CaseError` naming the fields.
    """
    from riposte.case import CaseError
    from riposte.store.errors import message

    base = json_path.resolve().parent
    files: dict[int, bytes] = {}
    errors: list[str] = []
    for index, item in enumerate(case.evidence):
        if item.file is None:
            continue
        field, candidate = f"evidence[{index}].file", (base / item.file).resolve()
        if not candidate.is_relative_to(base):
            errors.append(message("errors.evidence_file_outside", field=field, path=item.file))
        elif not candidate.is_file():
            errors.append(message("errors.evidence_file_missing", field=field, path=item.file))
        else:
            try:
                files[index] = candidate.read_bytes()
            except OSError:
                errors.append(
                    message("errors.evidence_file_unreadable", field=field, path=item.file)
                )
    if errors:
        raise CaseError(errors)
    return files


@_guarded
def run_import(args: argparse.Namespace, out: TextIO, env: Mapping[str, str] | None) -> int:
    from riposte.case import load_case

    path = Path(args.file)
    case = load_case(path, today=clock.today())
    files = read_evidence_files(path, case)
    with _repository(env) as repo:
        code, secret = repo.create_case(case, files=files, actor="cli")
    if args.json:
        _dump({"code": code, "secret": secret}, out)
    else:
        print(_msg("import_done", code=code), file=out)
        print(_msg("import_secret", secret=secret), file=out)
        print(_msg("import_evidence", count=len(case.evidence), files=len(files)), file=out)
    return EXIT_OK


# --------------------------------------------------------------------------- case show


def render_case_text(record: CaseRecord) -> str:
    """A readable French summary of a case (personal data included: operator only)."""
    from riposte.knowledge import load

    kb = load()
    case = record.case
    lines = [_msg("show_title", code=record.code)]
    lines.append(
        _msg(
            "show_dates",
            created=datetime_fr(record.created_at),
            updated=datetime_fr(record.updated_at),
        )
    )
    victim = case.victim
    who = " ".join(p for p in (victim.title, victim.first_name, victim.last_name) if p)
    lines.append(_msg("show_victim", victim=who or _msg("show_unknown")))
    if victim.city:
        lines.append(_msg("show_city", city=victim.city))
    lines.extend(_incident_lines(case, kb))
    if case.court_city:
        lines.append(_msg("show_court", city=case.court_city))
    lines.append(_msg("show_evidence_title"))
    for ev in record.evidence:
        lines.append(
            _msg(
                "show_evidence_line",
                number=ev.number,
                recorded=datetime_fr(ev.recorded_at),
                url=ev.item.url or _msg("show_unknown"),
            )
        )
        if ev.item.published_at:
            lines.append(_msg("show_evidence_published", date=date_fr(ev.item.published_at)))
        if ev.has_file:
            lines.append(
                _msg(
                    "show_evidence_file",
                    file=ev.item.file,
                    size=ev.file_size,
                    sha256=ev.item.sha256,
                )
            )
        else:
            lines.append(_msg("show_evidence_no_file"))
    lines.append(_msg("show_steps_title"))
    for step in record.steps:
        label = kb.steps[step.key].label if step.key in kb.steps else step.key
        if step.done and step.done_on is not None:
            lines.append(_msg("show_step_done", label=label, date=date_fr(step.done_on)))
        else:
            lines.append(_msg("show_step_todo", label=label))
    if record.letters:
        lines.append(_msg("show_letters_title"))
        for letter in record.letters:
            lines.append(_msg("show_letter", kind=letter.kind, date=datetime_fr(letter.created_at)))
    return "\n".join(lines) + "\n"


def _incident_lines(case: Case, kb: Any) -> list[str]:
    incident = case.incident
    if incident is None:
        return [_msg("show_no_incident")]
    platforms = ", ".join(kb.platforms[p].label for p in incident.platforms)
    offenses = ", ".join(kb.offenses[o].label for o in incident.offenses)
    first, last = incident.first_published, incident.last_seen
    lines = [
        _msg(
            "show_incident",
            platforms=platforms or _msg("show_unknown"),
            offenses=offenses or _msg("show_none"),
        ),
        _msg(
            "show_dates_incident",
            first=date_fr(first) if first else _msg("show_unknown"),
            last=date_fr(last) if last else _msg("show_unknown"),
        ),
    ]
    if incident.summary:
        lines.append(_msg("show_summary", summary=incident.summary))
    return lines


@_guarded
def run_show(args: argparse.Namespace, out: TextIO, env: Mapping[str, str] | None) -> int:
    with _repository(env) as repo:
        record = repo.read_case(args.code, actor="cli")
    if args.json:
        _dump(record.to_dict(), out)
    else:
        out.write(render_case_text(record))
    return EXIT_OK


# --------------------------------------------------------------------------- export, delete


@_guarded
def run_export(args: argparse.Namespace, out: TextIO, env: Mapping[str, str] | None) -> int:
    from riposte.store.bundle import export_bundle

    with _repository(env) as repo:
        report = export_bundle(repo, args.code, Path(args.bundle), actor="cli")
    print(
        _msg(
            "export_done",
            path=report.path,
            pieces=report.pieces,
            files=report.files,
            sha256=report.sha256,
        ),
        file=out,
    )
    print(_msg("export_warning"), file=out)
    return EXIT_OK


def _tracker_store_url(env: Mapping[str, str] | None) -> str:
    """Rasa's tracker store URL, read before erasing anything (a bad setting stops early)."""
    from riposte.settings import Settings, SettingsError
    from riposte.store.errors import StoreConfigError

    try:
        return Settings.from_env(env).tracker_store_url
    except SettingsError as exc:
        raise StoreConfigError(str(exc)) from None


def _erase_conversations(
    url: str, sender_ids: Sequence[str], out: TextIO, purge_days: int | None = None
) -> None:
    """Erase the conversations of `sender_ids` and, with `purge_days`, every idle one."""
    from sqlalchemy.exc import SQLAlchemyError

    from riposte.store.errors import StoreError
    from riposte.store.tracker import erase_conversation, purge_conversations

    erased = False
    try:
        if sender_ids:
            erase_conversation(url, sender_ids)
            erased = True
            print(_msg("delete_senders", count=len(sender_ids)), file=out)
        if purge_days is not None:
            idle = purge_conversations(url, purge_days)
            print(_msg("purge_conversations", count=idle, days=purge_days), file=out)
    except SQLAlchemyError as exc:
        text = _msg("tracker_error", kind=type(exc).__name__)
        if sender_ids and not erased:
            text += " " + _msg("senders_left", count=len(sender_ids))
        raise StoreError(text) from None


@_guarded
def run_delete(args: argparse.Namespace, out: TextIO, env: Mapping[str, str] | None) -> int:
    tracker_url = _tracker_store_url(env)
    with _repository(env) as repo:
        report = repo.delete_case(args.code, actor="cli")
    print(_msg("delete_done", code=report.code, files=report.files_removed), file=out)
    _erase_conversations(tracker_url, report.sender_ids, out)
    return EXIT_OK


# --------------------------------------------------------------------------- reminders, purge


@_guarded
def run_reminders(args: argparse.Namespace, out: TextIO, env: Mapping[str, str] | None) -> int:
    today = _parse_today(args.today)
    within = _parse_days("--within", args.within)
    from riposte.clock import at_paris

    with _repository(env) as repo:
        found = repo.cases_with_deadlines(today, within_days=within)
        follow_ups = repo.follow_up_report(at_paris(today - timedelta(days=within), 0))
    if args.json:
        _dump(
            {
                "today": today.isoformat(),
                "within_days": within,
                "cases": [c.to_dict() for c in found],
                "follow_ups": [f.to_dict() for f in follow_ups],
            },
            out,
        )
        return EXIT_OK
    if not found:
        print(_msg("reminders_none", days=within, today=date_fr(today)), file=out)
    else:
        print(_msg("reminders_title", days=within, today=date_fr(today)), file=out)
    for case in found:
        for d in case.deadlines:
            line = _msg(
                "reminders_line",
                code=case.code,
                label=d.label,
                deadline=date_fr(d.deadline),
                days_left=d.days_left,
            )
            print(line, file=out)
    _print_follow_ups(follow_ups, within, out)
    return EXIT_OK


def _print_follow_ups(follow_ups: list[Any], within: int, out: TextIO) -> None:
    """The follow-ups due, failed and recently sent: number, kind, channel, state, days."""
    from riposte.clock import ZONE
    from riposte.text import datetime_fr

    if not follow_ups:
        print(_msg("follow_ups_none", days=within), file=out)
        return
    print(_msg("follow_ups_title", days=within), file=out)
    for f in follow_ups:
        sent = (
            ""
            if f.sent_at is None
            else _msg("follow_ups_sent", at=datetime_fr(f.sent_at.astimezone(ZONE)))
        )
        attempts = _msg("follow_ups_attempts", count=f.attempts) if f.attempts else ""
        line = _msg(
            "follow_ups_line",
            id=f.id,
            kind=f.kind,
            channel=f.channel or _msg("follow_ups_no_channel"),
            state=f.state,
            due=datetime_fr(f.due_at.astimezone(ZONE)),
            sent=sent,
            attempts=attempts,
        )
        print(line, file=out)


@_guarded
def run_purge(args: argparse.Namespace, out: TextIO, env: Mapping[str, str] | None) -> int:
    days = _parse_days("--older-than", args.older_than)
    tracker_url = _tracker_store_url(env)
    with _repository(env) as repo:
        reports = repo.purge(days, actor="cli")
    print(_msg("purge_done", count=len(reports), days=days), file=out)
    senders = list(dict.fromkeys(s for report in reports for s in report.sender_ids))
    _erase_conversations(tracker_url, senders, out, purge_days=days)
    return EXIT_OK


# --------------------------------------------------------------------------- rekey


@_guarded
def run_rekey(args: argparse.Namespace, out: TextIO, env: Mapping[str, str] | None) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from riposte.privacy import load_keys
    from riposte.store.config import INBOX_HOURS, StoreConfig
    from riposte.store.errors import StoreError
    from riposte.store.tracker import rekey_conversations

    tracker_url = _tracker_store_url(env)
    with _repository(env) as repo:
        report = repo.rekey()
    keys = load_keys(StoreConfig.from_env(env), create=False)
    print(
        _msg(
            "rekey_done",
            key_id=keys.current.key_id,
            cases=report.cases,
            values=report.values,
            files=report.files,
            current=report.already_current,
        ),
        file=out,
    )
    if report.missing_files:
        print(_msg("rekey_missing_files", count=report.missing_files), file=out)
    try:
        resealed, current = rekey_conversations(tracker_url, keys)
    except SQLAlchemyError as exc:
        raise StoreError(_msg("rekey_tracker_error", kind=type(exc).__name__)) from None
    print(_msg("rekey_conversations", resealed=resealed, current=current), file=out)
    if report.inbox_waiting:
        print(_msg("rekey_inbox", count=report.inbox_waiting, hours=INBOX_HOURS), file=out)
    else:
        print(_msg("rekey_next"), file=out)
    return EXIT_OK


# --------------------------------------------------------------------------- keys derive


@_guarded
def run_derive_keys(args: argparse.Namespace, out: TextIO, env: Mapping[str, str] | None) -> int:
    import os

    from riposte.privacy import load_keys, service_key_text
    from riposte.store.config import StoreConfig
    from riposte.store.errors import StoreConfigError

    config = StoreConfig.from_env(env)
    if config.service_keys is not None or config.service_keys_file is not None:
        raise StoreConfigError(_msg("derive_needs_master"))
    keys = load_keys(config, create=False)
    text = service_key_text(keys, args.service)
    if not args.output:
        out.write(text)
        return EXIT_OK
    path = Path(args.output)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if args.force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise _BadInput(_msg("derive_exists", path=path)) from None
    except OSError as exc:
        raise _BadInput(_msg("os_error", path=path, reason=exc.strerror)) from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        os.fchmod(handle.fileno(), 0o600)  # an existing file replaced with --force
        handle.write(text)
    print(
        _msg("derive_done", path=path, service=args.service, count=1 + len(keys.previous)),
        file=out,
    )
    return EXIT_OK
