"""A fake Telegram Bot API on 127.0.0.1 (aiohttp): records the calls, answers like Telegram.

Only the methods the connector uses: setWebhook, sendMessage, sendDocument,
answerCallbackQuery, getFile (https://core.telegram.org/bots/api). Answers are the documented
`{"ok": true, "result": ...}`; unknown methods get Telegram's 404 answer. Files the user "sent"
(`add_file`) are described by getFile (a `File` with its `file_path`) and downloaded from
`GET /file/bot<token>/<file_path>`, as on Telegram's server.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from devtools.waiting import wait_until_async


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
        self._file_ids = itertools.count(1)
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id → (file_path, content)
        self.downloads: list[tuple[str, str]] = []  # (token, file path) of each download
        self.report_sizes = True  # getFile's `file_size` is optional in the Bot API
        self.refuse_html = (
            False  # answer sendMessage with parse_mode=HTML as the API does on bad HTML
        )
        self.down = False  # answer 502 to every sendMessage (Telegram unreachable)
        self.refused: list[Call] = []  # the sendMessage calls answered 502 while down
        self.url = ""

    def add_file(self, content: bytes, extension: str = "jpg") -> str:
        """A file stored on the fake server (as if the user had sent it); returns its file_id."""
        number = next(self._file_ids)
        file_id = f"AgACAgQAAxkBAAI{number:04d}"
        self.files[file_id] = (f"photos/file_{number}.{extension}", content)
        return file_id

    def of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 30) -> list[Call]:
        await wait_until_async(
            lambda: len(self.of(method)) >= count,
            lambda: f"{method} called {count} time(s) (calls: {self.calls})",
            timeout=timeout,
        )
        return self.of(method)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
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
        if method == "sendMessage" and self.down:  # refused: not delivered, not counted
            self.refused.append(call)
            return _answer({"ok": False, "error_code": 502, "description": "Bad Gateway"}, 502)
        self.calls.append(call)
        if method == "setWebhook":
            if self.fail_set_webhook > 0:
                self.fail_set_webhook -= 1
                return _answer({"ok": False, "error_code": 502, "description": "Bad Gateway"}, 502)
            self.webhook = dict(fields)
            return _answer({"ok": True, "result": True, "description": "Webhook was set"})
        if method == "sendMessage" and self.refuse_html and fields.get("parse_mode") == "HTML":
            description = "Bad Request: can't parse entities: unsupported start tag"
            return _answer({"ok": False, "error_code": 400, "description": description}, 400)
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
        if method == "getFile":
            found = self.files.get(str(fields.get("file_id")))
            if found is None:
                return _answer(
                    {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"},
                    400,
                )
            path, content = found
            result = {
                "file_id": fields["file_id"],
                "file_unique_id": "U" + str(fields["file_id"])[-6:],
                "file_path": path,
            }
            if self.report_sizes:
                result["file_size"] = len(content)
            return _answer({"ok": True, "result": result})
        return _answer({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        self.downloads.append((request.match_info["token"], path))
        for file_path, content in self.files.values():
            if file_path == path:
                return web.Response(body=content, content_type="application/octet-stream")
        return _answer({"ok": False, "error_code": 404, "description": "Not Found"}, 404)


def _answer(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(body, status=status)
