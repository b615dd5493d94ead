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
from typing import Any

from riposte.settings import Settings, SettingsError


class _Stop(Exception):
    """Raised by the SIGTERM handler to leave `serve_forever`."""


def _stop(*_: object) -> None:
    raise _Stop


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"Configuration invalide : {error}", file=sys.stderr)
        return 2
    from riposte.web.server import make_web_server

    try:
        server = make_web_server(settings)
    except OSError as error:
        print(
            f"La page web ne peut pas écouter sur {settings.host}:{settings.web_port} "
            f"({error.strerror or error}). Un autre programme occupe-t-il ce port "
            "(RIPOSTE_WEB_PORT) ?",
            file=sys.stderr,
        )
        return 1
    signal.signal(signal.SIGTERM, _stop)
    print(f"Page web sur http://localhost:{settings.web_port}/ (Ctrl-C pour arrêter).", flush=True)
    try:
        server.serve_forever()
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        server.server_close()
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "web",
        help="démarre la page web seule, comme « riposte serve » la démarre",
        description=(
            "Démarre la page web seule (page de conversation, téléchargement des courriers, "
            "dépôt des captures) sur RIPOSTE_WEB_PORT, avec la configuration que « riposte "
            "serve » lui donne. Ctrl-C ou SIGTERM l'arrête."
        ),
    )
    parser.add_argument("--verbose", action="store_true", help="journal détaillé")
    parser.set_defaults(func=run)
