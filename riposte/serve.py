"""`riposte serve`: start the action server, the Rasa server and the web page, and stop them.

One supervisor process owns the three services: it starts them in order, waits until each
answers, prints progress in French, and on Ctrl-C (or SIGTERM) stops every child cleanly.
If one child dies unexpectedly, the others are stopped too and the exit status is 1, so that
nothing is left half-running.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riposte import evidence_upload
from riposte.settings import ROOT, Settings, SettingsError

log = logging.getLogger("riposte.serve")

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


def rasa_command(settings: Settings, python: str = sys.executable) -> list[str]:
    """The Rasa server's command line. The HTTP API is enabled only with a token."""
    cmd = [
        python,
        "-m",
        "rasa",
        "run",
        "--model",
        str(settings.model_path),
        "--endpoints",
        str(ROOT / "endpoints.yml"),
        "--credentials",
        str(ROOT / "credentials.yml"),
        "--interface",
        settings.host,
        "--port",
        str(settings.rasa_port),
        "--cors",
        *settings.cors_origins,
    ]
    if settings.api_token:
        cmd += ["--enable-api", "--auth-token", settings.api_token]
    return cmd


def actions_command(settings: Settings, python: str = sys.executable) -> list[str]:
    return [
        python,
        "-m",
        "rasa_sdk",
        "--actions",
        "actions",
        "--port",
        str(settings.actions_port),
    ]


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
            "PYTHONUNBUFFERED": "1",
        }
    )
    # The token is passed on the command line to Rasa only; the action server never needs it.
    env.pop("RIPOSTE_API_TOKEN", None)
    return env


LETTERS_PATH = "/lettres/"
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
_letter_repository: Any = None
_letter_lock = threading.Lock()


def letter_response(token: str) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers for a letter download link (404 when not valid)."""
    from riposte.letters.links import link_key, read_token
    from riposte.store.errors import StoreError
    from riposte.store.repository import CaseRepository

    global _letter_repository
    not_found = (404, _NOT_FOUND, {"Content-Type": "text/html; charset=utf-8"})
    try:
        link = read_token(link_key(), token)
        if link is None:
            return not_found
        with _letter_lock:
            if _letter_repository is None:
                _letter_repository = CaseRepository.from_env()
        data = _letter_repository.letter_content(link.code, link.number)
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


class _PageHandler(http.server.SimpleHTTPRequestHandler):
    """Static files from webchat/ plus /config.json; quiet, with security headers."""

    config_body: bytes = b"{}"

    def end_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

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
        path = self.path.split("?", 1)[0]
        if not path.startswith(evidence_upload.UPLOAD_PATH):
            self._send(404, b"", {})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= evidence_upload.MAX_BYTES + 64 * 1024:
            status, body = 413, b"Fichier trop volumineux (10 Mo au plus)."
            self._send(status, body, {"Content-Type": "text/plain; charset=utf-8"})
            self.close_connection = True
            return
        data = self.rfile.read(length)
        status, body = evidence_upload.upload_response(
            path[len(evidence_upload.UPLOAD_PATH) :], self.headers.get("Content-Type", ""), data
        )
        self._send(status, body, {"Content-Type": evidence_upload.HTML_TYPE})

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


def make_web_server(settings: Settings, directory: Path = WEB_DIR) -> http.server.HTTPServer:
    config = {"rasaPort": settings.rasa_port, "socketPath": "/socket.io/"}
    handler = type(
        "PageHandler",
        (_PageHandler,),
        {"config_body": json.dumps(config).encode("utf-8")},
    )
    factory = functools.partial(handler, directory=str(directory))
    return http.server.ThreadingHTTPServer((settings.host, settings.web_port), factory)


def wait_until_up(
    url: str, timeout: float, alive: Callable[[], bool], interval: float = 0.5
) -> bool:
    """Poll `url` until it answers 200, the child dies, or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
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


@dataclass
class Child:
    name: str
    cmd: list[str]
    health_url: str
    timeout: float
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, env: dict[str, str], log_dir: Path) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        logfile = open(log_dir / f"{self.name}.log", "ab")  # noqa: SIM115 (lives with child)
        self.process = subprocess.Popen(
            self.cmd,
            cwd=ROOT,
            env=env,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: Ctrl-C is ours to forward
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

    def _children(self) -> list[Child]:
        s = self.settings
        return [
            Child(
                "actions",
                actions_command(s),
                f"http://{s.host}:{s.actions_port}/health",
                timeout=120,
            ),
            Child("rasa", rasa_command(s), f"http://{s.host}:{s.rasa_port}/", timeout=300),
        ]

    def start(self) -> bool:
        s = self.settings
        if not s.model_path.is_file():
            self.out(
                f"Modèle introuvable : {s.model_path}. Lancez d'abord « make train » "
                "(ou simplement « make run », qui entraîne le modèle si besoin)."
            )
            return False
        s.var_dir.mkdir(parents=True, exist_ok=True)
        env = child_environment(s)
        if not self._prepare_store(env):
            return False
        log_dir = s.var_dir / "log"
        total = 3
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
        self.out(f"[3/3] Démarrage : page web sur http://localhost:{s.web_port}/")
        self.web = make_web_server(s)
        threading.Thread(target=self.web.serve_forever, name="web", daemon=True).start()
        api = "activée (jeton requis)" if s.api_token else "désactivée (RIPOSTE_API_TOKEN absent)"
        self.out(
            "Riposte est prêt.\n"
            f"  Page web      : http://localhost:{s.web_port}/\n"
            f"  Rasa (REST)   : http://localhost:{s.rasa_port}/webhooks/rest/webhook\n"
            f"  Actions       : http://localhost:{s.actions_port}/webhook\n"
            f"  API HTTP Rasa : {api}\n"
            "Ctrl-C pour tout arrêter."
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
