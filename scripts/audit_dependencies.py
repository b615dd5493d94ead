"""`make audit`: the known vulnerabilities of requirements.lock, with pip-audit.

pip-audit runs from its own virtual environment (.venv-audit, created by the Makefile), never
from the application's. It checks every pinned version of requirements.lock against a public
vulnerability database (PyPI's JSON API by default, or OSV with `--service osv`) and fails on
any vulnerability, except those listed in security/known-vulnerabilities.txt, each with the
reason Riposte does not reach it (see docs/security-dependencies.md).

Before auditing, the database is checked to answer: when it cannot be reached, the audit
fails with a French message rather than reporting nothing (pip-audit would otherwise skip the
packages it cannot look up). Standard library only for this mode: any Python 3 runs it.

`--offline FILE` (`make audit-offline`, run by CI): no network at all. The advisories come from
FILE, a dated extract of the PyPA advisory database (scripts/vendor_advisories.py); each pinned
version is checked against their affected ranges, with `packaging` (in the application's .venv)
comparing versions. The same list of examined vulnerabilities applies. Every run prints the
date of the extract: what was published since is unknown to it, `make audit` checks it.

Exit status: 0 nothing to report; 1 a vulnerability not listed, or an error of the list (or of
the extract); 2 the vulnerability database cannot be reached.
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
KNOWN = ROOT / "security" / "known-vulnerabilities.txt"
ADVISORIES = ROOT / "security" / "advisories" / "pypa-advisory-db.json"

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


def normalize(name: str) -> str:
    """PEP 503 name normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_pins(lock_text: str) -> dict[str, str]:
    """{normalised name: pinned version} of requirements.lock."""
    return {
        normalize(match.group(1)): match.group(2)
        for match in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", lock_text, re.MULTILINE)
    }


@dataclass(frozen=True)
class Hit:
    """An advisory whose affected ranges include a pinned version."""

    package: str
    version: str
    ident: str
    aliases: tuple[str, ...]
    fixed: tuple[str, ...]  # the fixed versions above the pinned one; empty: no fix published
    summary: str


class SnapshotError(ValueError):
    """The vendored advisories cannot be used (message in French)."""


def _affects(version: Any, entry: dict[str, Any], parse: Any) -> tuple[bool, list[str]]:
    """Whether an OSV `affected` entry covers `version`, and the fixed versions above it.

    OSV semantics for ECOSYSTEM ranges: walk the events in version order; `introduced` opens
    the range, `fixed` closes it before that version, `last_affected` just after it.
    """
    hit = any(parse(listed) == version for listed in entry.get("versions", []))
    fixed: list[str] = []

    def order(event: dict[str, str]) -> tuple[bool, Any]:
        """Sort key: `introduced: "0"` (from the very first version) before everything."""
        kind, value = next(iter(event.items()))
        zero = kind == "introduced" and value == "0"
        return (not zero, None if zero else parse(value))

    for events in entry.get("ranges", []):
        inside = False
        for event in sorted(events, key=order):
            kind, value = next(iter(event.items()))
            if kind == "introduced" and (value == "0" or version >= parse(value)):
                inside = True
            elif kind == "fixed" and version >= parse(value):
                inside = False
            elif kind == "last_affected" and version > parse(value):
                inside = False
        if inside:
            hit = True
            fixed += [e["fixed"] for e in events if "fixed" in e and parse(e["fixed"]) > version]
    return hit, sorted(set(fixed), key=parse)


def offline_hits(snapshot: dict[str, Any], pins: dict[str, str]) -> list[Hit]:
    """The advisories of `snapshot` that affect a version pinned in `pins`."""
    from packaging.version import InvalidVersion, Version

    def parse(text: str) -> Version:
        try:
            return Version(text)
        except InvalidVersion as error:
            raise SnapshotError(f"version illisible « {text} »") from error

    hits = []
    for advisory in snapshot["advisories"]:
        for entry in advisory["affected"]:
            pinned = pins.get(entry["package"])
            if pinned is None:
                continue
            try:
                hit, fixed = _affects(parse(pinned), entry, parse)
            except SnapshotError as error:
                raise SnapshotError(f"{advisory['id']} ({entry['package']}) : {error}") from None
            if hit:
                hits.append(
                    Hit(
                        entry["package"],
                        pinned,
                        advisory["id"],
                        tuple(advisory.get("aliases", ())),
                        tuple(fixed),
                        advisory.get("summary", ""),
                    )
                )
    return hits


