"""The token bucket of riposte/ratelimit.py, with a clock the test moves."""

from __future__ import annotations

import pytest

from riposte.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_gets_its_burst_then_waits_for_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.retry_after("a") == 1
    clock.now += 0.5  # one token back at 2 per second
    assert limiter.allow("a") and not limiter.allow("a")


def test_one_client_flooding_does_not_slow_another() -> None:
    limiter = RateLimiter(rate=1.0, burst=2, clock=Clock())
    for _ in range(100):
        limiter.allow("stranger")
    assert limiter.allow("doctor")


def test_the_least_recently_seen_clients_are_forgotten_first() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=Clock(), max_keys=2)
    assert limiter.allow("a") and limiter.allow("b")
    assert limiter.allow("c")  # "a" forgotten
    assert len(limiter._buckets) == 2 and "a" not in limiter._buckets
    assert not limiter.allow("c")


@pytest.mark.parametrize("rate, burst", [(0, 1), (1, 0)])
def test_limits_must_be_positive(rate: float, burst: float) -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate, burst)


def test_a_flood_of_refusals_logs_one_warning_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from riposte.ratelimit import QuietWarning

    clock = Clock()
    warn = QuietWarning(60, clock=clock)
    logger = logging.getLogger("test.flood")
    with caplog.at_level(logging.WARNING, logger="test.flood"):
        for _ in range(1000):
            warn(logger, "refused")
        clock.now += 61
        warn(logger, "refused")
    assert [r.getMessage() for r in caplog.records] == [
        "refused (1 time(s) since the last such warning)",
        "refused (1000 time(s) since the last such warning)",
    ]
