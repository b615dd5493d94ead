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
from typing import Any

from riposte.cli.service import add_pass_through, checked_settings, exec_service
from riposte.messages import message
from riposte.services import SIGNAL_TOKEN_ENV, rasa_command, rasa_environment, write_credentials


def run(args: argparse.Namespace) -> int:
    settings = checked_settings()
    if isinstance(settings, int):
        return settings
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
    return exec_service([*rasa_command(settings), *args.extra], rasa_environment(settings))


def register(subparsers: Any) -> None:
    add_pass_through(
        subparsers,
        "rasa",
        message("cli.rasa_help"),
        message("cli.rasa_description"),
        run,
        message("cli.rasa_target"),
    )
