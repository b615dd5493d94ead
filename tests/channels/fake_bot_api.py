"""A fake Telegram Bot API on 127.0.0.1 (aiohttp): records the calls, answers like Telegram.

Only the methods the connector uses: setWebhook, sendMessage, sendDocument,
answerCallbackQuery (https://core.telegram.org/bots/api). Answers are the documented
`{"ok": true, "result": ...}`; unknown methods get Telegram's 404 answer.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    token: str
    method: str
    fields: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def json_field(self, name: str) -> Any:
        return json.loads(self.fields[name])


class FakeBotAPI:
    def __init__(self, fail_set_webhook: int = 0) -> None:
        self.calls: list[Call] = []
        self.fail_set_webhook = fail_set_webhook  # answer 502 to that many setWebhook first
        self.webhook: dict[str, Any] = {}
        self._runner: web.AppRunner | None = None
        self._message_id = 0
        self.url = ""

    def of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10) -> list[Call]:
        deadline = time.monotonic() + timeout
        while len(self.of(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} not called {count} time(s): {self.calls}")
            await asyncio.sleep(0.02)
        return self.of(method)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        fields: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[name] = (value.filename, value.file.read())
            else:
                fields[name] = value
        call = Call(token, method, fields, files)
        self.calls.append(call)
        if method == "setWebhook":
            if self.fail_set_webhook > 0:
                self.fail_set_webhook -= 1
                return _answer({"ok": False, "error_code": 502, "description": "Bad Gateway"}, 502)
            self.webhook = dict(fields)
            return _answer({"ok": True, "result": True, "description": "Webhook was set"})
        if method in ("sendMessage", "sendDocument"):
            self._message_id += 1
            result: dict[str, Any] = {
                "message_id": self._message_id,
                "date": int(time.time()),
                "chat": {"id": int(fields["chat_id"]), "type": "private"},
            }
            if method == "sendMessage":
                result["text"] = fields["text"]
            else:
                name = files["document"][0] if "document" in files else "document.pdf"
                result["document"] = {"file_id": "F1", "file_unique_id": "U1", "file_name": name}
            return _answer({"ok": True, "result": result})
        if method == "answerCallbackQuery":
            return _answer({"ok": True, "result": True})
        return _answer({"ok": False, "error_code": 404, "description": "Not Found"}, 404)


def _answer(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(body, status=status)
