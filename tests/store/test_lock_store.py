"""The conversation lock shared by several Rasa servers (riposte_rasa/lock_store.py), against a
real Redis server.

`make test-unit` starts a throw-away one (scripts/redis-test.sh) and sets
`RIPOSTE_TEST_REDIS_URL`. When Redis is required (`RIPOSTE_REQUIRE_REDIS=1`, set by the Makefile,
or `CI` set), a missing URL or an unreachable server fails these tests: never a skip. A plain
`pytest` without the URL skips the tests that need Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from rasa.core.lock_store import InMemoryLockStore, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from devtools.waiting import deadline_in, timeout_factor, wait_until_async
from riposte_rasa import lock_store
from riposte_rasa.lock_store import AtomicRedisLockStore, LockStoreConfigError

ROOT = Path(__file__).resolve().parents[2]
STORE_TYPE = "riposte_rasa.lock_store.AtomicRedisLockStore"
# Seconds: a turn whose conversation is free gets its lock well within this, even on a loaded
# machine, and a turn that must give up does so well within this after its lifetime. A lock
# wrongly left taken makes a turn wait its whole lifetime (30 s or more in these tests) then
# fail: the bound separates the two. Stretched by RIPOSTE_TEST_TIMEOUT_FACTOR.
PROMPTLY = 10.0


def promptly() -> float:
    return PROMPTLY * timeout_factor()


def _queue(store: AtomicRedisLockStore, conversation: str = "conversation") -> Any:
    """The store's local queue of the conversation's turns (None when nobody waits)."""
    return store._queues.get(conversation)


def _queue_locked(store: AtomicRedisLockStore) -> bool:
    """A turn of this store holds its local queue (it has the key or is asking Redis for it)."""
    queue = _queue(store)
    return queue is not None and queue.lock.locked()


def _queue_users(store: AtomicRedisLockStore) -> int:
    queue = _queue(store)
    return 0 if queue is None else queue.users


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


HOW_TO_START = (
    "run `make test-unit` (it starts a throw-away server with scripts/redis-test.sh), or "
    "`export RIPOSTE_TEST_REDIS_URL=$(scripts/redis-test.sh)` before pytest"
)


def require_redis_url() -> str:
    """The test Redis server's URL, checked; a failure (or a skip when not required) otherwise."""
    url = os.environ.get("RIPOSTE_TEST_REDIS_URL", "").strip()
    required = _flag("RIPOSTE_REQUIRE_REDIS") or _flag("CI")
    if not url:
        if required:
            pytest.fail(
                "Redis tests: RIPOSTE_TEST_REDIS_URL is not set, but Redis is required here "
                f"(RIPOSTE_REQUIRE_REDIS or CI is set): {HOW_TO_START}.",
                pytrace=False,
            )
        pytest.skip(f"RIPOSTE_TEST_REDIS_URL is not set: {HOW_TO_START}.")
    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        problem = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    else:
        problem = ""
    finally:
        client.close()
    if problem:
        pytest.fail(
            f"Redis tests: cannot reach {url}: {problem}. Is the server running? {HOW_TO_START}.",
            pytrace=False,
        )
    return url


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url() -> str:
    return require_redis_url()


@pytest.fixture
def prefix() -> str:
    """Keys of their own for each test (other tests may share the server)."""
    return "t" + secrets.token_hex(6)


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    red = redis.Redis.from_url(redis_url)
    yield red
    red.close()


@pytest.fixture
async def make_store(
    redis_url: str, prefix: str
) -> AsyncIterator[Callable[..., AtomicRedisLockStore]]:
    """Lock stores on the test server, closed at the end: each one plays a Rasa server."""
    stores: list[AtomicRedisLockStore] = []

    def make(**options: Any) -> AtomicRedisLockStore:
        options.setdefault("url", redis_url)
        options.setdefault("key_prefix", prefix)
        store = AtomicRedisLockStore(**options)
        stores.append(store)
        return store

    yield make
    for store in stores:
        await store.close()


