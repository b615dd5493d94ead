"""`make audit`: the known vulnerabilities of requirements.lock, with pip-audit.

pip-audit runs from its own virtual environment (.venv-audit, created by the Makefile), never
from the application's. It checks every pinned version of requirements.lock against a public
vulnerability database (PyPI's JSON API by default, or OSV with `--service osv`) and fails on
any vulnerability, except those listed in security/known-vulnerabilities.txt, each with the
reason Riposte does not reach it (see docs/security-dependencies.md).

Before auditing, the database is checked to answer: when it cannot be reached, the audit
fails with a French message rather than reporting nothing (pip-audit would otherwise skip the
packages it cannot look up). Standard library only: any Python 3 runs this file.

Exit status: 0 nothing to report; 1 a vulnerability not listed, or an error of the list;
2 the vulnerability database cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
KNOWN = ROOT / "security" / "known-vulnerabilities.txt"

# A request each service must answer for pip-audit to work: the JSON of one version of one
# package (PyPI), one query (OSV). A mirror that serves only the project pages answers 404.
PROBES = {
    "pypi": ("https://pypi.org/pypi/pip/24.0/json", None),
    "osv": (
        "https://api.osv.dev/v1/query",
        {"package": {"name": "pip", "ecosystem": "PyPI"}, "version": "24.0"},
    ),
}
EXIT_VULNERABLE = 1
EXIT_UNREACHABLE = 2

_LINE = re.compile(r"^(?P<kind>vuln|skip)\s+(?P<id>\S+)\s+(?P<package>\S+)\s+(?P<reason>.*\S)?\s*$")


@dataclass(frozen=True)
class KnownEntry:
    kind: str  # "vuln": a vulnerability id to ignore; "skip": a package not on PyPI
    ident: str
    package: str
    reason: str


class ListError(ValueError):
    """security/known-vulnerabilities.txt is malformed (message in French)."""


def read_known(text: str) -> list[KnownEntry]:
    """The entries of security/known-vulnerabilities.txt; each one must give its reason."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line.strip())
        if match is None or not match.group("reason") or len(match.group("reason")) < 20:
            raise ListError(
                f"ligne {number} : « {line.strip()} » — attendu « vuln IDENTIFIANT paquet "
                "raison » ou « skip - paquet raison », la raison en une phrase."
            )
        entries.append(
            KnownEntry(match["kind"], match["id"], match["package"].lower(), match["reason"])
        )
    return entries


def service_problem(service: str, timeout: float = 15.0) -> str | None:
    """None when `service` answers as pip-audit needs it; else what went wrong, in French."""
    url, body = PROBES[service]
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            json.loads(response.read())
    except urllib.error.HTTPError as error:
        return f"{url} répond {error.code}"
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return f"{url} injoignable ({reason})"
    except ValueError:
        return f"{url} ne répond pas en JSON"
    return None


def audited_lock(lock_text: str, skipped: set[str]) -> str:
    """requirements.lock without the packages that are not on PyPI (listed with a reason)."""
    kept = []
    for line in lock_text.splitlines():
        name = re.match(r"^([A-Za-z0-9_.-]+)==", line)
        if name and re.sub(r"[-_.]+", "-", name.group(1)).lower() in skipped:
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Audit de requirements.lock avec pip-audit.")
    parser.add_argument("--pip-audit", default="pip-audit", help="the pip-audit executable")
    parser.add_argument("--service", choices=sorted(PROBES), default="pypi")
    args = parser.parse_args(argv)

    try:
        known = read_known(KNOWN.read_text(encoding="utf-8"))
    except ListError as error:
        print(f"{KNOWN.relative_to(ROOT)} : {error}", file=sys.stderr)
        return EXIT_VULNERABLE
    problem = service_problem(args.service)
    if problem is not None:
        print(
            f"Audit impossible : la base de vulnérabilités ({args.service}) ne répond pas "
            f"comme il faut : {problem}. Aucun résultat n'est donné plutôt qu'un faux « rien à "
            "signaler ». Lancez « make audit » depuis une machine qui accède à Internet"
            + (" (ou essayez AUDIT_SERVICE=osv)." if args.service == "pypi" else "."),
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    skipped = {e.package for e in known if e.kind == "skip"}
    ignored = [e.ident for e in known if e.kind == "vuln"]
    with tempfile.TemporaryDirectory(prefix="riposte-audit-") as directory:
        requirements = Path(directory) / "requirements.txt"
        requirements.write_text(audited_lock(LOCK.read_text(encoding="utf-8"), skipped))
        command = [
            args.pip_audit,
            "--requirement",
            str(requirements),
            "--no-deps",  # the lock pins every package: nothing to resolve
            "--disable-pip",
            "--strict",  # a package that cannot be looked up fails the audit
            "--vulnerability-service",
            args.service,
            "--aliases",
            "on",
            "--desc",
            "off",
            "--progress-spinner",
            "off",
        ]
        for ident in ignored:
            command += ["--ignore-vuln", ident]
        result = subprocess.run(command, check=False)
    if result.returncode != 0:
        print(
            "Audit en échec : une vulnérabilité connue touche une version de requirements.lock "
            "(ou un paquet n'a pas pu être vérifié). Mettez le paquet à jour dans les bornes de "
            "Rasa, ou, si Riposte n'atteint pas le code en cause, ajoutez l'identifiant à "
            f"{KNOWN.relative_to(ROOT)} avec la raison, et à docs/security-dependencies.md.",
            file=sys.stderr,
        )
        return EXIT_VULNERABLE
    print(f"Audit : aucune vulnérabilité connue hors des {len(ignored)} examinées et listées.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
