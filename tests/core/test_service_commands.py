"""`riposte rasa`, `riposte actions`, `riposte web`: one service alone, as `riposte serve` runs it.

`rasa` and `actions` replace the process (os.execvpe, replaced here by a recorder) with the
command line and the environment the supervisor gives that child; a missing or bad setting stops
them first with a French message and the status 2. `web` runs the page server in the process.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from devtools.ports import free_port, free_ports
from riposte import cli
from riposte.access import SECRET_ENV
from riposte.cli.serve import Supervisor, wait_until_up
from riposte.services import ACTIONS_SANIC_LIMITS, SIGNAL_TOKEN_ENV, child_environment
from riposte.settings import ROOT, Settings
from riposte.web.server import page_config

SECRET = "s" * 32


class Exec(Exception):
    """Stands for the process being replaced: nothing after exec runs."""


@pytest.fixture
def execs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def fake_execvpe(file: str, argv: list[str], env: dict[str, str]) -> None:
        calls.append({"file": file, "argv": list(argv), "env": dict(env), "umask": os.umask(0)})
        os.umask(calls[-1]["umask"])
        raise Exec

    monkeypatch.setattr(os, "execvpe", fake_execvpe)
    return calls


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A complete local configuration (SQLite store under tmp_path, a model file, the secret)."""
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"not read: the command execs before Rasa reads it")
    for name in (
        "RIPOSTE_SECRET_KEY",
        "RIPOSTE_DATABASE_URL",
        "RIPOSTE_DATA_DIR",
        "RIPOSTE_SERVICE_KEYS",
        "RIPOSTE_SERVICE_KEYS_FILE",
        "TRACKER_STORE_URL",
        "REDIS_URL",
        "TELEGRAM_TOKEN",
        "SIGNAL_NUMBER",
        "RIPOSTE_ACTIONS_HOST",
    ):
        monkeypatch.delenv(name, raising=False)
    rasa, actions, web = free_ports(3)
    monkeypatch.setenv("RIPOSTE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("RIPOSTE_MODEL", str(model))
    monkeypatch.setenv("RIPOSTE_RASA_PORT", str(rasa))
    monkeypatch.setenv("RIPOSTE_ACTIONS_PORT", str(actions))
    monkeypatch.setenv("RIPOSTE_WEB_PORT", str(web))
    monkeypatch.setenv("RIPOSTE_API_TOKEN", "t" * 32)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return tmp_path


def supervised(name: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment `riposte serve` gives its child `name`."""
    supervisor = Supervisor(Settings.from_env())
    supervisor.action_secret = SECRET  # what `start` reads from RIPOSTE_ACTION_SECRET
    base = child_environment(supervisor.settings)
    base.pop(SECRET_ENV)
    (child,) = [c for c in supervisor._children() if c.name == name]
    return child.cmd, {**base, **child.extra_env}


def test_rasa_execs_the_rasa_server_as_serve_starts_it(
    env: Path, execs: list[dict[str, Any]]
) -> None:
    with pytest.raises(Exec):
        cli.main(["rasa"])
    (call,) = execs
    cmd, child_env = supervised("rasa")
    assert call["argv"] == cmd and call["file"] == cmd[0] == sys.executable
    assert call["argv"][1:4] == ["-m", "riposte_rasa.server", "run"]
    assert call["env"] == child_env  # the secret, the API token, Sanic's 1 MB limit…
    assert call["env"]["RIPOSTE_API_TOKEN"] == "t" * 32
    assert call["umask"] == 0o077  # Rasa's files (var/tracker.db) are owner-only
    # The case store is migrated and its key created before Rasa starts.
    assert (env / "var" / "riposte.db").is_file() and (env / "var" / "secret.key").is_file()


def test_rasa_passes_its_other_arguments_to_rasa_run(
    env: Path, execs: list[dict[str, Any]]
) -> None:
    with pytest.raises(Exec):
        cli.main(["rasa", "--debug", "--response-timeout", "30"])
    cmd, _ = supervised("rasa")
    assert execs[0]["argv"] == [*cmd, "--debug", "--response-timeout", "30"]


def test_rasa_writes_the_signal_credentials_with_the_bridge_token(
    env: Path, execs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNAL_NUMBER", "+33600000000")
    monkeypatch.setenv(SIGNAL_TOKEN_ENV, "b" * 32)
    with pytest.raises(Exec):
        cli.main(["rasa"])
    credentials = env / "var" / "credentials.yml"
    argv = execs[0]["argv"]
    assert argv[argv.index("--credentials") + 1] == str(credentials)
    assert "b" * 32 in credentials.read_text(encoding="utf-8")
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert SIGNAL_TOKEN_ENV not in execs[0]["env"]  # the bridge's, not Rasa's


@pytest.mark.parametrize("command", ["rasa", "actions"])
@pytest.mark.parametrize(
    ("secret", "said"),
    [
        (None, "RIPOSTE_ACTION_SECRET est absente"),
        ("court", "RIPOSTE_ACTION_SECRET est trop court"),
    ],
)
def test_rasa_and_actions_refuse_to_start_without_the_shared_secret(
    env: Path,
    execs: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    secret: str | None,
    said: str,
) -> None:
    if secret is None:
        monkeypatch.delenv(SECRET_ENV)
    else:
        monkeypatch.setenv(SECRET_ENV, secret)
    assert cli.main([command]) == 2
    assert execs == []
    err = capsys.readouterr().err
    assert err.startswith("Configuration invalide : ") and said in err


@pytest.mark.parametrize("command", ["rasa", "actions", "web"])
def test_a_bad_setting_stops_each_command_with_a_french_message(
    env: Path,
    execs: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    monkeypatch.setenv("RIPOSTE_WEB_PORT", "quatre-vingts")
    assert cli.main([command]) == 2
    assert execs == []
    err = capsys.readouterr().err
    assert err.startswith("Configuration invalide : ") and "RIPOSTE_WEB_PORT" in err


def test_rasa_without_a_model_says_so(
    env: Path,
    execs: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RIPOSTE_MODEL", str(env / "absent.tar.gz"))
    assert cli.main(["rasa"]) == 2
    assert execs == []
    assert capsys.readouterr().err == (
        f"Modèle introuvable : {env / 'absent.tar.gz'} (RIPOSTE_MODEL). Entraînez-le d'abord "
        "avec « make train ».\n"
    )


def test_rasa_with_an_unavailable_store_says_so(
    env: Path,
    execs: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from riposte.store.errors import StoreError
    from riposte.store.repository import CaseRepository

    def refuse(self: object) -> None:
        raise StoreError("base injoignable")

    monkeypatch.setattr(CaseRepository, "ensure_ready", refuse)
    assert cli.main(["rasa"]) == 1
    assert execs == []
    assert capsys.readouterr().err == "Stockage des dossiers indisponible : base injoignable\n"


def test_web_on_a_held_port_says_so(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    port = free_port()
    monkeypatch.setenv("RIPOSTE_WEB_PORT", str(port))
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        assert cli.main(["web"]) == 1
    assert capsys.readouterr().err == (
        f"La page web ne peut pas écouter sur 127.0.0.1:{port} (Address already in use). Un "
        "autre programme occupe-t-il ce port (RIPOSTE_WEB_PORT) ?\n"
    )


def subcommand(name: str) -> tuple[str, str, str, list[str]]:
    """Help in `riposte --help`, description, usage line, options' help of sub-command `name`."""
    parser = cli.build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    (choice,) = [c for c in commands._choices_actions if c.dest == name]
    sub = commands.choices[name]
    options = [str(a.help) for a in sub._actions if a.dest != "help"]
    return str(choice.help), str(sub.description), sub.format_usage(), options


@pytest.mark.parametrize(
    ("name", "help_text", "description", "usage", "options"),
    [
        (
            "serve",
            "démarre le serveur d'actions, le serveur Rasa et la page web",
            "Démarre les trois services de Riposte et les arrête tous avec Ctrl-C. "
            "Configuration par variables d'environnement (voir .env.example).",
            "usage: riposte serve [-h] [--verbose]\n",
            ["journal détaillé"],
        ),
        (
            "web",
            "démarre la page web seule, comme « riposte serve » la démarre",
            "Démarre la page web seule (page de conversation, téléchargement des courriers, "
            "dépôt des captures) sur RIPOSTE_WEB_PORT, avec la configuration que « riposte "
            "serve » lui donne. Ctrl-C ou SIGTERM l'arrête.",
            "usage: riposte web [-h] [--verbose]\n",
            ["journal détaillé"],
        ),
        (
            "rasa",
            "démarre le serveur Rasa seul, comme « riposte serve » le démarre",
            "Démarre le serveur Rasa seul (un conteneur par service), avec la configuration que "
            "« riposte serve » lui donne : migration du stockage des dossiers, credentials.yml "
            "(Telegram, Signal), « rasa run » sur RIPOSTE_RASA_PORT. RIPOSTE_ACTION_SECRET est "
            "obligatoire (la même valeur que pour « riposte actions »). Les autres arguments sont "
            "passés à « rasa run » (par exemple --debug).",
            "usage: riposte rasa [-h] [options de rasa run …]\n",
            [],
        ),
        (
            "actions",
            "démarre le serveur d'actions seul, comme « riposte serve » le démarre",
            "Démarre le serveur d'actions seul (un conteneur par service), sur "
            "RIPOSTE_ACTIONS_PORT. RIPOSTE_ACTION_SECRET est obligatoire (la même valeur que pour "
            "« riposte rasa ») ; RIPOSTE_ACTIONS_HOST choisit l'adresse d'écoute (127.0.0.1 par "
            "défaut). Les autres arguments sont passés au serveur d'actions.",
            "usage: riposte actions [-h] [options du serveur d'actions …]\n",
            [],
        ),
    ],
)
def test_each_service_command_explains_itself_word_for_word(
    name: str, help_text: str, description: str, usage: str, options: list[str]
) -> None:
    assert subcommand(name) == (help_text, description, usage, options)


def test_actions_execs_the_action_server_as_serve_starts_it(
    env: Path, execs: list[dict[str, Any]]
) -> None:
    with pytest.raises(Exec):
        cli.main(["actions", "--auto-reload"])
    (call,) = execs
    cmd, child_env = supervised("actions")
    assert call["argv"] == [*cmd, "--auto-reload"] and call["file"] == sys.executable
    assert call["argv"][1:3] == ["-m", "riposte_rasa.action_server"]
    # The supervisor's environment, but where it listens: RIPOSTE_ACTIONS_HOST is the
    # operator's here (127.0.0.1 when unset), not the supervisor's loopback.
    del child_env["RIPOSTE_ACTIONS_HOST"]
    assert call["env"] == child_env
    assert {k: call["env"][k] for k in ACTIONS_SANIC_LIMITS} == ACTIONS_SANIC_LIMITS
    assert call["env"][SECRET_ENV] == SECRET and "RIPOSTE_API_TOKEN" not in call["env"]
    assert call["umask"] == 0o077


def test_web_serves_the_page_with_serve_settings_and_stops_on_sigterm(env: Path) -> None:
    port = free_port()
    environ = {**os.environ, "RIPOSTE_WEB_PORT": str(port), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "riposte.cli", "web"],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/config.json"
        assert wait_until_up(url, 30, lambda: process.poll() is None, interval=0.1)
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
            config = json.load(response)
            csp = response.headers["Content-Security-Policy"]
        assert config == page_config(Settings.from_env(environ))
        assert csp and "frame-ancestors 'none'" in csp
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    out, err = process.communicate()
    assert out.decode() == f"Page web sur http://localhost:{port}/ (Ctrl-C pour arrêter).\n"
    assert err == b""
