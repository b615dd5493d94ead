"""Errors of the case store; every message is French and comes from `messages.yml`."""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path

import yaml

from riposte.case import CaseError
from riposte.knowledge import Messages
from riposte.text import date_fr

MESSAGES_PATH = Path(__file__).resolve().parent / "messages.yml"


@functools.lru_cache(maxsize=1)
def messages() -> Messages:
    """The store's French sentences (read once)."""
    with MESSAGES_PATH.open(encoding="utf-8") as handle:
        return Messages(yaml.safe_load(handle))


def message(path: str, /, **values: object) -> str:
    return messages().get(path, **values)


class StoreError(Exception):
    """Base class: `str(error)` is a French sentence for the doctor or the operator."""


class StoreConfigError(StoreError):
    """The store cannot start: bad URL, missing or wrong secret key (operator's problem)."""


class UnknownCaseError(StoreError):
    """No case has this code (operator tools only: the chat gets `AccessDeniedError`)."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(message("errors.unknown_case", code=code))


class AccessDeniedError(StoreError):
    """Wrong code or wrong secret (the two are not told apart)."""

    def __init__(self, text: str | None = None) -> None:
        super().__init__(text or message("errors.access_denied"))


class CaseLockedError(AccessDeniedError):
    """Too many failed attempts from this conversation: it must wait until `locked_until`
    (UTC) before it may try a secret again (other conversations are not held back)."""

    def __init__(self, locked_until: datetime) -> None:
        from riposte.clock import ZONE

        self.locked_until = locked_until
        local = locked_until.astimezone(ZONE)  # the doctor reads France's time
        super().__init__(
            message(
                "errors.locked",
                date=date_fr(local),
                time=local.strftime("%H:%M"),
            )
        )


class QuotaExceededError(CaseError, StoreError):
    """The case holds as much as it may (`Quotas`): nothing of the new item was written.

    A `CaseError` (a French message per problem in `errors`, the upload page shows them) and
    a `StoreError`, so that code catching either keeps working.
    """


class InboxFileMissingError(StoreError):
    """No inbox entry for this reference and sender: unknown, already filed, or expired."""

    def __init__(self) -> None:
        super().__init__(message("errors.inbox_file_missing"))
