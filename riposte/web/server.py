"""The web server: the chat page (webchat/), /config.json, letter downloads, evidence uploads.

A small threaded HTTP server (`PageServer`, `make_web_server`) with its security headers and
Content-Security-Policy, and limits against a client that floods it. `riposte serve` runs it
beside Rasa and the action server; `riposte web` runs it alone (a container of its own).
"""

from __future__ import annotations

import functools
import http.server
import json
import logging
import re
import socket
import socketserver
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from riposte.ratelimit import QuietWarning, RateLimiter
from riposte.settings import MAX_MESSAGE_CHARS, ROOT, Settings
from riposte.web import LETTERS_PATH
from riposte.web import uploads as evidence_upload
from riposte.web.letters import letter_response
from riposte.web.texts import message, page

log = logging.getLogger("riposte.web.server")

WEB_DIR = ROOT / "webchat"

# Headers sent with every page and asset: nothing third-party can load, nothing leaks in
# referrers, the page cannot be framed by another site.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Sent when the public address is https: browsers then never use plain http for a year.
HSTS = "max-age=31536000"

# The page server's limits against a client that floods it or never finishes its request:
# - a socket that sends or reads nothing for `WEB_TIMEOUT_SECONDS` is closed;
# - at most `WEB_WORKERS` requests are handled at once, `WEB_WORKERS_PER_CLIENT` of them from
#   one address: past that, 503 at once, without a thread (never an unbounded number of them);
# - each address gets a token bucket of requests (`WEB_RATE` per second, `WEB_BURST` at once),
#   past it 429;
# - a file upload is read only after its link is checked, when its declared size is within the
#   limit, and at most `UPLOAD_SLOTS` at once (each may take 10 MB of memory).
# Behind a reverse proxy every request comes from the proxy's address: the per-address limits
# then apply to all clients together, so the proxy should keep its own per-client limits.
WEB_TIMEOUT_SECONDS = 15.0
WEB_WORKERS = 64
WEB_WORKERS_PER_CLIENT = 16
WEB_RATE, WEB_BURST = 20.0, 120
UPLOAD_SLOTS = 4
UPLOAD_WAIT_SECONDS = 10.0
MAX_UPLOAD_REQUEST = evidence_upload.MAX_BYTES + 64 * 1024  # the file and the form around it
BUSY = message("server", "busy")
TOO_MANY = message("server", "too_many")
TOO_LARGE = message("server", "too_large")
BUSY_PAGE = page("notice", title=message("server", "busy_title"), message=BUSY)