def snapshot_day(snapshot: dict[str, Any]) -> str:
    """The date of the extract's source commit, as DD/MM/YYYY."""
    year, month, day = snapshot["source"]["date"][:10].split("-")
    return f"{day}/{month}/{year}"


def load_snapshot(path: Path) -> dict[str, Any]:
    """The vendored extract, checked to have what the audit reads."""
    try:
        snapshot = json.loads(path.read_text(encoding="utf-8"))
        problem = None
        if not isinstance(snapshot, dict) or not {"source", "packages", "advisories"} <= set(
            snapshot
        ):
            problem = "source, packages ou advisories manquant"
        elif not {"date", "commit"} <= set(snapshot["source"]):
            problem = "date ou commit de la source manquant"
    except (OSError, ValueError) as error:
        problem = str(error)
    if problem is not None:
        raise SnapshotError(
            f"{path} illisible ({problem}) : régénérez-le avec scripts/vendor_advisories.py"
        )
    return dict(snapshot)


def audit_offline(path: Path, known: list[KnownEntry], lock_text: str) -> int:
    """`make audit-offline`: requirements.lock against a dated extract, without network."""
    try:
        snapshot = load_snapshot(path)
        pins = locked_pins(lock_text)
        hits = offline_hits(snapshot, pins)
    except SnapshotError as error:
        print(f"Audit impossible : {error}", file=sys.stderr)
        return EXIT_VULNERABLE
    print(
        f"Audit hors ligne, base de vulnérabilités du {snapshot_day(snapshot)} : les failles "
        "publiées depuis ne sont pas connues de cet audit ; `make audit` avec accès réseau les "
        f"vérifie. (Extrait de la base PyPA, commit {snapshot['source']['commit'][:12]}.)"
    )
    skipped = {e.package for e in known if e.kind == "skip"}
    uncovered = sorted(set(pins) - set(snapshot["packages"]) - skipped)
    if uncovered:
        print(
            f"Audit en échec : {', '.join(uncovered)} (dans requirements.lock) n'ont pas été "
            f"extraits de la base. Relancez scripts/vendor_advisories.py (voir "
            "docs/security-dependencies.md).",
            file=sys.stderr,
        )
        return EXIT_VULNERABLE
    listed = {e.ident for e in known if e.kind == "vuln"}
    examined = [h for h in hits if listed & {h.ident, *h.aliases}]
    new = [h for h in hits if h not in examined]
    for hit in new:
        fix = (
            f"corrigé en {', '.join(hit.fixed)}" if hit.fixed else "aucune version corrigée publiée"
        )
        aliases = f" ({', '.join(hit.aliases)})" if hit.aliases else ""
        print(
            f"  {hit.package} {hit.version} : {hit.ident}{aliases} — {fix}\n    {hit.summary}",
            file=sys.stderr,
        )
    if new:
        print(
            f"Audit en échec : {len(new)} vulnérabilité(s) connue(s) touchent une version de "
            "requirements.lock sans avoir été examinées. Mettez le paquet à jour dans les bornes "
            "de Rasa ; ou, si Riposte n'atteint pas le code en cause (ou si aucune version "
            f"corrigée n'existe et le risque est maîtrisé), ajoutez l'identifiant à "
            f"{KNOWN.relative_to(ROOT)} avec la raison, et à docs/security-dependencies.md.",
            file=sys.stderr,
        )
        return EXIT_VULNERABLE
    print(
        f"Audit hors ligne : {len(pins)} paquets vérifiés ; avis touchant une version "
        f"verrouillée : {len(examined)}, tous examinés et listés ; aucune autre vulnérabilité "
        "connue."
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Audit de requirements.lock avec pip-audit.")
    parser.add_argument("--pip-audit", default="pip-audit", help="the pip-audit executable")
    parser.add_argument("--service", choices=sorted(PROBES), default="pypi")
    parser.add_argument(
        "--offline",
        type=Path,
        metavar="FILE",
        help="no network: audit against FILE, an extract made by scripts/vendor_advisories.py",
    )
    args = parser.parse_args(argv)

    try:
        known = read_known(KNOWN.read_text(encoding="utf-8"))
    except ListError as error:
        print(f"{KNOWN.relative_to(ROOT)} : {error}", file=sys.stderr)
        return EXIT_VULNERABLE
    if args.offline is not None:
        return audit_offline(args.offline, known, LOCK.read_text(encoding="utf-8"))
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
