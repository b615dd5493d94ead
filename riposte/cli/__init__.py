"""The `riposte` command line: one entry point, one module per sub-command.

Each module listed in COMMAND_MODULES exposes ``register(subparsers)``, which adds its parser
and sets ``func`` (a callable taking the parsed arguments and returning an exit status).
Modules are imported lazily so that `riposte --help` stays fast.

Every command runs under the umask 077: what Riposte creates (var/, the logs, the case store,
the key file, letters, bundles) and what the services started by `riposte serve` create (Rasa's
var/tracker.db, inherited by the children) is readable by its owner only.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from riposte.messages import message
from riposte.settings import PRIVATE_UMASK

COMMAND_MODULES: tuple[str, ...] = (
    "riposte.cli.serve",
    "riposte.cli.advise",
    "riposte.cli.case",
    "riposte.cli.letter",
    "riposte.cli.reply_check",
    "riposte.cli.signal_bridge",
    "riposte.cli.follow_ups",
    "riposte.cli.knowledge",
    "riposte.cli.web",
    "riposte.cli.rasa",
    "riposte.cli.actions",
)


def configuration_error(error: Exception) -> int:
    """Say on stderr that the settings are invalid; the exit status of a bad configuration."""
    print(message("cli.invalid_configuration", error=error), file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="riposte",
        description=message("cli.description"),
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMANDE")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(PRIVATE_UMASK)
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    return int(func(args))
