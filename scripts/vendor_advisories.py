"""Vendor the PyPA advisories of requirements.lock's packages, for `make audit-offline`.

The PyPA advisory database (https://github.com/pypa/advisory-database) holds one OSV file per
advisory, `vulns/<package>/<ID>.yaml`. This script reads a git copy of it (a clone or a bare
mirror), keeps only the advisories of the packages pinned in requirements.lock (names compared
after PEP 503 normalisation), and writes them as one compact JSON file that records the source
commit and its date, so that the audit can say how old its knowledge is.

Kept from each advisory: its id, aliases, a one-line summary, and for each affected package of
the lock its ECOSYSTEM ranges (introduced / fixed / last_affected events); the explicit list of
affected versions only when an entry has no ECOSYSTEM range (it repeats the ranges otherwise).
Withdrawn advisories are left out.

Refresh (with internet access):
    git clone https://github.com/pypa/advisory-database /tmp/advisory-database
    .venv/bin/python scripts/vendor_advisories.py --from /tmp/advisory-database

Needs PyYAML (installed in the application's .venv, by Rasa) and git.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
OUTPUT = ROOT / "security" / "advisories" / "pypa-advisory-db.json"
SOURCE = "https://github.com/pypa/advisory-database"
FORMAT = 1
SUMMARY_LENGTH = 200


def normalize(name: str) -> str:
    """PEP 503 name normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_packages(lock_text: str) -> list[str]:
    """The normalised names pinned in requirements.lock."""
    names = {
        normalize(match.group(1))
        for match in re.finditer(r"^([A-Za-z0-9_.-]+)==", lock_text, re.MULTILINE)
    }
    return sorted(names)


def _git(repository: Path, *args: str, data: bytes | None = None) -> bytes:
    result = subprocess.run(
        ["git", "-C", str(repository), *args], input=data, capture_output=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(
            f"git {' '.join(args[:2])} a échoué dans {repository} : "
            f"{result.stderr.decode(errors='replace').strip()}"
        )
    return result.stdout


def _summary(advisory: dict[str, Any]) -> str:
    text = advisory.get("summary") or advisory.get("details") or ""
    text = " ".join(str(text).split())
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"


def compact(advisory: dict[str, Any], wanted: set[str]) -> dict[str, Any] | None:
    """What the audit needs of one OSV advisory, or None if it touches none of `wanted`."""
    if advisory.get("withdrawn"):
        return None
    affected = []
    for entry in advisory.get("affected") or []:
        package = entry.get("package") or {}
        if package.get("ecosystem") != "PyPI" or normalize(package.get("name", "")) not in wanted:
            continue
        ranges = [
            [{key: str(value) for key, value in event.items()} for event in r.get("events", [])]
            for r in entry.get("ranges") or []
            if r.get("type") == "ECOSYSTEM"
        ]
        kept: dict[str, Any] = {"package": normalize(package["name"]), "ranges": ranges}
        if not ranges:
            kept["versions"] = [str(v) for v in entry.get("versions") or []]
        affected.append(kept)
    if not affected:
        return None
    return {
        "id": advisory["id"],
        "aliases": sorted(str(a) for a in advisory.get("aliases") or []),
        "summary": _summary(advisory),
        "affected": affected,
    }


def vendor(repository: Path, revision: str, packages: list[str]) -> dict[str, Any]:
    commit = _git(repository, "rev-parse", f"{revision}^{{commit}}").decode().strip()
    date = _git(repository, "show", "-s", "--format=%cI", commit).decode().strip()
    listing = _git(repository, "ls-tree", "-r", "--name-only", commit, "vulns/").decode()
    wanted = set(packages)
    paths = [
        path
        for path in listing.splitlines()
        if path.endswith((".yaml", ".yml", ".json"))
        and path.count("/") == 2
        and normalize(path.split("/")[1]) in wanted
    ]
    if not paths and listing.strip() == "":
        raise SystemExit(
            f"{repository} ({commit}) n'a pas de dossier vulns/ : est-ce la base PyPA ?"
        )
    batch = "".join(f"{commit}:{path}\n" for path in paths).encode()
    output = _git(repository, "cat-file", "--batch", data=batch)
    advisories = []
    position = 0
    for path in paths:
        header_end = output.index(b"\n", position)
        header = output[position:header_end].split()
        if len(header) != 3:
            raise SystemExit(f"{path} illisible dans {repository} ({commit})")
        size = int(header[2])
        body = output[header_end + 1 : header_end + 1 + size]
        position = header_end + 1 + size + 1
        kept = compact(yaml.safe_load(body), wanted)
        if kept is not None:
            advisories.append(kept)
    advisories.sort(key=lambda a: (a["affected"][0]["package"], a["id"]))
    return {
        "format": FORMAT,
        "source": {"repository": SOURCE, "commit": commit, "date": date},
        "packages": packages,
        "advisories": advisories,
    }


def dumps(snapshot: dict[str, Any]) -> str:
    """JSON with one advisory a line: compact, and a refresh reads well in `git diff`."""
    head = {key: value for key, value in snapshot.items() if key != "advisories"}
    lines = [json.dumps(head, ensure_ascii=False, sort_keys=True)[:-1] + ', "advisories": [']
    rows = [json.dumps(a, ensure_ascii=False, sort_keys=True) for a in snapshot["advisories"]]
    lines += [row + ("," if number < len(rows) - 1 else "") for number, row in enumerate(rows)]
    return "\n".join(lines) + "\n]}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Extrait de la base PyPA les avis des paquets de requirements.lock."
    )
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        required=True,
        help="a git copy of pypa/advisory-database (clone or bare mirror)",
    )
    parser.add_argument("--rev", default="HEAD", help="the commit to read (default: HEAD)")
    parser.add_argument("--lock", type=Path, default=LOCK)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    packages = locked_packages(args.lock.read_text(encoding="utf-8"))
    snapshot = vendor(args.source, args.rev, packages)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(dumps(snapshot), encoding="utf-8")
    print(
        f"{len(snapshot['advisories'])} avis pour {len(packages)} paquets, base du "
        f"{snapshot['source']['date'][:10]} (commit {snapshot['source']['commit'][:12]}) "
        f"→ {args.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
