"""`riposte serve`: start the action server, the Rasa server and the web page, and stop them.

One supervisor process owns the three services: it starts them in order, waits until each
answers, prints progress in French, and on Ctrl-C (or SIGTERM) stops every child cleanly.
If one child dies unexpectedly, the others are stopped too and the exit status is 1, so that
nothing is left half-running.
"""

from __future__ import annotations

import argparse
import errno
import functools
import http.server
import json
import logging
import os
import re
import secrets
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riposte.access import HOST_ENV as ACTIONS_HOST_ENV
from riposte.access import SECRET_ENV as ACTION_SECRET_ENV
from riposte.access import TOKEN_ENV as API_TOKEN_ENV
from riposte.access import ActionSecretError, secret_from_env
from riposte.ratelimit import QuietWarning, RateLimiter
from riposte.settings import MAX_MESSAGE_CHARS, ROOT, Settings, SettingsError
from riposte.web import LETTERS_PATH
from riposte.web import uploads as evidence_upload

log = logging.getLogger("riposte.cli.serve")

WEB_DIR = ROOT / "webchat"
STOP_GRACE_SECONDS = 15.0

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
BUSY = "Le service reçoit trop de demandes en ce moment. Réessayez dans quelques instants."
TOO_MANY = (
    "Trop de demandes en peu de temps depuis votre connexion. Réessayez dans quelques instants."
)
TOO_LARGE = "Ce fichier dépasse 10 Mo : envoyez une capture plus légère."
BUSY_PAGE = (
    f"<!doctype html><meta charset=utf-8><title>Service occupé</title><p>{BUSY}</p>".encode()
)


TELEGRAM_CHANNEL = "riposte_rasa.channels.telegram.TelegramInput"
SIGNAL_CHANNEL = "riposte_rasa.channels.signal.SignalInput"
SIGNAL_TOKEN_ENV = "SIGNAL_BRIDGE_TOKEN"


def credentials_path(settings: Settings) -> Path:
    """credentials.yml, or the generated file when Telegram or Signal is enabled."""
    if settings.telegram is None and settings.signal is None:
        return ROOT / "credentials.yml"
    return settings.var_dir / "credentials.yml"


