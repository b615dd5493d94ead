"""The notice to a platform from the chat (article 16 of Regulation (EU) 2022/2065, the
Digital Services Act): which platform, which questions to ask, how to read the answers, what
to show before drafting, and why a notice cannot be written.

Pure functions over the shared case format (no Rasa); the questions the complaint also asks
(name, story, quoted statement and its date) are read by riposte.chat.complaint. French texts
live in riposte/letters/data/messages.yml (section `chat_notice`) and domain/notice.yml.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from riposte.case import Case
from riposte.chat import complaint
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
from riposte.letters.build import LetterOptions, load_messages
from riposte.store.records import CaseRecord
from riposte.text import fold

log = logging.getLogger(__name__)
KIND = "platform_notice"
# The questions of the notice form, in the order they are asked (domain/notice.yml); the
# letter_* ones are the complaint's, read the same way.
QUESTIONS: tuple[str, ...] = (
    "notice_platform",
    "letter_name",
    "notice_email",
    "letter_summary",
    "notice_url",
    "letter_statement",
    "letter_statement_date",
)
# The reading errors and notes that have a response of this skill (utter_notice_<key>); the
# others are the complaint's (utter_complaint_<key>).
OWN_MESSAGES = frozenset(
    {"platform_unknown", "email_unreadable", "url_needed", "url_unreadable", "quote_skipped"}
)
# The refusals of the letter builder (riposte/letters/build.py, CHECKS) the chat explains in
# its own words, with the way forward (utter_notice_refused_<check>, domain/notice.yml); any
# other refusal is shown as the builder words it.
EXPLAINED = frozenset({"platform_chosen", "platform_online", "offense_retained"})
# The notice in the chat (actions/letters.py): its responses, slots and documents.
LETTER = ChatLetter(
    skill="notice",
    possible="notice_possible",
    questions=QUESTIONS,
    document_name="notification-plateforme",
    document_caption="chat_notice.document_caption",
)
# The button payload that answers the platform question (domain/notice.yml).
CHOICE = "notice_platform"
MAX_EMAIL = 254
# The case schema accepts one @ between non-blank parts; a notice also needs a domain with a dot.
_PART = r"[^@\s<>()\"',;:\u00ab\u00bb]+"
_EMAIL = re.compile(rf"{_PART}@{_PART}\.[^@\s<>()\"',;:\u00ab\u00bb.]+")
# Answers that leave out the quote: the notice then names only the address.
_NO_QUOTE = frozenset(
    {
        "passer",
        "je passe",
        "aucun",
        "aucune",
        "rien",
        "pas de texte",
        "il n'y a pas de texte",
        "pas de propos",
        "c'est une photo",
        "c'est une image",
        "c'est une video",
        "je ne sais pas",
    }
)


def response_for(key: str) -> str:
    """The response that tells a reading error or note of the notice form."""
    skill = "notice" if key in OWN_MESSAGES else "complaint"
    return f"utter_{skill}_{key}"


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def online_platforms(platforms: Iterable[str]) -> list[str]:
    """The platforms a notice can go to: not a private messaging (e-mail, SMS)."""
    from riposte.knowledge import load

    kb = load()
    return [key for key in platforms if key in kb.platforms and not kb.platforms[key].private]


def platform_label(key: str) -> str:
    from riposte.knowledge import load

    return load().platforms[key].label


def with_addresses(case: Case) -> Case:
    """The case the notice is written from: the evidence that has an address (a quote kept
    for the complaint, or a file, without one cannot be located by the platform)."""
    return replace(case, evidence=tuple(item for item in case.evidence if _text(item.url)))


def questions_for(case: Mapping[str, Any], platform: str | None) -> list[str]:
    """The questions whose answer the case does not hold yet (and the platform, if unchosen)."""
    victim = case.get("victim") or {}
    shared = complaint.questions_for(case)  # the name and the story, read the same way
    asked: set[str] = {name for name in ("letter_name", "letter_summary") if name in shared}
    if not platform:
        asked.add("notice_platform")
    if not _text(victim.get("email")):
        asked.add("notice_email")
    if not any(_text(item.get("url")) for item in case.get("evidence") or []):
        asked |= {"notice_url", "letter_statement", "letter_statement_date"}
    return [name for name in QUESTIONS if name in asked]


def correction_questions() -> list[str]:
    """« Corriger » : the name, the e-mail and the story (the evidence journal only appends)."""
    return ["letter_name", "notice_email", "letter_summary"]


def read_platform(text: str, choice: str | None, choices: list[str], today: date) -> Reading:
    """Which platform: a button (`choice`: "notice_platform=KEY") or its name typed."""
    from riposte.nlp.extract import extract_facts

    if choice and choice.startswith(f"{CHOICE}="):
        key = choice.split("=", 1)[1]
        return Reading(keep=key) if key in choices else Reading(error="platform_unknown")
    named = [key for key in extract_facts(text, today).platforms if key in choices]
    folded = fold(text, strip=" .!?\n\t")
    named += [key for key in choices if key not in named and fold(platform_label(key)) == folded]
    return Reading(keep=named[0]) if len(named) == 1 else Reading(error="platform_unknown")


def read_email(text: str) -> Reading:
    clean = text.strip()
    found = _EMAIL.search(clean)
    if len(clean) > MAX_EMAIL or found is None:
        return Reading(error="email_unreadable")
    return Reading({"victim": {"email": found.group(0).rstrip(".")}})


def read_url(text: str) -> Reading:
    """The address of the content; a notice cannot do without one (« aucune » is explained)."""
    from riposte.nlp.evidence import read_url as read_any_url

    answer = read_any_url(text.strip())
    if answer.error == "url_too_long":
        return Reading(error="too_long")
    if not answer.ok:
        return Reading(error="url_unreadable")
    if not answer.value:
        return Reading(error="url_needed")
    return Reading(keep=str(answer.value))


def read_answer(
    question: str,
    text: str,
    case: Mapping[str, Any],
    today: date,
    *,
    url: str | None = None,
    statement: str | None = None,
    choice: str | None = None,
    choices: list[str] | None = None,
) -> Reading:
    """Read the answer to `question` of the notice form.

    The content is recorded once its questions are answered: its address (`url`, kept from
    the question before), the quoted statement (`statement`) and its date, as one evidence
    item; « passer » instead of a quote records the address alone.
    """
    if question == "notice_platform":
        return read_platform(text, choice, list(choices or []), today)
    if question == "notice_email":
        return read_email(text)
    if question == "notice_url":
        return read_url(text)
    if question == "letter_statement" and fold(" ".join(text.split()), strip=" .!?") in _NO_QUOTE:
        item = {"url": url} if url else None
        return Reading(evidence=item, note="quote_skipped", settles=("letter_statement_date",))
    reading = complaint.read_answer(question, text, case, today, statement=statement)
    if reading.evidence is not None and url:
        return replace(reading, evidence={**reading.evidence, "url": url})
    return reading


# --- The notice's use cases from the chat: from the case file to the letter and back. ---
# Blocking store calls (the actions run them in a worker thread); plain values in and out.


@dataclass(frozen=True)
class Start:
    """Whether the notice can be written: the questions to ask and the platform (chosen, or
    the `choices` to offer); or why not (`refused`: the check of riposte/letters/build.py that
    failed, `reason` its French explanation, `label` the platform it is about), or a store
    failure (`failed`)."""

    questions: list[str] = field(default_factory=list)
    platform: str | None = None
    choices: list[str] = field(default_factory=list)
    refused: str | None = None
    reason: str = ""
    label: str = ""
    failed: bool = False


def start_notice(
    code: str, sender_id: str, today: date, request: str = "", *, record: CaseRecord | None = None
) -> Start:
    """Check the case against the notice's requirements; the questions still to ask.

    With one online platform in the case, or one the request names (« signaler l'avis à
    Google »), it is the recipient; with several, the doctor chooses. Missing information is
    asked; anything else refuses at once.
    """
    from riposte.advice.engine import advise
    from riposte.chat.case import letter_record
    from riposte.letters.build import check_letter
    from riposte.nlp.extract import extract_facts

    record = letter_record(code, sender_id, record)
    if record is None:
        return Start(failed=True)
    platforms = list(record.case.incident.platforms) if record.case.incident else []
    if not platforms:
        return Start(refused="platform_chosen")
    online = online_platforms(platforms)
    if not online:
        return Start(refused="platform_online", label=platform_label(platforms[0]))
    named = set(extract_facts(request, today).platforms)
    chosen = [key for key in online if key in named]
    platform = chosen[0] if len(chosen) == 1 else online[0] if len(online) == 1 else None
    case = with_addresses(record.case)
    options = LetterOptions(platform=platform or online[0])
    problem = check_letter(case, KIND, today, options, advise(case, today))
    if problem is not None and problem.check != "missing":
        return Start(refused=problem.check or "", reason=str(problem))
    questions = questions_for(record.to_dict(), platform)
    log.info("notice form: %d questions", len(questions))
    return Start(questions, platform, [] if platform else online)


def record_answer(
    question: str,
    text: str,
    code: str,
    sender_id: str,
    today: date,
    **kept: Any,
) -> Answered:
    """Read the answer against the stored case and write what it gives to the case at once
    (`kept`: url, statement, choice and choices, as read_answer takes them)."""
    return record_reading(
        lambda case: read_answer(question, text, case, today, **kept), code, sender_id, today
    )


def summary_text(case: Mapping[str, Any], platform: str) -> str:
    """What the notice will say, to confirm before drafting."""
    m = load_messages()
    victim = case.get("victim") or {}
    incident = case.get("incident") or {}
    located = [item for item in case.get("evidence") or [] if _text(item.get("url"))]
    return m.get(
        "chat_notice.summary",
        platform=platform_label(platform),
        name=full_name(victim),
        email=victim.get("email") or "",
        urls="\n".join(f"  - {item['url'].strip()}" for item in located),
        statements=sum(1 for item in located if _text(item.get("excerpt"))),
        summary=story_excerpt(incident),
    )


def notice_summary(code: str, sender_id: str, platform: str) -> str | None:
    """The summary to confirm before drafting; None when the case could not be read."""
    from riposte.chat.case import read_case_dict

    case = read_case_dict(code, sender_id)
    return None if case is None else summary_text(case, platform)


def draft_notice(code: str, sender_id: str, today: date, platform: str) -> Drafted:
    """Render the notice to `platform` (PDF and DOCX) from the case and keep both in it."""
    options = LetterOptions(platform=platform)
    return draft_letter(code, sender_id, today, KIND, options=options, prepare=with_addresses)
