"""`riposte signal-bridge`: the one consumer of signal-cli-rest-api.

It reads every envelope received by the bot's number and posts it, unchanged, to Rasa's Signal
channel (`/webhooks/signal/webhook`, riposte_rasa/channels/signal.py) with the header
`X-Riposte-Bridge-Token`. Only one bridge may run per number: `riposte serve` starts it once.

- mode `json-rpc` (signal-cli-rest-api's MODE=json-rpc): the websocket
  `ws://…/v1/receive/{number}`, one envelope per text frame; when the connection fails or drops,
  it is opened again after 0.5 s, then 1 s, 2 s… up to 30 s (back to 0.5 s once connected);
- mode `normal` (MODE=normal or native): `GET /v1/receive/{number}` every few seconds, which
  answers the list of the envelopes received since the last call;
- a frame that is not an envelope is logged (never its content) and skipped;
- a post to Rasa that fails (Rasa not up yet, 5xx) is retried with backoff, so that no message
  is lost; a refusal (400, 403) is logged and not retried.

Configuration: riposte/signal_config.py (shared with the channel). Numbers and texts are never
logged.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from typing import Any

import aiohttp

from riposte.messages import message
from riposte.settings import SettingsError
from riposte.signal_config import (  # the bridge's configuration lives in the core
    POLL_INTERVAL,
    TOKEN_HEADER,
    BridgeConfig,
    config_from_env,
)

logger = logging.getLogger("riposte.cli.signal_bridge")

# No total timeout on the session: it would also bound the websocket's life.
SESSION_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=15)
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=120)  # each post to Rasa, each poll


def envelope_of(frame: Any) -> dict[str, Any] | None:
    """The envelope message of a frame (text or already decoded), None when malformed."""
    try:
        body = json.loads(frame) if isinstance(frame, (str, bytes)) else frame
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("envelope"), dict):
        return body
    return None


class Bridge:
    def __init__(self, config: BridgeConfig) -> None:
        self.config = config
        self.forwarded = 0  # envelopes Rasa accepted (for the tests and the log)

    async def forward(self, http: aiohttp.ClientSession, message: dict[str, Any]) -> bool:
        """Post one envelope to Rasa; retried while Rasa is unreachable or failing."""
        c = self.config
        delay = c.first_delay
        for attempt in range(1, c.forward_attempts + 1):
            try:
                async with http.post(
                    c.rasa_webhook,
                    json=message,
                    headers={TOKEN_HEADER: c.token},
                    timeout=HTTP_TIMEOUT,
                ) as answer:
                    status = answer.status
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                reason = type(error).__name__
            else:
                if status < 300:
                    self.forwarded += 1
                    return True
                if status < 500:
                    logger.error("signal-bridge: Rasa refused an envelope (%d); dropped", status)
                    return False
                reason = f"HTTP {status}"
            if attempt < c.forward_attempts:
                logger.warning(
                    "signal-bridge: Rasa unreachable (%s, attempt %d); retry in %.1f s",
                    reason,
                    attempt,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, c.max_delay)
        logger.error("signal-bridge: Rasa unreachable; an envelope was dropped")
        return False

    async def handle(self, http: aiohttp.ClientSession, frame: Any) -> None:
        message = envelope_of(frame)
        if message is None:
            logger.warning("signal-bridge: a malformed frame was skipped")
            return
        await self.forward(http, message)

    async def run_websocket(self, http: aiohttp.ClientSession) -> None:
        """json-rpc mode: read the websocket forever, reconnecting with backoff."""
        c = self.config
        delay = c.first_delay
        while True:
            try:
                async with http.ws_connect(c.websocket_url, heartbeat=30) as ws:
                    logger.info("signal-bridge: connected to signal-cli-rest-api (json-rpc)")
                    delay = c.first_delay
                    async for frame in ws:
                        if frame.type == aiohttp.WSMsgType.TEXT:
                            await self.handle(http, frame.data)
                        elif frame.type == aiohttp.WSMsgType.BINARY:
                            await self.handle(http, frame.data)
                        elif frame.type == aiohttp.WSMsgType.ERROR:
                            break
                reason = "closed"
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
                reason = type(error).__name__
            logger.warning("signal-bridge: websocket %s; reconnecting in %.1f s", reason, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, c.max_delay)

    async def poll_once(self, http: aiohttp.ClientSession) -> None:
        async with http.get(self.config.receive_url, timeout=HTTP_TIMEOUT) as answer:
            if answer.status >= 300:
                raise aiohttp.ClientResponseError(
                    answer.request_info, (), status=answer.status, message="receive failed"
                )
            body = await answer.json(content_type=None)
        if not isinstance(body, list):
            logger.warning("signal-bridge: /v1/receive did not answer a list; skipped")
            return
        for frame in body:
            await self.handle(http, frame)

    async def run_polling(self, http: aiohttp.ClientSession) -> None:
        """normal mode: `GET /v1/receive/{number}` every `poll_interval` seconds."""
        c = self.config
        delay = c.first_delay
        while True:
            try:
                await self.poll_once(http)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as error:
                logger.warning(
                    "signal-bridge: receive failed (%s); next try in %.1f s",
                    type(error).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, c.max_delay)
                continue
            delay = c.first_delay
            await asyncio.sleep(c.poll_interval)

    async def run(self) -> None:
        async with aiohttp.ClientSession(timeout=SESSION_TIMEOUT) as http:
            if self.config.mode == "normal":
                await self.run_polling(http)
            else:
                await self.run_websocket(http)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    try:
        config = config_from_env()
    except SettingsError as error:
        print(message("signal_bridge.invalid", error=error), file=sys.stderr)
        return 2
    if args.poll_interval is not None:
        config = BridgeConfig(**{**config.__dict__, "poll_interval": args.poll_interval})

    async def main() -> None:
        task = asyncio.ensure_future(Bridge(config).run())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "signal-bridge",
        help=message("cli.signal_bridge_help"),
        description=message("cli.signal_bridge_description"),
    )
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=None,
        help=message("cli.signal_bridge_poll_interval", default=POLL_INTERVAL),
    )
    parser.add_argument("--verbose", action="store_true", help=message("cli.verbose"))
    parser.set_defaults(func=run)