_HOST_NAME = re.compile(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")


def socket_origins(settings: Settings, host_header: str | None) -> list[str]:
    """Where the page's socket.io client may connect (the CSP's connect-src), http and ws.

    With RIPOSTE_SOCKET_URL the page uses that URL; otherwise Rasa's port on the host name the
    page was loaded from (a malformed Host header gives nothing: only 'self' then).
    """
    if settings.socket_url:
        parts = urllib.parse.urlsplit(settings.socket_url)
        base = f"{parts.scheme}://{parts.netloc}"
        ws = "wss" if parts.scheme == "https" else "ws"
        return [base, f"{ws}://{parts.netloc}"]
    try:
        name = urllib.parse.urlsplit("//" + (host_header or "").strip()).hostname or ""
    except ValueError:
        return []
    name = f"[{name}]" if ":" in name else name
    if not _HOST_NAME.fullmatch(name):
        return []
    return [f"http://{name}:{settings.rasa_port}", f"ws://{name}:{settings.rasa_port}"]


def content_security_policy(connect: list[str]) -> str:
    """Nothing third-party: scripts, styles, images and connections from the page or Rasa."""
    return "; ".join(
        [
            "default-src 'self'",
            "connect-src " + " ".join(["'self'", *connect]),
            "img-src 'self' data: blob:",
            "style-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def page_config(settings: Settings) -> dict[str, Any]:
    """/config.json: what the page's script needs to know (nothing secret)."""
    return {
        "rasaPort": settings.rasa_port,
        "socketPath": "/socket.io/",
        "socketUrl": settings.socket_url or None,
        "quickExitUrl": settings.quick_exit_url,
        "maxMessageChars": MAX_MESSAGE_CHARS,
        "maxUploadBytes": evidence_upload.MAX_BYTES,
    }


class _PageHandler(http.server.SimpleHTTPRequestHandler):
    """Static files from webchat/ plus /config.json; quiet, with security headers."""

    config_body: bytes = b"{}"
    settings: Settings | None = None
    timeout = WEB_TIMEOUT_SECONDS  # the socket's timeout (socketserver.StreamRequestHandler)
    server_version = "Riposte"  # no version of Python or of Riposte in the Server header
    sys_version = ""

    def version_string(self) -> str:
        return self.server_version

    def end_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        if self.settings is not None:
            if self.settings.public_url.startswith("https://"):
                self.send_header("Strict-Transport-Security", HSTS)
            connect = socket_origins(self.settings, self.headers.get("Host"))
            self.send_header("Content-Security-Policy", content_security_policy(connect))
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def parse_request(self) -> bool:
        """The request line and headers; then the client's rate limit (429 past it)."""
        if not super().parse_request():
            return False
        limiter = getattr(self.server, "limiter", None)
        client = self.client_address[0]
        if limiter is not None and not limiter.allow(client):
            _throttled_warning(log, "web: a client sends too many requests; answered 429")
            self._refuse(429, TOO_MANY, {"Retry-After": str(limiter.retry_after(client))})
            return False
        return True

    def _refuse(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        """A refusal in French, as JSON for the web chat (`Accept: application/json`, the
        shape of evidence_upload.upload_json), else as a small HTML page; then close."""
        self.close_connection = True
        if "application/json" in self.headers.get("Accept", ""):
            payload = {"ok": False, "message": text, "number": None, "sha256": None}
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            kind = evidence_upload.JSON_TYPE
        else:
            title = message("server", "refusal_title")
            body, kind = page("notice", title=title, message=text), evidence_upload.HTML_TYPE
        self._send(status, body, {"Content-Type": kind, **(headers or {})})

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        path = self.path.split("?", 1)[0]
        if path.startswith(LETTERS_PATH):
            self._send_letter(path[len(LETTERS_PATH) :])
            return
        if path.startswith(evidence_upload.UPLOAD_PATH):
            status, body = evidence_upload.page_response(path[len(evidence_upload.UPLOAD_PATH) :])
            self._send(status, body, {"Content-Type": evidence_upload.HTML_TYPE})
            return
        if path == "/config.json":
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(self.config_body)))
            self.end_headers()
            self.wfile.write(self.config_body)
            return
        super().do_GET()

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        """An evidence upload: the link is checked first, then the size, then the body read."""
        from riposte.letters.links import read_token

        path = self.path.split("?", 1)[0]
        if not path.startswith(evidence_upload.UPLOAD_PATH):
            self.close_connection = True
            self._send(404, b"", {})
            return
        token = path[len(evidence_upload.UPLOAD_PATH) :]
        content_type = self.headers.get("Content-Type", "")
        as_json = "application/json" in self.headers.get("Accept", "")  # the web chat
        answer = evidence_upload.upload_json if as_json else evidence_upload.upload_response
        kind = evidence_upload.JSON_TYPE if as_json else evidence_upload.HTML_TYPE
        if read_token(evidence_upload.upload_key(), token) is None:
            # Not a valid link: the expired-link answer, and the body is never read.
            self.close_connection = True
            status, body = answer(token, content_type, b"")
            self._send(status, body, {"Content-Type": kind})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_UPLOAD_REQUEST:
            self._refuse(413, TOO_LARGE)
            return
        uploads = getattr(self.server, "upload_slots", None)
        if uploads is not None and not uploads.acquire(timeout=UPLOAD_WAIT_SECONDS):
            self._refuse(503, BUSY, {"Retry-After": "5"})
            return
        try:
            data = self.rfile.read(length)
        finally:
            if uploads is not None:
                uploads.release()
        status, body = answer(token, content_type, data)
        self._send(status, body, {"Content-Type": kind})

    def list_directory(self, path: Any) -> None:
        """No directory listings: a folder without index.html is simply not found."""
        self.send_error(404)

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for header, value in headers.items():
            self.send_header(header, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_letter(self, name: str) -> None:
        """A letter of a case, from a signed link given in the chat (riposte/letters/links)."""
        status, body, headers = letter_response(name.rsplit(".", 1)[0])
        self._send(status, body, headers)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("web: " + format, *args)


_BUSY_RESPONSE = (
    b"HTTP/1.0 503 Service Unavailable\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"Content-Length: " + str(len(BUSY_PAGE)).encode() + b"\r\n"
    b"Retry-After: 5\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
    b"Connection: close\r\n\r\n" + BUSY_PAGE
)


_busy_warning = QuietWarning()
_throttled_warning = QuietWarning()


class PageServer(http.server.ThreadingHTTPServer):
    """A thread per request, but at most `workers` at once and `per_client` per address.

    A connection past either limit gets 503 from the accepting thread and is closed, without
    a thread of its own. Each worker's socket has the handler's timeout.
    """

    block_on_close = False  # a stuck client must not delay the stop (threads are daemons)
    request_queue_size = 128  # socketserver's 5 would make the kernel drop new connections

    def __init__(
        self,
        address: tuple[str, int],
        handler: Callable[..., socketserver.BaseRequestHandler],
        *,
        workers: int = WEB_WORKERS,
        per_client: int = WEB_WORKERS_PER_CLIENT,
        limiter: RateLimiter | None = None,
        upload_slots: int = UPLOAD_SLOTS,
    ) -> None:
        super().__init__(address, handler)
        self.workers = threading.BoundedSemaphore(workers)
        self.per_client = per_client
        self.limiter = limiter or RateLimiter(WEB_RATE, WEB_BURST)
        self.upload_slots = threading.BoundedSemaphore(upload_slots)
        self._active: Counter[str] = Counter()
        self._active_lock = threading.Lock()

    def _take(self, client: str) -> bool:
        with self._active_lock:
            if self._active[client] >= self.per_client:
                return False
            if not self.workers.acquire(blocking=False):
                return False
            self._active[client] += 1
            return True

    def _give_back(self, client: str) -> None:
        with self._active_lock:
            self._active[client] -= 1
            if self._active[client] <= 0:
                del self._active[client]
            self.workers.release()

    def process_request(self, request: Any, client_address: Any) -> None:
        client = str(client_address[0])
        if not self._take(client):
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)  # starts the worker thread
        except BaseException:
            self._give_back(client)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._give_back(str(client_address[0]))

    def _refuse(self, request: socket.socket) -> None:
        _busy_warning(log, "web: too many connections at once; answered 503")
        try:
            request.settimeout(0.5)
            request.sendall(_BUSY_RESPONSE)
        except OSError:
            pass
        self.shutdown_request(request)

    def shutdown_request(self, request: Any) -> None:
        """Close after the answer, discarding what the client already sent and nobody read
        (a refused upload's body): closing with unread data would reset the connection, and
        the client could lose the answer."""
        try:
            request.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        try:
            request.setblocking(False)
            for _ in range(64):  # at most 4 MB, only what has already arrived
                if not request.recv(65536):
                    break
        except OSError:
            pass
        self.close_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanished or timed out: no traceback on the console."""
        log.debug("web: a request failed", exc_info=True)


def make_web_server(settings: Settings, directory: Path = WEB_DIR) -> PageServer:
    handler = type(
        "PageHandler",
        (_PageHandler,),
        {"config_body": json.dumps(page_config(settings)).encode("utf-8"), "settings": settings},
    )
    factory = functools.partial(handler, directory=str(directory))
    return PageServer((settings.host, settings.web_port), factory)
