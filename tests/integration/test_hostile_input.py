"""Hostile input against the real stack: a bounded, seeded fuzz run over the REST and socket.io
channels. Nothing may give a server error, nothing typed may be executed (templates, format
strings, SQL, paths), oversized messages are refused with a clear reply, and a conversation
held alongside is left exactly as it was.

The REST run sends FUZZ_MESSAGES messages: 400 at RIPOSTE_TEST_SIZE=ci (the default), 2,000 at
full (`make test-long`); see tests/integration/conftest.py. The counts are printed (-s).
"""

from __future__ import annotations

import asyncio
import json
import random
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import socketio

from devtools.waiting import timeout_factor, wait_until_async
from tests.integration.conftest import Stack, run_size

SEED = 20261125
FUZZ_MESSAGES = run_size("FUZZ_MESSAGES")
MARKER = "zqzqzq"  # "zq" * 3: must never appear, whatever evaluates {{ "zq" * 3 }}
PIECES = [
    "",
    " ",
    "\x00",
    "\x07\x1b[31m\x08\r",
    "\u202e\u200b\ufeff",
    "\ud83d\ude00 émoji",
    "<script>alert(1)</script>",
    '<img src=x onerror="fetch(1)">',
    '{{ "zq" * 3 }}',
    "{% for x in range(10**9) %}{% endfor %}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    '${"zq" * 3}',
    '#{"zq" * 3}',
    "{0.__class__}{1}",
    "%s%s%s%n%x",
    "'; DROP TABLE events; --",
    '" OR 1=1 --',
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/greet",
    '/inform{"case_code": "RIP-AAAA-AA"}',
    '/delete_case{"erase_conversation": true}',
    "/restart",
    "\\u0000\\n",
    "https://exemple.org/?q=<b>x</b>&a=../../",
    "RIP-ABCD-EF lune-soleil-pomme-cerise-table",
    "je reçois des menaces de mort",
    "a" * 5000,
]
CANARY = "canary-conversation"
# Deadlines (seconds, stretched by RIPOSTE_TEST_TIMEOUT_FACTOR): one message handled, and the
# last of a flood, which waits for the turns accepted before it.
TURN_TIMEOUT = 120
FLOOD_TIMEOUT = 300


def post(bot: Stack, body: bytes) -> tuple[int, Any]:
    request = urllib.request.Request(
        bot.url("/webhooks/rest/webhook"),
        data=body,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return int(error.code), json.loads(raw)
        except ValueError:
            return int(error.code), raw.decode(errors="replace")


def raw_tracker(bot: Stack, sender: str) -> dict[str, Any]:
    url = bot.url(f"/conversations/{bot.pseudonym(sender)}/tracker?token={bot.token}")
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


# Sanic logs this traceback whenever a socket.io client closes its websocket (the engine.io
# handler returns nothing once the socket is closed): noise, not an error of ours.
WEBSOCKET_CLOSE = "sanic.exceptions.ServerError: Invalid response type None"


def tracebacks(bot: Stack) -> int:
    """Tracebacks in the services' logs, except Sanic's websocket-close noise."""
    logs = list((bot.var_dir / "log").glob("*.log")) if (bot.var_dir / "log").is_dir() else []
    texts = [p.read_text(errors="replace") for p in logs] + [bot.output()]
    return sum(t.count("Traceback") - t.count(WEBSOCKET_CLOSE) for t in texts)


def messages(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        parts = rng.choices(PIECES, k=rng.randint(1, 4))
        if rng.random() < 0.3:
            parts.append("".join(chr(rng.randint(1, 0x2FFF)) for _ in range(rng.randint(1, 60))))
        out.append(" ".join(parts))
    return out


def bodies(rng: random.Random) -> list[bytes]:
    """Bodies that are not what the channel expects: the answer must be a clear 400."""
    wrong: list[Any] = [
        [],
        "texte",
        42,
        None,
        {"message": "bonjour"},
        {"sender": "s", "message": ["liste"]},
        {"sender": "s", "message": {"objet": 1}},
        {"sender": "s", "message": 12},
        {"sender": ["s"], "message": "x"},
        {"sender": True, "message": "x"},
        {"sender": "", "message": "x"},
        {"sender": "s" * 300, "message": "x"},
        {"sender": "s", "message": "x", "metadata": "pas un objet"},
    ]
    raw = [json.dumps(b).encode() for b in wrong]
    raw += [
        b"",
        b"\xff\xfe\xfa",
        b"{not json",
        b"[" * 50_000,
        b'{"sender": "s", "message": "\xff"}',
    ]
    raw += [bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 200))) for _ in range(40)]
    return raw


async def handled(
    client: socketio.AsyncClient,
    payload: dict[str, Any],
    what: str,
    *,
    event: str = "user_uttered",
    timeout: float = TURN_TIMEOUT,
) -> None:
    """Send `payload` as `event` and wait until the server has handled it.

    python-socketio acknowledges an event once the channel's handler has returned: a message
    was refused, ignored, or its whole turn ran (its replies, if any, were sent before); a
    session request was joined (its `session_confirm` sent before).
    """
    seconds = timeout * timeout_factor()
    try:
        await client.call(event, payload, timeout=seconds)
    except socketio.exceptions.TimeoutError:
        raise AssertionError(
            f"Timed out after {seconds:g} s waiting for: the server to handle {what}"
        ) from None


async def connect(client: socketio.AsyncClient, bot: Stack) -> None:
    """Connect as the page does (its origin)."""
    await client.connect(
        f"http://127.0.0.1:{bot.rasa_port}",
        socketio_path="/socket.io",
        headers={"Origin": f"http://127.0.0.1:{bot.web_port}"},
    )


