"""What the repository returns: plain frozen dataclasses, detached from any session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from riposte.case import Case, Evidence


class NewCase(NamedTuple):
    """A created case: the code and the secret, shown once and never stored in clear."""

    code: str
    secret: str


@dataclass(frozen=True)
class EvidenceRecord:
    """One entry of the evidence journal; `item` is in the shared case format."""

    number: int
    item: Evidence
    recorded_at: datetime
    file_size: int | None

    @property
    def has_file(self) -> bool:
        return self.file_size is not None


@dataclass(frozen=True)
class StepRecord:
    key: str
    done: bool
    done_on: date | None
    updated_at: datetime


@dataclass(frozen=True)
class LetterRecord:
    number: int
    kind: str
    created_at: datetime
    media_type: str | None
    sha256: str | None
    size: int | None


@dataclass(frozen=True)
class CaseRecord:
    code: str
    case: Case
    created_at: datetime
    updated_at: datetime
    evidence: tuple[EvidenceRecord, ...]
    steps: tuple[StepRecord, ...]
    letters: tuple[LetterRecord, ...]

    def to_dict(self) -> dict[str, Any]:
        """The case in the shared JSON format (evidence with their SHA-256 fingerprints)."""
        return self.case.to_dict()


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class DeletionReport:
    """What `delete_case` erased; `sender_ids` are the raw chat ids, for `erase_conversation`."""

    code: str
    evidence_items: int
    files_removed: int
    sender_ids: tuple[str, ...]


@dataclass(frozen=True)
class Deadline:
    offense: str
    variant: str
    label: str
    deadline: date
    days_left: int


@dataclass(frozen=True)
class CaseDeadlines:
    code: str
    deadlines: tuple[Deadline, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "deadlines": [
                {
                    "offense": d.offense,
                    "variant": d.variant,
                    "label": d.label,
                    "deadline": d.deadline.isoformat(),
                    "days_left": d.days_left,
                }
                for d in self.deadlines
            ],
        }
