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


# ------------------------------------------------------------------------------- offline

ADVISORIES = ROOT / "security" / "advisories" / "pypa-advisory-db.json"
KNOWN_TEXT = (ROOT / "security" / "known-vulnerabilities.txt").read_text("utf-8")


def _snapshot(tmp_path: Path, *advisories: dict[str, object]) -> Path:
    """A vendored file covering every locked package, with the given advisories."""
    path = tmp_path / "advisories.json"
    source = {"repository": "x", "commit": "a" * 40, "date": "2024-10-10T17:35:05+00:00"}
    body = {"format": 1, "source": source, "packages": sorted(_locked()), "advisories": advisories}
    path.write_text(json.dumps(body), "utf-8")
    return path


def _advisory(package: str, *events: dict[str, str], ident: str = "PYSEC-2099-1") -> dict:
    return {
        "id": ident,
        "aliases": ["CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"],
        "summary": "un défaut inventé pour le test",
        "affected": [{"package": package, "ranges": [list(events)]}],
    }


def _offline(path: Path, known: str = KNOWN_TEXT) -> int:
    lock = (ROOT / "requirements.lock").read_text("utf-8")
    return int(audit.audit_offline(path, audit.read_known(known), lock))


def test_an_advisory_on_a_pinned_version_fails_the_offline_audit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    aiohttp = _locked()["aiohttp"]
    path = _snapshot(tmp_path, _advisory("aiohttp", {"introduced": "0"}, {"fixed": "99.0"}))
    assert _offline(path) == audit.EXIT_VULNERABLE
    out = capsys.readouterr()
    assert "base de vulnérabilités du 10/10/2024" in out.out
    assert f"aiohttp {aiohttp} : PYSEC-2099-1 (CVE-2099-0001, GHSA-aaaa-bbbb-cccc)" in out.err
    assert "corrigé en 99.0" in out.err
    assert "Audit en échec : 1 vulnérabilité(s)" in out.err


def test_an_advisory_without_a_fix_fails_too_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _snapshot(tmp_path, _advisory("aiohttp", {"introduced": "1.0"}))
    assert _offline(path) == audit.EXIT_VULNERABLE
    assert "PYSEC-2099-1 (CVE-2099-0001, GHSA-aaaa-bbbb-cccc) — aucune version corrigée" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("listed", ["PYSEC-2099-1", "CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"])
def test_an_advisory_listed_with_its_reason_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], listed: str
) -> None:
    path = _snapshot(tmp_path, _advisory("aiohttp", {"introduced": "0"}, {"fixed": "99.0"}))
    known = f"vuln {listed} aiohttp code du serveur aiohttp, Riposte n'en a pas\n"
    assert _offline(path, known) == 0
    assert "avis touchant une version verrouillée : 1, tous examinés" in capsys.readouterr().out


def _around(version: str) -> tuple[str, str]:
    """A version just below and just above `version` (PEP 440)."""
    return version + ".dev0", version + ".post1"


@pytest.mark.parametrize(
    "events_for",
    [
        lambda v, below, above: [{"introduced": "0"}, {"fixed": v}],  # fixed in the pin
        lambda v, below, above: [{"introduced": above}],  # introduced after the pin
        lambda v, below, above: [{"introduced": "0"}, {"last_affected": below}],
        # two intervals, the pin in the gap between them (events out of order)
        lambda v, below, above: [
            {"introduced": above},
            {"fixed": below},
            {"fixed": "99.0"},
            {"introduced": "0"},
        ],
    ],
)
def test_a_pinned_version_outside_the_ranges_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], events_for: object
) -> None:
    version = _locked()["aiohttp"]
    events = events_for(version, *_around(version))  # type: ignore[operator]
    path = _snapshot(tmp_path, _advisory("aiohttp", *events))
    assert _offline(path) == 0, capsys.readouterr().err


@pytest.mark.parametrize(
    "events_for",
    [
        lambda v, below, above: [{"introduced": v}, {"fixed": above}],
        lambda v, below, above: [{"introduced": "0"}, {"last_affected": v}],
        lambda v, below, above: [
            {"fixed": "0.1"},
            {"introduced": below},
            {"introduced": "0"},
            {"fixed": above},
        ],
    ],
)
def test_a_pinned_version_inside_the_ranges_fails(tmp_path: Path, events_for: object) -> None:
    version = _locked()["aiohttp"]
    events = events_for(version, *_around(version))  # type: ignore[operator]
    path = _snapshot(tmp_path, _advisory("aiohttp", *events))
    assert _offline(path) == audit.EXIT_VULNERABLE


def test_a_locked_package_missing_from_the_extract_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _snapshot(tmp_path)
    body = json.loads(path.read_text("utf-8"))
    body["packages"].remove("aiohttp")
    path.write_text(json.dumps(body), "utf-8")
    assert _offline(path) == audit.EXIT_VULNERABLE
    assert "aiohttp (dans requirements.lock) n'ont pas été extraits" in capsys.readouterr().err


