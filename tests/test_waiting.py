"""The suite's one way of waiting for an event (devtools/waiting.py)."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

import pytest

from devtools.waiting import TIMEOUT_FACTOR_ENV, timeout_factor, wait_until, wait_until_async


def test_returns_the_first_true_value_once_the_event_happens() -> None:
    ready = threading.Event()
    threading.Timer(0.2, ready.set).start()
    values = itertools.count()
    assert wait_until(lambda: ready.is_set() and next(values) + 7, "the timer") == 7


def test_fails_after_the_deadline_naming_the_event_and_the_last_value() -> None:
    started = time.monotonic()
    with pytest.raises(AssertionError) as failure:
        wait_until(lambda: [], "the queue filled", timeout=0.3)
    assert time.monotonic() - started >= 0.3
    message = str(failure.value)
    assert "waiting for: the queue filled" in message and "last value []" in message


def test_a_described_state_is_read_only_at_the_deadline() -> None:
    described = []

    def state() -> str:
        described.append(1)
        return "2 of 3 retries"

    with pytest.raises(AssertionError, match="2 of 3 retries"):
        wait_until(lambda: False, state, timeout=0.1)
    assert described == [1]


def test_the_condition_is_checked_once_more_at_the_deadline() -> None:
    calls = []

    def late() -> bool:
        calls.append(time.monotonic())
        return len(calls) >= 2  # true only on the check after the first interval

    assert wait_until(late, "the second check", timeout=0.01, interval=0.05)


def test_ignored_errors_mean_not_yet_and_others_fail_at_once() -> None:
    attempts = itertools.count(1)

    def connect() -> str:
        if next(attempts) < 3:
            raise ConnectionRefusedError("not listening yet")
        return "connected"

    assert wait_until(connect, "a connection", ignoring=(OSError,)) == "connected"
    with pytest.raises(AssertionError, match="last error ConnectionRefusedError"):
        wait_until(_refuse, "a refused connection", timeout=0.1, ignoring=(OSError,))
    with pytest.raises(KeyError):
        wait_until(lambda: {}["missing"], "a key", ignoring=(OSError,))


def _refuse() -> bool:
    raise ConnectionRefusedError("refused")


async def test_async_accepts_coroutine_conditions_and_lets_the_loop_run() -> None:
    done = asyncio.Event()
    asyncio.get_running_loop().call_later(0.1, done.set)

    async def is_done() -> bool:
        return done.is_set()

    assert await wait_until_async(is_done, "the callback") is True
    with pytest.raises(AssertionError, match="waiting for: never"):
        await wait_until_async(lambda: False, "never", timeout=0.1)


def test_the_timeout_factor_stretches_every_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TIMEOUT_FACTOR_ENV, "3")
    assert timeout_factor() == 3
    started = time.monotonic()
    with pytest.raises(AssertionError, match="after 0.3 s"):
        wait_until(lambda: False, "never", timeout=0.1)
    assert time.monotonic() - started >= 0.3
    monkeypatch.setenv(TIMEOUT_FACTOR_ENV, "zéro")
    with pytest.raises(ValueError, match=TIMEOUT_FACTOR_ENV):
        timeout_factor()
