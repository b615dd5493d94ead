"""Per-client rate limits: a token bucket per key (an IP address, a sender pseudonym).

Each key may spend `burst` requests at once, then `rate` requests per second. Buckets live in
memory, in the process that checks them (the page server, a Rasa server, an action server):
several replicas each keep their own, which multiplies the limit by the number of replicas
but still stops one client from flooding. At most `max_keys` buckets are kept; the least
recently used is forgotten first (a forgotten client starts again with a full bucket).
Thread-safe (the page server's workers share one limiter).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

Clock = Callable[[], float]


class RateLimiter:
    """`allow(key)`: True when `key` may go on now (one token spent), else False."""

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Clock = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if rate <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("rate > 0, burst >= 1 and max_keys >= 1 are required")
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, when
        self._lock = threading.Lock()

    def _refilled(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + max(0.0, now - last) * self.rate)

    def allow(self, key: str) -> bool:
        with self._lock:
            now = self.clock()
            tokens = self._refilled(key, now)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            self._buckets.move_to_end(key)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return allowed

    def retry_after(self, key: str) -> int:
        """Whole seconds until `key` has a token again (for a `Retry-After` header)."""
        with self._lock:
            tokens = self._refilled(key, self.clock())
        return 0 if tokens >= 1.0 else max(1, int((1.0 - tokens) / self.rate + 0.999))


class QuietWarning:
    """A warning logged at most once every `seconds` (a flood must not flood the logs too),
    with the number of times it happened since the last one."""

    def __init__(self, seconds: float = 60.0, *, clock: Clock = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._last: float | None = None
        self._count = 0
        self._lock = threading.Lock()

    def __call__(self, logger: logging.Logger, text: str) -> None:
        with self._lock:
            self._count += 1
            now = self.clock()
            if self._last is not None and now - self._last < self.seconds:
                return
            count, self._count, self._last = self._count, 0, now
        logger.warning("%s (%d time(s) since the last such warning)", text, count)