def test_rest_fuzz_run(bot: Stack) -> None:
    rng = random.Random(SEED)
    # A conversation going on alongside: it must come out untouched.
    bot.say(CANARY, "Bonjour")
    bot.say(CANARY, "Je reçois des insultes sur Google depuis hier, c'est un avis")
    before = raw_tracker(bot, CANARY)
    errors_before = tracebacks(bot)

    senders = [f"fuzz-{i}" for i in range(40)] + ["../../x", "'; DROP TABLE x;--", "é" * 200]
    cases = [
        json.dumps({"sender": rng.choice(senders), "message": m}).encode()
        for m in messages(rng, FUZZ_MESSAGES)
    ]
    cases.append(json.dumps({"sender": "fuzz-long", "message": "x" * 100_000}).encode())
    cases += bodies(rng)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda body: (body, *post(bot, body)), cases))

    statuses = Counter(status for _, status, _ in results)
    print(f"\nREST fuzz: {len(results)} requests, statuses {dict(statuses)}")
    failed = [(body[:300], answer) for body, status, answer in results if status >= 500]
    assert set(statuses) <= {200, 400, 413}, (statuses, failed)
    for body, status, answer in results:
        text = json.dumps(answer, ensure_ascii=False)
        assert MARKER not in text, (body[:200], text[:500])
        assert "<class" not in text and "root:x:0:0" not in text
        if status == 400:
            assert isinstance(answer, dict) and answer["error"], answer
        if status == 413:
            assert "trop long" in answer[0]["text"]
        if status == 200:
            assert isinstance(answer, list)
    long_answer = next(a for b, s, a in results if b.startswith(b'{"sender": "fuzz-long"'))
    assert "100000 caractères, 5000 au plus" in long_answer[0]["text"]
    assert statuses[400] >= len(bodies(random.Random(SEED))) - 1
    assert tracebacks(bot) == errors_before
    assert not list(bot.var_dir.rglob("passwd"))

    after = raw_tracker(bot, CANARY)
    assert after["events"] == before["events"]
    assert after["slots"] == before["slots"]
    # And the canary conversation still works.
    assert bot.say(CANARY, "qui es-tu ?")


def test_socketio_fuzz_run(bot: Stack) -> None:
    rng = random.Random(SEED + 1)
    weird: list[Any] = [None, 1, "texte", [], {"message": 5}, {"message": ["a"]}, {"session_id": 3}]
    counts: Counter[str] = Counter()
    refusals: Counter[str] = Counter()  # the codes of the `riposte_error` events received

    async def run() -> list[Any]:
        client = socketio.AsyncClient(reconnection=False)
        replies: list[Any] = []
        confirmed: asyncio.Queue[str] = asyncio.Queue()
        client.on("bot_uttered", lambda data: replies.append(data))

        def on_error(data: Any) -> None:
            counts.update(["riposte_error"])
            refusals.update([str(data.get("code")) if isinstance(data, dict) else "?"])

        client.on("riposte_error", on_error)
        client.on("session_confirm", lambda sid: confirmed.put_nowait(sid))
        await connect(client, bot)
        try:
            await client.emit("session_request", {"session_id": "fuzz" * 12})
            session = await asyncio.wait_for(confirmed.get(), 30 * timeout_factor())
            for payload in weird:
                await client.emit("user_uttered", payload)
                await client.emit("session_request", payload)
                counts["malformed"] += 2
            for text in messages(rng, 300):
                # One at a time, as a person types: each message handled (answered or not)
                # before the next is sent.
                await handled(client, {"message": text, "session_id": session}, repr(text[:80]))
                counts["messages"] += 1
            too_long = refusals["too_long"]
            await handled(client, {"message": "y" * 100_000, "session_id": session}, "100 000 y")
            await wait_until_async(
                lambda: refusals["too_long"] > too_long,
                lambda: f"the 100 000 characters refused as too long (refusals {dict(refusals)})",
            )
            # A flood: beyond a few messages being handled, the others are refused at once.
            # Each of the 30 is acknowledged once handled or refused: all of them settle here.
            await asyncio.gather(
                *(
                    handled(
                        client,
                        {"message": "bonjour", "session_id": session},
                        "a message of the flood",
                        timeout=FLOOD_TIMEOUT,
                    )
                    for _ in range(30)
                )
            )
            await wait_until_async(
                lambda: refusals["busy"] > 0,
                lambda: f"a message of the flood refused as busy (refusals {dict(refusals)})",
            )
        finally:
            await client.disconnect()
        # The channel still works: another browser is greeted.
        other = socketio.AsyncClient(reconnection=False)
        greeted = asyncio.Event()
        other.on(
            "bot_uttered",
            lambda data: greeted.set() if "je suis" in (data or {}).get("text", "") else None,
        )
        await connect(other, bot)
        try:
            await handled(
                other, {"session_id": "fresh" * 10}, "a session request", event="session_request"
            )
            await handled(other, {"message": "/greet", "session_id": "fresh" * 10}, "/greet")
            await wait_until_async(greeted.is_set, "the fresh session greeted")
        finally:
            await other.disconnect()
        return replies

    errors_before = tracebacks(bot)
    replies = asyncio.run(run())
    print(f"\nsocket.io fuzz: {dict(counts)}, {len(replies)} replies")
    print(f"socket.io refusals: {dict(refusals)}")
    # The 100 000 characters and the flood, refused.
    assert refusals["too_long"] >= 1 and refusals["busy"] >= 1, refusals
    assert len(replies) >= 100, len(replies)
    assert all(MARKER not in json.dumps(r, ensure_ascii=False) for r in replies)
    assert tracebacks(bot) == errors_before
