"""`riposte serve` refuses to start on a port that another program holds."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from riposte.serve import Supervisor, ports_in_use
from riposte.settings import Settings
from tests.ports import free_ports


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

    from riposte.serve import RASA_MAX_REQUEST_BYTES, child_environment

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