# --------------------------------------------------------------------------- configuration


async def test_without_redis_url_it_is_rasas_in_memory_lock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    store = LockStore.create(EndpointConfig(type=STORE_TYPE))
    assert isinstance(store, AtomicRedisLockStore) and isinstance(store, InMemoryLockStore)
    assert not store.shared
    async with store.lock("conversation") as ticket_lock:
        assert store.get_lock("conversation") is ticket_lock  # Rasa's ticket, in memory
    assert store.get_lock("conversation") is None
    monkeypatch.setenv("REDIS_URL", "  ")
    assert not AtomicRedisLockStore().shared


def test_rasa_builds_it_from_the_project_endpoints(
    monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    # The variables endpoints.yml itself requires; REDIS_URL is optional (no ${REDIS_URL}).
    monkeypatch.setenv("TRACKER_STORE_URL", "sqlite:///unused.db")
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("RIPOSTE_ACTION_SECRET", "a-secret-for-the-tests")
    monkeypatch.delenv("REDIS_URL", raising=False)
    config = read_endpoint_config(str(ROOT / "endpoints.yml"), "lock_store")
    assert config is not None and config.type == STORE_TYPE
    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore) and not store.shared

    monkeypatch.setenv("REDIS_URL", redis_url)
    config = read_endpoint_config(str(ROOT / "endpoints.yml"), "lock_store")
    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore) and store.shared
    assert store.url == redis_url and store.key_prefix == "riposte:lock:"


def test_a_misconfiguration_is_refused() -> None:
    with pytest.raises(LockStoreConfigError, match="redis://, rediss:// or unix://"):
        AtomicRedisLockStore(url="http://127.0.0.1:6379")
    with pytest.raises(LockStoreConfigError, match="key_prefix"):
        AtomicRedisLockStore(EndpointConfig(url="redis://127.0.0.1:1/0", key_prefix="a b"))


def test_unreachable_redis_stops_the_start_with_a_clear_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"redis://:pa55w0rd@127.0.0.1:{dead_port()}/0"
    caplog.set_level(logging.ERROR, logger="riposte_rasa.lock_store")
    with pytest.raises(LockStoreConfigError) as raised:
        LockStore.create(EndpointConfig(type=STORE_TYPE, url=url))
    message = str(raised.value)
    assert message.startswith("Redis unreachable at redis://:***@127.0.0.1:"), message
    assert "(REDIS_URL)" in message and "onnect" in message
    assert "Cannot reach Redis" in caplog.text and "does not start" in caplog.text
    assert "pa55w0rd" not in message + caplog.text


async def test_redis_lost_while_serving_fails_the_turn() -> None:
    store = AtomicRedisLockStore(url=f"redis://127.0.0.1:{dead_port()}/0", check=False)
    with pytest.raises(LockError, match="Could not reach Redis"):
        async with store.lock("conversation"):
            raise AssertionError("a turn ran without its lock")
    await store.close()


# --------------------------------------------------------------------------- the lock


async def test_the_lock_is_a_prefixed_key_with_a_lifetime(
    make_store: Callable[..., AtomicRedisLockStore], client: redis.Redis, prefix: str
) -> None:
    store = make_store()
    key = f"{prefix}:lock:conversation"
    async with store.lock("conversation", lock_lifetime=30):
        assert client.get(key) is not None
        assert 0 < client.pttl(key) <= 30_000
        assert client.keys(f"{prefix}:*") == [key.encode()]
    assert client.get(key) is None


Locker = Callable[[str], contextlib.AbstractAsyncContextManager[Any]]


