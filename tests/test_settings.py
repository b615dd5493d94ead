"""Configuration from the environment and the command lines built from it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from devtools.waiting import wait_until
from riposte.services import actions_command, child_environment, rasa_command, rasa_environment
from riposte.settings import Settings, SettingsError
from riposte_rasa.server import rasa_arguments


def test_defaults_bind_to_loopback_on_the_documented_ports() -> None:
    s = Settings.from_env({})
    assert (s.host, s.rasa_port, s.actions_port, s.web_port) == ("127.0.0.1", 5005, 5055, 8080)
    assert s.api_token is None
    assert s.cors_origins == ("http://localhost:8080", "http://127.0.0.1:8080")
    assert s.tracker_store_url.startswith("sqlite:///") and s.tracker_store_url.endswith(
        "var/tracker.db"
    )
    assert s.action_endpoint_url == "http://127.0.0.1:5055/webhook"


def test_rasa_http_api_is_never_enabled_without_a_token() -> None:
    cmd = rasa_command(Settings.from_env({}))
    assert "--enable-api" not in cmd and "--auth-token" not in cmd


def test_rasa_http_api_token_reaches_rasa_by_its_environment_never_its_command_line() -> None:
    token = "a-long-enough-secret-token"
    s = Settings.from_env({"RIPOSTE_API_TOKEN": token})
    cmd = rasa_command(s)
    assert token not in " ".join(cmd) and "--auth-token" not in cmd
    assert cmd[1:4] == ["-m", "riposte_rasa.server", "run"]
    assert rasa_environment(s, base={})["RIPOSTE_API_TOKEN"] == token
    assert "RIPOSTE_API_TOKEN" not in rasa_environment(Settings.from_env({}), base={})
    # The launcher turns it into Rasa's flags, in its own process, and forgets it.
    environ = {"RIPOSTE_API_TOKEN": token, "PATH": "/bin"}
    args = rasa_arguments(cmd[3:], environ)
    assert args[-3:] == ["--enable-api", "--auth-token", token]
    assert environ == {"PATH": "/bin"}
    assert rasa_arguments(cmd[3:], {}) == cmd[3:]


def test_cors_origins_are_passed_to_rasa() -> None:
    env = {"RIPOSTE_CORS_ORIGINS": "https://a.example, https://b.example"}
    cmd = rasa_command(Settings.from_env(env))
    i = cmd.index("--cors")
    assert cmd[i + 1 : i + 3] == ["https://a.example", "https://b.example"]


def test_action_server_port_and_child_environment() -> None:
    s = Settings.from_env({"RIPOSTE_ACTIONS_PORT": "6000", "RIPOSTE_API_TOKEN": "x" * 20})
    cmd = actions_command(s)
    assert cmd[cmd.index("--port") + 1] == "6000"
    env = child_environment(s, base={"RIPOSTE_API_TOKEN": "x" * 20, "PATH": "/bin"})
    assert env["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:6000/webhook"
    assert env["RASA_TELEMETRY_ENABLED"] == "false"
    assert env["SANIC_HOST"] == "127.0.0.1"
    assert "RIPOSTE_API_TOKEN" not in env


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RIPOSTE_RASA_PORT": "cinq"}, "RIPOSTE_RASA_PORT doit être un numéro de port"),
        ({"RIPOSTE_WEB_PORT": "70000"}, "entre 1 et 65535"),
        ({"RIPOSTE_WEB_PORT": "5005"}, "doivent être différents"),
        ({"RIPOSTE_API_TOKEN": "court"}, "trop court"),
        ({"RIPOSTE_CORS_ORIGINS": "*"}, "ne doit pas contenir « * »"),
    ],
)
def test_bad_configuration_gives_a_clear_french_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.from_env(env)


def test_a_signal_during_watch_stops_it_without_deadlock() -> None:
    """The handler only sets a flag; repeated signals never hang the supervisor's loop."""
    import faulthandler
    import os
    import signal
    import threading

    from riposte.cli.serve import Supervisor

    faulthandler.dump_traceback_later(30, exit=True)  # a deadlock fails loudly, not forever
    previous = signal.getsignal(signal.SIGUSR1)
    try:
        for _ in range(20):
            supervisor = Supervisor(Settings.from_env({}), out=lambda _: None)
            signal.signal(signal.SIGUSR1, supervisor.request_stop)
            threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGUSR1)).start()
            assert supervisor.watch(interval=0.01) == 0
    finally:
        signal.signal(signal.SIGUSR1, previous)
        faulthandler.cancel_dump_traceback_later()


def test_public_url_defaults_to_the_web_page_and_must_be_http() -> None:
    from riposte.settings import Settings, SettingsError

    assert Settings.from_env({"RIPOSTE_WEB_PORT": "8181"}).public_url == "http://localhost:8181"
    given = Settings.from_env({"RIPOSTE_PUBLIC_URL": "https://riposte.example.org/"})
    assert given.public_url == "https://riposte.example.org"
    with pytest.raises(SettingsError, match="RIPOSTE_PUBLIC_URL"):
        Settings.from_env({"RIPOSTE_PUBLIC_URL": "javascript:alert(1)"})


