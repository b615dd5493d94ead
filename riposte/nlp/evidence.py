"""Read the answers of the evidence form: a URL, when it was seen, who wrote it, what it says,
and when it was published or sent.

Pure functions (no Rasa): each returns an `Answer` with the value to store, or the key of the
French message that explains what is wrong (riposte/knowledge/conversation.yml, `evidence`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from riposte.clock import ZONE
from riposte.nlp.dates import parse_french_date
from riposte.text import fold

MAX_URL = 2_000
MAX_AUTHOR = 200
MAX_EXCERPT = 5_000
MAX_DATE_ANSWER = 200
# "Le même jour": the statement was published the day it was seen.
SAME_DAY = (
    "le meme jour",
    "meme jour",
    "le jour meme",
    "meme date",
    "la meme date",
    "pareil",
    "idem",
)
# A date far enough ahead to read any explicit date the rules drop as "in the future".
_FAR_FUTURE = dt.date(9000, 1, 1)
# Words that only name days to come ("demain", "dans trois jours", "la semaine prochaine").
_FUTURE_WORDS = re.compile(
    r"\b(?:demain|apres-demain|apres demain|prochain|prochaine|a venir"
    r"|dans (?:un|une|deux|trois|quatre|cinq|six|sept|huit|dix|quinze|[0-9]+) "
    r"(?:jours?|semaines?|mois|ans?))\b"
)
NONE_ANSWERS = (
    "aucun",
    "aucune",
    "non",
    "pas de lien",
    "pas d'adresse",
    "pas d url",
    "pas d'url",
    "je ne sais pas",
    "je sais pas",
    "inconnu",
    "inconnue",
    "rien",
    "anonyme",
)
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_BARE_URL = re.compile(
    r"\b(?:[a-z0-9-]+\.)+(?:com|fr|net|org|be|ch|io|me|tv|eu|info|social)(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
_TIME = re.compile(r"\b([01]?\d|2[0-3])\s*(?:h|:)\s*([0-5]\d)?\b", re.IGNORECASE)
_NOW = ("maintenant", "a l'instant", "aujourd'hui", "tout de suite", "ce moment")


@dataclass(frozen=True)
class Answer:
    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _fold(text: str) -> str:
    return fold(text, strip=" .!?\n\t")


def is_none_answer(text: str) -> bool:
    folded = _fold(text)
    return any(re.match(rf"{re.escape(word)}(?![\w'])", folded) for word in NONE_ANSWERS)


def read_url(text: str) -> Answer:
    """The first web address in the text; "aucun" means none (value "")."""
    if len(text) > MAX_URL:
        return Answer(error="url_too_long")
    found = _URL.search(text) or _BARE_URL.search(text)
    if found:
        url = found.group(0).rstrip(".,;:!?)»")
        if not url.lower().startswith(("http://", "https://")):
            url = "https://" + url
        return Answer(url)
    if is_none_answer(text):
        return Answer("")
    return Answer(error="url_unreadable")


def read_seen_at(text: str, now: dt.datetime) -> Answer:
    """When the content was seen: a French date, optionally a time (« hier vers 21 h 30 »).

    Returns an ISO 8601 date-time in France's time zone (the time is 00:00 when not given),
    never later than `now`.
    """
    local_now = now.astimezone(ZONE)
    folded = _fold(text)
    if any(word in folded for word in _NOW) and not _TIME.search(folded):
        return Answer(local_now.replace(microsecond=0).isoformat())
    day = parse_french_date(text, local_now.date())
    if day is None:
        future = is_future_date(text, local_now.date())
        return Answer(error="seen_in_future" if future else "seen_unreadable")
    hour = minute = 0
    found = _TIME.search(_strip_dates(folded))
    if found:
        hour, minute = int(found.group(1)), int(found.group(2) or 0)
    seen = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)
    if seen > local_now:
        return Answer(error="seen_in_future")
    return Answer(seen.isoformat())


def _strip_dates(folded: str) -> str:
    # "le 12/11 à 21h" : the date's digits must not be read as a time.
    return re.sub(r"\b\d{1,4}[/.-]\d{1,2}(?:[/.-]\d{2,4})?\b", " ", folded)


def read_author(text: str) -> Answer:
    """The author's handle or name as typed; "inconnu" means unknown (value "")."""
    clean = " ".join(text.split())
    if is_none_answer(clean):
        return Answer("")
    if not clean:
        return Answer(error="author_empty")
    if len(clean) > MAX_AUTHOR:
        return Answer(error="author_too_long")
    return Answer(clean)


def read_excerpt(text: str) -> Answer:
    """The words of the content, as pasted (line breaks kept)."""
    clean = text.strip()
    if not clean:
        return Answer(error="excerpt_empty")
    if len(clean) > MAX_EXCERPT:
        return Answer(error="excerpt_too_long")
    return Answer(clean)


def is_future_date(text: str, today: dt.date) -> bool:
    """True when `text` names an explicit date after `today` (which `parse_french_date` drops).

    Only meaningful once `parse_french_date(text, today)` found nothing: relative expressions
    ("hier") are read from `today` and are never in the future.
    """
    if _FUTURE_WORDS.search(_fold(text)):
        return True
    day = parse_french_date(text, _FAR_FUTURE, fallback=False)
    return day is not None and day > today


def read_published_at(text: str, seen_at: str | None, now: dt.datetime) -> Answer:
    """When the statement was published or sent: a French date, as an ISO date (AAAA-MM-JJ).

    "je ne sais pas" gives "" (unknown); "le même jour" gives the day it was seen. The date is
    never after today, nor after the day the doctor saw the statement.
    """
    clean = " ".join(text.split())
    if len(clean) > MAX_DATE_ANSWER:
        return Answer(error="published_unreadable")
    if is_none_answer(clean):
        return Answer("")
    today = now.astimezone(ZONE).date()
    seen_day = _seen_day(seen_at)
    folded = _fold(clean)
    if any(folded == word or folded.startswith(word + " ") for word in SAME_DAY):
        return Answer(seen_day.isoformat()) if seen_day else Answer(error="published_unreadable")
    day = parse_french_date(clean, today)
    if day is None:
        if is_future_date(clean, today):
            return Answer(error="published_in_future")
        return Answer(error="published_unreadable")
    if seen_day is not None and day > seen_day:
        return Answer(error="published_after_seen")
    return Answer(day.isoformat())


def _seen_day(seen_at: str | None) -> dt.date | None:
    """The day (France) of the evidence form's `evidence_seen_at` value, if it is one."""
    if not seen_at:
        return None
    try:
        seen = dt.datetime.fromisoformat(seen_at)
    except ValueError:
        return None
    return seen.astimezone(ZONE).date() if seen.tzinfo else seen.date()
