"""A channel served by Sanic on loopback with a fake agent instead of Rasa's (channel tests)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage, register
from sanic import Sanic

from devtools.ports import free_port

REPLY = "Bonjour, je suis Riposte."


class FakeAgent:
    """Records each message and answers REPLY, as Rasa's agent would answer something."""

    def __init__(self) -> None:
        self.received: list[UserMessage] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        await message.output_channel.send_text_message(message.sender_id, REPLY)


async def start_served(
    channel: InputChannel | list[InputChannel],
    name: str,
    agent: Any,
    config: dict[str, Any] | None = None,
    prepare: Callable[[Sanic], None] | None = None,
) -> tuple[Any, str]:
    """Start a Sanic server on loopback serving `channel` (or several) under /webhooks/ with
    `agent` as Rasa's agent: the server (for `stop_served`) and `http://127.0.0.1:<port>`.

    `prepare` runs on the app before the channel is registered (as `rasa run` adds its own
    routes first).
    """
    app = Sanic(f"{name}_{uuid.uuid4().hex[:12]}", configure_logging=False)
    app.config.update(config or {})
    app.ctx.agent = agent
    if prepare is not None:
        prepare(app)
    register(channel if isinstance(channel, list) else [channel], app, route="/webhooks/")
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    return server, f"http://127.0.0.1:{port}"


async def stop_served(server: Any) -> None:
    """Stop a server of `start_served`, running its stop listeners (the channels' clean-up)."""
    await server.before_stop()
    server.close()
    await server.wait_closed()
    await server.after_stop()


@asynccontextmanager
async def served(
    channel: InputChannel,
    name: str,
    config: dict[str, Any] | None = None,
    prepare: Callable[[Sanic], None] | None = None,
) -> AsyncIterator[tuple[str, FakeAgent]]:
    """`http://127.0.0.1:<port>` serving `channel` under /webhooks/, and the fake agent."""
    agent = FakeAgent()
    server, base = await start_served(channel, name, agent, config, prepare)
    try:
        yield base, agent
    finally:
        await stop_served(server)
