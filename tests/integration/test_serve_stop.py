"""`riposte serve` stops every service on Ctrl-C and SIGTERM: the shared stacks are stopped here.

This module holds only the tests that stop the shared stacks (marked `stops_stacks`): conftest
orders them after every other test, and, in a module of their own, they are also the last
work a pytest-xdist worker receives under `--dist loadfile` (each worker has its own stacks).
"""

from __future__ import annotations

import signal
import socket

import pytest

from devtools.waiting import wait_until
from tests.integration.conftest import Stack


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.stops_stacks
@pytest.mark.parametrize(("name", "sig"), [("token", signal.SIGINT), ("plain", signal.SIGTERM)])
def test_ctrl_c_and_sigterm_stop_every_service(
    stacks: dict[str, Stack], name: str, sig: int
) -> None:
    # Runs last (conftest orders `stops_stacks` tests at the end): the stacks are done.
    stack = stacks[name]
    ports = (stack.rasa_port, stack.actions_port, stack.web_port)
    assert all(_port_open(p) for p in ports)
    assert stack.stop(sig) == 0
    wait_until(
        lambda: not any(_port_open(p) for p in ports),
        lambda: f"ports closed (still open: {[p for p in ports if _port_open(p)]})",
        interval=0.2,
    )
    assert "Tous les services sont arrêtés." in stack.output()
