"""French date and legal formatting for the letter templates, registered in one place.

Every filter is pure and takes plain values. The French words they use (month names, "1er",
"et", the quotation marks) come from `data/fr.yml`, read once on first use.

    date_fr       date or datetime -> "1er octobre 2026"
    date_num      date or datetime -> "01/10/2026"
    time_fr       datetime -> "11 h 15" (converted to Paris time when it carries an offset)
    datetime_fr   datetime -> "2 octobre 2026 à 11 h 15"
    join_fr       ["a", "b", "c"] -> "a, b et c"
    join_or_fr    ["a", "b"] -> "a ou b"
    quote_fr      "texte" -> "« texte »" (non-breaking spaces)
    lower_first   "Injure publique…" -> "injure publique…" (capitalised words such as "RGPD"
                  or "X" untouched)
    upper_first   "médecin généraliste" -> "Médecin généraliste"
    surname       "Martin" -> "MARTIN" (French usage for family names in formal letters)
    de_fr         "injure publique" -> "d'injure publique" ; "Le Havre" -> "du Havre"
    a_fr          "Lyon" -> "à Lyon" ; "Le Havre" -> "au Havre"
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from riposte import text

FR_DATA = Path(__file__).resolve().parent / "data" / "fr.yml"


@functools.lru_cache(maxsize=1)
def locale() -> Mapping[str, Any]:
    """The French formatting data (read once)."""
    with FR_DATA.open(encoding="utf-8") as handle:
        data: Mapping[str, Any] = yaml.safe_load(handle)
    if len(data["months"]) != 12:
        raise ValueError(f"{FR_DATA.name}: months: expected 12 names")
    return data


def _local(value: datetime) -> tuple[datetime, str]:
    """`value` in the display time zone when it is aware, plus a suffix when that failed."""
    if value.tzinfo is None:
        return value, ""
    fr = locale()
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    except ImportError:  # pragma: no cover - Python 3.10 always has zoneinfo
        return value.astimezone(timezone.utc), str(fr["time_utc_suffix"])
    try:
        return value.astimezone(ZoneInfo(str(fr["time_zone"]))), ""
    except ZoneInfoNotFoundError:  # pragma: no cover - depends on the machine's tzdata
        return value.astimezone(timezone.utc), str(fr["time_utc_suffix"])


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return _local(value)[0].date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected a date, got {type(value).__name__}")


def date_fr(value: date | datetime) -> str:
    """Long French date: "1er octobre 2026", "24 novembre 2026"."""
    day = _as_date(value)
    fr = locale()
    day_text = str(fr["first_day"]) if day.day == 1 else str(day.day)
    return str(fr["date_long"]).format(
        day=day_text, month=fr["months"][day.month - 1], year=day.year
    )


def date_num(value: date | datetime) -> str:
    """Numeric French date: "24/11/2026"."""
    return text.date_fr(_as_date(value))


def time_fr(value: datetime) -> str:
    """French time of day: "11 h 15" (Paris time for an aware datetime)."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    local, suffix = _local(value)
    return str(locale()["time"]).format(hour=local.hour, minute=local.minute) + suffix


def datetime_fr(value: datetime) -> str:
    """French date and time: "2 octobre 2026 à 11 h 15"."""
    return str(locale()["date_time"]).format(date=date_fr(value), time=time_fr(value))


def _join(items: Iterable[Any], last: str) -> str:
    values = [str(item) for item in items]
    if len(values) <= 1:
        return "".join(values)
    separator = str(locale()["list_separator"])
    return separator.join(values[:-1]) + last + values[-1]


def join_fr(items: Iterable[Any]) -> str:
    """French enumeration with "et": "a, b et c"."""
    return _join(items, str(locale()["list_last_and"]))


def join_or_fr(items: Iterable[Any]) -> str:
    """French enumeration with "ou": "a, b ou c"."""
    return _join(items, str(locale()["list_last_or"]))


# Quotation marks a quote may come with when copied, besides the locale's guillemets (straight
# or curly double quotes): not doubled.
_OTHER_QUOTES = (('"', '"'), ("\u201c", "\u201d"))


def quote_fr(text: str) -> str:
    """Text between French quotation marks, with non-breaking spaces; a quote typed with its
    own quotation marks keeps only ours."""
    fr = locale()
    clean = text.strip()
    guillemets = (str(fr["quote_open"]).strip(), str(fr["quote_close"]).strip())
    for first, last in (guillemets, *_OTHER_QUOTES):
        if len(clean) > 2 and clean.startswith(first) and clean.endswith(last):
            inner = clean[1:-1].strip()
            if first not in inner and last not in inner:
                clean = inner
            break
    return f"{fr['quote_open']}{clean}{fr['quote_close']}"


def lower_first(text: str) -> str:
    """Lower-case the first letter, unless the first word is all capitals ("RGPD", "X")."""
    if not text:
        return text
    first_word = text.split(" ", 1)[0]
    if first_word.isupper():
        return text
    return text[0].lower() + text[1:]


def upper_first(text: str) -> str:
    """Upper-case the first letter."""
    return text[:1].upper() + text[1:]


def surname(text: str) -> str:
    """Family name in capitals, as French formal letters write it."""
    return text.upper()


def _preposition(key: str, text: str) -> str:
    fr = locale()
    rules: Mapping[str, Any] = fr[key]
    lowered = text.lower()
    for article, contracted in (rules.get("contractions") or {}).items():
        if lowered.startswith(article):
            return f"{contracted}{text[len(article):]}"
    if "elided" in rules and lowered[:1] and lowered[:1] in str(fr["elision_letters"]):
        return f"{rules['elided']}{text}"
    return f"{rules['plain']}{text}"


def de_fr(text: str) -> str:
    """ "de" before `text`: "d'injure", "de menaces", "d'Angers", "du Havre"."""
    return _preposition("de", text)


def a_fr(text: str) -> str:
    """ "à" before `text`: "à Lyon", "au Havre", "aux Sables-d'Olonne"."""
    return _preposition("a", text)


FILTERS: Mapping[str, Any] = {
    "date_fr": date_fr,
    "date_num": date_num,
    "time_fr": time_fr,
    "datetime_fr": datetime_fr,
    "join_fr": join_fr,
    "join_or_fr": join_or_fr,
    "quote_fr": quote_fr,
    "lower_first": lower_first,
    "upper_first": upper_first,
    "surname": surname,
    "de_fr": de_fr,
    "a_fr": a_fr,
}


def register(filters: dict[str, Any]) -> None:
    """Add every letter filter to a Jinja2 environment's `filters` mapping."""
    filters.update(FILTERS)
