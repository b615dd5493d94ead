"""The tests' name for devtools/waiting.py: the one way the suite waits for something."""

from devtools.waiting import (
    DEFAULT_INTERVAL,
    DEFAULT_TIMEOUT,
    TIMEOUT_FACTOR_ENV,
    deadline_in,
    timeout_factor,
    wait_until,
    wait_until_async,
)

__all__ = [
    "DEFAULT_INTERVAL",
    "DEFAULT_TIMEOUT",
    "TIMEOUT_FACTOR_ENV",
    "deadline_in",
    "timeout_factor",
    "wait_until",
    "wait_until_async",
]
