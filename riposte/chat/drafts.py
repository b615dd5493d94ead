"""The other letters from the chat: the erasure request (RGPD), the CNIL complaint, the right of
reply, the declaration to the conseil départemental de l'Ordre, the request for protection
fonctionnelle and the letter asking the author to take his words down.

One form serves the six (domain/drafts.yml): which letter (`kind_from_text`, or a button),
which questions the case leaves open for it (`questions_for`, from the letter's requirements in
riposte/letters/data/requirements.yml), how to read the answers (the complaint's and the
notice's readers for the questions they share), what to show before drafting, and why a letter
cannot be written, with the chat's explanation (`Start.detail`, a key of messages.yml section
checks, or one of this module's).

The CNIL complaint follows the erasure request: it asks when the request was sent (the step's
date is kept in the case), waits for the month the site has to answer, and cites the date.

Pure functions over the shared case format (no Rasa); French texts live in
riposte/letters/data/messages.yml (section `chat_drafts`) and domain/drafts.yml.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from riposte.case import Case
from riposte.chat import complaint, notice
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
from riposte.letters.build import LetterOptions, load_messages, load_requirements
from riposte.store.records import CaseRecord
from riposte.text import fold

log = logging.getLogger(__name__)
# The letters of this form, in the order the chat offers them.
KINDS: tuple[str, ...] = (
    "erasure_request",
    "cnil_complaint",
    "right_of_reply",
    "cdom_declaration",
    "functional_protection",
    "formal_notice",
)
# The letters with their own skill in the chat (their intent, domain/complaint.yml and
# domain/notice.yml): a request for them is sent there.
OTHER_SKILLS: Mapping[str, str] = {"procureur": "draft_complaint", "platform_notice": "notice"}
# The questions of the form, in the order they are asked (domain/drafts.yml); the letter_* ones
# are the complaint's and the notice_* ones the notice's, read the same way.
QUESTIONS: tuple[str, ...] = (
    "draft_erasure_date",
    "notice_platform",
    "letter_name",
    "letter_address",
    "letter_city",
    "notice_email",
    "draft_profession",
    "draft_author",
    "letter_first_published",
    "letter_summary",
    "notice_url",
    "letter_statement",
    "letter_statement_date",
    "draft_reply",
)
# The reading errors and notes with a response of this skill (utter_draft_<key>); the others
# are the notice's or the complaint's (notice.response_for).
OWN_MESSAGES = frozenset(
    {
        "profession_empty",
        "author_empty",
        "reply_short",
        "reply_long",
        "quote_needed",
        "erasure_date_unreadable",
        "erasure_date_future",
        "erasure_first",
        "erasure_recorded",
        "summary_short",
    }
)
# The letter in the chat (actions/letters.py): its responses, slots and documents; the file
# name and caption depend on the kind (`document_name`).
LETTER = ChatLetter(
    skill="draft",
    possible="draft_possible",
    questions=QUESTIONS,
    document_name="courrier",
    document_caption="chat_drafts.document_caption",
)
# How long the site has to answer an erasure request before the CNIL can be seized (art. 12(3)
# of the GDPR: one month from its receipt).
ERASURE_ANSWER_MONTHS = 1
MAX_FIELD = 100
MAX_REPLY = 5_000
MIN_REPLY = 20
# The words that name each letter in a request (folded: lower case, no accents). The CNIL
# complaint comes before the erasure request (« plainte CNIL après ma demande d'effacement »).
_KIND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cnil_complaint", (r"\bcnil\b",)),
    ("right_of_reply", (r"droits? de reponse", r"\binsertion\b")),
    (
        "functional_protection",
        (r"protection fonctionnelle", r"\bmon employeur\b", r"direct(?:eur|rice|ion) de l'hopital"),
    ),
    (
        "cdom_declaration",
        (
            r"\bcdom\b",
            r"\bconseil (?:departemental|de l'ordre)",
            r"\bl'ordre\b",
            r"\bordre des medecins\b",
        ),
    ),
    (
        "erasure_request",
        (
            r"\beffac",
            r"\brgpd\b",
            r"dereferenc",
            r"droit a l'oubli",
            r"\bopposition\b",
            r"supprimer? ma fiche",
            r"suppression de ma fiche",
            r"mes donnees",
        ),
    ),
    (
        "formal_notice",
        (
            r"\bmise en demeure\b",
            r"\bl'auteur\b",
            r"\bau patient\b",
            r"\ba la patiente\b",
            r"\bretirer ses propos\b",
            r"\bqu'il retire\b",
            r"\bqu'elle retire\b",
        ),
    ),
    ("procureur", (r"\bprocureur\b", r"\bplainte\b")),
    ("platform_notice", (r"\bsignal", r"\bnotification\b")),
)
# The words that name one of these letters beyond doubt, even in a request the classifier read
# as the complaint or the notice (« plainte à la CNIL », « signaler pour effacement RGPD »):
# riposte_rasa/nlu/letter_intent.py sends such a request here.
_DISTINCT_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cnil_complaint", (r"\bcnil\b",)),
    ("right_of_reply", (r"droits? de reponse",)),
    ("functional_protection", (r"protection fonctionnelle",)),
    ("erasure_request", (r"\beffac", r"\brgpd\b", r"dereferenc", r"droit a l'oubli")),
)
_NOT_SENT = (
    "non",
    "pas encore",
    "pas du tout",
    "jamais",
    "je ne l'ai pas",
    "je l'ai pas",
    "aucune",
    "rien",
    "pas envoye",
)


def response_for(key: str) -> str:
    """The response that tells a reading error or note of the form."""
    return f"utter_draft_{key}" if key in OWN_MESSAGES else notice.response_for(key)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def kind_from_text(text: str) -> str | None:
    """The letter a request names (« je veux demander l'effacement » : erasure_request), or
    None when it names none or several that cannot be told apart."""
    folded = fold(text or "")
    for kind, patterns in _KIND_WORDS:
        if any(re.search(pattern, folded) for pattern in patterns):
            return kind
    return None


def distinct_kind(text: str) -> str | None:
    """The letter of this form a request names beyond doubt, or None."""
    folded = fold(text or "")
    for kind, patterns in _DISTINCT_WORDS:
        if any(re.search(pattern, folded) for pattern in patterns):
            return kind
    return None


def letter_label(kind: str) -> str:
    from riposte.knowledge import load

    return load().letters[kind].label


def needs_platform(kind: str) -> bool:
    """The letters addressed to one site, chosen when the case names several."""
    return "platform_chosen" in load_requirements().kinds[kind].checks_first


def _fields(kind: str) -> tuple[str, ...]:
    return load_requirements().kinds[kind].fields


def needs_quote(kind: str) -> bool:
    return "evidence[*].excerpt" in _fields(kind)


def with_addresses(kind: str, case: Case) -> Case:
    """The case the letter is written from: for the letters that name each content by its
    address, the evidence that has one (and its quote, when the letter cites each one)."""
    wanted = _fields(kind)
    if "evidence[*].url" not in wanted:
        return case
    kept = tuple(
        item
        for item in case.evidence
        if _text(item.url) and (not needs_quote(kind) or _text(item.excerpt))
    )
    return replace(case, evidence=kept)


def _has_content(kind: str, case: Mapping[str, Any]) -> bool:
    quote = needs_quote(kind)
    return any(
        _text(item.get("url")) and (not quote or _text(item.get("excerpt")))
        for item in case.get("evidence") or []
    )


def questions_for(
    kind: str, case: Mapping[str, Any], platform: str | None, erasure_sent: bool = True
) -> list[str]:
    """The questions whose answer the case does not hold yet for the letter `kind`."""
    victim = case.get("victim") or {}
    incident = case.get("incident") or {}
    wanted = set(_fields(kind))
    asked: set[str] = set()
    if kind == "cnil_complaint" and not erasure_sent:
        asked.add("draft_erasure_date")
    if needs_platform(kind) and not platform:
        asked.add("notice_platform")
    if {"victim.first_name", "victim.last_name"} & wanted and not (
        _text(victim.get("first_name")) and _text(victim.get("last_name"))
    ):
        asked.add("letter_name")
    if "victim.address" in wanted and not _text(victim.get("address")):
        asked.add("letter_address")
    if {"victim.postal_code", "victim.city"} & wanted and not _text(victim.get("city")):
        asked.add("letter_city")
    if "victim.postal_code" in wanted and not _text(victim.get("postal_code")):
        asked.add("letter_city")
    if "victim.email" in wanted and not _text(victim.get("email")):
        asked.add("notice_email")
    if "victim.profession" in wanted and not _text(victim.get("profession")):
        asked.add("draft_profession")
    if "incident.author.name" in wanted and not _text((incident.get("author") or {}).get("name")):
        asked.add("draft_author")
    if "incident.first_published" in wanted and not _text(incident.get("first_published")):
        asked.add("letter_first_published")
    if "incident.summary" in wanted and not _text(incident.get("summary")):
        asked.add("letter_summary")
    if "evidence[*].url" in wanted and not _has_content(kind, case):
        asked |= {"notice_url", "letter_statement", "letter_statement_date"}
    if kind == "right_of_reply":
        asked.add("draft_reply")
    return [name for name in QUESTIONS if name in asked]


def correction_questions(kind: str) -> list[str]:
    """« Corriger » : what the doctor typed for this letter, but the contents (the evidence
    journal only appends) and the erasure date (a step of the case, marked on the step)."""
    every = questions_for(kind, {}, "chosen")
    kept = ("notice_url", "letter_statement", "letter_statement_date", "draft_erasure_date")
    return [name for name in every if name not in kept]


def _is_not_sent(clean: str) -> bool:
    folded = fold(clean, strip=" .!?\n\t")
    return any(re.match(rf"{re.escape(word)}(?![\w'])", folded) for word in _NOT_SENT)


# The button that answers « not sent yet » to the erasure question (domain/drafts.yml).
NOT_SENT_CHOICE = "erasure_sent=no"


def read_erasure_date(
    text: str, case: Mapping[str, Any], today: date, choice: str | None = None
) -> Reading:
    """When the erasure request was sent: its date marks the step done on that day; « non »
    (or its button, `choice`) means the request comes first (`erasure_first`)."""
    from riposte.nlp.dates import parse_french_date
    from riposte.nlp.evidence import is_future_date

    clean = " ".join(text.split())
    if choice == NOT_SENT_CHOICE:
        return Reading(error="erasure_first")
    if not clean:
        return Reading(error="empty")
    if len(clean) > complaint.MAX_DATE_ANSWER:
        return Reading(error="too_long")
    if _is_not_sent(clean):
        return Reading(error="erasure_first")
    day = parse_french_date(clean, today)
    if day is None:
        future = is_future_date(clean, today)
        return Reading(error="erasure_date_future" if future else "erasure_date_unreadable")
    if day > today:
        return Reading(error="erasure_date_future")
    steps = [key for key in case.get("steps_done") or [] if key != "erasure_request"]
    return Reading(
        {"steps_done": [*steps, "erasure_request"]},
        done_on={"erasure_request": day},
        keep=day.isoformat(),
        note="erasure_recorded",
    )


def read_answer(
    kind: str,
    question: str,
    text: str,
    case: Mapping[str, Any],
    today: date,
    **kept: Any,
) -> Reading:
    """Read the answer to `question` for the letter `kind`; `kept` as notice.read_answer."""
    clean = " ".join(text.split())
    if question == "draft_erasure_date":
        return read_erasure_date(text, case, today, kept.get("choice"))
    if question in ("draft_profession", "draft_author"):
        if not clean or complaint.is_skip(clean):
            return Reading(
                error="profession_empty" if question == "draft_profession" else "author_empty"
            )
        if len(clean) > MAX_FIELD:
            return Reading(error="too_long")
        if question == "draft_profession":
            return Reading({"victim": {"profession": clean}})
        return Reading({"incident": {"author": {"name": clean}}})
    if question == "draft_reply":
        reply = text.strip()
        if len(reply) < MIN_REPLY:
            return Reading(error="reply_short")
        if len(reply) > MAX_REPLY:
            return Reading(error="reply_long")
        return Reading(keep=reply)
    reading = notice.read_answer(question, text, case, today, **kept)
    if reading.note == "quote_skipped" and needs_quote(kind):
        return Reading(error="quote_needed")
    return reading


# --- The letters' use cases from the chat: from the case file to the letter and back. ---
# Blocking store calls (the actions run them in a worker thread); plain values in and out.


@dataclass(frozen=True)
class Start:
    """Whether the letter `kind` can be written: the questions to ask and the platform (chosen,
    or the `choices` to offer); or why not (`refused`: the check that failed, `detail` the key of
    its explanation, `reason` the letter builder's words, `label` the site it is about, `sent_on`
    and `due` the erasure request's day and the last day of its answer), or a store failure
    (`failed`)."""

    questions: list[str] = field(default_factory=list)
    platform: str | None = None
    choices: list[str] = field(default_factory=list)
    refused: str | None = None
    detail: str | None = None
    reason: str = ""
    label: str = ""
    sent_on: str = ""
    due: str = ""
    failed: bool = False


def erasure_sent_on(record: Any) -> date | None:
    """The day the erasure request was marked sent in the stored case, if it was."""
    for step in record.steps:
        if step.key == "erasure_request" and step.done:
            return step.done_on or record.updated_at.date()
    return None


def answer_due(sent_on: date, today: date) -> date | None:
    """The last day the site has to answer an erasure request sent on `sent_on`, while it
    runs (None once it has passed: the CNIL can be seized)."""
    from riposte.deadlines import compute_deadline

    limit = compute_deadline(sent_on, ERASURE_ANSWER_MONTHS, today)
    return None if limit.expired else limit.deadline


def _options(kind: str, platform: str | None, sent_on: date | None, **extra: Any) -> LetterOptions:
    return LetterOptions(
        platform=platform if needs_platform(kind) else None,
        erasure_sent_on=sent_on if kind == "cnil_complaint" else None,
        **extra,
    )


def start_draft(
    code: str,
    sender_id: str,
    today: date,
    kind: str,
    request: str = "",
    *,
    record: CaseRecord | None = None,
) -> Start:
    """Check the case against the letter's requirements; the questions still to ask.

    With one site in the case, or one the request names, it is the recipient; with several,
    the doctor chooses. Missing information is asked; anything else refuses at once, with
    the reason's key for the chat's explanation.
    """
    from riposte.advice.engine import advise
    from riposte.chat.case import letter_record
    from riposte.letters.build import check_letter
    from riposte.letters.filters import date_num
    from riposte.nlp.extract import extract_facts

    record = letter_record(code, sender_id, record)
    if record is None:
        return Start(failed=True)
    platforms = list(record.case.incident.platforms) if record.case.incident else []
    platform: str | None = None
    choices: list[str] = []
    if needs_platform(kind):
        if not platforms:
            return Start(refused="platform_chosen", detail="platform_missing")
        online = notice.online_platforms(platforms)
        if not online:
            label = notice.platform_label(platforms[0])
            return Start(refused="platform_online", detail="platform_private", label=label)
        named = set(extract_facts(request, today).platforms)
        chosen = [key for key in online if key in named]
        platform = chosen[0] if len(chosen) == 1 else online[0] if len(online) == 1 else None
        choices = [] if platform else online
    sent_on = erasure_sent_on(record)
    case = with_addresses(kind, record.case)
    if kind == "cnil_complaint":
        if sent_on is not None:
            due = answer_due(sent_on, today)
            if due is not None:
                return Start(
                    refused="erasure_requested",
                    detail="erasure_pending",
                    sent_on=date_num(sent_on),
                    due=date_num(due),
                )
        # The erasure request is asked about in the form when the case does not hold it.
        case = replace(case, steps_done=(*case.steps_done, "erasure_request"))
    options = _options(kind, platform or (choices[0] if choices else None), sent_on)
    problem = check_letter(case, kind, today, options, advise(case, today))
    if problem is not None and problem.check != "missing":
        label = notice.platform_label(options.platform) if options.platform else ""
        return Start(
            refused=problem.check or "", detail=problem.detail, reason=str(problem), label=label
        )
    questions = questions_for(kind, record.to_dict(), platform, sent_on is not None)
    log.info("%s form: %d questions", kind, len(questions))
    return Start(questions, platform, choices)


def record_answer(
    question: str,
    text: str,
    code: str,
    sender_id: str,
    today: date,
    *,
    kind: str,
    **kept: Any,
) -> Answered:
    """Read the answer against the stored case and write what it gives to the case at once."""
    return record_reading(
        lambda case: read_answer(kind, question, text, case, today, **kept),
        code,
        sender_id,
        today,
    )


def summary_text(
    kind: str,
    case: Mapping[str, Any],
    platform: str | None,
    *,
    reply: str | None = None,
    sent_on: date | None = None,
) -> str:
    """What the letter will say, to confirm before drafting: one line per element it uses."""
    from riposte.letters.filters import date_num

    m = load_messages()
    victim = case.get("victim") or {}
    incident = case.get("incident") or {}
    wanted = set(_fields(kind))
    lines = [m.get("chat_drafts.summary_header", label=letter_label(kind))]
    if platform and needs_platform(kind):
        lines.append(m.get("chat_drafts.line_platform", platform=notice.platform_label(platform)))
    lines.append(m.get("chat_drafts.line_name", name=full_name(victim)))
    if "victim.profession" in wanted:
        lines.append(m.get("chat_drafts.line_profession", profession=victim.get("profession", "")))
    if "victim.address" in wanted:
        address = (
            f"{victim.get('address', '')}, {victim.get('postal_code', '')} {victim.get('city', '')}"
        )
        lines.append(m.get("chat_drafts.line_address", address=" ".join(address.split())))
    elif "victim.city" in wanted:
        lines.append(m.get("chat_drafts.line_city", city=victim.get("city", "")))
    if "victim.email" in wanted:
        lines.append(m.get("chat_drafts.line_email", email=victim.get("email", "")))
    if "incident.author.name" in wanted:
        author = (incident.get("author") or {}).get("name", "")
        lines.append(m.get("chat_drafts.line_author", author=author))
    if "evidence[*].url" in wanted:
        located = [
            item
            for item in case.get("evidence") or []
            if _text(item.get("url")) and (not needs_quote(kind) or _text(item.get("excerpt")))
        ]
        urls = "\n".join(f"  - {item['url'].strip()}" for item in located)
        lines.append(m.get("chat_drafts.line_urls", urls=urls))
    if _text(incident.get("summary")):
        lines.append(m.get("chat_drafts.line_summary", summary=story_excerpt(incident)))
    if reply:
        lines.append(m.get("chat_drafts.line_reply", reply=story_excerpt({"summary": reply})))
    if sent_on is not None:
        lines.append(m.get("chat_drafts.line_erasure", date=date_num(sent_on)))
    lines.append(m.raw("chat_drafts.summary_footer"))
    return "\n".join(lines)


def draft_summary(
    code: str, sender_id: str, kind: str, platform: str | None, reply: str | None = None
) -> str | None:
    """The summary to confirm before drafting; None when the case could not be read."""
    from riposte.chat.case import as_chat, repository
    from riposte.store.errors import StoreError

    try:
        record = repository().read_case(code, **as_chat(sender_id))
    except StoreError as error:
        log.error("case store unavailable: %s", type(error).__name__)
        return None
    sent_on = erasure_sent_on(record) if kind == "cnil_complaint" else None
    return summary_text(kind, record.to_dict(), platform, reply=reply, sent_on=sent_on)


def draft(
    code: str,
    sender_id: str,
    today: date,
    kind: str,
    platform: str | None,
    reply: str | None = None,
) -> Drafted:
    """Render the letter `kind` (PDF and DOCX) from the case and keep both in it."""
    from riposte.chat.case import as_chat, repository
    from riposte.store.errors import StoreError

    sent_on: date | None = None
    if kind == "cnil_complaint":
        try:
            sent_on = erasure_sent_on(repository().read_case(code, **as_chat(sender_id)))
        except StoreError as error:
            log.error("case store unavailable: %s", type(error).__name__)
            return Drafted(failed=True)
    options = _options(kind, platform, sent_on, reply_text=reply)
    return draft_letter(
        code,
        sender_id,
        today,
        kind,
        options=options,
        prepare=lambda case: with_addresses(kind, case),
    )


def document_name(kind: str) -> str:
    """The file name of the letter sent on messaging apps (without extension)."""
    return load_messages().get(f"chat_drafts.file_names.{kind}")
