"""From a case to a letter: check what the kind requires, build the context, render, parse.

`build_letter(case, kind, today, options)` returns a `Document` or raises `LetterError`, whose
`errors` are French messages: each missing field named by its JSON path, or the reason why the
letter must not be written (an expired press offence, a colleague to contact through the
Ordre…). The requirements of each kind live in `data/requirements.yml`, the messages in
`data/messages.yml`; the decisions reuse `advise()` so that a letter never contradicts the
advice (prescription, who may be contacted, which letters make sense).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

import yaml

from riposte.advice.engine import (
    PRESS_OFFENSES,
    PRIVATE_VARIANTS,
    RIGHT_OF_REPLY_MONTHS,
    Advice,
    Qualification,
    advise,
)
from riposte.case import Case, Evidence, load_case
from riposte.deadlines import (
    compute_deadline,
    holiday_key,
    last_working_day_on_or_before,
    weekday_key,
)
from riposte.knowledge import LETTER_KINDS, Knowledge, Messages
from riposte.knowledge import load as load_knowledge
from riposte.letters.environment import get_environment
from riposte.letters.filters import date_num, surname
from riposte.letters.model import Document, parse

DATA_DIR = Path(__file__).resolve().parent / "data"
# The offences for which the employer may file a complaint on the doctor's behalf, with the
# doctor's written consent (art. 15-3-4 of the code de procédure pénale), are marked
# `employer_complaint` in offenses.yml.
# The complementary penalty of suspending the accounts used (art. 131-35-1 of the code pénal,
# as amended by loi n° 2024-449 of 21 May 2024, in force from 23 May 2024): a penalty cannot
# apply to facts committed before it existed.
ACCOUNT_SUSPENSION_FROM = date(2024, 5, 23)
_PATH_PART = re.compile(r"([a-z_]+)(\[\*\])?")


class LetterError(ValueError):
    """A letter that must not be written, explained in French.

    `errors` holds one message per problem (for missing fields: one per field, naming its JSON
    path); `header` and `footer`, when present, introduce and close the list. `check` names
    what refused the letter (a key of CHECKS, or "missing" for missing fields), and `detail`
    the key of its explanation in messages.yml (section checks), so that the chat can explain
    it in its own words.
    """

    def __init__(
        self,
        errors: tuple[str, ...] | list[str],
        header: str | None = None,
        footer: str | None = None,
        check: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.errors: tuple[str, ...] = tuple(errors)
        self.header = header
        self.footer = footer
        self.check = check
        self.detail = detail
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """The whole explanation, one line per item ("- " before each problem)."""
        out = [self.header] if self.header else []
        out.extend(f"- {error}" for error in self.errors)
        if self.footer:
            out.append(self.footer)
        return out


@dataclass(frozen=True)
class LetterOptions:
    """What the command line adds to the case.

    platform     key of the platform the letter is addressed to (when the case names several)
    civil_party  the complaint declares the constitution de partie civile
    reply_text   the text of the reply (right of reply)
    erasure_sent_on  the day the erasure request was sent (CNIL complaint)
    """

    platform: str | None = None
    civil_party: bool = False
    reply_text: str | None = None
    erasure_sent_on: date | None = None


# --------------------------------------------------------------------------- data files


@dataclass(frozen=True)
class KindRequirement:
    kind: str
    fields: tuple[str, ...]
    press_offense_fields: tuple[str, ...]
    options: tuple[str, ...]
    checks_first: tuple[str, ...]
    checks: tuple[str, ...]


@dataclass(frozen=True)
class Requirements:
    field_labels: Mapping[str, str]
    option_labels: Mapping[str, str]
    kinds: Mapping[str, KindRequirement]


def _read(name: str) -> Any:
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@functools.lru_cache(maxsize=1)
def load_messages() -> Messages:
    """The French messages of the letter commands (data/messages.yml, read once)."""
    return Messages(_read("messages.yml"))


def _strings(node: Any, where: str) -> tuple[str, ...]:
    if node is None:
        return ()
    if not isinstance(node, list) or not all(isinstance(item, str) for item in node):
        raise ValueError(f"requirements.yml: {where}: expected a list of strings")
    return tuple(node)


@functools.lru_cache(maxsize=1)
def load_requirements() -> Requirements:
    """Per-kind requirements (data/requirements.yml, read and checked once)."""
    data = _read("requirements.yml")
    labels: Mapping[str, str] = data["fields"]
    option_labels: Mapping[str, str] = data["options"]
    raw_kinds: Mapping[str, Any] = data["kinds"]
    if tuple(raw_kinds) != LETTER_KINDS:
        raise ValueError(f"requirements.yml: kinds: expected {', '.join(LETTER_KINDS)}")
    kinds: dict[str, KindRequirement] = {}
    for kind, node in raw_kinds.items():
        requirement = KindRequirement(
            kind=kind,
            fields=_strings(node.get("fields"), f"kinds.{kind}.fields"),
            press_offense_fields=_strings(
                node.get("press_offense_fields"), f"kinds.{kind}.press_offense_fields"
            ),
            options=_strings(node.get("options"), f"kinds.{kind}.options"),
            checks_first=_strings(node.get("checks_first"), f"kinds.{kind}.checks_first"),
            checks=_strings(node.get("checks"), f"kinds.{kind}.checks"),
        )
        for path in requirement.fields + requirement.press_offense_fields:
            if path not in labels:
                raise ValueError(f"requirements.yml: kinds.{kind}: no description for {path}")
        for option in requirement.options:
            if option not in option_labels or option not in LetterOptions.__dataclass_fields__:
                raise ValueError(f"requirements.yml: kinds.{kind}: unknown option {option}")
        for check in requirement.checks_first + requirement.checks:
            if check not in CHECKS:
                raise ValueError(f"requirements.yml: kinds.{kind}: unknown check {check}")
        kinds[kind] = requirement
    return Requirements(field_labels=labels, option_labels=option_labels, kinds=kinds)


@dataclass(frozen=True)
class MotiveParagraphs:
    """How one discriminatory qualification cites the paragraph of its motive."""

    article: str
    marker: str
    texts: Mapping[str, str]
    blank: str
    choices: str


@dataclass(frozen=True)
class Motives:
    """The motive groups (origin… / sex…, disability) and their paragraphs per qualification."""

    labels: Mapping[str, str]
    patterns: Mapping[str, re.Pattern[str]]
    paragraphs: Mapping[tuple[str, str], MotiveParagraphs]


def _word_pattern(words: list[str]) -> re.Pattern[str]:
    parts = [re.escape(word).replace(r"\*", r"\w*").replace(r"\?", "?") for word in words]
    # Lexicon-style alternatives "(a|b)" and optional letters "e?" keep their meaning.
    parts = [part.replace(r"\(", "(?:").replace(r"\)", ")").replace(r"\|", "|") for part in parts]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


@functools.lru_cache(maxsize=1)
def load_motives() -> Motives:
    """The motive data (data/motives.yml, read and checked once)."""
    data = _read("motives.yml")
    groups: Mapping[str, Any] = data["groups"]
    labels = {key: str(group["label"]) for key, group in groups.items()}
    patterns = {
        key: _word_pattern([str(word) for word in group["words"]]) for key, group in groups.items()
    }
    paragraphs: dict[tuple[str, str], MotiveParagraphs] = {}
    for offense, variants in data["paragraphs"].items():
        for variant, node in variants.items():
            texts = {str(k): str(v) for k, v in node["texts"].items()}
            if set(texts) != set(labels):
                raise ValueError(f"motives.yml: paragraphs.{offense}.{variant}: one text per group")
            paragraphs[(offense, variant)] = MotiveParagraphs(
                article=str(node["article"]),
                marker=str(node["marker"]).lower(),
                texts=texts,
                blank=str(node["blank"]),
                choices=str(node["choices"]),
            )
    return Motives(labels=labels, patterns=patterns, paragraphs=paragraphs)


def find_motive(texts: list[str]) -> str | None:
    """The motive group the statements point to, or None when none or both are found."""
    from riposte.nlp import fold

    motives = load_motives()
    folded = " ".join(fold(text) for text in texts if text)
    found = {key for key, pattern in motives.patterns.items() if pattern.search(folded)}
    return found.pop() if len(found) == 1 else None


def _is_alternative(text: str, marker: str) -> bool:
    return marker in " ".join(text.lower().split())


def resolve_texts(q: Qualification, motive: str | None) -> Qualification:
    """`q` citing one paragraph only: the motive's, or a blank to fill when it is unknown.

    The knowledge files give both paragraphs of a discriminatory qualification, one per line
    (for the advice); a letter must never cite alternative paragraphs.
    """
    rule = load_motives().paragraphs.get((q.offense, q.variant))
    if rule is None or not any(_is_alternative(text, rule.marker) for text in q.texts):
        return q
    texts: list[str] = []
    chosen = rule.texts[motive] if motive is not None else rule.blank
    for text in q.texts:
        if not _is_alternative(text, rule.marker):
            texts.append(text)
        elif chosen not in texts:
            texts.append(chosen)
    return replace(q, texts=tuple(texts))


# --------------------------------------------------------------------------- missing fields

_MISSING = object()


def _walk(node: Any, parts: list[str], prefix: str) -> Iterator[tuple[str, Any]]:
    if not parts:
        yield prefix, node
        return
    match = _PATH_PART.fullmatch(parts[0])
    if match is None:  # pragma: no cover - paths are checked against the descriptions
        raise ValueError(f"malformed field path part {parts[0]!r}")
    name, every = match.group(1), match.group(2)
    path = f"{prefix}.{name}" if prefix else name
    value = node.get(name, _MISSING) if isinstance(node, Mapping) else _MISSING
    if not every:
        if value is _MISSING and len(parts) > 1:
            # A missing parent makes every leaf below it missing.
            yield from _walk({}, parts[1:], path)
        else:
            yield from _walk(value, parts[1:], path)
        return
    if not isinstance(value, list):
        return
    for index, item in enumerate(value):
        yield from _walk(item, parts[1:], f"{path}[{index}]")


def _absent(value: Any) -> bool:
    if value is _MISSING or value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict):
        return not value
    return False


def missing_fields(data: Mapping[str, Any], paths: tuple[str, ...]) -> list[str]:
    """The concrete JSON paths among `paths` whose value is absent or empty, in order."""
    out: list[str] = []
    for path in paths:
        for concrete, value in _walk(data, path.split("."), ""):
            if _absent(value) and concrete not in out:
                out.append(concrete)
    return out


def _label_for(concrete: str, labels: Mapping[str, str]) -> str:
    return labels[re.sub(r"\[[0-9]+\]", "[*]", concrete)]


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class _Check:
    case: Case
    advice: Advice
    kind: str
    options: LetterOptions
    today: date
    kb: Knowledge
    messages: Messages


def _platform_key(case: Case, options: LetterOptions) -> str | None:
    platforms = case.incident.platforms if case.incident else ()
    if options.platform is not None:
        return options.platform if options.platform in platforms else None
    return platforms[0] if len(platforms) == 1 else None


def _refuse(message: str, detail: str | None = None) -> LetterError:
    return LetterError([message], detail=detail)


def _check_offense_retained(c: _Check) -> LetterError | None:
    if c.advice.qualifications:
        return None
    return _refuse(c.messages.raw("checks.offense_retained"), "offense_retained")


def _check_complaint_open(c: _Check) -> LetterError | None:
    quals = c.advice.qualifications
    if any(q.is_open for q in quals):
        return None
    items = []
    for q in quals:
        deadline, start = q.prescription.deadline, q.prescription.start
        items.append(
            c.messages.get(
                "checks.complaint_expired_item",
                label=q.label,
                deadline=date_num(deadline) if deadline else "?",
                start=date_num(start) if start else "?",
            )
        )
    return LetterError(
        items,
        header=c.messages.raw("checks.complaint_expired"),
        footer=c.messages.raw("checks.complaint_expired_footer"),
    )


def _check_platform_chosen(c: _Check) -> LetterError | None:
    platforms = c.case.incident.platforms if c.case.incident else ()
    shown = ", ".join(platforms)
    if not platforms:
        return _refuse(c.messages.raw("checks.platform_missing"), "platform_missing")
    if c.options.platform is not None and c.options.platform not in platforms:
        return _refuse(
            c.messages.get(
                "checks.platform_not_in_case", platform=c.options.platform, platforms=shown
            )
        )
    if c.options.platform is None and len(platforms) > 1:
        return _refuse(c.messages.get("checks.platform_ambiguous", platforms=shown))
    return None


def _check_platform_online(c: _Check) -> LetterError | None:
    key = _platform_key(c.case, c.options)
    if key is not None and c.kb.platforms[key].private:
        return _refuse(
            c.messages.get("checks.platform_private", label=c.kb.platforms[key].label),
            "platform_private",
        )
    return None


def _check_hospital_practice(c: _Check) -> LetterError | None:
    if c.case.victim.practice == "hospital":
        return None
    return _refuse(c.messages.raw("checks.hospital_practice"), "hospital_practice")


def _check_author_contact_allowed(c: _Check) -> LetterError | None:
    """The letter to the author follows the advice: allowed only when the advice lists the
    `contact_author` step; otherwise the reason is told, the most serious first."""
    if "contact_author" in c.advice.step_keys():
        return None
    incident = c.case.incident
    if incident is None:  # pragma: no cover - required fields come first
        return _refuse(c.messages.raw("checks.author_unknown"), "author_unknown")
    offenses = {q.offense for q in c.advice.qualifications}
    if incident.author.relation == "colleague":
        return _refuse(c.messages.raw("checks.author_colleague"), "author_colleague")
    if incident.physical_danger or any(c.kb.offenses[key].no_contact for key in offenses):
        return _refuse(c.messages.raw("checks.author_danger"), "author_danger")
    if incident.volume in ("repeated", "raid"):
        return _refuse(c.messages.raw("checks.author_raid"), "author_raid")
    if not c.advice.public:
        return _refuse(c.messages.raw("checks.author_not_public"), "author_not_public")
    # Author not identified, or the case does not say (`incident.author.known` unset).
    return _refuse(c.messages.raw("checks.author_unknown"), "author_unknown")


def _check_erasure_requested(c: _Check) -> LetterError | None:
    if "erasure_request" in c.case.steps_done:
        return None
    return _refuse(c.messages.raw("checks.erasure_requested"), "erasure_requested")


def _check_right_of_reply_open(c: _Check) -> LetterError | None:
    incident = c.case.incident
    key = _platform_key(c.case, c.options)
    if incident is None or key is None:  # pragma: no cover - earlier checks cover it
        return None
    platform = c.kb.platforms[key]
    if not c.advice.public or not platform.public:
        return _refuse(c.messages.raw("checks.right_of_reply_private"), "right_of_reply_private")
    if platform.reply_in_place:
        return _refuse(
            c.messages.get("checks.right_of_reply_in_place", label=platform.label),
            "right_of_reply_in_place",
        )
    start = c.case.latest_publication()
    if start is not None:
        limit = compute_deadline(start, RIGHT_OF_REPLY_MONTHS, c.today)
        if limit.expired:
            return _refuse(
                c.messages.get(
                    "checks.right_of_reply_expired",
                    deadline=date_num(limit.deadline),
                    start=date_num(start),
                ),
                "right_of_reply_expired",
            )
    return None


CHECKS: Mapping[str, Callable[[_Check], LetterError | None]] = {
    "offense_retained": _check_offense_retained,
    "complaint_open": _check_complaint_open,
    "platform_chosen": _check_platform_chosen,
    "platform_online": _check_platform_online,
    "hospital_practice": _check_hospital_practice,
    "author_contact_allowed": _check_author_contact_allowed,
    "erasure_requested": _check_erasure_requested,
    "right_of_reply_open": _check_right_of_reply_open,
}


def check_letter(
    case: Case, kind: str, today: date, options: LetterOptions, advice: Advice
) -> LetterError | None:
    """Why `kind` cannot be written for `case` (a `LetterError`), or None when it can.

    Order: the checks that make completing the case pointless (`checks_first`, for example an
    expired prescription), then every missing field at once, then the other checks.
    """
    messages = load_messages()
    kb = load_knowledge()
    requirements = load_requirements()
    requirement = requirements.kinds[kind]
    context = _Check(case, advice, kind, options, today, kb, messages)
    for name in requirement.checks_first:
        problem = CHECKS[name](context)
        if problem is not None:
            problem.check = name
            return problem
    paths = requirement.fields
    if any(q.press_offense for q in advice.qualifications if q.is_open):
        paths = paths + requirement.press_offense_fields
    missing = [
        messages.get(
            "missing.field", path=path, description=_label_for(path, requirements.field_labels)
        )
        for path in missing_fields(case.to_dict(), paths)
    ]
    for option in requirement.options:
        if _absent(getattr(options, option)):
            description = requirements.option_labels[option]
            missing.append(messages.get("missing.option", description=description))
    if missing:
        return LetterError(
            missing,
            header=messages.get("missing.header", label=kb.letters[kind].label),
            footer=messages.raw("missing.footer"),
            check="missing",
        )
    for name in requirement.checks:
        problem = CHECKS[name](context)
        if problem is not None:
            problem.check = name
            return problem
    return None


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class Exhibit:
    """One piece of evidence, numbered in chronological order of capture.

    `index` is the item's 0-based position in the case's evidence list (the index the advice
    engine uses in `prescription.statements`).
    """

    number: int
    url: str | None
    captured_at: datetime | None
    author: str | None
    excerpt: str | None
    file: str | None
    sha256: str | None
    index: int = 0
    published_at: date | None = None


@dataclass(frozen=True)
class StatementDeadline:
    """A dated statement of a press offence and its own prescription deadline (art. 65)."""

    exhibit: Exhibit
    published_at: date
    deadline: date
    expired: bool


@dataclass(frozen=True)
class QuotedStatement:
    """A statement the complaint quotes; `deadline` is None when it is not dated."""

    exhibit: Exhibit
    deadline: date | None = None


@dataclass(frozen=True)
class Timing:
    """What a letter says about one qualification's deadline.

    open_statements  dated statements still open, earliest deadline first
    old_statements   dated statements whose deadline has passed, oldest first
    date_used        which date the engine counted from ("statements", "last_seen",
                     "first_published" or None)
    limit            the first deadline the doctor must meet (the earliest open statement's,
                     else the qualification's)
    act_by           the last working day on or before `limit`
    weekday, holiday `limit`'s French weekday, and the name of the public holiday on it
    act_by_weekday   `act_by`'s French weekday
    """

    open_statements: tuple[StatementDeadline, ...] = ()
    old_statements: tuple[StatementDeadline, ...] = ()
    date_used: str | None = None
    limit: date | None = None
    act_by: date | None = None
    weekday: str | None = None
    holiday: str | None = None
    act_by_weekday: str | None = None


@dataclass(frozen=True)
class Event:
    """One dated fact of the chronology; `when` is None for an undated capture."""

    when: date | datetime | None
    kind: str
    exhibit: Exhibit | None = None


@dataclass(frozen=True)
class PlatformInfo:
    key: str
    label: str
    report: str
    public: bool
    reply_in_place: bool


def _instant(value: date | datetime) -> datetime:
    """A naive UTC datetime for sorting dates and aware or naive datetimes together."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(timezone.utc).replace(tzinfo=None)
        return value
    return datetime.combine(value, time.min)


def _capture_order(item: tuple[int, Evidence]) -> tuple[int, datetime, int]:
    index, evidence = item
    if evidence.captured_at is None:
        return (1, datetime.min, index)
    return (0, _instant(evidence.captured_at), index)


def _exhibits(evidence: tuple[Evidence, ...]) -> list[Exhibit]:
    order = [index for index, _ in sorted(enumerate(evidence), key=_capture_order)]
    return [
        Exhibit(
            number=number,
            url=evidence[i].url,
            captured_at=evidence[i].captured_at,
            author=evidence[i].author,
            excerpt=evidence[i].excerpt,
            file=evidence[i].file,
            sha256=evidence[i].sha256,
            index=i,
            published_at=evidence[i].published_at,
        )
        for number, i in enumerate(order, start=1)
    ]


def _chronology(case: Case, exhibits: list[Exhibit]) -> list[Event]:
    incident = case.incident
    dated: list[tuple[datetime, int, Event]] = []
    if incident is not None and incident.first_published is not None:
        dated.append(
            (_instant(incident.first_published), 0, Event(incident.first_published, "first"))
        )
    for exhibit in exhibits:
        if exhibit.captured_at is not None:
            dated.append(
                (_instant(exhibit.captured_at), 1, Event(exhibit.captured_at, "capture", exhibit))
            )
    if (
        incident is not None
        and incident.last_seen is not None
        and incident.last_seen != incident.first_published
    ):
        end_of_day = datetime.combine(incident.last_seen, time.max)
        dated.append((end_of_day, 2, Event(incident.last_seen, "last")))
    dated.sort(key=lambda item: (item[0], item[1]))
    events = [event for _, _, event in dated]
    events.extend(Event(None, "capture", e) for e in exhibits if e.captured_at is None)
    return events


def _platform_info(kb: Knowledge, key: str) -> PlatformInfo:
    platform = kb.platforms[key]
    return PlatformInfo(
        key=key,
        label=platform.label,
        report=platform.report,
        public=platform.public,
        reply_in_place=platform.reply_in_place,
    )


def _day(value: Any) -> date | None:
    """A date from an ISO text (the advice JSON, the victim's fields), or None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _working_day(day: date, kb: Knowledge) -> tuple[date, str, str | None, str]:
    """The last working day on or before `day`; `day`'s French weekday and holiday name; the
    French weekday of that working day.

    There is no extension when a press deadline falls on a Saturday, a Sunday or a public
    holiday (riposte/deadlines.py): the letters say to act by the working day before.
    """
    holiday = holiday_key(day)
    act_by = last_working_day_on_or_before(day)
    return (
        act_by,
        kb.messages.raw(f"words.weekdays.{weekday_key(day)}"),
        kb.messages.raw(f"words.holidays.{holiday}") if holiday else None,
        kb.messages.raw(f"words.weekdays.{weekday_key(act_by)}"),
    )


def _timings(advice: Advice, exhibits: list[Exhibit], kb: Knowledge) -> dict[str, Timing]:
    """Each qualification's deadline as the letters tell it, keyed by offence.

    Reads the advice's JSON contract (`prescription.statements`, `date_used`), so that a letter
    never computes a deadline the advice does not give; the day to act by is the last working
    day on or before the first deadline (`riposte.deadlines`, as the advice's `act_by`).
    """
    by_index = {exhibit.index: exhibit for exhibit in exhibits}
    out: dict[str, Timing] = {}
    rows = advice.to_dict()["qualifications"]
    for q, row in zip(advice.qualifications, rows, strict=True):
        rx: Mapping[str, Any] = row["prescription"]
        items: list[StatementDeadline] = []
        for st in rx.get("statements") or []:
            exhibit = by_index.get(st.get("evidence"))
            published, deadline = _day(st.get("published_at")), _day(st.get("deadline"))
            if exhibit is None or published is None or deadline is None:
                continue
            items.append(StatementDeadline(exhibit, published, deadline, st.get("expired") is True))
        still_open = sorted(
            (i for i in items if not i.expired), key=lambda i: (i.deadline, i.exhibit.number)
        )
        old = sorted(
            (i for i in items if i.expired), key=lambda i: (i.published_at, i.exhibit.number)
        )
        limit = still_open[0].deadline if still_open else q.prescription.deadline
        act_by: date | None = None
        weekday: str | None = None
        holiday: str | None = None
        act_by_weekday: str | None = None
        if limit is not None:
            act_by, weekday, holiday, act_by_weekday = _working_day(limit, kb)
        out[q.offense] = Timing(
            open_statements=tuple(still_open),
            old_statements=tuple(old),
            date_used=rx.get("date_used"),
            limit=limit,
            act_by=act_by,
            weekday=weekday,
            holiday=holiday,
            act_by_weekday=act_by_weekday,
        )
    return out


def _account_suspension(case: Case, retained: list[Qualification], kb: Knowledge) -> bool:
    """Whether the complaint asks for the suspension of the accounts used (art. 131-35-1).

    Only for a délit committed through an online service (not an e-mail or an SMS), and not
    when every known date of the facts is before the penalty existed.
    """
    incident = case.incident
    if incident is None or not any(q.variant not in PRIVATE_VARIANTS for q in retained):
        return False
    if incident.platforms and all(kb.platforms[p].private for p in incident.platforms):
        return False
    known = [
        day
        for day in (
            incident.first_published,
            incident.last_seen,
            *(item.published_at for item in case.evidence),
        )
        if day is not None
    ]
    return not known or max(known) >= ACCOUNT_SUSPENSION_FROM


def build_context(
    case: Case, kind: str, today: date, options: LetterOptions, advice: Advice
) -> dict[str, Any]:
    """The values a letter template receives (raw data; the French is in the templates)."""
    kb = load_knowledge()
    incident = case.incident
    victim = case.victim
    exhibits = _exhibits(case.evidence)
    motive = None
    if incident is not None and incident.discriminatory:
        motive = find_motive([e.excerpt or "" for e in exhibits] + [incident.summary or ""])
    quals = [resolve_texts(q, motive) for q in advice.qualifications]
    open_quals = [q for q in quals if q.is_open]
    expired = [q for q in quals if not q.is_open]
    retained = open_quals if kind == "procureur" else quals
    # Public press offences (1881 law) follow the strict "one statement, one qualification"
    # rule; their non-public forms are contraventions of the code pénal, listed with the rest.
    press = [q for q in retained if q.press_offense and q.variant not in PRIVATE_VARIANTS]
    press_q = press[0] if press else None
    timing = _timings(advice, exhibits, kb)
    old_statements = list(timing[press_q.offense].old_statements) if press_q else []
    old_indexes = {item.exhibit.index for item in old_statements}
    open_deadlines = (
        {item.exhibit.index: item.deadline for item in timing[press_q.offense].open_statements}
        if press_q
        else {}
    )
    colleague = bool(incident and incident.author.relation == "colleague")
    employer = [
        q for q in open_quals if kb.offenses[q.offense].employer_complaint and not colleague
    ]
    platform_key = _platform_key(case, options)
    name_parts = [victim.title, victim.first_name, surname(victim.last_name or "")]
    right_of_reply_deadline = None
    reply_start = case.latest_publication()
    if reply_start is not None:
        right_of_reply_deadline = compute_deadline(
            reply_start, RIGHT_OF_REPLY_MONTHS, today
        ).deadline
    return {
        "kind": kind,
        "label": kb.letters[kind].label,
        "today": today,
        "victim": victim,
        "victim_name": " ".join(part for part in name_parts if part),
        "incident": incident,
        "author": incident.author if incident else None,
        "author_named": bool(incident and incident.author.name and incident.author.name.strip()),
        "public": advice.public,
        "platforms": [_platform_info(kb, key) for key in (incident.platforms if incident else ())],
        "platform": _platform_info(kb, platform_key) if platform_key else None,
        "qualifications": retained,
        "all_qualifications": quals,
        "expired_qualifications": expired,
        "press_qualification": press_q,
        "press_texts": list(press_q.texts) if press_q else [],
        "motive": load_motives().labels[motive] if motive else None,
        "motive_rules": [
            load_motives().paragraphs[(q.offense, q.variant)]
            for q in retained
            if q.texts != next(a.texts for a in advice.qualifications if a.offense == q.offense)
        ],
        "other_qualifications": [q for q in retained if q not in press[:1]],
        "deadline_qualifications": [q for q in retained if q.press_offense and q.is_open],
        "offenses": [q.offense for q in retained],
        "has_delit": any(q.variant not in PRIVATE_VARIANTS for q in retained),
        "private_variants": PRIVATE_VARIANTS,
        "exhibits": exhibits,
        "statements": [e for e in exhibits if e.excerpt],
        "press_statements": [
            QuotedStatement(e, open_deadlines.get(e.index))
            for e in exhibits
            if e.excerpt and e.index not in old_indexes
        ],
        "old_statements": old_statements,
        "timing": timing,
        "birth_date": _day(victim.birth_date),
        "birth_place": _text(victim.birth_place),
        "account_suspension": kind == "procureur" and _account_suspension(case, retained, kb),
        "employer_qualifications": employer,
        "employer_excluded": colleague,
        "own_complaint_qualifications": [q for q in open_quals if q not in employer],
        "chronology": _chronology(case, exhibits),
        "steps_done": list(case.steps_done),
        "court_city": case.court_city or victim.city,
        "court_city_given": bool(case.court_city),
        "civil_party": options.civil_party,
        "reply_text": options.reply_text,
        "erasure_sent_on": options.erasure_sent_on,
        "right_of_reply_deadline": right_of_reply_deadline,
        "press_offenses": PRESS_OFFENSES,
        "advised_steps": list(advice.step_keys()),
    }


# --------------------------------------------------------------------------- entry point


def template_name(kind: str) -> str:
    return f"{kind}.md.j2"


def build_letter(
    case: Case | Mapping[str, Any] | str | os.PathLike[str],
    kind: str,
    today: date,
    options: LetterOptions | None = None,
) -> Document:
    """The letter `kind` for `case` as of `today`, parsed into a `Document`.

    `case` is a `Case`, a mapping in the case format or the path of a case file (validated by
    `load_case`, which raises `CaseError` with French messages).
    Raises `LetterError` when a required field is missing or when the letter must not be
    written (for example every offence is prescribed); raises `ValueError` for an unknown kind.
    """
    if kind not in LETTER_KINDS:
        raise ValueError(
            f"unknown letter kind {kind!r} (expected one of {', '.join(LETTER_KINDS)})"
        )
    if not isinstance(case, Case):
        case = load_case(case, today=today)
    options = options or LetterOptions()
    advice = advise(case, today)
    problem = check_letter(case, kind, today, options, advice)
    if problem is not None:
        raise problem
    context = build_context(case, kind, today, options, advice)
    text = get_environment().get_template(template_name(kind)).render(context)
    return parse(kind, text)