def contention(
    redis_url: str,
    prefix: str,
    servers: list[Callable[[], tuple[Locker, Callable[[], Any]]]],
    turns_per_server: int,
) -> dict[str, Any]:
    """Each "server" in its own thread and event loop, all its turns wanting one conversation.

    `servers` build, in their thread, a function giving a turn's lock and a closing coroutine
    function. Each turn reads a counter in Redis, yields, and writes it plus one, as Rasa reads
    and saves a tracker. Returns the final counter, the most turns seen inside at once and, per
    server, the order in which its turns got in (by the order they were started).
    """
    import redis.asyncio

    client = redis.Redis.from_url(redis_url)
    counter = f"{prefix}:counter"
    client.set(counter, 0)
    inside = 0
    most_inside = 0
    guard = threading.Lock()
    entered: list[list[int]] = [[] for _ in servers]
    barrier = threading.Barrier(len(servers), timeout=30 * timeout_factor())
    errors: list[BaseException] = []

    async def turn(index: int, number: int, lock: Locker, red: Any) -> None:
        nonlocal inside, most_inside
        async with lock("conversation"):
            with guard:
                inside += 1
                most_inside = max(most_inside, inside)
            entered[index].append(number)
            value = int(await red.get(counter))
            await asyncio.sleep(0.002)
            await red.set(counter, value + 1)
            with guard:
                inside -= 1

    async def server(index: int) -> None:
        lock, close = servers[index]()
        red = redis.asyncio.Redis.from_url(redis_url)
        barrier.wait()
        tasks = []
        for number in range(turns_per_server):
            tasks.append(asyncio.create_task(turn(index, number, lock, red)))
            # One pass of the event loop: the new turn starts (asks for its lock, or enters
            # at once without one) before the next turn is created, so the order of arrival is
            # the order of creation on any machine, however slow. No pause stands in for it.
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        await red.close()
        await close()

    def run(index: int) -> None:
        try:
            asyncio.run(server(index))
        except BaseException as error:  # noqa: BLE001 (reported by the test)
            errors.append(error)
            barrier.abort()  # the other servers stop waiting for this one

    threads = [
        threading.Thread(target=run, args=(i,), name=f"server-{i}", daemon=True)
        for i in range(len(servers))
    ]
    started = time.monotonic()
    deadline = deadline_in(120)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not errors, errors
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert not stuck, f"{stuck} still running after {120 * timeout_factor():g} s"
    result = {
        "counter": int(client.get(counter) or 0),
        "most_inside": most_inside,
        "entered": entered,
        "seconds": time.monotonic() - started,
        "keys": client.keys(f"{prefix}:lock:*"),
    }
    client.delete(counter)
    client.close()
    return result


def test_acquire_is_atomic_under_contention_between_two_stores(redis_url: str, prefix: str) -> None:
    turns = 40

    def server() -> tuple[Locker, Callable[[], Any]]:
        store = AtomicRedisLockStore(url=redis_url, key_prefix=prefix)
        return (lambda conversation: store.lock(conversation, lock_lifetime=30)), store.close

    result = contention(redis_url, prefix, [server, server], turns)
    assert result["most_inside"] == 1  # never two turns at once
    assert result["counter"] == 2 * turns  # no update lost
    for order in result["entered"]:
        # Each server serves its own turns in the order it accepted them.
        assert order == list(range(turns))
    assert result["keys"] == []


def test_the_contention_harness_sees_a_race_without_the_lock(redis_url: str, prefix: str) -> None:
    """The same harness with no lock at all does see turns overlap and updates lost."""

    async def nothing() -> None:
        return None

    def server() -> tuple[Locker, Callable[[], Any]]:
        return (lambda _conversation: contextlib.nullcontext()), nothing  # type: ignore[return-value]

    result = contention(redis_url, prefix, [server, server], 40)
    assert result["most_inside"] > 1
    assert result["counter"] < 80


