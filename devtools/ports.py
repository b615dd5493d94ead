"""Ports for the servers the tests start, chosen so that nothing else takes them meanwhile.

A port found free by binding to port 0 lies in the kernel's ephemeral range: between the
choice and the moment a server binds it (Rasa needs tens of seconds to load its model), any
outgoing connection of the machine may be given that very port. The ports handed out here are
taken below that range, checked free on 127.0.0.1 at the time, and never handed out twice by
the same test process, so two servers of one run never share one either. A developer's own
instance (`make run`: 5005, 5055, 8080) is never chosen, since those ports are bound.
"""

from __future__ import annotations

import random
import socket
import threading
from pathlib import Path

# Below the usual ephemeral range (32768-60999 on Linux), above the well-known services.
LOWEST = 15000
_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_given: set[int] = set()
_guard = threading.Lock()
_random = random.SystemRandom()


def _ephemeral_start() -> int:
    try:
        return int(_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    """`count` distinct ports that are free now and were never handed out by this process."""
    highest = max(LOWEST + 1000, _ephemeral_start() - 1)
    chosen: list[int] = []
    with _guard:
        for _ in range(count):
            for _attempt in range(1000):
                port = _random.randint(LOWEST, highest)
                if port not in _given and _bindable(port):
                    _given.add(port)
                    chosen.append(port)
                    break
            else:
                raise RuntimeError(f"no free port between {LOWEST} and {highest}")
    return chosen


def free_port() -> int:
    """One port (see `free_ports`)."""
    return free_ports(1)[0]