TELEGRAM_ENV = {
    "TELEGRAM_TOKEN": "123456789:AAF-test_token-0123456789abcdefghijkl",
    "TELEGRAM_WEBHOOK_URL": "https://riposte.example.org/webhooks/telegram/webhook",
    "TELEGRAM_SECRET_TOKEN": "s3cret_0123456789-abc",
}


def test_without_telegram_token_rasa_gets_the_repository_credentials_unchanged() -> None:
    from riposte.services import write_credentials
    from riposte.settings import ROOT

    s = Settings.from_env({"TELEGRAM_WEBHOOK_URL": "pas une url", "TELEGRAM_SECRET_TOKEN": "x"})
    assert s.telegram is None
    cmd = rasa_command(s)
    assert cmd[cmd.index("--credentials") + 1] == str(ROOT / "credentials.yml")
    assert write_credentials(s) == ROOT / "credentials.yml"


def test_with_telegram_token_rasa_gets_generated_credentials(tmp_path: Path) -> None:
    import stat

    import yaml
    from rasa.core.run import create_http_input_channels

    from riposte.services import write_credentials
    from riposte.settings import ROOT
    from riposte_rasa.channels.telegram import TelegramInput

    env = {
        **TELEGRAM_ENV,
        "RIPOSTE_VAR_DIR": str(tmp_path),
        "TELEGRAM_API_URL": "http://127.0.0.1:8081/",
        "TELEGRAM_BOT_NAME": "@RiposteBot",
    }
    s = Settings.from_env(env)
    assert s.telegram is not None
    assert TELEGRAM_ENV["TELEGRAM_TOKEN"] not in repr(s)
    assert TELEGRAM_ENV["TELEGRAM_SECRET_TOKEN"] not in repr(s)
    path = write_credentials(s)
    cmd = rasa_command(s)
    assert cmd[cmd.index("--credentials") + 1] == str(path) == str(tmp_path / "credentials.yml")
    assert TELEGRAM_ENV["TELEGRAM_TOKEN"] not in " ".join(cmd)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    written = yaml.safe_load(path.read_text())
    original = yaml.safe_load((ROOT / "credentials.yml").read_text())
    assert {k: v for k, v in written.items() if k in original} == original
    assert written["riposte_rasa.channels.telegram.TelegramInput"] == {
        "access_token": TELEGRAM_ENV["TELEGRAM_TOKEN"],
        "webhook_url": TELEGRAM_ENV["TELEGRAM_WEBHOOK_URL"],
        "secret_token": TELEGRAM_ENV["TELEGRAM_SECRET_TOKEN"],
        "api_url": "http://127.0.0.1:8081",
        "verify": "RiposteBot",
    }
    # Rasa builds our channel from that file (nothing is contacted before the server starts).
    channels = create_http_input_channels(None, str(path))
    (telegram,) = [c for c in channels if isinstance(c, TelegramInput)]
    assert telegram.api_url == "http://127.0.0.1:8081" and telegram.verify == "RiposteBot"
    # And the follow-up scheduler's door (riposte_rasa/channels/follow_ups.py).
    assert written["riposte_rasa.channels.follow_ups.FollowUpInput"] is None
    assert len(channels) == len(original) + 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"TELEGRAM_TOKEN": "pas-un-jeton"}, "TELEGRAM_TOKEN n'a pas la forme"),
        ({"TELEGRAM_WEBHOOK_URL": ""}, "TELEGRAM_WEBHOOK_URL est obligatoire"),
        ({"TELEGRAM_WEBHOOK_URL": "http://riposte.example.org/w"}, "doit commencer par https://"),
        ({"TELEGRAM_SECRET_TOKEN": ""}, "TELEGRAM_SECRET_TOKEN est obligatoire"),
        ({"TELEGRAM_SECRET_TOKEN": "trop-court"}, "de 16 à 256 caractères"),
        ({"TELEGRAM_SECRET_TOKEN": "avec des espaces 0123456789"}, "de 16 à 256 caractères"),
        ({"TELEGRAM_API_URL": "api.telegram.org"}, "TELEGRAM_API_URL doit commencer"),
    ],
)
def test_bad_telegram_configuration_gives_a_clear_french_error(
    change: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)) as error:
        Settings.from_env({**TELEGRAM_ENV, **change})
    assert TELEGRAM_ENV["TELEGRAM_TOKEN"] not in str(error.value)


def test_children_die_with_a_killed_launcher(tmp_path: Path) -> None:
    """A SIGKILLed launcher leaves no child running (and holding a port) behind."""
    import contextlib
    import signal
    import subprocess
    import sys

    # The child would live far longer than any deadline below: only its launcher's death
    # can end it in time.
    launcher = (
        "import subprocess, sys\n"
        "from riposte.cli.serve import _die_with_parent\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(3600)'],\n"
        "                         start_new_session=True, preexec_fn=_die_with_parent)\n"
        "print(child.pid, flush=True)\n"
        "child.wait()\n"
    )
    process = subprocess.Popen([sys.executable, "-c", launcher], stdout=subprocess.PIPE)
    assert process.stdout is not None
    child = int(process.stdout.readline())
    process.send_signal(signal.SIGKILL)
    process.wait()
    stat = Path(f"/proc/{child}/stat")

    def child_dead() -> bool:
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True  # dead and already reaped
        return state == "Z"  # dead, not reaped yet

    try:
        wait_until(child_dead, f"the child {child} to die with its killed launcher")
    except AssertionError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
        raise
