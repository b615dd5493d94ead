"""What `riposte rasa` and `riposte actions` share: a sub-command whose arguments all go to the
program it starts, the checks both make before starting it, and the exec that replaces the
`riposte` process with it (the tests replace os.execvpe)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from riposte.access import ActionSecretError, secret_from_env
from riposte.cli import configuration_error
from riposte.messages import message
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


def checked_settings() -> Settings | int:
    """The settings, with RIPOSTE_ACTION_SECRET checked; else the exit status of the error."""
    try:
        settings = Settings.from_env()
        secret_from_env()
    except (SettingsError, ActionSecretError) as error:
        return configuration_error(error)
    return settings


def exec_service(command: list[str], env: dict[str, str]) -> int:
    """Replace this process with `command` (what was printed so far is flushed first)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(command[0], command, env)
    return 1  # not reached: exec replaces the process (the tests replace exec)
