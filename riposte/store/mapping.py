"""Split the shared case format into clear facts and sealed details, and join them back.

Only the fields listed here are stored in clear: the incident facts the deadlines depend on
(the author's relation included: it decides whether outrage applies), the capture date, the
publication date (each statement's press deadline runs from it) and the fingerprint of
evidence items. `physical_danger`, which changes the advice but no deadline, is sealed.
Everything else, including any field added to the case format later, goes to the encrypted
`details` (privacy by default).
"""

from __future__ import annotations

from datetime import date
from typing import Any

CLEAR_INCIDENT_FIELDS = (
    "platforms",
    "offenses",
    "discriminatory",
    "first_published",
    "last_seen",
    "volume",
    "public",
    "last_seen_offending",
)
# `physical_danger` changes the advice, not the deadlines: sealed in the details when true;
# its column (NOT NULL) is written false, and rows written before keep it there.
SEALED_INCIDENT_FLAGS = ("physical_danger",)
CLEAR_AUTHOR_FIELDS = ("known", "relation")
CLEAR_EVIDENCE_FIELDS = ("captured_at", "sha256", "published_at")
INCIDENT_COLUMNS = (
    *CLEAR_INCIDENT_FIELDS,
    *SEALED_INCIDENT_FLAGS,
    "author_known",
    "author_relation",
)


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def split_incident(incident: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(column values of `IncidentRow`, details to seal) for an incident in the shared format."""
    author = dict(incident.get("author") or {})
    columns = {
        "platforms": list(incident.get("platforms") or []),
        "offenses": list(incident.get("offenses") or []),
        "discriminatory": bool(incident.get("discriminatory")),
        "first_published": _date(incident.get("first_published")),
        "last_seen": _date(incident.get("last_seen")),
        "volume": incident.get("volume"),
        "public": incident.get("public"),
        "physical_danger": False,
        "last_seen_offending": incident.get("last_seen_offending"),
        "author_known": author.get("known"),
        "author_relation": author.get("relation"),
    }
    details = {k: v for k, v in incident.items() if k not in CLEAR_INCIDENT_FIELDS}
    for flag in SEALED_INCIDENT_FLAGS:
        if not details.get(flag):
            details.pop(flag, None)
    details.pop("author", None)
    author_details = {k: v for k, v in author.items() if k not in CLEAR_AUTHOR_FIELDS}
    if author_details:
        details["author"] = author_details
    return columns, details


def join_incident(columns: dict[str, Any], details: dict[str, Any] | None) -> dict[str, Any]:
    """The incident in the shared format from `split_incident`'s two parts."""
    incident: dict[str, Any] = {
        "platforms": columns["platforms"],
        "offenses": columns["offenses"],
        "discriminatory": columns["discriminatory"],
        "first_published": _iso(columns["first_published"]),
        "last_seen": _iso(columns["last_seen"]),
        "volume": columns["volume"],
        "public": columns["public"],
        "physical_danger": columns["physical_danger"],
        "last_seen_offending": columns["last_seen_offending"],
    }
    author = {"known": columns["author_known"], "relation": columns["author_relation"]}
    extra = dict(details or {})
    author.update(extra.pop("author", None) or {})
    incident.update(extra)
    incident["author"] = author
    return incident


def split_evidence(item: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(column values of `EvidenceRow`, details to seal) for an evidence item in the shared
    format; the columns are `captured_at`, `sha256` and `published_at`."""
    columns = {
        "captured_at": item.get("captured_at"),
        "sha256": item.get("sha256"),
        "published_at": _date(item.get("published_at")),
    }
    details = {k: v for k, v in item.items() if k not in CLEAR_EVIDENCE_FIELDS}
    return columns, details


def join_evidence(columns: dict[str, Any], details: dict[str, Any] | None) -> dict[str, Any]:
    """The evidence item in the shared format from `split_evidence`'s two parts."""
    item = dict(details or {})
    item["captured_at"] = columns["captured_at"]
    item["sha256"] = columns["sha256"]
    item["published_at"] = _iso(columns["published_at"])
    return item


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
