"""Everything Riposte creates on disk is readable by its owner only (umask 077).

The conversations database Rasa creates (var/tracker.db), the services' logs, var/ itself,
the case store, the key file and the letters written by `riposte letter` hold personal data:
no group or other permission bit may be set, whatever umask the shell that started Riposte had.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import riposte.cli.serve
from devtools.ports import free_ports
from riposte import cli
from riposte.cli.serve import Child, Supervisor
from riposte.letters.output import write_atomic
from riposte.settings import Settings


@pytest.fixture
def shell_umask() -> Iterator[None]:
    """The usual umask of a login shell (022) during the test, the old one restored after."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _open_to_others(root: Path) -> list[str]:
    paths = [root, *root.rglob("*")]
    return [
        f"{oct(stat.S_IMODE(p.stat().st_mode))} {p.relative_to(root.parent)}"
        for p in paths
        if p.stat().st_mode & 0o077
    ]


# A stand-in for the Rasa server: it creates its conversations database as Rasa does (SQLite
# through SQLAlchemy's default mode), writes to its log, then answers HTTP so that the
# supervisor knows it is up.
_FAKE_RASA = """
import http.server, sqlite3, sys
sqlite3.connect(sys.argv[1]).execute("create table events (id integer)").connection.commit()
print("fake rasa up", flush=True)
handler = http.server.SimpleHTTPRequestHandler
http.server.HTTPServer(("127.0.0.1", int(sys.argv[2])), handler).serve_forever()
"""


def test_serve_creates_var_logs_and_the_tracker_database_owner_only(
    shell_umask: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rasa, actions, web = free_ports(3)
    var = tmp_path / "var"
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"not read by the fake child")
    for name in ("RIPOSTE_SECRET_KEY", "RIPOSTE_DATABASE_URL", "TRACKER_STORE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RIPOSTE_VAR_DIR", str(var))
    monkeypatch.setenv("RIPOSTE_MODEL", str(model))
    monkeypatch.setenv("RIPOSTE_RASA_PORT", str(rasa))
    monkeypatch.setenv("RIPOSTE_ACTIONS_PORT", str(actions))
    monkeypatch.setenv("RIPOSTE_WEB_PORT", str(web))

    def fake_children(self: Supervisor) -> list[Child]:
        command = [sys.executable, "-c", _FAKE_RASA, str(var / "tracker.db"), str(rasa)]
        return [Child("rasa", command, f"http://127.0.0.1:{rasa}/", timeout=60)]

    outcome: dict[str, bool] = {}

    def start_then_stop(_args: object) -> int:
        supervisor = Supervisor(Settings.from_env(), out=lambda _line: None)
        try:
            outcome["started"] = supervisor.start()
        finally:
            supervisor.stop()
        return 0

    monkeypatch.setattr(Supervisor, "_children", fake_children)
    monkeypatch.setattr(riposte.cli.serve, "run", start_then_stop)
    assert cli.main(["serve"]) == 0
    assert outcome == {"started": True}
    assert (var / "tracker.db").is_file() and (var / "log" / "rasa.log").is_file()
    assert _open_to_others(var) == []


def test_every_cli_command_runs_under_an_owner_only_umask(shell_umask: None) -> None:
    # A bad option: the command stops before touching the store, the umask is already set.
    assert cli.main(["reminders", "--within", "not-a-number"]) == 2
    current = os.umask(0o022)
    assert current == 0o077


def test_a_letter_is_written_owner_only(shell_umask: None, tmp_path: Path) -> None:
    letter = tmp_path / "plainte.md"
    write_atomic(letter, b"# Plainte\n")
    assert stat.S_IMODE(letter.stat().st_mode) == 0o600


def test_the_action_server_launched_alone_runs_under_an_owner_only_umask(
    shell_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Containers start it without `riposte` (python -m riposte_rasa.action_server)."""
    from riposte_rasa import action_server

    monkeypatch.delenv("RIPOSTE_ACTION_SECRET", raising=False)
    assert action_server.main([]) == 2  # no secret: it stops before serving
    assert os.umask(0o022) == 0o077
