"""French text helpers for every layer: folding for comparisons, dates as the doctor reads them.

One home for these formats: a module that needs one imports it from here.

- `fold`: lower case, no accents, `’` as `'` (comparisons of short answers, secrets);
- `ascii_name`: a file name reduced to ASCII letters, digits, `.`, `_` and `-`;
- `number_fr`: 12\u202f345 (digits grouped by a narrow no-break space);
- `date_fr`, `datetime_fr`: the numeric French date JJ/MM/AAAA (and HH:MM).

Two specialised siblings stay where they are used, because they must keep positions:
`riposte.nlp.normalize` (also maps dashes, spaces, ligatures, with an offset map back to the
original text) and `riposte.letters.reply_check.fold` (one character for one). The Jinja
filter `date_num` (riposte/letters/filters.py) is `date_fr` under its template name.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def fold(text: str, strip: str | None = None) -> str:
    """Lower-case, without accents, typographic apostrophe as `'`: « Déjà l’été » -> "deja l'ete".

    `strip` names the characters removed at both ends (whitespace by default).
    """
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip(strip)


def folded_words(text: str) -> list[str]:
    """The words of `text`, folded, punctuation left out: « Plusieurs, du même » ->
    ["plusieurs", "du", "meme"]."""
    return re.findall(r"\w+", fold(text))


def ascii_name(name: str, limit: int) -> str:
    """A file name safe everywhere: accents dropped, other characters outside
    `A-Za-z0-9._-` replaced by `-`, no `-` or `.` at either end, at most `limit` characters.
    "" when nothing is left (the caller picks a default): « Capture d’écran.png » ->
    "Capture-decran.png"."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _UNSAFE_NAME.sub("-", plain).strip("-.")[:limit]


def number_fr(value: int) -> str:
    """A whole number with French digit grouping: 12345 -> "12\u202f345" (narrow no-break
    space)."""
    return f"{value:,}".replace(",", "\u202f")


def date_fr(value: date | datetime) -> str:
    """The numeric French date, JJ/MM/AAAA: "24/11/2026"."""
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def datetime_fr(value: datetime) -> str:
    """The numeric French date and time, JJ/MM/AAAA HH:MM: "24/11/2026 11:15"."""
    return f"{date_fr(value)} {value.hour:02d}:{value.minute:02d}"


def time_fr(value: datetime) -> str:
    """The time as the doctor reads it, HH:MM: "11:15"."""
    return f"{value.hour:02d}:{value.minute:02d}"
