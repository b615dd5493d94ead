"""The complaint to the procureur from the chat: which questions to ask, how to read the
answers, what to show before drafting, and the short text sent in the chat.

Pure functions over the shared case format (no Rasa); French texts live in
riposte/letters/data/messages.yml (section `chat`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from riposte.chat.letters import (
    Answered,
    ChatLetter,
    Drafted,
    Reading,
    draft_letter,
    full_name,
    record_reading,
    story_excerpt,
)
from riposte.letters.build import load_messages
from riposte.store.records import CaseRecord
from riposte.text import fold

__all__ = ["Answered", "Drafted", "Reading"]

# The questions of the complaint form, in the order they are asked (domain/complaint.yml).
QUESTIONS: tuple[str, ...] = (
    "letter_name",
    "letter_birth_date",
    "letter_birth_place",
    "letter_address",
    "letter_city",
    "letter_court_city",
    "letter_first_published",
    "letter_summary",
    "letter_statement",
    "letter_statement_date",
)
MAX_NAME = 100
MAX_ADDRESS = 200
MAX_SUMMARY = 10_000
MAX_STATEMENT = 5_000
MAX_DATE_ANSWER = 200
# A birth date gives an age of at least this many years (a doctor), and a year from MIN_YEAR.
MIN_AGE = 18
MIN_YEAR = 1900
# Answers that skip an optional question (the letter then leaves a blank to fill by hand).
_SKIP = (
    "passer",
    "passe",
    "je passe",
    "on passe",
    "sauter",
    "suivant",
    "plus tard",
    "pas maintenant",
    "je prefere ne pas",
    "je ne prefere pas",
    "je ne veux pas",
    "je ne souhaite pas",
    "non",
    "non merci",
    "aucun",
    "aucune",
    "rien",
    "je ne sais pas",
    "je sais pas",
    "inconnu",
    "inconnue",
    "laisser en blanc",
    "laisse en blanc",
    "laissez en blanc",
    "en blanc",
    "je le completerai",
    "je la completerai",
    "je completerai",
    "-",
)
_TITLES = re.compile(
    r"^(?:dr|docteur|docteure|pr|professeur|professeure|mme|m|madame|monsieur)\.?\s+", re.IGNORECASE
)
_POSTAL = re.compile(r"\b(\d{5})\b")
_SAME = ("meme", "oui", "idem", "pareil", "la meme", "ma ville", "c'est ca", "d'accord")


def response_for(key: str) -> str:
    """The response that tells a reading error or note of the complaint form."""
    return f"utter_complaint_{key}"


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def questions_for(case: Mapping[str, Any]) -> list[str]:
    """The questions whose answer the case does not hold yet."""
    victim = case.get("victim") or {}
    incident = case.get("incident") or {}
    asked: list[str] = []
    if not (_text(victim.get("first_name")) and _text(victim.get("last_name"))):
        asked.append("letter_name")
    if not _text(victim.get("birth_date")):
        asked.append("letter_birth_date")
    if not _text(victim.get("birth_place")):
        asked.append("letter_birth_place")
    if not _text(victim.get("address")):
        asked.append("letter_address")
    if not (_text(victim.get("postal_code")) and _text(victim.get("city"))):
        asked.append("letter_city")
    if not _text(case.get("court_city")):
        asked.append("letter_court_city")
    if not _text(incident.get("first_published")):
        asked.append("letter_first_published")
    if not _text(incident.get("summary")):
        asked.append("letter_summary")
    if not any(_text(item.get("excerpt")) for item in case.get("evidence") or []):
        asked += ["letter_statement", "letter_statement_date"]
    return asked


def _fold(text: str) -> str:
    return fold(text, strip=" .!?\n\t")


def is_skip(text: str) -> bool:
    """True for an answer that skips an optional question (« passer », « je préfère pas »)."""
    folded = _fold(" ".join(text.split()))
    return any(re.match(rf"{re.escape(word)}(?![\w'])", folded) for word in _SKIP)


def _read_birth_date(clean: str, today: date) -> Reading:
    from riposte.nlp.dates import parse_french_date
    from riposte.nlp.evidence import is_future_date

    if len(clean) > MAX_DATE_ANSWER:
        return Reading(error="too_long")
    day = parse_french_date(clean, today)
    if day is None:
        future = is_future_date(clean, today)
        return Reading(error="birth_date_future" if future else "birth_date_unreadable")
    adult = date(today.year - MIN_AGE, today.month, min(today.day, 28))
    if day.year < MIN_YEAR or day > adult:
        return Reading(error="birth_date_implausible")
    return Reading({"victim": {"birth_date": day.isoformat()}})


def _read_statement_date(clean: str, statement: str | None, today: date | None) -> Reading:
    """The date of the quoted statement; « je ne sais pas » or « passer » records it undated."""
    from riposte.clock import ZONE
    from riposte.clock import today as france_today
    from riposte.nlp.evidence import read_published_at

    if not statement:
        return Reading()
    if not clean:
        return Reading(error="empty")
    if is_skip(clean):
        return Reading(evidence={"excerpt": statement})
    day = today or france_today()
    answer = read_published_at(clean, None, datetime(day.year, day.month, day.day, 12, tzinfo=ZONE))
    if not answer.ok:
        return Reading(error=answer.error)
    if not answer.value:
        return Reading(evidence={"excerpt": statement})
    return Reading(evidence={"excerpt": statement, "published_at": answer.value})


def read_answer(
    question: str,
    text: str,
    case: Mapping[str, Any],
    today: date | None = None,
    *,
    statement: str | None = None,
) -> Reading:
    """Read the answer to `question`; the patch keeps what was typed, exactly.

    The statement (« propos exacts ») is recorded with the answer to the next question, its
    date (`statement`: the quote kept from the question before): the evidence journal only
    appends, and each statement has its own prescription deadline.
    """
    clean = " ".join(text.split())
    if question in ("letter_birth_date", "letter_birth_place"):
        if not clean:
            return Reading(error="empty")
        if is_skip(clean):
            return Reading(note="birth_skipped")
        if question == "letter_birth_place":
            if len(clean) > MAX_NAME:
                return Reading(error="too_long")
            return Reading({"victim": {"birth_place": clean}})
        from riposte.clock import today as france_today

        return _read_birth_date(clean, today or france_today())
    if question == "letter_first_published":
        from riposte.clock import today as france_today
        from riposte.nlp.dates import parse_french_date

        day = parse_french_date(clean, today or france_today())
        if day is None:
            return Reading(error="date_unreadable")
        return Reading({"incident": {"first_published": day.isoformat()}})
    if question == "letter_name":
        name = _TITLES.sub("", clean)
        parts = name.split(" ")
        if len(parts) < 2 or not name:
            return Reading(error="name_incomplete")
        if len(name) > MAX_NAME:
            return Reading(error="too_long")
        return Reading({"victim": {"first_name": parts[0], "last_name": " ".join(parts[1:])}})
    if question == "letter_address":
        if not clean:
            return Reading(error="empty")
        if len(clean) > MAX_ADDRESS:
            return Reading(error="too_long")
        return Reading({"victim": {"address": clean}})
    if question == "letter_city":
        found = _POSTAL.search(clean)
        city = (clean[: found.start()] + " " + clean[found.end() :]).strip(" ,-") if found else ""
        if not found or not city:
            return Reading(error="city_unreadable")
        if len(city) > MAX_NAME:
            return Reading(error="too_long")
        return Reading({"victim": {"postal_code": found.group(1), "city": " ".join(city.split())}})
    if question == "letter_court_city":
        own_city = _text((case.get("victim") or {}).get("city"))
        folded = _fold(clean)
        same = any(folded == w or folded.startswith(w + " ") for w in _SAME)
        if own_city and (not folded or same):
            return Reading({"court_city": own_city})
        if not clean:
            return Reading(error="empty")
        if len(clean) > MAX_NAME:
            return Reading(error="too_long")
        return Reading({"court_city": clean})
    if question == "letter_summary":
        story = text.strip()
        if len(story) < 20:
            return Reading(error="summary_short")
        if len(story) > MAX_SUMMARY:
            return Reading(error="summary_long")
        return Reading({"incident": {"summary": story}})
    if question == "letter_statement":
        quoted = text.strip()
        if not quoted:
            return Reading(error="empty")
        if len(quoted) > MAX_STATEMENT:
            return Reading(error="statement_long")
        return Reading(keep=quoted)
    if question == "letter_statement_date":
        return _read_statement_date(clean, statement, today)
    raise ValueError(f"unknown complaint question {question!r}")


def summary_text(case: Mapping[str, Any]) -> str:
    """What the complaint will say about the doctor and the facts, to confirm before drafting."""
    m = load_messages()
    victim = case.get("victim") or {}
    incident = case.get("incident") or {}
    statements = [e for e in case.get("evidence") or [] if _text(e.get("excerpt"))]
    name = full_name(victim)
    blank = m.raw("chat.blank")
    birth_date = _text(victim.get("birth_date"))
    return m.get(
        "chat.summary",
        name=name,
        birth_date=_date_num(birth_date) if birth_date else blank,
        birth_place=_text(victim.get("birth_place")) or blank,
        address=victim.get("address") or "",
        postal_code=victim.get("postal_code") or "",
        city=victim.get("city") or "",
        court_city=case.get("court_city") or victim.get("city") or "",
        summary=story_excerpt(incident),
        statements=len(statements),
        exhibits=len(case.get("evidence") or []),
    )


def _date_num(iso: str) -> str:
    from riposte.letters.filters import date_num

    try:
        return date_num(date.fromisoformat(iso))
    except ValueError:
        return iso


# --- The complaint's use cases from the chat: from the case file to the letter and back. ---
# Blocking store calls (the actions run them in a worker thread); plain values in and out.

_log = logging.getLogger(__name__)
KIND = "procureur"
# The complaint in the chat (actions/letters.py): its responses, slots and documents.
LETTER = ChatLetter(
    skill="complaint",
    possible="letter_possible",
    questions=QUESTIONS,
    document_name="plainte-procureur",
    document_caption="chat.document_caption",
)


def correction_questions() -> list[str]:
    """« Corriger » : every question again, but the statement (the journal only appends)."""
    return [q for q in QUESTIONS if q not in ("letter_statement", "letter_statement_date")]


@dataclass(frozen=True)
class Start:
    """Whether the complaint can be written: the questions to ask, or the French reason it
    cannot (`refused`), or a store failure (`failed`)."""

    questions: list[str]
    refused: str | None = None
    failed: bool = False


def start_complaint(
    code: str, sender_id: str, today: date, *, record: CaseRecord | None = None
) -> Start:
    """Check the case against the complaint's requirements; the questions still to ask.

    A problem a question can fix (a missing identity) leaves the questions; one on substance
    (nothing to prosecute, prescribed) refuses at once.
    """
    from riposte.advice.engine import advise
    from riposte.chat.case import letter_record
    from riposte.letters.build import LetterOptions, check_letter

    record = letter_record(code, sender_id, record)
    if record is None:
        return Start([], failed=True)
    problem = check_letter(record.case, KIND, today, LetterOptions(), advise(record.case, today))
    questions = questions_for(record.to_dict())
    if problem is not None and (not questions or not problem.header):
        return Start([], refused=str(problem))
    _log.info("complaint form: %d questions", len(questions))
    return Start(questions)


def record_answer(
    question: str,
    text: str,
    code: str,
    sender_id: str,
    today: date,
    *,
    statement: str | None = None,
) -> Answered:
    """Read the answer against the stored case and write what it gives to the case at once."""
    return record_reading(
        lambda case: read_answer(question, text, case, today, statement=statement),
        code,
        sender_id,
        today,
    )


def complaint_summary(code: str, sender_id: str) -> str | None:
    """The summary to confirm before drafting; None when the case could not be read."""
    from riposte.chat.case import read_case_dict

    case = read_case_dict(code, sender_id)
    return None if case is None else summary_text(case)


def draft_complaint(code: str, sender_id: str, today: date) -> Drafted:
    """Render the complaint (PDF and DOCX) from the case and keep both, encrypted, in it."""
    return draft_letter(code, sender_id, today, KIND)
