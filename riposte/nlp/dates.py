"""French date expressions in a doctor's message, resolved against a given day.

Deterministic rules cover the forms doctors use ("hier", "avant-hier", "il y a deux semaines",
"depuis une semaine", "la semaine dernière", "le 3 janvier", "03/01/25", "lundi dernier",
"en janvier", "depuis mars 2024"...). Every expression is read as past: a day-month without a
year is the most recent past occurrence, and a date that would fall after `today` is dropped.

Values that are a matter of convention, so that callers know what they get:
- "la semaine dernière" is `today - 7 days`, "le mois dernier" `today - 1 month`, "l'an
  dernier" `today - 1 year` (the day of the month is clamped: 31 March - 1 month = 29 February);
- "quinze jours" and "huit jours" are read literally (15 and 8 days): the earlier date is
  the cautious one when counting a limitation period from it;
- "cette nuit" is today; "la nuit dernière" and "hier soir" are yesterday;
- "en janvier", "début janvier" are the 1st, "mi-janvier" the 15th, "fin janvier" the last day,
  never later than `today`;
- "lundi" alone is the most recent Monday (today if today is a Monday); "lundi dernier" is
  strictly before today;
- two-digit years are 20xx unless that is after this year (then 19xx).

`dateparser` is only a fallback of `parse_french_date` for short answers that the rules do not
read (it is imported on first use, and its results are also checked to be in the past).
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from riposte import clock
from riposte.nlp import NormalizedText, normalize

__all__ = ["DateMatch", "Precision", "find_dates", "parse_french_date"]

logger = logging.getLogger(__name__)

Precision = Literal["day", "week", "month", "year"]
_Resolved = tuple[dt.date, Precision] | None

#: Texts longer than this are cut before matching (a chat message is far shorter).
MAX_CHARS = 100_000
#: Oldest year accepted for an explicit date.
MIN_YEAR = 1900
#: `parse_french_date` only asks dateparser about texts at most this long.
FALLBACK_MAX_CHARS = 60


@dataclass(frozen=True)
class DateMatch:
    """One date expression found in a text.

    `span` and `text` refer to the caller's original text; `precision` says how exact the
    expression is ("il y a deux semaines" is "week", "en janvier" is "month").
    """

    span: tuple[int, int]
    text: str
    date: dt.date
    precision: Precision

    @property
    def start(self) -> int:
        return self.span[0]

    @property
    def end(self) -> int:
        return self.span[1]


# ---------------------------------------------------------------------------------------------
# Vocabulary (folded: lower case, no accents)
# ---------------------------------------------------------------------------------------------

_UNITS: dict[str, int] = {
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "six": 6,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "onze": 11,
    "douze": 12,
    "treize": 13,
    "quatorze": 14,
    "quinze": 15,
    "seize": 16,
}
_TENS: dict[str, int] = {
    "vingt": 20,
    "trente": 30,
    "quarante": 40,
    "cinquante": 50,
    "soixante": 60,
}
# "une quinzaine de jours", "une dizaine de jours"...
_APPROX: dict[str, int] = {
    "huitaine": 8,
    "dizaine": 10,
    "douzaine": 12,
    "quinzaine": 15,
    "vingtaine": 20,
    "trentaine": 30,
}

_MONTHS: dict[str, int] = {
    "janvier": 1,
    "janvie": 1,
    "janv": 1,
    "jan": 1,
    "fevrier": 2,
    "fevier": 2,
    "fevrie": 2,
    "fevr": 2,
    "fev": 2,
    "mars": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juilet": 7,
    "juil": 7,
    "aout": 8,
    "septembre": 9,
    "sept": 9,
    "sep": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "decembre": 12,
    "dec": 12,
}

_WEEKDAYS: dict[str, int] = {
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
}

# unit -> (kind, multiplier, precision)
_DURATION_UNITS: tuple[tuple[str, str, int, Precision], ...] = (
    (r"jours?|journees?|jrs?|j|nuits?", "days", 1, "day"),
    (r"semaines?|sem|smn|sm", "days", 7, "week"),
    (r"mois", "months", 1, "month"),
    (r"ans?|annees?", "months", 12, "year"),
    (r"heures?|h|minutes?|min|mn|secondes?", "days", 0, "day"),
)


def _number_words() -> dict[str, int]:
    """Written-out numbers from 1 to 69, keyed without separators ("vingtetun": 21)."""
    words = dict(_UNITS)
    words.update({"dixsept": 17, "dixhuit": 18, "dixneuf": 19})
    for ten_word, ten in _TENS.items():
        words[ten_word] = ten
        words[f"{ten_word}etun"] = ten + 1
        words[f"{ten_word}etune"] = ten + 1
        for unit_word, unit in _UNITS.items():
            if 2 <= unit <= 9:
                words[f"{ten_word}{unit_word}"] = ten + unit
    return words


def _words_regex(words: list[str]) -> str:
    """An alternation of words, longest first; separators inside compounds are optional."""
    return "|".join(word.replace("-", r"[-\s]*") for word in sorted(words, key=len, reverse=True))


def _number_forms() -> list[str]:
    forms = list(_UNITS) + ["dix-sept", "dix-huit", "dix-neuf"]
    for ten_word in _TENS:
        forms.append(ten_word)
        forms.append(f"{ten_word}-et-une")
        forms.append(f"{ten_word}-et-un")
        forms.extend(f"{ten_word}-{u}" for u, v in _UNITS.items() if 2 <= v <= 9)
    return forms


@lru_cache(maxsize=1)
def _number_table() -> dict[str, int]:
    return _number_words()


@lru_cache(maxsize=1)
def _master_regex() -> re.Pattern[str]:
    """Compile the date grammar once, on first use (no work at import time)."""
    num_words = _words_regex(_number_forms())
    amount = rf"(?:\d{{1,4}}|(?:{num_words})(?![a-z]))"
    approx = "|".join(_APPROX)
    months = "|".join(sorted(_MONTHS, key=len, reverse=True))
    month = rf"(?:{months})(?![a-z])\.?"
    weekdays = "|".join(_WEEKDAYS)
    unit_alternatives = "|".join(f"(?P<u{i}>{u[0]})" for i, u in enumerate(_DURATION_UNITS))
    not_a_count = (
        r"(?!\s*(?:jours?|semaines?|mois|ans?|annees?|heures?|fois|minutes?|patients?|"
        r"personnes?|messages?|comptes?)\b)"
    )
    ago = (
        r"(?:il\s*(?:n\s*')?\s*y\s*'?\s*a|y\s*'?\s*a|ya|depuis|d'?\s*puis|dps|ca\s+fait|"
        r"cela\s+fait|ca\s+va\s+faire|voila|voici)"
    )
    fuzz = (
        r"(?:(?:environ|a\s+peu\s+pres|pres\s+de|plus\s+de|moins\s+de|presque|"
        r"bientot|deja|maintenant|au\s+moins|quasiment|bien|genre|facile)\s+)?"
    )
    parts = [
        # 2025-01-03, 2025/01/03
        r"(?P<iso>(?<![\d/.\-])(?P<iso_y>(?:19|20)\d{2})[-/](?P<iso_m>\d{1,2})[-/]"
        r"(?P<iso_d>\d{1,2})(?![\d/]|[.\-]\d))",
        # 3/01/2025, 03.01.25, 3-1-2025
        r"(?P<num>(?<![\d/.\-])(?P<num_d>\d{1,2})[/.\-](?P<num_m>\d{1,2})[/.\-]"
        r"(?P<num_y>\d{4}|\d{2})(?![\d/]|[.\-]\d))",
        # le 3/01 (only after an article: "1/5" alone is a rating)
        rf"(?P<short>\b(?:(?:le|du|au|depuis\s+le)\s+(?:(?:{weekdays})\s+)?|(?:{weekdays})\s+)"
        r"(?P<short_d>\d{1,2})[/.]"
        r"(?P<short_m>\d{1,2})(?![\d/]|[.\-]\d))",
        # (le) (lundi) 3 janvier (2025), le 1er mars, le premier mars, le trois mars
        rf"(?P<dm>\b(?:(?:le|du|au|ce)\s+)?(?:(?:{weekdays})\s+)?"
        rf"(?P<dm_d>\d{{1,2}}|premier|(?:{num_words}))(?:\s*(?:er|ere|eme|e)\b)?\s*"
        rf"(?:de\s+)?(?P<dm_m>{month})(?:\s*(?P<dm_y>(?:19|20)\d{{2}})(?!\d))?)",
        # il y a 3 jours, depuis une semaine, ça fait deux mois, ya 3j
        rf"(?P<rel>\b{ago}\s*{fuzz}(?:(?P<rel_n>{amount})|une\s+(?P<rel_a>{approx})\s+d'?e?)"
        rf"\s*(?:{unit_alternatives})(?![a-z])(?:\s+et\s+(?P<rel_half>demie?))?)",
        # le 15 du mois dernier, le 3 de ce mois
        rf"(?P<dmd>\ble\s+(?P<dmd_d>\d{{1,2}}|premier|(?:{num_words}))(?:\s*(?:er|e)\b)?\s+"
        r"(?:du\s+mois\s+(?P<dmd_last>dernier|passe|precedent)|de\s+ce\s+mois(?:[\s-]*ci)?)\b)",
        # la semaine dernière, le mois dernier, l'an dernier, ce week-end, cette semaine
        r"(?P<per>\b(?:(?:la|le|cette)\s+)?(?P<per_u>semaine|mois|an|annee|week[\s-]*end|we)"
        r"\s+(?:dernier|derniere|passee?)\b|\b(?:le|l'\s*)\s*(?P<per_u2>mois|an|annee)\s+"
        r"(?:dernier|derniere|passee?)\b|\b(?P<per_this>cette\s+semaine|ce\s+mois[\s-]*ci|"
        r"cette\s+annee|ce\s+week[\s-]*end)\b)",
        # en janvier, depuis mars 2024, début février, mi-mars, fin décembre 2023
        rf"(?P<mon>\b(?:(?P<mon_pre>en|depuis|des|a\s+partir\s+d'?e?|au|le|courant)\s+)?"
        rf"(?:(?:(?:au|a\s+la|la|le)\s+)?(?P<mon_pos>debut|fin|mi|courant|milieu)[\s-]*"
        rf"(?:du\s+)?)?(?P<mon_mois>mois\s+)?(?:de\s+|d'\s*)?(?P<mon_m>{month}){not_a_count}"
        rf"(?:\s*(?P<mon_y>(?:19|20)\d{{2}})(?!\d)|\s+(?P<mon_last>dernier|passe)\b)?)",
        # en 2023, depuis 2023, fin 2023
        r"(?P<yr>\b(?:en|depuis|debut|fin|mi|courant|des|a\s+partir\s+de)[\s-]+(?:l'\s*annee\s+)?"
        r"(?P<yr_y>(?:19|20)\d{2})(?!\d)(?!\s*(?:messages?|comptes?|personnes?|abonnes?|vues?|"
        r"euros?|commentaires?|likes?|followers?|avis|fois)\b))",
        # lundi dernier, ce lundi, lundi
        rf"(?P<wd>\b(?:(?P<wd_pre>ce|le)\s+)?(?P<wd_n>{weekdays})(?![a-z])"
        rf"(?:\s+(?P<wd_day>\d{{1,2}}|premier)(?:\s*(?:er|e)\b)?(?![\d/.:h]|\s*h\b){not_a_count})?"
        r"(?:\s+(?P<wd_last>dernier|passe|d'avant))?)",
        # hier, avant-hier, aujourd'hui, ce matin, cette nuit
        r"(?P<word>\b(?:avant[\s-]*hier|hier|aujourd\s*'?\s*hui|aujourdhui|ajd|auj|ce\s+matin|"
        r"ce\s+midi|cet\s+apres[\s-]*midi|ce\s+soir|cette\s+nuit|la\s+nuit\s+derniere|"
        r"tout\s+a\s+l'\s*heure|a\s+l'\s*instant|tantot)\b)",
    ]
    return re.compile("|".join(parts))


# ---------------------------------------------------------------------------------------------
# Date arithmetic
# ---------------------------------------------------------------------------------------------


def _sub_months(day: dt.date, months: int) -> dt.date | None:
    index = day.year * 12 + (day.month - 1) - months
    year, month0 = divmod(index, 12)
    if year < MIN_YEAR:
        return None
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))


def _sub_days(day: dt.date, days: int) -> dt.date | None:
    try:
        result = day - dt.timedelta(days=days)
    except OverflowError:
        return None
    return result if result.year >= MIN_YEAR else None


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    if year < MIN_YEAR:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _last_occurrence(month: int, day: int, today: dt.date) -> dt.date | None:
    """The most recent `day/month` on or before today (29 February: the last leap year)."""
    for year in range(today.year, today.year - 9, -1):
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate <= today:
            return candidate
    return None


def _last_weekday_of_day(weekday: int, day: int, today: dt.date) -> dt.date | None:
    """The most recent date on or before today that is day `day` and falls on `weekday`."""
    if not 1 <= day <= 31:
        return None
    year, month = today.year, today.month
    for _ in range(48):
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate <= today and candidate.weekday() == weekday:
            return candidate
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return None


def _two_digit_year(value: str, today: dt.date) -> int:
    year = int(value)
    if len(value) == 2:
        year += 2000
        if year > today.year:
            year -= 100
    return year


def _month_date(
    month: int, year: int | None, position: str | None, today: dt.date
) -> dt.date | None:
    if year is None:
        year = today.year if month <= today.month else today.year - 1
    if position == "fin":
        day = calendar.monthrange(year, month)[1] if year >= MIN_YEAR else 1
    elif position in ("mi", "milieu"):
        day = 15
    else:
        day = 1
    result = _safe_date(year, month, day)
    if result is None:
        return None
    if result > today and (year, month) == (today.year, today.month):
        return today
    return result


def _amount(match: re.Match[str]) -> int | None:
    approx = match.group("rel_a")
    if approx:
        return _APPROX[approx]
    raw = match.group("rel_n")
    if raw.isdigit():
        return int(raw)
    return _number_table().get(re.sub(r"[\s-]", "", raw))


def _resolve_relative(match: re.Match[str], today: dt.date) -> _Resolved:
    amount = _amount(match)
    if amount is None:
        return None
    for index, (_pattern, kind, factor, precision) in enumerate(_DURATION_UNITS):
        if match.group(f"u{index}") is None:
            continue
        half = match.group("rel_half") is not None
        if kind == "months":
            months = amount * factor + (factor // 2 if half and factor > 1 else 0)
            result = _sub_months(today, months) if months <= 12 * 200 else None
            if result is not None and half and factor == 1:
                result = _sub_days(result, 15)
        else:
            days = amount * factor + (factor // 2 if half else 0)
            result = _sub_days(today, days)
        return (result, precision) if result is not None else None
    return None


def _resolve_period(match: re.Match[str], today: dt.date) -> _Resolved:
    this = match.group("per_this")
    if this:
        if this.startswith("cette semaine"):
            return today - dt.timedelta(days=today.weekday()), "week"
        if this.startswith("ce mois"):
            return today.replace(day=1), "month"
        if this.startswith("cette annee"):
            return today.replace(month=1, day=1), "year"
        # "ce week-end": the Saturday of this weekend or of the last one
        return today - dt.timedelta(days=(today.weekday() - 5) % 7), "week"
    unit = match.group("per_u") or match.group("per_u2") or ""
    if unit == "semaine":
        return today - dt.timedelta(days=7), "week"
    if unit == "mois":
        previous = _sub_months(today, 1)
        return (previous, "month") if previous else None
    if unit in ("an", "annee"):
        previous = _sub_months(today, 12)
        return (previous, "year") if previous else None
    # "le week-end dernier": the Saturday of the weekend before the current/last one
    back = (today.weekday() - 5) % 7
    if today.weekday() >= 5:
        back += 7
    return today - dt.timedelta(days=back), "week"


def _day_number(raw: str) -> int:
    if raw.isdigit():
        return int(raw)
    if raw == "premier":
        return 1
    return _number_table().get(re.sub(r"[\s-]", "", raw), 0)


def _day(value: dt.date | None) -> _Resolved:
    return (value, "day") if value else None


def _resolve_iso(match: re.Match[str], today: dt.date) -> _Resolved:
    return _day(_safe_date(int(match["iso_y"]), int(match["iso_m"]), int(match["iso_d"])))


def _resolve_numeric(match: re.Match[str], today: dt.date) -> _Resolved:
    year = _two_digit_year(match["num_y"], today)
    return _day(_safe_date(year, int(match["num_m"]), int(match["num_d"])))


def _resolve_short(match: re.Match[str], today: dt.date) -> _Resolved:
    month, day = int(match["short_m"]), int(match["short_d"])
    return _day(_last_occurrence(month, day, today) if 1 <= month <= 12 else None)


def _resolve_day_month(match: re.Match[str], today: dt.date) -> _Resolved:
    day = _day_number(match["dm_d"])
    month = _MONTHS[match["dm_m"].rstrip(".")]
    if match["dm_y"]:
        return _day(_safe_date(int(match["dm_y"]), month, day))
    return _day(_last_occurrence(month, day, today))


def _resolve_day_of_month(match: re.Match[str], today: dt.date) -> _Resolved:
    """Day N of last month or of this month ("le 15 du mois dernier", "le 3 de ce mois")."""
    day = _day_number(match["dmd_d"])
    base = _sub_months(today, 1) if match["dmd_last"] else today
    if base is None or not 1 <= day <= calendar.monthrange(base.year, base.month)[1]:
        return None
    value = base.replace(day=day)
    return _day(value if value <= today else None)


def _resolve_month(match: re.Match[str], today: dt.date) -> _Resolved:
    year_text = match["mon_y"]
    last = match["mon_last"] is not None
    if not (year_text or last or match["mon_pre"] or match["mon_pos"]):
        return None  # a bare month name ("mars") is too ambiguous
    if match["mon_pre"] == "le" and not (year_text or match["mon_pos"] or match["mon_mois"]):
        return None  # "le mars..." is not a date
    month = _MONTHS[match["mon_m"].rstrip(".")]
    year = int(year_text) if year_text else None
    if last and month >= today.month:
        year = today.year - 1  # "mars dernier" said in March is last year's March
    value = _month_date(month, year, match["mon_pos"], today)
    return (value, "month") if value else None


def _resolve_year(match: re.Match[str], today: dt.date) -> _Resolved:
    year = int(match["yr_y"])
    text = match.group(0)
    if text.startswith("fin"):
        value = _safe_date(year, 12, 31)
    elif text.startswith("mi"):
        value = _safe_date(year, 7, 1)
    else:
        value = _safe_date(year, 1, 1)
    if value is not None and value > today and year == today.year:
        value = today
    return (value, "year") if value else None


def _resolve_weekday(match: re.Match[str], today: dt.date) -> _Resolved:
    last = match["wd_last"] is not None
    weekday = _WEEKDAYS[match["wd_n"]]
    if match["wd_day"]:
        # "jeudi 22": the most recent 22nd that was a Thursday
        return _day(_last_weekday_of_day(weekday, _day_number(match["wd_day"]), today))
    if match["wd_pre"] == "le" and not last:
        return None  # "le lundi" is a habit, not a date
    delta = (today.weekday() - weekday) % 7
    if last and delta == 0:
        delta = 7
    return today - dt.timedelta(days=delta), "day"


def _resolve_word(match: re.Match[str], today: dt.date) -> _Resolved:
    word = match.group(0)
    if word.startswith("avant"):
        return today - dt.timedelta(days=2), "day"
    if word.startswith("hier") or word.startswith("la nuit"):
        return today - dt.timedelta(days=1), "day"
    return today, "day"


_RESOLVERS: dict[str, Callable[[re.Match[str], dt.date], _Resolved]] = {
    "iso": _resolve_iso,
    "num": _resolve_numeric,
    "short": _resolve_short,
    "dm": _resolve_day_month,
    "dmd": _resolve_day_of_month,
    "rel": _resolve_relative,
    "per": _resolve_period,
    "mon": _resolve_month,
    "yr": _resolve_year,
    "wd": _resolve_weekday,
    "word": _resolve_word,
}


def _resolve(match: re.Match[str], today: dt.date) -> _Resolved:
    resolver = _RESOLVERS.get(match.lastgroup or "")
    return resolver(match, today) if resolver else None


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def _as_date(today: object) -> dt.date:
    if isinstance(today, dt.datetime):
        return today.date()
    if isinstance(today, dt.date):
        return today
    return clock.today()


def find_dates_normalized(norm: NormalizedText, today: dt.date) -> list[tuple[int, int, DateMatch]]:
    """Date expressions in an already normalised text.

    Returns `(start, end, match)` triples where `start`/`end` index `norm.text` and the
    `DateMatch` refers to `norm.original`. Used by the fact extractor, which works on the same
    normalised text.
    """
    results: list[tuple[int, int, DateMatch]] = []
    for match in _master_regex().finditer(norm.text):
        resolved = _resolve(match, today)
        if resolved is None:
            continue
        value, precision = resolved
        if value > today or value.year < MIN_YEAR:
            continue
        start, end = match.span()
        orig_start, orig_end = norm.to_original(start, end)
        date_match = DateMatch(
            span=(orig_start, orig_end),
            text=norm.original[orig_start:orig_end],
            date=value,
            precision=precision,
        )
        results.append((start, end, date_match))
    return results


def find_dates(text: str, today: dt.date) -> list[DateMatch]:
    """Every French date expression in `text`, in reading order, resolved as past dates.

    Never raises: any input that is not a string, or that the rules cannot read, gives [].
    """
    if not isinstance(text, str) or not text:
        return []
    try:
        norm = normalize(text[:MAX_CHARS])
        return [found for _start, _end, found in find_dates_normalized(norm, _as_date(today))]
    except Exception:  # a chatbot turn must never fail on odd input
        logger.exception("find_dates failed on a %d-character text", len(text))
        return []


_FALLBACK_HINT = re.compile(r"\d.*[a-z]|[a-z].*\d")


def _dateparser_fallback(text: str, today: dt.date) -> dt.date | None:
    """Ask dateparser about a short answer the rules did not read; keep only past dates."""
    stripped = text.strip()
    if len(stripped) > FALLBACK_MAX_CHARS or not _FALLBACK_HINT.search(stripped.lower()):
        return None
    try:
        import dateparser  # imported lazily: about 0.2 s

        parsed = dateparser.parse(
            stripped,
            languages=["fr"],
            settings={
                "PREFER_DATES_FROM": "past",
                "RELATIVE_BASE": dt.datetime(today.year, today.month, today.day, 12),
                "REQUIRE_PARTS": ["day", "month"],
            },
        )
    except Exception:  # third-party parser on arbitrary text
        logger.debug("dateparser failed on %r", stripped, exc_info=True)
        return None
    if parsed is None:
        return None
    value = parsed.date()
    if value > today or value.year < MIN_YEAR:
        return None
    return value


_DAY_ONLY = re.compile(
    r"^\s*(?:le\s+|du\s+|depuis\s+le\s+)?(\d{1,2}|premier)(?:\s*(?:er|e)\b)?"
    r"(?:\s*(?:a|vers)?\s*\d{1,2}\s*h\s*\d{0,2})?\s*[.!]?\s*$"
)


def _short_answer(text: str, today: dt.date) -> dt.date | None:
    """Forms that are only dates when they are the whole answer to "depuis quand ?".

    "3 jours", "deux semaines" (a bare duration: that long ago) and "le 12" (a day of the
    month: its most recent past occurrence).
    """
    folded = normalize(text).text.strip()
    if len(folded) > FALLBACK_MAX_CHARS:
        return None
    day_only = _DAY_ONLY.match(folded)
    if day_only:
        raw = day_only.group(1)
        day = 1 if raw == "premier" else int(raw)
        if not 1 <= day <= 31:
            return None
        year, month = today.year, today.month
        for _ in range(12):
            candidate = _safe_date(year, month, day)
            if candidate is not None and candidate <= today:
                return candidate
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return None
    prefixed = "il y a " + folded
    for start, end, found in find_dates_normalized(normalize(prefixed), today):
        if start == 0 and prefixed[end:].strip(" .!") == "":
            return found.date
    return None


def parse_french_date(text: str, today: dt.date, *, fallback: bool = True) -> dt.date | None:
    """The date of the first French date expression in `text`, or None.

    A text that is only a duration ("3 jours") or a day of the month ("le 12") is read as an
    answer to "depuis quand ?". With `fallback` (the default), a short text the rules do not
    read is then given to `dateparser`; its answer is kept only if it is not after `today`.
    Never raises.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    day = _as_date(today)
    found = find_dates(text, day)
    if found:
        return found[0].date
    try:
        short = _short_answer(text, day)
    except Exception:  # never fail on odd input
        logger.exception("parse_french_date failed on a %d-character text", len(text))
        return None
    if short is not None or not fallback:
        return short
    folded = normalize(text[:MAX_CHARS]).text
    if any(_resolve(match, day) for match in _master_regex().finditer(folded)):
        return None  # the rules read a date here and refused it (in the future)
    return _dateparser_fallback(text, day)
