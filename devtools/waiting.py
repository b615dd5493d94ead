"""Waiting for something to happen, the one way the tests (and the stack launcher) do it.

A test that needs a condition to become true (a server answering, a retry logged, a row
written, a message delivered) polls it with `wait_until` (or `wait_until_async` inside an event
loop): a deadline in seconds, a short poll interval, and on failure an `AssertionError` that
names what did not happen, the last value seen and the last exception the condition raised.
Never a fixed `sleep` standing in for the event, never a loop bounded by a count of turns or
requests: on a busy machine both finish before the event, or long after it.

Deadlines are generous (a CI machine may be running another assistant beside the tests); a
slower machine can stretch all of them with RIPOSTE_TEST_TIMEOUT_FACTOR (e.g. 2).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
DEFAULT_INTERVAL = 0.02
TIMEOUT_FACTOR_ENV = "RIPOSTE_TEST_TIMEOUT_FACTOR"


def timeout_factor() -> float:
    """RIPOSTE_TEST_TIMEOUT_FACTOR (default 1): every deadline of the suite is multiplied by it."""
    raw = os.environ.get(TIMEOUT_FACTOR_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        factor = float(raw)
    except ValueError:
        raise ValueError(f"{TIMEOUT_FACTOR_ENV}={raw!r}: a number is expected (e.g. 2)") from None
    if factor <= 0:
        raise ValueError(f"{TIMEOUT_FACTOR_ENV}={raw!r}: a positive number is expected")
    return factor


def deadline_in(seconds: float) -> float:
    """A `time.monotonic()` deadline `seconds` from now, stretched by the timeout factor."""
    return time.monotonic() + seconds * timeout_factor()


class _Poll:
    """The bookkeeping shared by the sync and async loops: one attempt, and the failure text."""

    def __init__(
        self,
        what: str | Callable[[], str],
        timeout: float,
        ignoring: tuple[type[BaseException], ...],
    ) -> None:
        self.what = what
        self.timeout = timeout * timeout_factor()
        self.deadline = time.monotonic() + self.timeout
        self.ignoring = ignoring
        self.last_value: Any = None
        self.last_error: BaseException | None = None
        self.attempts = 0

    def record(self, value: Any) -> bool:
        self.attempts += 1
        self.last_value = value
        self.last_error = None
        return bool(value)

    def record_error(self, error: BaseException) -> None:
        self.attempts += 1
        if not isinstance(error, self.ignoring):
            raise error
        self.last_error = error

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def failure(self) -> AssertionError:
        what = self.what() if callable(self.what) else self.what
        detail = f"last value {self.last_value!r}"
        if self.last_error is not None:
            detail = f"last error {type(self.last_error).__name__}: {self.last_error}"
        return AssertionError(
            f"Timed out after {self.timeout:g} s ({self.attempts} checks) waiting for: {what} "
            f"({detail})"
        )


def wait_until(
    condition: Callable[[], T],
    what: str | Callable[[], str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = DEFAULT_INTERVAL,
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """Call `condition` until it returns a true value, and return that value.

    `what` names the awaited event in the failure message (a callable is evaluated only then,
    to show the state at the deadline). Exceptions of the `ignoring` types count as "not yet"
    (e.g. `OSError` while a server starts); any other exception fails the test at once. The
    condition is checked once more at the deadline, so a slow machine never fails a condition
    that became true during the last interval.
    """
    poll = _Poll(what, timeout, ignoring)
    while True:
        expired = poll.expired()
        try:
            if poll.record(value := condition()):
                return value
        except Exception as error:  # noqa: BLE001 (re-raised unless ignored)
            poll.record_error(error)
        if expired:
            raise poll.failure()
        time.sleep(interval)


async def wait_until_async(
    condition: Callable[[], T | Awaitable[T]],
    what: str | Callable[[], str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = DEFAULT_INTERVAL,
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """`wait_until` inside an event loop: the condition may be a coroutine function, and the
    loop keeps running (the servers under test answer) between checks."""
    poll = _Poll(what, timeout, ignoring)
    while True:
        expired = poll.expired()
        try:
            value = condition()
            if inspect.isawaitable(value):
                value = await value
            if poll.record(value):
                return value
        except Exception as error:  # noqa: BLE001 (re-raised unless ignored)
            poll.record_error(error)
        if expired:
            raise poll.failure()
        await asyncio.sleep(interval)


def hang_deadline() -> float:
    """How long a single call may take before it counts as hung (catastrophic regex backtracking,
    quadratic loops: minutes). A deadline, not a speed limit: the speed of the text readers is
    measured by bench/bench_text.py (`make bench`)."""
    return 30.0 * timeout_factor()
