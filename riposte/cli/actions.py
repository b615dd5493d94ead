"""`riposte actions [options]`: the action server alone, as `riposte serve` starts it.

Replaces itself (exec) with `python -m riposte_rasa.action_server` and the flags of
`riposte.services.actions_command`, in the environment of `actions_environment`. Extra
arguments are added to the server's own (`riposte actions --auto-reload`).

RIPOSTE_ACTION_SECRET is required (the action server refuses every call without it). It
listens where RIPOSTE_ACTIONS_HOST says (127.0.0.1 by default; a container sets 0.0.0.0).
"""

from __future__ import annotations

import argparse
from typing import Any

from riposte.cli.service import add_pass_through, checked_settings, exec_service
from riposte.messages import message
from riposte.services import actions_command, actions_environment


def run(args: argparse.Namespace) -> int:
    settings = checked_settings()
    if isinstance(settings, int):
        return settings
    return exec_service([*actions_command(settings), *args.extra], actions_environment(settings))


def register(subparsers: Any) -> None:
    add_pass_through(
        subparsers,
        "actions",
        message("cli.actions_help"),
        message("cli.actions_description"),
        run,
        message("cli.actions_target"),
    )