async def test_one_store_serves_its_turns_first_come_first_served(
    make_store: Callable[..., AtomicRedisLockStore],
) -> None:
    store = make_store()
    order: list[int] = []

    async def turn(number: int) -> None:
        async with store.lock("conversation"):
            order.append(number)
            await asyncio.sleep(0.01)

    tasks = []
    for number in range(15):
        tasks.append(asyncio.create_task(turn(number)))
        await asyncio.sleep(0.002)
    await asyncio.gather(*tasks)
    assert order == list(range(15))
    assert store._queues == {}  # nothing kept for a conversation nobody waits for


async def test_other_conversations_are_not_blocked(
    make_store: Callable[..., AtomicRedisLockStore],
) -> None:
    first, second = make_store(), make_store()
    async with first.lock("conversation-a", lock_lifetime=30):
        started = time.monotonic()
        # Blocked by conversation-a, this turn would wait 30 s, then fail.
        async with second.lock("conversation-b", lock_lifetime=30):
            assert time.monotonic() - started < promptly()


# --------------------------------------------------------------------------- expiry


HOLDER = """
import asyncio, sys, time
from riposte_rasa.lock_store import AtomicRedisLockStore

async def main():
    store = AtomicRedisLockStore(url=sys.argv[1], key_prefix=sys.argv[2])
    async with store.lock("conversation", lock_lifetime=float(sys.argv[3])):
        print("held", flush=True)
        await asyncio.sleep(600)

asyncio.run(main())
"""


async def test_a_killed_holder_blocks_its_conversation_at_most_lock_lifetime(
    make_store: Callable[..., AtomicRedisLockStore],
    client: redis.Redis,
    redis_url: str,
    prefix: str,
) -> None:
    lifetime = 3.0
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, redis_url, prefix, str(lifetime)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"held"
        key = f"{prefix}:lock:conversation"
        # Past a renewal (the key's time to live goes up again), so that the lifetime left is
        # the full one again at most.
        last_ttl = [client.pttl(key)]

        def renewed() -> bool:
            ttl = client.pttl(key)
            went_up = ttl > last_ttl[0]
            last_ttl[0] = ttl
            return went_up

        await wait_until_async(renewed, "the holder to renew its lock")
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30 * timeout_factor())
        killed = time.monotonic()
        left = client.pttl(key) / 1000
        assert 0 < left <= lifetime  # the dead holder's key is still there…
        store = make_store()
        async with store.lock("conversation", lock_lifetime=30):
            waited = time.monotonic() - killed
        # …until it expires: never sooner, and soon after (a key that never expired would
        # make this turn wait its 30 s, then fail).
        assert left - 0.2 <= waited <= lifetime + promptly(), (left, waited)
    finally:
        if holder.poll() is None:
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait()


async def test_a_slow_turn_keeps_its_lock_beyond_the_lifetime(
    make_store: Callable[..., AtomicRedisLockStore], caplog: pytest.LogCaptureFixture
) -> None:
    slow, other = make_store(), make_store()
    # Renewed every third of it: a renewal may come up to two thirds of a lifetime late (a
    # loaded machine) before the key expires.
    lifetime = 1.0
    times: dict[str, float] = {}
    slow_holds = asyncio.Event()

    async def slow_turn() -> None:
        async with slow.lock("conversation", lock_lifetime=lifetime):
            times["slow in"] = time.monotonic()
            slow_holds.set()
            # The turn's own work, more than three lifetimes: renewed meanwhile.
            await asyncio.sleep(3.5 * lifetime)
            times["slow out"] = time.monotonic()

    async def other_turn() -> None:
        await slow_holds.wait()
        async with other.lock("conversation", lock_lifetime=30):
            times["other in"] = time.monotonic()

    with caplog.at_level(logging.WARNING, logger="riposte_rasa.lock_store"):
        await asyncio.wait_for(asyncio.gather(slow_turn(), other_turn()), 30 + promptly())
    assert times["other in"] >= times["slow out"]
    assert "expired" not in caplog.text and "lost" not in caplog.text


