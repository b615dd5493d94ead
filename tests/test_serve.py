"""`riposte serve`: the ports it refuses, how it starts the action server (loopback, secret)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from devtools.ports import free_ports
from riposte.cli.serve import ROOT, Supervisor, ports_in_use, ready_message, wait_until_up
from riposte.services import action_secret, child_environment
from riposte.settings import Settings, SettingsError
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


# What the supervisor prints, word for word (the sentences live in riposte/messages.yml).


class FakeWebServer:
    def serve_forever(self) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def server_close(self) -> None:
        pass


@pytest.fixture
def no_services(monkeypatch: pytest.MonkeyPatch) -> None:
    """Children that start at once and stay up, a web page that serves nothing."""
    from riposte.cli import serve

    monkeypatch.delenv("RIPOSTE_ACTION_SECRET", raising=False)
    monkeypatch.setattr(serve.Child, "start", lambda self, env, log_dir: None)
    monkeypatch.setattr(serve.Child, "alive", lambda self: True)
    monkeypatch.setattr(serve.Child, "stop", lambda self: None)
    monkeypatch.setattr(serve, "wait_until_up", lambda url, timeout, alive: True)
    monkeypatch.setattr(serve, "make_web_server", lambda settings: FakeWebServer())
    monkeypatch.setattr(Supervisor, "_prepare_store", lambda self, env: True)


def settings_with(tmp_path: Path, **env: str) -> Settings:
    rasa, actions, web = free_ports(3)
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"not read")
    return Settings.from_env(
        {
            "RIPOSTE_RASA_PORT": str(rasa),
            "RIPOSTE_ACTIONS_PORT": str(actions),
            "RIPOSTE_WEB_PORT": str(web),
            "RIPOSTE_MODEL": str(model),
            "RIPOSTE_VAR_DIR": str(tmp_path / "var"),
            **env,
        }
    )


def test_start_and_stop_say_each_step_word_for_word(tmp_path: Path, no_services: None) -> None:
    s = settings_with(tmp_path, RIPOSTE_REST="off")
    said: list[str] = []
    supervisor = Supervisor(s, out=said.append)
    assert supervisor.start() is True
    supervisor.stop()
    log = s.var_dir / "log"
    assert said == [
        f"[1/4] Démarrage : actions (journal : {log}/…)",
        "      prêt en 0 s",
        f"[2/4] Démarrage : rasa (journal : {log}/…)",
        "      prêt en 0 s",
        f"[3/4] Démarrage : follow-ups (journal : {log}/…)",
        "      prêt en 0 s",
        f"[4/4] Démarrage : page web sur http://localhost:{s.web_port}/",
        "Riposte est prêt.\n"
        f"  Page web      : http://localhost:{s.web_port}/\n"
        "  Rasa (REST)   : désactivé (RIPOSTE_REST)\n"
        f"  Actions       : http://localhost:{s.actions_port}/webhook\n"
        "  API HTTP Rasa : désactivée (RIPOSTE_API_TOKEN absent)\n"
        "  Verrous       : en mémoire (un seul Rasa)\n"
        "  Rappels       : envoyés sur Telegram et Signal (vérification toutes les 60 s)\n"
        "Ctrl-C pour tout arrêter.",
        "Arrêt de Riposte…",
        "Tous les services sont arrêtés.",
    ]


def test_the_ready_summary_names_the_tokens_redis_and_signal(
    tmp_path: Path, no_services: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from riposte.store import redis_check

    monkeypatch.setattr(redis_check, "redis_problem", lambda url: None)
    s = settings_with(
        tmp_path,
        RIPOSTE_API_TOKEN="a" * 32,
        RIPOSTE_REST_TOKEN="r" * 32,
        REDIS_URL="redis://:motdepasse@redis.interne:6379/0",
        SIGNAL_NUMBER="+33612345678",
    )
    assert s.signal is not None
    said: list[str] = []
    assert Supervisor(s, out=said.append).start() is True
    assert said[4:8] == [
        f"[3/5] Démarrage : follow-ups (journal : {s.var_dir / 'log'}/…)",
        "      prêt en 0 s",
        f"[4/5] Démarrage : signal (journal : {s.var_dir / 'log'}/…)",
        "      prêt en 0 s",
    ]
    assert said[8:] == [
        f"[5/5] Démarrage : page web sur http://localhost:{s.web_port}/",
        "Riposte est prêt.\n"
        f"  Page web      : http://localhost:{s.web_port}/\n"
        f"  Rasa (REST)   : http://localhost:{s.rasa_port}/webhooks/rest/webhook (jeton requis)\n"
        f"  Actions       : http://localhost:{s.actions_port}/webhook\n"
        "  API HTTP Rasa : activée (jeton requis)\n"
        "  Verrous       : Redis redis://:***@redis.interne:6379/0\n"
        f"  Signal        : {s.signal.api_url} (mode {s.signal.mode})\n"
        "  Rappels       : envoyés sur Telegram et Signal (vérification toutes les 60 s)\n"
        "Ctrl-C pour tout arrêter.",
    ]


def test_the_rest_channel_without_token_is_named_by_its_address(
    tmp_path: Path, no_services: None
) -> None:
    s = settings_with(tmp_path)
    said: list[str] = []
    assert Supervisor(s, out=said.append).start() is True
    rest = f"  Rasa (REST)   : http://localhost:{s.rasa_port}/webhooks/rest/webhook\n"
    assert rest in said[-1]


def test_a_missing_model_is_named_word_for_word(tmp_path: Path) -> None:
    s = settings_with(tmp_path, RIPOSTE_MODEL=str(tmp_path / "absent.tar.gz"))
    said: list[str] = []
    assert Supervisor(s, out=said.append).start() is False
    assert said == [
        f"Modèle introuvable : {tmp_path / 'absent.tar.gz'}. Lancez d'abord « make train » "
        "(ou simplement « make run », qui entraîne le modèle si besoin)."
    ]


def test_a_held_port_is_named_word_for_word(tmp_path: Path) -> None:
    s = settings_with(tmp_path)
    said: list[str] = []
    with socket.socket() as other:
        other.bind(("127.0.0.1", s.web_port))
        other.listen()
        assert Supervisor(s, out=said.append).start() is False
    assert said == [
        f"Port déjà utilisé sur 127.0.0.1 : {s.web_port}. Une autre instance de Riposte (ou un "
        "autre programme) l'occupe : arrêtez-la, ou choisissez d'autres ports avec "
        "RIPOSTE_RASA_PORT, RIPOSTE_ACTIONS_PORT et RIPOSTE_WEB_PORT."
    ]


def test_a_child_that_does_not_start_is_named_with_its_log(
    tmp_path: Path, no_services: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from riposte.cli import serve

    monkeypatch.setattr(serve, "wait_until_up", lambda url, timeout, alive: False)
    s = settings_with(tmp_path)
    said: list[str] = []
    assert Supervisor(s, out=said.append).start() is False
    assert said[-1] == (
        f"Échec du démarrage de « actions ». Consultez {s.var_dir / 'log' / 'actions.log'}."
    )


def test_a_child_that_dies_is_named(tmp_path: Path) -> None:
    from riposte.cli import serve

    supervisor = Supervisor(settings_with(tmp_path), out=(said := []).append)
    supervisor.children = [serve.Child("rasa", [], None, timeout=1)]  # never started: dead
    assert supervisor.watch(interval=0) == 1
    assert said == ["Le service « rasa » s'est arrêté de façon inattendue."]


def test_an_unreachable_redis_is_named_word_for_word(
    tmp_path: Path, no_services: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from riposte.store import redis_check

    monkeypatch.setattr(redis_check, "redis_problem", lambda url: "connexion refusée")
    s = settings_with(tmp_path, REDIS_URL="redis://:secret@localhost:1/0")
    said: list[str] = []
    assert Supervisor(s, out=said.append).start() is False
    assert said == [
        "Redis injoignable à redis://:***@localhost:1/0 (REDIS_URL) : connexion refusée. "
        "Démarrez Redis ou corrigez REDIS_URL (vide : un seul serveur Rasa, verrous en mémoire)."
    ]


def test_an_unavailable_store_is_named_word_for_word(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from riposte.store.errors import StoreError
    from riposte.store.repository import CaseRepository

    def refuse(self: object) -> None:
        raise StoreError("base injoignable")

    monkeypatch.delenv("RIPOSTE_ACTION_SECRET", raising=False)
    monkeypatch.setattr(CaseRepository, "ensure_ready", refuse)
    said: list[str] = []
    assert Supervisor(settings_with(tmp_path), out=said.append).start() is False
    assert said == ["Stockage des dossiers indisponible : base injoignable"]


def test_the_follow_up_scheduler_runs_unless_turned_off(tmp_path: Path) -> None:
    supervisor = Supervisor(settings_with(tmp_path))
    on = supervisor._children()
    assert [c.name for c in on] == ["actions", "rasa", "follow-ups"]
    assert on[-1].cmd[1:] == ["-m", "riposte.cli", "follow-ups"]
    # The action secret opens the Rasa server's follow-up channel: Rasa gets the same one.
    assert on[-1].extra_env == {"RIPOSTE_ACTION_SECRET": supervisor.action_secret}
    assert on[1].extra_env["RIPOSTE_ACTION_SECRET"] == supervisor.action_secret
    off = settings_with(tmp_path, RIPOSTE_FOLLOW_UPS="off")
    assert [c.name for c in Supervisor(off)._children()] == ["actions", "rasa"]
    assert "RIPOSTE_FOLLOW_UPS=off" in ready_message(off)
    with pytest.raises(SettingsError, match="RIPOSTE_FOLLOW_UP_INTERVAL"):
        settings_with(tmp_path, RIPOSTE_FOLLOW_UP_INTERVAL="0")
    with pytest.raises(SettingsError, match="RIPOSTE_FOLLOW_UPS"):
        settings_with(tmp_path, RIPOSTE_FOLLOW_UPS="peut-être")
