"""Export a case as a ZIP ready to annex to a complaint.

The archive holds:

* `pieces/NN-name.ext`: the evidence files, decrypted, numbered as in the journal;
* `bordereau.pdf`: the numbered list of exhibits (dates, URLs, SHA-256 fingerprints), rendered
  by WeasyPrint from `templates/bordereau.html.j2`;
* `bordereau.json`: the same list, for machines;
* `case.json`: the case in the shared format, each `file` pointing into `pieces/` (so the
  unzipped folder can be imported again with `riposte case import case.json`).

Each file's fingerprint is checked against the journal before it is written. The archive
contains personal data in clear: it is created with mode 0600.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from riposte.store.config import ROOT
from riposte.store.errors import StoreError, message
from riposte.store.records import CaseRecord, EvidenceRecord
from riposte.store.repository import CaseRepository
from riposte.text import ascii_name, date_fr, datetime_fr, number_fr

TEMPLATES_DIR = ROOT / "templates"
BORDEREAU_TEMPLATE = "bordereau.html.j2"
BORDEREAU_FORMAT = "riposte-bordereau/1"


@dataclass(frozen=True)
class BundleReport:
    path: Path
    pieces: int
    files: int
    sha256: str


# --------------------------------------------------------------------------- templates


def format_datetime(value: datetime | str) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    text = datetime_fr(value)
    offset = value.utcoffset()
    if offset is None:
        return text
    if not offset:
        return f"{text} UTC"
    return f"{text} UTC{value.strftime('%z')[:3]}:{value.strftime('%z')[3:]}"


def format_date(value: date | str) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return date_fr(value)


@functools.lru_cache(maxsize=1)
def template_environment() -> SandboxedEnvironment:
    """The strict, sandboxed, autoescaping environment of the bundle's templates."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters["datetime_fr"] = format_datetime
    env.filters["date_fr"] = format_date
    env.filters["thousands"] = number_fr
    return env


def render_bordereau_html(context: dict[str, Any]) -> str:
    return template_environment().get_template(BORDEREAU_TEMPLATE).render(**context)


def _refuse_fetch(url: str, timeout: int = 10, ssl_context: Any = None) -> dict[str, Any]:
    raise ValueError("the bordereau template must not load external resources")


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(
        string=html, base_url=str(TEMPLATES_DIR), url_fetcher=_refuse_fetch
    ).write_pdf()
    return pdf


# --------------------------------------------------------------------------- the bundle


def piece_name(record: EvidenceRecord) -> str:
    original = Path(record.item.file or "").name
    safe = ascii_name(original, 80) or "piece"
    return f"pieces/{record.number:02d}-{safe}"


def _pieces(
    repo: CaseRepository, record: CaseRecord
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    pieces: list[dict[str, Any]] = []
    files: dict[str, bytes] = {}
    for ev in record.evidence:
        name = None
        if ev.has_file:
            data = repo.evidence_content(record.code, ev.number) or b""
            if hashlib.sha256(data).hexdigest() != ev.item.sha256:
                raise StoreError(message("bundle.fingerprint_changed", number=ev.number))
            name = piece_name(ev)
            files[name] = data
        item = ev.item
        pieces.append(
            {
                "number": ev.number,
                "file": name,
                "size": ev.file_size,
                "sha256": item.sha256,
                "url": item.url,
                "captured_at": item.captured_at.isoformat() if item.captured_at else None,
                "published_at": item.published_at.isoformat() if item.published_at else None,
                "recorded_at": ev.recorded_at.isoformat(),
                "author": item.author,
                "excerpt": item.excerpt,
            }
        )
    return pieces, files


def _party(record: CaseRecord) -> str | None:
    victim = record.case.victim
    words = [victim.title, victim.first_name, victim.last_name]
    text = " ".join(w for w in words if w)
    return text or None


def _case_json(record: CaseRecord, pieces: list[dict[str, Any]]) -> dict[str, Any]:
    data = record.to_dict()
    for item, piece in zip(data.get("evidence", []), pieces, strict=True):
        if piece["file"] is not None:
            item["file"] = piece["file"]
    return data


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def export_bundle(
    repo: CaseRepository,
    code: str,
    destination: Path,
    *,
    actor: str = "cli",
    now: datetime | None = None,
) -> BundleReport:
    """Write the bundle of case `code` to `destination` (replaced atomically if present)."""
    record = repo.read_case(code, actor=actor, action="exported")
    generated = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    pieces, files = _pieces(repo, record)
    bordereau = {
        "format": BORDEREAU_FORMAT,
        "code": record.code,
        "generated_at": generated.isoformat(),
        "hash_algorithm": "SHA-256",
        "pieces": pieces,
    }
    html = render_bordereau_html(
        {
            "code": record.code,
            "generated_at": generated,
            "party": _party(record),
            "court_city": record.case.court_city,
            "pieces": pieces,
        }
    )
    members = {
        "bordereau.pdf": render_pdf(html),
        "bordereau.json": _json_bytes(bordereau),
        "case.json": _json_bytes(_case_json(record, pieces)),
        **files,
    }
    _write_zip(destination, members, generated)
    digest = hashlib.sha256(destination.read_bytes()).hexdigest()
    return BundleReport(destination, len(pieces), len(files), digest)


def _write_zip(destination: Path, members: dict[str, bytes], when: datetime) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    stamp = when.timetuple()[:6]
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
            for name, data in members.items():
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                archive.writestr(info, data)
        os.replace(temporary, destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
