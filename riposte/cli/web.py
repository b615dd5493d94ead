"""`riposte web`: the web page alone (chat page, letter downloads, evidence uploads).

The page server `riposte serve` runs beside Rasa, with the same settings
(`riposte.web.server.make_web_server`), for a container or a host that runs each service on
its own. Ctrl-C or SIGTERM stops it at once.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from riposte.cli import configuration_error
from riposte.messages import message
from riposte.settings import Settings, SettingsError


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        return configuration_error(error)
    from riposte.web.server import make_web_server

    try:
        server = make_web_server(settings)
    except OSError as error:
        print(
            message(
                "cli.web_port_busy",
                host=settings.host,
                port=settings.web_port,
                error=error.strerror or error,
            ),
            file=sys.stderr,
        )
        return 1

    def stop(*_: object) -> None:
        # serve_forever leaves its loop once asked from another thread. Raising from the
        # handler instead could be lost: the signal may land while socketserver runs code
        # that catches exceptions (handle_error) or in a finaliser, and serving goes on.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    print(message("cli.web_ready", port=settings.web_port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "web",
        help=message("cli.web_help"),
        description=message("cli.web_description"),
    )
    parser.add_argument("--verbose", action="store_true", help=message("cli.verbose"))
    parser.set_defaults(func=run)
