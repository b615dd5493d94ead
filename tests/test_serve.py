"""`riposte serve`: the ports it refuses, how it starts the action server (loopback, secret)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from devtools.ports import free_ports
from riposte.cli.serve import ROOT, Supervisor, ports_in_use, wait_until_up
from riposte.services import action_secret, child_environment
from riposte.settings import Settings
from tests.integration.test_access import outward_address


def settings_on(tmp_path: Path, rasa: int, actions: int, web: int) -> Settings:
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"not read: the port check comes first")
    return Settings.from_env(
        {
            "RIPOSTE_RASA_PORT": str(rasa),
            "RIPOSTE_ACTIONS_PORT": str(actions),
            "RIPOSTE_WEB_PORT": str(web),
            "RIPOSTE_MODEL": str(model),
            "RIPOSTE_VAR_DIR": str(tmp_path / "var"),
        }
    )


def test_ports_in_use_names_only_the_held_ones() -> None:
    held, free = free_ports(2)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", held))
        holder.listen()
        assert ports_in_use("127.0.0.1", (held, free)) == [held]
    assert ports_in_use("127.0.0.1", (held, free)) == []


def test_start_stops_before_any_service_when_a_port_is_held(tmp_path: Path) -> None:
    rasa, actions, web = free_ports(3)
    settings = settings_on(tmp_path, rasa, actions, web)
    said: list[str] = []
    with socket.socket() as other:  # another instance's web page, say
        other.bind(("127.0.0.1", web))
        other.listen()
        assert Supervisor(settings, out=said.append).start() is False
    assert len(said) == 1, said
    assert f"Port déjà utilisé sur 127.0.0.1 : {web}." in said[0]
    assert "RIPOSTE_WEB_PORT" in said[0]
    assert not (tmp_path / "var").exists()  # nothing started, nothing written


def test_several_held_ports_are_all_named(tmp_path: Path) -> None:
    rasa, actions, web = free_ports(3)
    settings = settings_on(tmp_path, rasa, actions, web)
    said: list[str] = []
    with socket.socket() as first, socket.socket() as second:
        for holder, port in ((first, rasa), (second, web)):
            holder.bind(("127.0.0.1", port))
            holder.listen()
        assert Supervisor(settings, out=said.append).start() is False
    assert said[0].startswith(f"Ports déjà utilisés sur 127.0.0.1 : {rasa}, {web}.")
    assert "les occupe" in said[0]


def test_start_refuses_a_key_file_readable_by_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from riposte.privacy import generate_key_text

    monkeypatch.setenv("RIPOSTE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("RIPOSTE_SECRET_KEY", raising=False)
    rasa, actions, web = free_ports(3)
    settings = settings_on(tmp_path, rasa, actions, web)
    key_file = tmp_path / "var" / "secret.key"
    key_file.parent.mkdir(parents=True)
    key_file.write_text(generate_key_text() + "\n")
    key_file.chmod(0o644)
    said: list[str] = []
    supervisor = Supervisor(settings, out=said.append)
    try:
        assert supervisor.start() is False
        assert supervisor.children == []  # no service started
    finally:
        supervisor.stop()
    assert str(key_file) in said[0] and f"chmod 600 {key_file}" in said[0]


def test_rasa_refuses_large_or_slow_requests_and_the_action_server_keeps_its_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sanic reads SANIC_* variables when its app is created: Rasa's app in the child."""
    from sanic import Sanic

    from riposte.services import RASA_MAX_REQUEST_BYTES, child_environment

    settings = settings_on(tmp_path, *free_ports(3))
    env = child_environment(settings, base={})
    for name, value in env.items():
        if name.startswith("SANIC_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setattr(Sanic, "test_mode", True)
    config = Sanic(f"limits_{tmp_path.name[-8:]}".replace("-", "_")).config
    assert config.REQUEST_MAX_SIZE == RASA_MAX_REQUEST_BYTES == 1_000_000
    assert config.REQUEST_TIMEOUT == 15
    actions = next(c for c in Supervisor(settings)._children() if c.name == "actions")
    assert {**env, **actions.extra_env}["SANIC_REQUEST_MAX_SIZE"] == "100000000"


def test_the_action_server_listens_on_loopback_whatever_riposte_host(tmp_path: Path) -> None:
    """Rasa reaches it on this machine: RIPOSTE_HOST=0.0.0.0 opens Rasa, never the actions."""
    settings = Settings.from_env({"RIPOSTE_HOST": "0.0.0.0", "RIPOSTE_VAR_DIR": str(tmp_path)})
    actions = next(c for c in Supervisor(settings)._children() if c.name == "actions")
    assert actions.cmd[1:3] == ["-m", "riposte_rasa.action_server"]
    assert actions.extra_env["RIPOSTE_ACTIONS_HOST"] == "127.0.0.1"
    assert actions.health_url == f"http://127.0.0.1:{settings.actions_port}/health"
    assert child_environment(settings, base={})["SANIC_HOST"] == "0.0.0.0"  # Rasa's, as before


def test_the_action_server_started_by_serve_is_not_reachable_from_outside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = outward_address()
    if address is None:
        pytest.fail("No network interface other than loopback: cannot check the binding.")
    (port,) = free_ports(1)
    for name in ("RIPOSTE_DATABASE_URL", "RIPOSTE_DATA_DIR", "RIPOSTE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    env = {"RIPOSTE_HOST": "0.0.0.0", "RIPOSTE_ACTIONS_PORT": str(port)}
    settings = Settings.from_env({**env, "RIPOSTE_VAR_DIR": str(tmp_path)})
    actions = next(c for c in Supervisor(settings)._children() if c.name == "actions")
    base = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    actions.start(child_environment(settings, base=base), tmp_path / "log")
    try:
        assert actions.health_url is not None
        assert wait_until_up(actions.health_url, 120, actions.alive), (
            tmp_path / "log" / "actions.log"
        ).read_text()
        with socket.socket() as probe:
            probe.settimeout(2)
            assert probe.connect_ex((address, port)) != 0, (address, port)
    finally:
        actions.stop()


def test_rasa_and_the_action_server_share_a_secret_drawn_at_each_start(tmp_path: Path) -> None:
    env = {"RIPOSTE_VAR_DIR": str(tmp_path), "SIGNAL_NUMBER": "+33612345678"}
    settings = Settings.from_env(env)
    first, second = Supervisor(settings), Supervisor(settings)
    children = {c.name: c for c in first._children()}
    secret = children["actions"].extra_env["RIPOSTE_ACTION_SECRET"]
    assert len(secret) >= 32 and secret != second.action_secret
    assert children["rasa"].extra_env["RIPOSTE_ACTION_SECRET"] == secret
    assert "RIPOSTE_ACTION_SECRET" not in children["signal"].extra_env  # the bridge: no


def test_a_configured_action_secret_is_checked_and_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rasa, actions, web = free_ports(3)
    settings = settings_on(tmp_path, rasa, actions, web)
    said: list[str] = []
    monkeypatch.setenv("RIPOSTE_ACTION_SECRET", "court")
    assert Supervisor(settings, out=said.append).start() is False
    assert said and "RIPOSTE_ACTION_SECRET est trop court" in said[0]
    assert not (tmp_path / "var").exists()  # nothing started
    assert action_secret({"RIPOSTE_ACTION_SECRET": " " + "y" * 24}) == "y" * 24
