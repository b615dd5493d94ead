"""`riposte actions [options]`: the action server alone, as `riposte serve` starts it.

Replaces itself (exec) with `python -m riposte_rasa.action_server` and the flags of
`riposte.services.actions_command`, in the environment of `actions_environment`. Extra
arguments are added to the server's own (`riposte actions --auto-reload`).

RIPOSTE_ACTION_SECRET is required (the action server refuses every call without it). It
listens where RIPOSTE_ACTIONS_HOST says (127.0.0.1 by default; a container sets 0.0.0.0).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from riposte.access import ActionSecretError, secret_from_env
from riposte.cli import configuration_error
from riposte.cli.rasa import add_pass_through
from riposte.messages import message
from riposte.services import actions_command, actions_environment
from riposte.settings import Settings, SettingsError


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
        secret_from_env()
    except (SettingsError, ActionSecretError) as error:
        return configuration_error(error)
    command = [*actions_command(settings), *args.extra]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(command[0], command, actions_environment(settings))
    return 1  # not reached: exec replaces the process (the tests replace exec)


def register(subparsers: Any) -> None:
    add_pass_through(
        subparsers,
        "actions",
        message("cli.actions_help"),
        message("cli.actions_description"),
        run,
        message("cli.actions_target"),
    )
