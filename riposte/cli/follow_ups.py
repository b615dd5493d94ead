"""`riposte follow-ups`: the follow-up scheduler (riposte/scheduler.py) on its own.

`riposte serve` starts it as one of its services unless RIPOSTE_FOLLOW_UPS=off; this command
runs it elsewhere (another machine, next to another Rasa server), or once (`--once`, for a
cron job). Several may run at once on one case store: each follow-up is sent once.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import Any

from riposte.cli import configuration_error
from riposte.messages import message
from riposte.settings import Settings, SettingsError


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        return configuration_error(error)
    from riposte.access import ActionSecretError, secret_from_env
    from riposte.scheduler import Scheduler
    from riposte.store.repository import CaseRepository

    try:
        secret = secret_from_env()  # opens the Rasa server's follow-up channel
    except ActionSecretError as error:
        return configuration_error(error)

    url = args.rasa_url or f"http://{settings.host}:{settings.rasa_port}"
    interval = args.interval if args.interval is not None else settings.follow_up_interval
    if not 1.0 <= interval <= 3600.0:
        return configuration_error(
            SettingsError(message("follow_ups.bad_interval", value=interval))
        )
    with CaseRepository.from_env() as repo:
        scheduler = Scheduler(repo, url, secret)
        if args.once:
            result = scheduler.run_once()
            return 0 if not result.failed else 1
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        print(message("follow_ups.run_started", url=url, seconds=f"{interval:g}"), flush=True)
        scheduler.run(stop, interval)
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "follow-ups",
        help=message("follow_ups.run_help"),
        description=message("follow_ups.run_help"),
    )
    parser.add_argument(
        "--rasa-url",
        metavar="URL",
        default=None,
        help=message("follow_ups.help_rasa_url"),
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=None,
        metavar="SECONDES",
        help=message("follow_ups.help_interval"),
    )
    parser.add_argument("--once", action="store_true", help=message("follow_ups.help_once"))
    parser.set_defaults(func=run)
