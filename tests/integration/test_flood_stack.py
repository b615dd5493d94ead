"""Rasa under a flood, on the real stack: a stranger's oversized bodies and burst of messages
are refused (413, 429) while a doctor's conversation is still answered.

The stranger connects from another loopback address (127.0.0.2), as another machine would, so
the per-address limits tell the two apart. Nothing is timed but "answered before the deadline".
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import aiohttp

from devtools.waiting import timeout_factor
from riposte.services import RASA_MAX_REQUEST_BYTES
from riposte_rasa.channels.rest import SENDER_BURST, SENDER_RATE
from tests.integration.conftest import Stack

STRANGER = "127.0.0.2"
BURST = 150  # messages the stranger sends at once, from one sender
OVERSIZED = 20  # bodies over Rasa's limit
DOCTOR_DEADLINE = 120.0  # seconds, scaled by the machine's timeout factor


def flood(url: str, started: threading.Event, outcome: dict[str, Any]) -> None:
    """The stranger's flood; `started` is set once refusals come back (the flood is on)."""

    async def run() -> None:
        timeout = aiohttp.ClientTimeout(total=600 * timeout_factor())
        connector = aiohttp.TCPConnector(limit=0, local_addr=(STRANGER, 0))
        oversized = b'{"sender":"stranger","message":"' + b"a" * (2 * RASA_MAX_REQUEST_BYTES)
        oversized += b'"}'
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

            async def post(body: bytes) -> int | str:
                try:
                    async with session.post(
                        url, data=body, headers={"Content-Type": "application/json"}
                    ) as answer:
                        await answer.read()
                        if answer.status in (413, 429):
                            started.set()
                        return answer.status
                # The server may close the connection of an oversized post while it is sent.
                except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
                    started.set()
                    return type(error).__name__

            message = b'{"sender":"flooder","message":"bonjour"}'
            began = time.monotonic()
            results = await asyncio.gather(
                *(post(oversized) for _ in range(OVERSIZED)),
                *(post(message) for _ in range(BURST)),
            )
            outcome["seconds"] = time.monotonic() - began
            outcome["oversized"] = results[:OVERSIZED]
            outcome["burst"] = results[OVERSIZED:]

    try:
        asyncio.run(run())
    except Exception as error:  # reported by the test, with its type
        outcome["error"] = repr(error)
    finally:
        started.set()


def test_a_flooded_rasa_still_answers_the_doctor(stack: Stack) -> None:
    outcome: dict[str, Any] = {}
    started = threading.Event()
    stranger = threading.Thread(
        target=flood, args=(stack.url("/webhooks/rest/webhook"), started, outcome), daemon=True
    )
    stranger.start()
    assert started.wait(timeout=DOCTOR_DEADLINE * timeout_factor()), "the flood never began"

    # The doctor writes while the stranger's flood is being refused or processed.
    asked = time.monotonic()
    replies = stack.say(
        "doctor-under-flood",
        "Depuis hier un compte anonyme sur X me traite d'escroc sous chacun de mes posts",
    )
    waited = time.monotonic() - asked
    assert any("Voici ce que j'ai compris" in (r.get("text") or "") for r in replies), replies
    assert waited < DOCTOR_DEADLINE * timeout_factor()

    stranger.join(timeout=600 * timeout_factor())
    assert not stranger.is_alive(), "the stranger's requests never all came back"
    assert "error" not in outcome, outcome["error"]
    # Oversized bodies refused by their size (413, or the connection closed on them), before
    # any channel reads them; the burst cut at the sender's budget.
    assert all(status not in (200, 400) for status in outcome["oversized"]), outcome["oversized"]
    accepted = outcome["burst"].count(200)
    print(
        f"\nflood: {accepted} of {BURST} messages accepted, {outcome['burst'].count(429)} "
        f"refused (429) in {outcome['seconds']:.1f} s; oversized: {set(outcome['oversized'])}; "
        f"the doctor answered in {waited:.1f} s"
    )
    assert outcome["burst"].count(429) > 0, outcome["burst"]
    assert accepted <= SENDER_BURST + SENDER_RATE * outcome["seconds"] + 1, outcome["burst"]
