"""French text helpers for every layer: folding for comparisons, dates as the doctor reads them.

One home for these formats: a module that needs one imports it from here.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime


def fold(text: str, strip: str | None = None) -> str:
    """Lower-case, without accents, typographic apostrophe as `'`: « Déjà l’été » -> "deja l'ete".

    `strip` names the characters removed at both ends (whitespace by default).
    """
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip(strip)


def date_fr(value: date | datetime) -> str:
    """The numeric French date, JJ/MM/AAAA: "24/11/2026"."""
    return value.strftime("%d/%m/%Y")


def datetime_fr(value: datetime) -> str:
    """The numeric French date and time, JJ/MM/AAAA HH:MM: "24/11/2026 11:15"."""
    return value.strftime("%d/%m/%Y %H:%M")


def time_fr(value: datetime) -> str:
    """The time as the doctor reads it, HH:MM: "11:15"."""
    return value.strftime("%H:%M")