async def test_a_turn_ends_even_if_its_renewal_swallows_the_cancellation(
    make_store: Callable[..., AtomicRedisLockStore], client: redis.Redis, prefix: str
) -> None:
    """redis-py 4.x can lose a cancellation that arrives during a call (redis/redis-py#2551):
    the renewal must still stop, or the turn never ends and its conversation stays locked."""
    from redis.asyncio.lock import Lock

    store = make_store()
    renewing = asyncio.Event()
    reacquire = Lock.reacquire

    async def deaf_reacquire(self: Lock) -> bool:
        renewing.set()
        try:
            await asyncio.sleep(0.2)  # the call to Redis, under way when the turn ends
        except asyncio.CancelledError:
            print("SWALLOWED", flush=True)
            pass  # lost, as in redis-py's bug
        return await reacquire(self)  # type: ignore[no-any-return]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Lock, "reacquire", deaf_reacquire)

        async def turn() -> None:
            # Long enough for the key to outlive the slow renewal: it succeeds, and goes on.
            async with store.lock("conversation", lock_lifetime=1.5):
                await renewing.wait()  # the turn ends during a renewal

        ending = asyncio.create_task(turn())
        try:  # no cancellation of the turn here: the lock's own exit must finish
            await wait_until_async(ending.done, "the turn's end", timeout=PROMPTLY)
        finally:
            ending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ending
    assert client.keys(f"{prefix}:lock:*") == []  # released, not renewed for ever
    async with store.lock("conversation", lock_lifetime=30):
        pass


async def test_a_waiting_turn_gives_up_after_the_lifetime(
    make_store: Callable[..., AtomicRedisLockStore],
) -> None:
    holder, waiter = make_store(), make_store()
    # (Renewed every 20 s: never at the moment a deadline below expires.)
    async with holder.lock("conversation", lock_lifetime=60):
        started = time.monotonic()
        # (A deadline on each attempt: a turn that never gave up would hang the test.)
        with pytest.raises(LockError, match="within 0.5 s"):
            await asyncio.wait_for(_never_in(waiter, 0.5), promptly())
        # Never before its lifetime; soon after it (not when the holder is done).
        assert 0.4 <= time.monotonic() - started < promptly()
        # Also for a turn waiting behind another turn of the same process.
        first = asyncio.create_task(_never_in(waiter, 1.0))
        await wait_until_async(
            lambda: _queue_locked(waiter), "the first turn to take the store's local queue"
        )
        with pytest.raises(LockError, match="within 0.3 s"):
            await asyncio.wait_for(_never_in(waiter, 0.3), promptly())
        with pytest.raises(LockError):
            await asyncio.wait_for(first, promptly())


async def _never_in(store: AtomicRedisLockStore, lifetime: float) -> None:
    """A turn that must give up: another turn holds the conversation all along."""
    async with store.lock("conversation", lock_lifetime=lifetime):
        raise AssertionError("two turns at once")


