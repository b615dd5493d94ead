"""Rasa's conversation lock, shared by several Rasa servers through Redis, with an atomic acquire.

Rasa processes the messages of one conversation one at a time: `LockStore.lock(sender_id)`
surrounds each turn (read the tracker, run the policies and actions, save the tracker). With
several Rasa servers on one tracker store, that lock must be shared, or two turns of the same
conversation run at once and one of them overwrites the other's events.

Rasa's own `RedisLockStore` is not safe for that: it issues tickets by reading the lock, adding
a ticket in Python and writing it back (GET then SET), so two servers issuing a ticket at the
same moment both get the same number and both "hold" the lock (20 simultaneous messages of one
sender over two servers kept 9 user events).

This store keeps Rasa's interface and replaces the ticket protocol by redis-py's `Lock`
(`redis.asyncio.lock.Lock`): acquire is one `SET key token NX PX lifetime` (atomic in Redis:
exactly one client creates the key), release and renewal are Lua scripts that act only if the
key still holds the caller's token. Nothing hand-made:

- Mutual exclusion across processes and machines: the Redis key `<prefix><conversation id>`.
- Order: inside one Rasa process, the turns of a conversation wait in an `asyncio.Lock`, which
  serves its waiters first come, first served; only the first of them polls Redis. The turns a
  server accepted are therefore processed in the order it accepted them. Between two servers
  the order of simultaneous messages is the order in which they win the Redis key (there is no
  meaningful order between two messages that arrive at the same instant on two machines).
  There is no fairness between servers: a server with several turns of the conversation
  waiting hands the lock from one to the next at once, so they tend to pass before the turns
  waiting on another server. Routing each sender to one server (sticky routing) avoids both.
- Expiry: the key lives `lock_lifetime` seconds (Rasa's `TICKET_LOCK_LIFETIME`, 60 s by
  default) and is renewed every third of that while its holder works, so a crashed or killed
  holder blocks its conversation at most `lock_lifetime` seconds and a slow turn never loses
  the lock. A turn waits at most `lock_lifetime` seconds for its turn, then fails with Rasa's
  `LockError` (as Rasa's tickets expire after that lifetime).
- Redis unreachable: at start-up the store pings Redis and refuses to start with a clear error
  (Rasa would otherwise come up and fail every message); later, a turn whose lock cannot be
  taken fails (`LockError`) rather than running unprotected.

Configuration (endpoints.yml):

    lock_store:
      type: riposte_rasa.lock_store.AtomicRedisLockStore
      # url: redis://…            optional; by default the environment's REDIS_URL
      # key_prefix: riposte       optional: keys are "<key_prefix>:lock:<conversation id>"

The URL is redis://[:password@]host:port/db, rediss://… (TLS) or unix://…. It is read from the
environment rather than written `url: ${REDIS_URL}` because Rasa refuses an undefined ${VAR}
and the variable is optional. Without a URL (REDIS_URL empty or unset) the store is Rasa's
`InMemoryLockStore`, unchanged: one Rasa process only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError
from rasa.utils.endpoints import EndpointConfig

from riposte.store.redis_check import redacted, redis_problem
from riposte_rasa import patches as rasa_hooks

_LOG = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "riposte"
KEY_SUFFIX = ":lock:"
_KEY_PREFIX = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# How often a waiting server asks Redis whether the conversation is free (seconds).
DEFAULT_POLL_INTERVAL = 0.02
DEFAULT_SOCKET_TIMEOUT = 10.0
URL_SCHEMES = ("redis://", "rediss://", "unix://")
# The variable naming the Redis server when endpoints.yml gives no `url`.
REDIS_URL_ENV = "REDIS_URL"
# Tasks that give back a lock after a cancellation (kept referenced until they end).
_BACKGROUND: set[asyncio.Future[Any]] = set()


class LockStoreConfigError(LockError):
    """The lock store is misconfigured or Redis cannot be reached at start-up."""

    def __init__(self, message: str, problem: str = "") -> None:
        super().__init__(message)
        self.problem = problem or message  # the cause alone (e.g. "Connection refused")


@dataclass
class _LocalQueue:
    """The turns of one conversation waiting in this process, first come, first served."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


def _succeeded(task: asyncio.Future[Any]) -> bool:
    return not task.cancelled() and task.exception() is None and bool(task.result())