def test_an_unreadable_extract_fails_with_a_french_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "advisories.json"
    path.write_text("{}", "utf-8")
    assert _offline(path) == audit.EXIT_VULNERABLE
    assert "régénérez-le avec scripts/vendor_advisories.py" in capsys.readouterr().err


def test_the_vendored_extract_finds_only_examined_vulnerabilities_in_the_lock(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The CI gate itself: every advisory of the extract that hits the lock is listed."""
    snapshot = audit.load_snapshot(ADVISORIES)
    assert snapshot["source"]["repository"] == "https://github.com/pypa/advisory-database"
    assert re.fullmatch(r"[0-9a-f]{40}", snapshot["source"]["commit"])
    hits = audit.offline_hits(snapshot, _locked())
    listed = {e.ident for e in audit.read_known(KNOWN_TEXT) if e.kind == "vuln"}
    assert hits, "the extract does reach the lock (black's advisory at least)"
    for hit in hits:
        assert listed & {hit.ident, *hit.aliases}, f"{hit} is not examined"
    assert audit.main(["--offline", str(ADVISORIES)]) == 0
    day = audit.snapshot_day(snapshot)
    assert f"base de vulnérabilités du {day} : " in capsys.readouterr().out


def test_ci_runs_the_offline_audit_first() -> None:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    target = re.search(r"^audit-offline: (.*)\n((?:\t.*\n)+)", makefile, re.M)
    assert target, "a `make audit-offline` target"
    assert "--offline $(ADVISORIES)" in target.group(2)
    assert "security/advisories/pypa-advisory-db.json" in makefile
    commands = [
        line
        for line in (ROOT / ".ci" / "run").read_text("utf-8").splitlines()
        if line.startswith("make ")
    ]
    assert commands == ["make audit-offline", "make test"]


# ------------------------------------------------------------------------------- vendoring


def _load_vendor() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "vendor_advisories", ROOT / "scripts" / "vendor_advisories.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vendoring_keeps_the_locked_packages_and_records_the_commit(tmp_path: Path) -> None:
    import subprocess

    vendor = _load_vendor()
    database = tmp_path / "advisory-database"
    files = {
        # directory spelt otherwise than the lock: PEP 503 normalisation
        "vulns/Python_SocketIO/PYSEC-1.yaml": (
            "id: PYSEC-1\naliases: [CVE-1]\ndetails: détails\naffected:\n"
            "- package: {name: python-socketio, ecosystem: PyPI}\n"
            "  ranges:\n  - type: GIT\n    events: [{introduced: '0'}, {fixed: abc}]\n"
            "  - type: ECOSYSTEM\n    events: [{introduced: '0'}, {fixed: 5.1.0}]\n"
            "  versions: ['5.0']\n"
        ),
        "vulns/python-socketio/PYSEC-2.yaml": (
            "id: PYSEC-2\nwithdrawn: '2023-01-01T00:00:00Z'\naffected:\n"
            "- package: {name: python-socketio, ecosystem: PyPI}\n"
            "  ranges:\n  - type: ECOSYSTEM\n    events: [{introduced: '0'}]\n"
        ),
        "vulns/notlocked/PYSEC-3.yaml": (
            "id: PYSEC-3\naffected:\n- package: {name: notlocked, ecosystem: PyPI}\n"
            "  ranges:\n  - type: ECOSYSTEM\n    events: [{introduced: '0'}]\n"
        ),
    }
    for name, text in files.items():
        (database / name).parent.mkdir(parents=True, exist_ok=True)
        (database / name).write_text(text, "utf-8")
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "GIT_COMMITTER_DATE": "2024-10-10T17:35:05+00:00",
        "PATH": "/usr/bin:/bin",
    }
    for command in (["init", "-q"], ["add", "."], ["commit", "-qm", "db"]):
        subprocess.run(["git", "-C", str(database), *command], check=True, env=env)
    lock = tmp_path / "requirements.lock"
    lock.write_text("Python-SocketIO==5.0\n    # via rasa\naiohttp==3.9.5\n", "utf-8")
    output = tmp_path / "out.json"
    args = ["--from", str(database), "--lock", str(lock), "--output", str(output)]
    assert vendor.main(args) == 0
    snapshot = json.loads(output.read_text("utf-8"))
    commit = subprocess.run(
        ["git", "-C", str(database), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert snapshot["source"]["commit"] == commit
    assert snapshot["source"]["date"] == "2024-10-10T17:35:05+00:00"
    assert snapshot["packages"] == ["aiohttp", "python-socketio"]
    assert snapshot["advisories"] == [
        {
            "id": "PYSEC-1",
            "aliases": ["CVE-1"],
            "summary": "détails",
            "affected": [
                {
                    "package": "python-socketio",
                    "ranges": [[{"introduced": "0"}, {"fixed": "5.1.0"}]],
                }
            ],
        }
    ]
    assert audit.offline_hits(snapshot, {"python-socketio": "5.0"})[0].fixed == ("5.1.0",)
