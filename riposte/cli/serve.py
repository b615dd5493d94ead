"""`riposte serve`: start the action server, the Rasa server and the web page, and stop them.

One supervisor process owns the three services: it starts them in order, waits until each
answers, prints progress in French, and on Ctrl-C (or SIGTERM) stops every child cleanly.
If one child dies unexpectedly, the others are stopped too and the exit status is 1, so that
nothing is left half-running.

The command lines and environments of the services are those of riposte/services.py (shared
with `riposte rasa` and `riposte actions`); the web page is riposte/web/server.py (alone:
`riposte web`).
"""

from __future__ import annotations

import argparse
import errno
import functools
import http.server
import logging
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riposte.access import HOST_ENV as ACTIONS_HOST_ENV
from riposte.access import SECRET_ENV as ACTION_SECRET_ENV
from riposte.access import TOKEN_ENV as API_TOKEN_ENV
from riposte.access import ActionSecretError
from riposte.cli import configuration_error
from riposte.messages import message
from riposte.services import (
    ACTIONS_HOST,
    ACTIONS_SANIC_LIMITS,
    SIGNAL_TOKEN_ENV,
    action_secret,
    actions_command,
    child_environment,
    follow_ups_command,
    rasa_command,
    signal_bridge_command,
    write_credentials,
)
from riposte.settings import ROOT, Settings, SettingsError
from riposte.web.server import make_web_server

STOP_GRACE_SECONDS = 15.0


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


def ready_message(s: Settings) -> str:
    """What `riposte serve` prints once every service answers: where each one is."""
    api = message("serve.api_on") if s.api_token else message("serve.api_off")
    rest = f"http://localhost:{s.rasa_port}/webhooks/rest/webhook"
    if not s.rest_enabled:
        rest = message("serve.rest_off")
    elif s.rest_token:
        rest = message("serve.rest_with_token", url=rest)
    from riposte.store.redis_check import redacted

    if s.redis_url:
        locks = message("serve.locks_redis", url=redacted(s.redis_url))
    else:
        locks = message("serve.locks_memory")
    signal_line = ""
    if s.signal is not None:
        signal_line = message("serve.signal_line", api_url=s.signal.api_url, mode=s.signal.mode)
    if s.follow_ups:
        follow_ups = message("follow_ups.scheduler_on", seconds=f"{s.follow_up_interval:g}")
    else:
        follow_ups = message("follow_ups.scheduler_off")
    return message(
        "serve.ready",
        follow_ups=follow_ups,
        web_port=s.web_port,
        rest=rest,
        actions_port=s.actions_port,
        api=api,
        locks=locks,
        signal=signal_line,
    )


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
        if s.follow_ups:  # the follow-ups, through Rasa (riposte/scheduler.py)
            children.append(
                Child("follow-ups", follow_ups_command(), None, timeout=2, extra_env=secret)
            )
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
            self.out(message("serve.no_model", path=s.model_path))
            return False
        try:
            self.action_secret = action_secret()
        except ActionSecretError as error:
            self.out(message("cli.invalid_configuration", error=error))
            return False
        held = {
            *ports_in_use(s.host, (s.rasa_port, s.web_port)),
            *ports_in_use(ACTIONS_HOST, (s.actions_port,)),
        }
        busy = [port for port in (s.rasa_port, s.actions_port, s.web_port) if port in held]
        if busy:
            ports = ", ".join(map(str, busy))
            if len(busy) > 1:
                self.out(message("serve.ports_busy", host=s.host, ports=ports))
            else:
                self.out(message("serve.port_busy", host=s.host, ports=ports))
            return False
        s.var_dir.mkdir(parents=True, exist_ok=True)
        write_credentials(s, self.signal_bridge_token)
        env = child_environment(s)
        env.pop(ACTION_SECRET_ENV, None)  # Rasa and the action server only (Child.extra_env)
        if not self._prepare_store(env) or not self._check_lock_store():
            return False
        log_dir = s.var_dir / "log"
        total = 3 + (s.signal is not None) + s.follow_ups
        for index, child in enumerate(self._children(), start=1):
            self.out(
                message(
                    "serve.starting", index=index, total=total, name=child.name, log_dir=log_dir
                )
            )
            started = time.monotonic()
            child.start(env, log_dir)
            self.children.append(child)

            def alive(c: Child = child) -> bool:
                return c.alive() and not self.stop_requested

            if not wait_until_up(child.health_url, child.timeout, alive):
                if self.stop_requested:
                    return False
                self.out(
                    message(
                        "serve.start_failed", name=child.name, log=log_dir / f"{child.name}.log"
                    )
                )
                return False
            self.out(message("serve.started", seconds=time.monotonic() - started))
        self.out(message("serve.starting_web", total=total, port=s.web_port))
        self.web = make_web_server(s)
        threading.Thread(target=self.web.serve_forever, name="web", daemon=True).start()
        self.out(ready_message(s))
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
            self.out(message("cli.store_unavailable", error=error))
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
                message(
                    "serve.redis_unreachable",
                    url=redacted(self.settings.redis_url),
                    problem=problem,
                )
            )
            return False
        return True

    def watch(self, interval: float = 0.5) -> int:
        """Block until a stop is requested (0) or a child dies (1)."""
        while not self.stop_requested:
            for child in self.children:
                if not child.alive():
                    self.out(message("serve.died", name=child.name))
                    return 1
            time.sleep(interval)
        return 0

    def request_stop(self, *_: object) -> None:
        self.stop_requested = True

    def stop(self) -> None:
        self.out(message("serve.stopping"))
        if self.web is not None:
            self.web.shutdown()
            self.web.server_close()
        for child in reversed(self.children):
            child.stop()
        self.out(message("serve.stopped"))


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        return configuration_error(error)
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
        help=message("cli.serve_help"),
        description=message("cli.serve_description"),
    )
    parser.add_argument("--verbose", action="store_true", help=message("cli.verbose"))
    parser.set_defaults(func=run)