def _unlock_if_acquired(lock: asyncio.Lock) -> Callable[[asyncio.Future[Any]], None]:
    def done(task: asyncio.Future[Any]) -> None:
        if _succeeded(task):
            lock.release()

    return done


def _release_if_acquired(
    redis_lock: Any, conversation_id: str
) -> Callable[[asyncio.Future[Any]], None]:
    """Give back a Redis lock obtained by an attempt whose turn was cancelled meanwhile."""

    async def release() -> None:
        try:
            await redis_lock.release()
        except Exception as error:  # noqa: BLE001 (logged; the key expires anyway)
            _LOG.warning(
                "Could not release the lock of conversation '%s': %s", conversation_id, error
            )

    def done(task: asyncio.Future[Any]) -> None:
        if _succeeded(task):
            _BACKGROUND.add(background := asyncio.ensure_future(release()))
            background.add_done_callback(_BACKGROUND.discard)

    return done


class AtomicRedisLockStore(InMemoryLockStore):
    """Rasa's lock store on Redis with an atomic acquire (see the module's docstring)."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        *,
        url: str | None = None,
        key_prefix: str | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
        check: bool = True,
    ) -> None:
        super().__init__()
        rasa_hooks.install()
        options: dict[str, Any] = dict(endpoint_config.kwargs) if endpoint_config else {}
        if url is None and endpoint_config is not None:
            url = endpoint_config.url
        if not url:
            url = os.environ.get(REDIS_URL_ENV, "")
        self.url = url.strip()
        prefix = key_prefix if key_prefix is not None else options.get("key_prefix")
        prefix = str(prefix).strip() if prefix not in (None, "") else DEFAULT_KEY_PREFIX
        if not _KEY_PREFIX.match(prefix):
            raise LockStoreConfigError(
                f"lock_store.key_prefix {prefix[:80]!r} is invalid: use 1 to 64 letters, digits, "
                "'_', '.' or '-'."
            )
        self.key_prefix = prefix + KEY_SUFFIX
        self.poll_interval = poll_interval
        self.socket_timeout = socket_timeout
        self._queues: dict[str, _LocalQueue] = {}
        self._redis: Any = None
        if not self.url:
            _LOG.info("Lock store: in memory (REDIS_URL is not set): one Rasa process only.")
            if os.environ.get("SANIC_WORKERS", "1").strip() not in ("", "1"):
                _LOG.error(
                    "SANIC_WORKERS is set but REDIS_URL is empty: the workers do not share "
                    "their conversation locks. Set REDIS_URL or run one worker."
                )
            return
        if not self.url.startswith(URL_SCHEMES):
            raise LockStoreConfigError(
                f"The lock store's URL ({redacted(self.url)[:80]}) must start with redis://, "
                "rediss:// or unix:// (REDIS_URL)."
            )
        if check:
            self.check_connection()
        import redis.asyncio

        self._redis = redis.asyncio.Redis.from_url(
            self.url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            health_check_interval=30,
        )
        _LOG.info(
            "Lock store: Redis at %s, keys %s<conversation id>", redacted(self.url), self.key_prefix
        )

    @property
    def shared(self) -> bool:
        """True when the locks live in Redis (shared by every Rasa server)."""
        return self._redis is not None

    def check_connection(self) -> None:
        """Ping Redis once (blocking client: Rasa builds the store before serving)."""
        problem = redis_problem(self.url, self.socket_timeout)
        if problem is None:
            return
        _LOG.error(
            "Cannot reach Redis at %s (REDIS_URL) for the conversation locks: %s. "
            "Start Redis or fix REDIS_URL; this Rasa server does not start without it.",
            redacted(self.url),
            problem,
        )
        raise LockStoreConfigError(
            f"Redis unreachable at {redacted(self.url)} (REDIS_URL): {problem}", problem
        )

    def key(self, conversation_id: str) -> str:
        return self.key_prefix + conversation_id

    @contextlib.asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock for the duration of the `async with` block."""
        if self._redis is None:
            async with super().lock(conversation_id, lock_lifetime, wait_time_in_seconds) as held:
                yield held
            return
        from redis.asyncio.lock import Lock
        from redis.exceptions import LockNotOwnedError, RedisError

        loop = asyncio.get_running_loop()
        deadline = loop.time() + lock_lifetime
        async with self._local_turn(conversation_id, lock_lifetime):
            redis_lock = Lock(
                self._redis,
                self.key(conversation_id),
                timeout=lock_lifetime,
                sleep=self.poll_interval,
                blocking_timeout=max(0.0, deadline - loop.time()),
                thread_local=False,
            )
            # Never interrupted half-way (a SET whose reply is lost would hold the key until
            # it expires): when this turn is cancelled, the attempt ends on its own and a
            # lock it obtained is given back at once.
            attempt = asyncio.ensure_future(redis_lock.acquire())
            try:
                acquired = await asyncio.shield(attempt)
            except asyncio.CancelledError:
                attempt.add_done_callback(_release_if_acquired(redis_lock, conversation_id))
                raise
            except RedisError as error:
                raise LockError(
                    f"Could not reach Redis to lock conversation '{conversation_id}': {error}"
                ) from error
            if not acquired:
                raise LockError(
                    f"Could not acquire lock for conversation_id '{conversation_id}' within "
                    f"{lock_lifetime:g} s."
                )
            done = asyncio.Event()
            renewal = asyncio.create_task(
                self._renew(redis_lock, lock_lifetime, conversation_id, done)
            )
            try:
                # Rasa's callers do not use the value; a TicketLock keeps the interface.
                yield TicketLock(conversation_id)
            finally:
                # The flag, not only the cancellation: redis-py 4.x can swallow a cancellation
                # that arrives during a call (redis/redis-py#2551); the renewal would then go
                # on renewing, and this turn wait for it for ever with the conversation locked.
                done.set()
                renewal.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewal
                try:
                    await redis_lock.release()
                except LockNotOwnedError:
                    _LOG.warning(
                        "The lock of conversation '%s' had expired before its turn ended "
                        "(more than %g s): another turn may have run at the same time.",
                        conversation_id,
                        lock_lifetime,
                    )
                except RedisError as error:
                    _LOG.warning(
                        "Could not release the lock of conversation '%s' (%s): it expires "
                        "after %g s.",
                        conversation_id,
                        error,
                        lock_lifetime,
                    )

    @contextlib.asynccontextmanager
    async def _local_turn(self, conversation_id: str, timeout: float) -> AsyncIterator[None]:
        """Wait for the turns of this conversation that this process accepted before."""
        queue = self._queues.get(conversation_id)
        if queue is None:
            queue = self._queues[conversation_id] = _LocalQueue()
        queue.users += 1
        try:
            # `wait_for` on a shielded attempt: a timeout or a cancellation never leaves the
            # local lock taken by nobody (an attempt that wins afterwards gives it back).
            attempt = asyncio.ensure_future(queue.lock.acquire())
            try:
                await asyncio.wait_for(asyncio.shield(attempt), timeout)
            except BaseException as error:
                attempt.cancel()
                attempt.add_done_callback(_unlock_if_acquired(queue.lock))
                if isinstance(error, asyncio.TimeoutError):
                    raise LockError(
                        f"Could not acquire lock for conversation_id '{conversation_id}' within "
                        f"{timeout:g} s."
                    ) from None
                raise
            try:
                yield
            finally:
                queue.lock.release()
        finally:
            queue.users -= 1
            if queue.users == 0 and self._queues.get(conversation_id) is queue:
                del self._queues[conversation_id]

    async def _renew(
        self, redis_lock: Any, lock_lifetime: float, conversation_id: str, done: asyncio.Event
    ) -> None:
        """Reset the key's lifetime every third of it until the turn is `done`."""
        from redis.exceptions import LockError as RedisLockError
        from redis.exceptions import RedisError

        while not done.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(done.wait(), lock_lifetime / 3)
            if done.is_set():
                return
            try:
                await redis_lock.reacquire()
            except RedisLockError:
                _LOG.warning("The lock of conversation '%s' was lost.", conversation_id)
                return
            except RedisError as error:
                _LOG.warning(
                    "Could not renew the lock of conversation '%s' (%s).", conversation_id, error
                )

    async def close(self) -> None:
        """Close the connections to Redis (tests; Rasa never closes a lock store)."""
        if self._redis is not None:
            await self._redis.close()
            await self._redis.connection_pool.disconnect()
