"""`riposte rasa [options de rasa run]`: the Rasa server alone, as `riposte serve` starts it.

For a container or a host that runs each service on its own. It does what the supervisor does
for Rasa: migrate the case store and check the key (refuse to start otherwise), write
var/credentials.yml (Telegram, Signal: the bridge's token from SIGNAL_BRIDGE_TOKEN), then
replace itself (exec) with `python -m riposte_rasa.server run` and the flags of
`riposte.services.rasa_command`, in the environment of `rasa_environment`. Extra arguments are
added to Rasa's own (`riposte rasa --debug`).

RIPOSTE_ACTION_SECRET is required: Rasa sends it to the action server, which must be given the
same value (`riposte serve` draws one itself; here nobody can).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from riposte.access import ActionSecretError, secret_from_env
from riposte.cli import configuration_error
from riposte.messages import message
from riposte.services import SIGNAL_TOKEN_ENV, rasa_command, rasa_environment, write_credentials
from riposte.settings import Settings, SettingsError


class PassThroughParser(argparse.ArgumentParser):
    """A sub-command whose arguments all go to the program it starts (but a lone -h/--help).

    argparse would refuse options it does not know (`--debug`) even with `nargs=REMAINDER`;
    here they are kept as they are, in order, in `extra`.
    """

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        given = list(sys.argv[1:] if args is None else args)
        if given in (["-h"], ["--help"]):
            return super().parse_known_args(given, namespace)
        namespace = namespace if namespace is not None else argparse.Namespace()
        for name, value in self._defaults.items():
            setattr(namespace, name, value)
        namespace.extra = given
        return namespace, []


def add_pass_through(
    subparsers: Any,
    name: str,
    help_text: str,
    description: str,
    func: Callable[..., int],
    target: str,
) -> argparse.ArgumentParser:
    """Add sub-command `name`, whose arguments go to `target` (named in its usage line)."""
    usage = message("cli.pass_through_usage", name=name, target=target)
    parser = subparsers.add_parser(name, help=help_text, description=description, usage=usage)
    parser.__class__ = PassThroughParser  # created by argparse; only its parsing changes
    parser.set_defaults(func=func, extra=[])
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
        secret_from_env()
    except (SettingsError, ActionSecretError) as error:
        return configuration_error(error)
    if not settings.model_path.is_file():
        print(message("cli.rasa_no_model", path=settings.model_path), file=sys.stderr)
        return 2
    from riposte.store.errors import StoreError
    from riposte.store.repository import CaseRepository

    try:
        with CaseRepository.from_env() as repo:
            repo.ensure_ready()
    except StoreError as error:
        print(message("cli.store_unavailable", error=error), file=sys.stderr)
        return 1
    write_credentials(settings, os.environ.get(SIGNAL_TOKEN_ENV))
    command = [*rasa_command(settings), *args.extra]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(command[0], command, rasa_environment(settings))
    return 1  # not reached: exec replaces the process (the tests replace exec)


def register(subparsers: Any) -> None:
    add_pass_through(
        subparsers,
        "rasa",
        message("cli.rasa_help"),
        message("cli.rasa_description"),
        run,
        message("cli.rasa_target"),
    )
