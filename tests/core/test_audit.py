"""`make audit` (scripts/audit_dependencies.py): pip-audit on requirements.lock, never silent.

No test here reaches a real vulnerability database: the probe is pointed at a local server
(answering, or not), and pip-audit is replaced by a stand-in that records what it was given.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import re
import socket
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "audit_dependencies", ROOT / "scripts" / "audit_dependencies.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


audit = _load()


def _locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text("utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return pins


class _JsonHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = b'{"info": {}, "vulnerabilities": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def answering_service() -> Iterator[str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _JsonHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/pypi/pip/24.0/json"
    finally:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _fake_pip_audit(tmp_path: Path, status: int) -> tuple[Path, Path]:
    """An executable that records its arguments and the requirements it was given."""
    record = tmp_path / "record.json"
    program = tmp_path / "pip-audit"
    program.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "args = sys.argv[1:]\n"
        "requirements = open(args[args.index('--requirement') + 1]).read()\n"
        f"json.dump({{'args': args, 'requirements': requirements}}, open({str(record)!r}, 'w'))\n"
        f"sys.exit({status})\n"
    )
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return program, record


# ------------------------------------------------------------------------------- the list


def test_every_listed_vulnerability_has_its_reason_and_its_row_in_the_docs() -> None:
    known = audit.read_known((ROOT / "security" / "known-vulnerabilities.txt").read_text("utf-8"))
    docs = (ROOT / "docs" / "security-dependencies.md").read_text("utf-8")
    pins = _locked()
    assert [e for e in known if e.kind == "vuln"], "the examined vulnerabilities are listed"
    for entry in known:
        assert entry.package in pins, f"{entry.package} is not in requirements.lock"
        assert len(entry.reason) >= 20
        if entry.kind == "vuln":
            row = next((r for r in docs.splitlines() if r.startswith(f"| {entry.ident} |")), None)
            assert row, f"{entry.ident}: no row in docs/security-dependencies.md"
            assert f"{entry.package} {pins[entry.package]}" in row, row


@pytest.mark.parametrize(
    "line",
    [
        "vuln CVE-2024-52304 aiohttp",  # no reason
        "vuln CVE-2024-52304 aiohttp court",  # a word is not a reason
        "ignore CVE-2024-52304 aiohttp serveur seulement, client ici",  # unknown kind
    ],
)
def test_a_line_without_its_reason_is_refused(line: str) -> None:
    with pytest.raises(audit.ListError, match="ligne 2"):
        audit.read_known("# comment\n" + line + "\n")


# ------------------------------------------------------------------------------- the run


def test_an_unreachable_database_fails_with_a_french_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(audit.PROBES, "pypi", (f"http://127.0.0.1:{_closed_port()}/x", None))
    program, record = _fake_pip_audit(tmp_path, 0)
    assert audit.main(["--pip-audit", str(program)]) == audit.EXIT_UNREACHABLE
    error = capsys.readouterr().err
    assert error.startswith("Audit impossible : la base de vulnérabilités (pypi)")
    assert "injoignable" in error
    assert not record.exists(), "pip-audit is not run: it would skip what it cannot look up"


class _NotFoundHandler(http.server.BaseHTTPRequestHandler):
    """A partial mirror: the project pages, not the JSON of one version (404)."""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def test_a_mirror_without_the_per_version_json_is_not_a_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _NotFoundHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/pypi/pip/24.0/json"
        monkeypatch.setitem(audit.PROBES, "pypi", (url, None))
        assert audit.service_problem("pypi") == f"{url} répond 404"
    finally:
        server.shutdown()
        server.server_close()


def test_pip_audit_gets_the_lock_strictly_with_the_examined_ids(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, answering_service: str
) -> None:
    monkeypatch.setitem(audit.PROBES, "pypi", (answering_service, None))
    program, record = _fake_pip_audit(tmp_path, 0)
    assert audit.main(["--pip-audit", str(program)]) == 0
    given = json.loads(record.read_text())
    args = given["args"]
    for flag in ("--strict", "--no-deps", "--disable-pip"):
        assert flag in args
    assert args[args.index("--vulnerability-service") + 1] == "pypi"
    ignored = {args[i + 1] for i, a in enumerate(args) if a == "--ignore-vuln"}
    known = audit.read_known((ROOT / "security" / "known-vulnerabilities.txt").read_text("utf-8"))
    assert ignored == {e.ident for e in known if e.kind == "vuln"}
    audited = {re.sub(r"==.*", "", line) for line in given["requirements"].splitlines()}
    skipped = {e.package for e in known if e.kind == "skip"}
    assert skipped and not skipped & audited
    assert set(_locked()) - skipped <= audited, "every other locked package is audited"


def test_a_vulnerability_pip_audit_reports_fails_the_audit(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    answering_service: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(audit.PROBES, "pypi", (answering_service, None))
    program, _record = _fake_pip_audit(tmp_path, 1)
    assert audit.main(["--pip-audit", str(program)]) == audit.EXIT_VULNERABLE
    assert "Audit en échec" in capsys.readouterr().err


# ------------------------------------------------------------------------------- the target


def test_make_audit_uses_its_own_environment() -> None:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    target = re.search(r"^audit: (.*)\n((?:\t.*\n)+)", makefile, re.M)
    assert target, "a `make audit` target"
    recipe = target.group(2)
    assert "scripts/audit_dependencies.py" in recipe and "$(AUDIT_VENV)/bin/" in recipe
    assert re.search(r"^AUDIT_VENV\s*:=\s*\.venv-audit$", makefile, re.M)
    assert re.search(r"^PIP_AUDIT_VERSION\s*:=\s*[0-9.]+$", makefile, re.M), "pinned"
    assert "$(BIN)" not in recipe, "never the application's .venv"
    assert ".venv-audit/" in (ROOT / ".gitignore").read_text("utf-8").split()
    assert ".venv-audit" in (ROOT / ".dockerignore").read_text("utf-8").split()
