"""A fake signal-cli-rest-api on 127.0.0.1 (aiohttp): the calls Riposte makes, answered like it.

https://bbernhard.github.io/signal-cli-rest-api/ :

- `GET /v1/receive/{number}`: in json-rpc mode a websocket, one envelope JSON per text frame;
  in normal mode a JSON list of the envelopes received since the last call (each given once);
- `POST /v2/send` (`{"number", "recipients", "message", "base64_attachments"?}`): recorded,
  answered 201 `{"timestamp": "…"}`;
- `GET /v1/attachments/{attachment}`: the content of a received attachment (`attachments`, as
  listed in an envelope's `dataMessage.attachments` by its `id`), 404 when unknown;
  `DELETE /v1/attachments/{attachment}`: removes it (204), recorded in `deleted`.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import WSMsgType, web

from devtools.waiting import wait_until_async

BOT_NUMBER = "+33700000001"


class FakeSignalAPI:
    def __init__(self, number: str = BOT_NUMBER) -> None:
        self.number = number
        self.sent: list[dict[str, Any]] = []
        self.down = False  # answer 503 to every send
        self.refused: list[dict[str, Any]] = []  # what was sent while down
        self.connections = 0  # websockets opened
        self.polls = 0  # GET /v1/receive answered with a list
        self.pending: list[Any] = []  # normal mode: envelopes not yet received
        self.attachments: dict[str, bytes] = {}  # id → content, as signal-cli stores them
        self.downloaded: list[str] = []
        self.deleted: list[str] = []
        self._frames: asyncio.Queue[str] = asyncio.Queue()
        self._sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/v1/receive/{number}", self._receive)
        app.router.add_post("/v2/send", self._send)
        app.router.add_get("/v1/attachments/{attachment}", self._attachment)
        app.router.add_delete("/v1/attachments/{attachment}", self._delete_attachment)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        await self.drop()
        if self._runner is not None:
            await self._runner.cleanup()

    # json-rpc mode --------------------------------------------------------------------------
    def push(self, frame: Any) -> None:
        """A frame for the connected websocket (text as given, or JSON of a dict)."""
        self._frames.put_nowait(frame if isinstance(frame, str) else json.dumps(frame))

    async def drop(self) -> None:
        """Close every open websocket, as signal-cli-rest-api does on a restart."""
        for ws in list(self._sockets):
            await ws.close()

    async def wait_connections(self, count: int, timeout: float = 30) -> None:
        await wait_until_async(
            lambda: self.connections >= count and len(self._sockets) > 0,
            lambda: f"{count} websocket connection(s), one open ({self.connections} so far)",
            timeout=timeout,
        )

    async def _pump(self, ws: web.WebSocketResponse) -> None:
        while not ws.closed:
            frame = await self._frames.get()
            if ws.closed:
                self._frames.put_nowait(frame)
                return
            await ws.send_str(frame)

    async def _receive(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["number"] != self.number:
            return web.json_response({"error": "User is not registered"}, status=400)
        ws = web.WebSocketResponse()
        if not ws.can_prepare(request).ok:  # normal mode: the list, then forgotten
            self.polls += 1
            received, self.pending = self.pending, []
            return web.json_response(received)
        await ws.prepare(request)
        self.connections += 1
        self._sockets.append(ws)
        pump = asyncio.ensure_future(self._pump(ws))
        try:
            async for message in ws:
                if message.type == WSMsgType.ERROR:
                    break
        finally:
            pump.cancel()
            self._sockets.remove(ws)
        return ws

    # sending --------------------------------------------------------------------------------
    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.down:  # signal-cli-rest-api failing
            self.refused.append(body)
            return web.json_response({"error": "unavailable"}, status=503)
        self.sent.append(body)
        return web.json_response({"timestamp": str(int(time.time() * 1000))}, status=201)

    async def wait_sent(self, count: int = 1, timeout: float = 30) -> list[dict[str, Any]]:
        await wait_until_async(
            lambda: len(self.sent) >= count,
            lambda: f"{count} message(s) sent ({len(self.sent)} so far)",
            timeout=timeout,
        )
        return self.sent

    # attachments ----------------------------------------------------------------------------
    async def _attachment(self, request: web.Request) -> web.Response:
        name = request.match_info["attachment"]
        self.downloaded.append(name)
        if name not in self.attachments:
            return web.json_response({"error": "attachment not found"}, status=404)
        return web.Response(body=self.attachments[name], content_type="application/octet-stream")

    async def _delete_attachment(self, request: web.Request) -> web.Response:
        name = request.match_info["attachment"]
        self.deleted.append(name)
        if self.attachments.pop(name, None) is None:
            return web.json_response({"error": "attachment not found"}, status=404)
        return web.Response(status=204)