async def test_cancelled_turns_leave_nothing_locked(
    make_store: Callable[..., AtomicRedisLockStore],
    client: redis.Redis,
    prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from redis.asyncio.lock import Lock

    holder, other = make_store(), make_store()
    entered = asyncio.Event()
    release = asyncio.Event()
    # Longer than any deadline below: a key left behind would still be there at the end.
    lifetime = 120.0
    # What the stores' Redis locks do: the SET NX each client sent, the attempts not over yet.
    asked: dict[int, int] = {}
    attempts: list[Any] = []
    acquire, do_acquire = Lock.acquire, Lock.do_acquire

    async def tracked_acquire(self: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(self)
        try:
            return await acquire(self, *args, **kwargs)
        finally:
            attempts.remove(self)

    async def counted_do_acquire(self: Any, token: Any) -> Any:
        asked[id(self.redis)] = asked.get(id(self.redis), 0) + 1
        return await do_acquire(self, token)

    monkeypatch.setattr(Lock, "acquire", tracked_acquire)
    monkeypatch.setattr(Lock, "do_acquire", counted_do_acquire)

    async def hold() -> None:
        async with holder.lock("conversation", lock_lifetime=lifetime):
            entered.set()
            await release.wait()

    async def wait_turn(store: AtomicRedisLockStore) -> None:
        async with store.lock("conversation", lock_lifetime=lifetime):
            await asyncio.sleep(600)

    holding = asyncio.create_task(hold())
    await entered.wait()
    waiting_elsewhere = asyncio.create_task(wait_turn(other))  # polls Redis
    waiting_here = asyncio.create_task(wait_turn(holder))  # waits in the local queue
    await wait_until_async(
        lambda: asked.get(id(other._redis), 0) >= 1 and _queue_users(holder) == 2,
        lambda: (
            f"one turn asking Redis ({asked.get(id(other._redis), 0)} SET sent) and one "
            f"waiting in the holder's local queue ({_queue_users(holder)} users of 2)"
        ),
    )
    waiting_elsewhere.cancel()
    waiting_here.cancel()
    for task in (waiting_elsewhere, waiting_here):
        with pytest.raises(asyncio.CancelledError):
            await task
    release.set()
    await holding
    holding = asyncio.create_task(hold())  # cancelled while holding: the key is released
    entered.clear()
    release.clear()
    await entered.wait()
    holding.cancel()
    with pytest.raises(asyncio.CancelledError):
        await holding
    # The Redis attempt of the cancelled turn goes on by itself (never cut half-way) and may
    # win the key once it is free: it then gives it back at once, in the background.
    await wait_until_async(
        lambda: not attempts and not lock_store._BACKGROUND and not client.keys(f"{prefix}:*"),
        lambda: (
            f"every lock attempt over ({len(attempts)} running, "
            f"{len(lock_store._BACKGROUND)} releases pending) and no key left "
            f"({client.keys(f'{prefix}:*')})"
        ),
        timeout=PROMPTLY,
    )
    assert client.keys(f"{prefix}:lock:*") == []
    for store in (holder, other):
        started = time.monotonic()
        # A key left behind would make this turn wait 30 s, then fail.
        async with store.lock("conversation", lock_lifetime=30):
            assert time.monotonic() - started < promptly()
    assert holder._queues == {} and other._queues == {}


# --------------------------------------------------------------------------- riposte serve


def test_riposte_serve_passes_redis_url_to_rasa_and_checks_it() -> None:
    from riposte.services import child_environment
    from riposte.settings import Settings, SettingsError

    settings = Settings.from_env({})
    assert settings.redis_url == ""
    assert child_environment(settings, base={"REDIS_URL": " "})["REDIS_URL"] == ""
    settings = Settings.from_env({"REDIS_URL": " redis://:secret@redis.interne:6379/0 "})
    env = child_environment(settings, base={})
    assert env["REDIS_URL"] == "redis://:secret@redis.interne:6379/0"
    for wrong in ("http://redis:6379", "redis.interne:6379", "redis://a b"):
        with pytest.raises(SettingsError, match="REDIS_URL doit commencer par redis://"):
            Settings.from_env({"REDIS_URL": wrong})


def test_riposte_serve_refuses_to_start_rasa_without_its_redis(tmp_path: Path) -> None:
    from riposte.cli.serve import Supervisor
    from riposte.settings import Settings

    said: list[str] = []
    settings = Settings.from_env(
        {
            "RIPOSTE_VAR_DIR": str(tmp_path),
            "REDIS_URL": f"redis://:pa55w0rd@127.0.0.1:{dead_port()}/0",
        }
    )
    supervisor = Supervisor(settings, out=said.append)
    assert supervisor._check_lock_store() is False
    assert said and said[0].startswith("Redis injoignable à redis://:***@127.0.0.1:"), said
    assert "(REDIS_URL) : Error 111" in said[0] and "Démarrez Redis" in said[0]
    assert "pa55w0rd" not in said[0]
    assert Supervisor(Settings.from_env({}), out=said.append)._check_lock_store() is True