def write_credentials(settings: Settings, signal_bridge_token: str | None = None) -> Path:
    """Write var/credentials.yml (credentials.yml + Telegram and/or Signal), owner-only.

    With Signal, `signal_bridge_token` is the secret shared by Rasa and the bridge (generated
    by the supervisor at each start; a random one when not given).
    """
    import yaml

    path = credentials_path(settings)
    telegram = settings.telegram
    if telegram is None and settings.signal is None:
        return path
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8")) or {}
    if telegram is not None:
        section: dict[str, str] = {
            "access_token": telegram.token,
            "webhook_url": telegram.webhook_url,
            "secret_token": telegram.secret_token,
            "api_url": telegram.api_url,
        }
        if telegram.bot_name:
            section["verify"] = telegram.bot_name
        credentials[TELEGRAM_CHANNEL] = section
    if settings.signal is not None:
        credentials[SIGNAL_CHANNEL] = {
            "number": settings.signal.number,
            "api_url": settings.signal.api_url,
            "bridge_token": signal_bridge_token or secrets.token_urlsafe(32),
            "allow_groups": False,
        }
    sources = "TELEGRAM_*" if settings.signal is None else "TELEGRAM_* and SIGNAL_*"
    text = (
        f"# Generated by `riposte serve` from credentials.yml and {sources} (do not edit).\n"
        + yaml.safe_dump(credentials, sort_keys=False, allow_unicode=True)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def _die_with_parent() -> None:
    """In the child, before exec: be sent SIGTERM when the launcher dies, even by SIGKILL.

    Children run in their own session (Ctrl-C is forwarded by the launcher), so without this
    a killed launcher would leave Rasa and the action server running, holding their ports.
    Linux only (prctl PR_SET_PDEATHSIG); elsewhere nothing is done.
    """
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def rasa_command(settings: Settings, python: str = sys.executable) -> list[str]:
    """The Rasa server's command line (`riposte_rasa.server`, Rasa's `rasa run`).

    The HTTP API is enabled only with a token, which never appears here: the launcher reads
    it from the environment Rasa gets (`rasa_environment`).
    """
    cmd = [
        python,
        "-m",
        "riposte_rasa.server",
        "run",
        "--model",
        str(settings.model_path),
        "--endpoints",
        str(ROOT / "endpoints.yml"),
        "--credentials",
        str(credentials_path(settings)),
        "--interface",
        settings.host,
        "--port",
        str(settings.rasa_port),
        "--cors",
        *settings.cors_origins,
    ]
    return cmd


# Rasa reaches the action server on this machine: whatever RIPOSTE_HOST opens, `serve` makes
# it listen on loopback only (RIPOSTE_ACTIONS_HOST, set for that child; containers set it to
# 0.0.0.0 themselves, with the same command).
ACTIONS_HOST = "127.0.0.1"


def actions_command(settings: Settings, python: str = sys.executable) -> list[str]:
    """The action server's command line: rasa_sdk behind the shared secret."""
    return [
        python,
        "-m",
        "riposte_rasa.action_server",
        "--actions",
        "actions",
        "--port",
        str(settings.actions_port),
    ]


def rasa_environment(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """Rasa's environment: `child_environment` and the API token when there is one."""
    env = child_environment(settings, base)
    if settings.api_token:
        env[API_TOKEN_ENV] = settings.api_token
    return env


# The largest request Rasa accepts: chat messages (5,000 characters), Telegram updates and
# Signal messages are JSON of a few kilobytes; files never go through Rasa (the channels fetch
# them from Telegram or Signal, the page posts them to the page server). Rasa's HTTP API, when
# enabled, then refuses a model upload (`PUT /model`): train on the server instead.
RASA_MAX_REQUEST_BYTES = 1_000_000
RASA_SANIC_LIMITS = {
    "SANIC_REQUEST_MAX_SIZE": str(RASA_MAX_REQUEST_BYTES),
    "SANIC_REQUEST_TIMEOUT": "15",
}
# The action server receives the whole conversation from Rasa, which grows with it: Sanic's
# own limits (100 MB, 60 s) stay for it.
ACTIONS_SANIC_LIMITS = {"SANIC_REQUEST_MAX_SIZE": "100000000", "SANIC_REQUEST_TIMEOUT": "60"}


def action_secret(env: Mapping[str, str] | None = None) -> str:
    """RIPOSTE_ACTION_SECRET when set (checked: `ActionSecretError`), else a new random one.

    Rasa sends it to the action server with every call (endpoints.yml); drawn at each start,
    it lives only in the two children's environment.
    """
    source = os.environ if env is None else env
    if source.get(ACTION_SECRET_ENV, "").strip():
        return secret_from_env(source)
    return secrets.token_urlsafe(32)


def child_environment(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SANIC_HOST": settings.host,
            "TRACKER_STORE_URL": settings.tracker_store_url,
            "ACTION_ENDPOINT_URL": settings.action_endpoint_url,
            # Read by the lock store of endpoints.yml (validated; empty: locks in memory).
            "REDIS_URL": settings.redis_url,
            "PYTHONUNBUFFERED": "1",
            # Rasa's Sanic (read by Sanic itself): no request body over 1 MB (Sanic's default
            # is 100 MB, accepted before any check), and a request must arrive within 15 s.
            **RASA_SANIC_LIMITS,
        }
    )
    # The API token goes to Rasa only (rasa_environment); the other services never need it.
    env.pop(API_TOKEN_ENV, None)
    # The Telegram secrets reach Rasa through var/credentials.yml (mode 0600) only.
    env.pop("TELEGRAM_TOKEN", None)
    env.pop("TELEGRAM_SECRET_TOKEN", None)
    # The Signal bridge's token is given to the bridge only (Child.extra_env).
    env.pop(SIGNAL_TOKEN_ENV, None)
    # RIPOSTE_ACTION_SECRET, when set, is kept: Rasa started alone (Compose, Kubernetes) needs it
    # for endpoints.yml. `Supervisor` removes it and gives its own to Rasa and the actions only.
    return env


def signal_bridge_command(python: str = sys.executable) -> list[str]:
    return [python, "-m", "riposte.cli", "signal-bridge"]


_LETTER_TYPES = {
    b"%PDF": ("application/pdf", "pdf"),
    b"PK\x03\x04": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
}
_NOT_FOUND = (
    "<!doctype html><meta charset=utf-8><title>Lien expiré</title>"
    "<p>Ce lien de téléchargement est expiré ou invalide. Demandez à nouveau votre courrier "
    "dans la conversation (« rédiger ma plainte »).</p>"
).encode()


def letter_response(token: str) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers for a letter download link (404 when not valid)."""
    from riposte.letters.links import link_key, read_token
    from riposte.store.errors import StoreError
    from riposte.store.repository import shared_repository

    not_found = (404, _NOT_FOUND, {"Content-Type": "text/html; charset=utf-8"})
    try:
        link = read_token(link_key(), token)
        if link is None:
            return not_found
        data = shared_repository().letter_content(link.code, link.number)
    except StoreError:
        log.warning("letter link: the case or the letter is gone")
        return not_found
    if data is None:
        return not_found
    media, extension = next(
        (kind for magic, kind in _LETTER_TYPES.items() if data.startswith(magic)),
        ("text/markdown; charset=utf-8", "md"),
    )
    filename = f"plainte-procureur-{link.number}.{extension}"
    return (
        200,
        data,
        {
            "Content-Type": media,
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


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
            page = f"<!doctype html><meta charset=utf-8><title>Riposte</title><p>{text}</p>"
            body, kind = page.encode("utf-8"), evidence_upload.HTML_TYPE
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


def wait_until_up(
    url: str | None, timeout: float, alive: Callable[[], bool], interval: float = 0.5
) -> bool:
    """Poll `url` until it answers 200, the child dies, or `timeout` seconds pass.

    Without a URL (a child that serves no HTTP): True if it is still alive after `timeout`.
    """
    deadline = time.monotonic() + timeout
    if url is None:
        while time.monotonic() < deadline:
            if not alive():
                return False
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        return alive()
    while time.monotonic() < deadline:
        if not alive():
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(interval)
    return False


def ports_in_use(host: str, ports: tuple[int, ...]) -> list[int]:
    """The ports among `ports` that something already holds on `host`.

    Checked before any service starts: a port held by another program (a second `riposte
    serve`, for instance) would make a child fail to bind after a long start-up, or worse, let
    the readiness check reach the other program and report a service ready that is not ours.
    """
    busy = []
    for port in ports:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            # As the servers do: a port left in TIME_WAIT by an earlier run is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                if error.errno == errno.EADDRINUSE:  # other errors are the child's to report
                    busy.append(port)
    return busy


@dataclass
class Child:
    name: str
    cmd: list[str]
    health_url: str | None  # None: up once it has stayed alive `timeout` seconds
    timeout: float
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    extra_env: dict[str, str] = field(default_factory=dict, repr=False)

    def start(self, env: dict[str, str], log_dir: Path) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        logfile = open(log_dir / f"{self.name}.log", "ab")  # noqa: SIM115 (lives with child)
        self.process = subprocess.Popen(
            self.cmd,
            cwd=ROOT,
            env={**env, **self.extra_env},
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: Ctrl-C is ours to forward
            preexec_fn=_die_with_parent,
        )
        logfile.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class Supervisor:
    def __init__(self, settings: Settings, out: Callable[[str], None] = print) -> None:
        self.settings = settings
        self.out = out
        self.children: list[Child] = []
        self.web: http.server.HTTPServer | None = None
        # Set from a signal handler: a plain flag, never a lock (an Event.set() in a handler
        # can deadlock with the main thread's own Event.wait()).
        self.stop_requested = False
        # Shared by Rasa's Signal channel and the bridge; new at each start.
        self.signal_bridge_token = secrets.token_urlsafe(32)
        # Shared by Rasa and the action server: RIPOSTE_ACTION_SECRET (read by `start`), or
        # new at each start.
        self.action_secret = secrets.token_urlsafe(32)

    def _children(self) -> list[Child]:
        s = self.settings
        secret = {ACTION_SECRET_ENV: self.action_secret}
        children = [
            Child(
                "actions",
                actions_command(s),
                f"http://{ACTIONS_HOST}:{s.actions_port}/health",
                timeout=120,
                extra_env={**secret, ACTIONS_HOST_ENV: ACTIONS_HOST, **ACTIONS_SANIC_LIMITS},
            ),
            Child(
                "rasa",
                rasa_command(s),
                f"http://{s.host}:{s.rasa_port}/",
                timeout=300,
                extra_env={**secret, **({API_TOKEN_ENV: s.api_token} if s.api_token else {})},
            ),
        ]
        if s.signal is not None:  # exactly one consumer of signal-cli-rest-api
            children.append(
                Child(
                    "signal",
                    signal_bridge_command(),
                    None,
                    timeout=3,
                    extra_env={SIGNAL_TOKEN_ENV: self.signal_bridge_token},
                )
            )
        return children

    def start(self) -> bool:
        s = self.settings
        if not s.model_path.is_file():
            self.out(
                f"Modèle introuvable : {s.model_path}. Lancez d'abord « make train » "
                "(ou simplement « make run », qui entraîne le modèle si besoin)."
            )
            return False
        try:
            self.action_secret = action_secret()
        except ActionSecretError as error:
            self.out(f"Configuration invalide : {error}")
            return False
        held = {
            *ports_in_use(s.host, (s.rasa_port, s.web_port)),
            *ports_in_use(ACTIONS_HOST, (s.actions_port,)),
        }
        busy = [port for port in (s.rasa_port, s.actions_port, s.web_port) if port in held]
        if busy:
            ports, pronoun = (
                ("Ports déjà utilisés", "les ") if len(busy) > 1 else ("Port déjà utilisé", "l'")
            )
            self.out(
                f"{ports} sur {s.host} : {', '.join(map(str, busy))}. Une autre instance de "
                f"Riposte (ou un autre programme) {pronoun}occupe : arrêtez-la, ou choisissez "
                "d'autres ports avec RIPOSTE_RASA_PORT, RIPOSTE_ACTIONS_PORT et RIPOSTE_WEB_PORT."
            )
            return False
        s.var_dir.mkdir(parents=True, exist_ok=True)
        write_credentials(s, self.signal_bridge_token)
        env = child_environment(s)
        env.pop(ACTION_SECRET_ENV, None)  # Rasa and the action server only (Child.extra_env)
        if not self._prepare_store(env) or not self._check_lock_store():
            return False
        log_dir = s.var_dir / "log"
        total = 3 if s.signal is None else 4
        for index, child in enumerate(self._children(), start=1):
            self.out(f"[{index}/{total}] Démarrage : {child.name} (journal : {log_dir}/…)")
            started = time.monotonic()
            child.start(env, log_dir)
            self.children.append(child)

            def alive(c: Child = child) -> bool:
                return c.alive() and not self.stop_requested

            if not wait_until_up(child.health_url, child.timeout, alive):
                if self.stop_requested:
                    return False
                self.out(
                    f"Échec du démarrage de « {child.name} ». Consultez "
                    f"{log_dir / (child.name + '.log')}."
                )
                return False
            self.out(f"      prêt en {time.monotonic() - started:.0f} s")
        self.out(f"[{total}/{total}] Démarrage : page web sur http://localhost:{s.web_port}/")
        self.web = make_web_server(s)
        threading.Thread(target=self.web.serve_forever, name="web", daemon=True).start()
        api = "activée (jeton requis)" if s.api_token else "désactivée (RIPOSTE_API_TOKEN absent)"
        rest = f"http://localhost:{s.rasa_port}/webhooks/rest/webhook"
        if not s.rest_enabled:
            rest = "désactivé (RIPOSTE_REST)"
        elif s.rest_token:
            rest += " (jeton requis)"
        from riposte.store.redis_check import redacted

        locks = f"Redis {redacted(s.redis_url)}" if s.redis_url else "en mémoire (un seul Rasa)"
        self.out(
            "Riposte est prêt.\n"
            f"  Page web      : http://localhost:{s.web_port}/\n"
            f"  Rasa (REST)   : {rest}\n"
            f"  Actions       : http://localhost:{s.actions_port}/webhook\n"
            f"  API HTTP Rasa : {api}\n"
            f"  Verrous       : {locks}\n"
            + (
                f"  Signal        : {s.signal.api_url} (mode {s.signal.mode})\n"
                if s.signal is not None
                else ""
            )
            + "Ctrl-C pour tout arrêter."
        )
        return True

    def _prepare_store(self, env: dict[str, str]) -> bool:
        """Migrate the case store and create the key before any service needs them."""
        from riposte.store.config import StoreConfig
        from riposte.store.errors import StoreError
        from riposte.store.repository import CaseRepository

        try:
            with CaseRepository(StoreConfig.from_env(env)) as repo:
                repo.ensure_ready()
        except StoreError as error:
            self.out(f"Stockage des dossiers indisponible : {error}")
            return False
        return True

    def _check_lock_store(self) -> bool:
        """With REDIS_URL, Redis must answer before Rasa starts (the locks of the conversations)."""
        if not self.settings.redis_url:
            return True
        from riposte.store.redis_check import redacted, redis_problem

        problem = redis_problem(self.settings.redis_url)
        if problem is not None:
            self.out(
                f"Redis injoignable à {redacted(self.settings.redis_url)} (REDIS_URL) : "
                f"{problem}. Démarrez Redis ou corrigez REDIS_URL (vide : un seul serveur "
                "Rasa, verrous en mémoire)."
            )
            return False
        return True

    def watch(self, interval: float = 0.5) -> int:
        """Block until a stop is requested (0) or a child dies (1)."""
        while not self.stop_requested:
            for child in self.children:
                if not child.alive():
                    self.out(f"Le service « {child.name} » s'est arrêté de façon inattendue.")
                    return 1
            time.sleep(interval)
        return 0

    def request_stop(self, *_: object) -> None:
        self.stop_requested = True

    def stop(self) -> None:
        self.out("Arrêt de Riposte…")
        if self.web is not None:
            self.web.shutdown()
            self.web.server_close()
        for child in reversed(self.children):
            child.stop()
        self.out("Tous les services sont arrêtés.")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"Configuration invalide : {error}", file=sys.stderr)
        return 2
    supervisor = Supervisor(settings, out=functools.partial(print, flush=True))
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    try:
        if supervisor.start():
            status = supervisor.watch()
        else:
            status = 0 if supervisor.stop_requested else 1
    finally:
        supervisor.stop()
    return status


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="démarre le serveur d'actions, le serveur Rasa et la page web",
        description=(
            "Démarre les trois services de Riposte et les arrête tous avec Ctrl-C. "
            "Configuration par variables d'environnement (voir .env.example)."
        ),
    )
    parser.add_argument("--verbose", action="store_true", help="journal détaillé")
    parser.set_defaults(func=run)
