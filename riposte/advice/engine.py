"""The advice engine: from a case to a graduated-response plan (deterministic, pure Python).

`advise(case, today)` applies this decision tree (each rule's sources are in the knowledge files):

* danger first: a physical danger makes the advice urgent, with the emergency call as the
  first step and an immediate complaint;
* evidence is always preserved before any report or removal request (the step orders in
  steps.yml guarantee it);
* each offense gets one qualification (public / private / discriminatory form) with its
  prescription deadline; a press offense (insult, defamation) past its deadline offers no
  penal route, and the doctor is told why;
* insult and defamation of the same statement are never cumulated (art. 50 of the 1881 law):
  defamation is kept and a warning explains the choice;
* repeated messages or a raid add the online-harassment qualification (6 years from the last
  act); private insults add the offense of insulting a health professional (outrage) only
  when the words concern the doctor's work (see `_work_related`), and a threat linked to the
  work is the health-professional threat (art. 433-3);
* a text with a start date (`not_before` in offenses.yml) does not qualify facts that are all
  older, and a warning says why;
* Pharos only for public threats, hate or discrimination and endangering someone, never for
  insult, defamation or harassment between individuals; a colleague gets the Ordre's
  conciliation (in parallel with legal action) and the disciplinary complaint, never a public
  riposte; a hospital doctor is told of the protection fonctionnelle;
  a lawful criticism never leads to a complaint; no incident means prevention;
* from the defensive rung up, the lawyer and the insurer are always recommended.

All French text comes from the knowledge files (messages.yml and the others).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date
from typing import Any

from riposte.case import Case, Evidence, Incident, load_case
from riposte.deadlines import (
    compute_deadline,
    holiday_key,
    is_working_day,
    last_working_day_on_or_before,
    weekday_key,
)
from riposte.knowledge import Knowledge, Messages, OffenseVariant, Prescription
from riposte.knowledge import load as load_knowledge
from riposte.text import date_fr

DEADLINE_SOON_DAYS = 30
"""A qualification whose deadline is this close (in days) triggers a warning."""

PRESS_OFFENSES = ("insult", "defamation")
# The properties of offenses and platforms the rules branch on are attributes of the knowledge
# files, documented there with their sources: offenses.yml `pharos`, `pharos_redirect`,
# `no_contact`, `personal_data`, `exposure`, `victim_support`, `public_service_aggravation`,
# `employer_complaint`; platforms.yml `private`, `reviews`.
WORK_RELATIONS = frozenset({"patient"})
"""Authors whose words are taken to concern the doctor's work when the case does not say
(`incident.about_work` absent): a patient writes to the doctor because of the care."""
DISCRIMINATORY_VARIANTS = frozenset({"discriminatory", "private_discriminatory"})
PRIVATE_VARIANTS = frozenset({"private", "private_discriminatory"})
# The online right of reply is asked within 3 months of the publication (LCEN art. 1-1 III and
# decree 2007-1527, source S49); the letters use this value too.
RIGHT_OF_REPLY_MONTHS = 3


# --------------------------------------------------------------------------- output types


@dataclass(frozen=True)
class Strategy:
    level: str
    label: str
    why: tuple[str, ...]


@dataclass(frozen=True)
class RungAdvice:
    level: str
    label: str
    recommended: bool
    why: str


@dataclass(frozen=True)
class StepAdvice:
    key: str
    label: str
    done: bool
    what: str
    why: str
    how: str
    letter: str | None


@dataclass(frozen=True)
class StatementDeadline:
    """The press deadline of one dated statement; `evidence` is its 0-based index in the case.

    Art. 65 of the 1881 law: the period runs "à compter du jour où ils auront été commis", and
    each publication is a distinct offence with its own deadline.
    """

    evidence: int
    published_at: date
    deadline: date
    expired: bool
    days_left: int
    act_by: date
    deadline_weekday: str


@dataclass(frozen=True)
class PrescriptionAdvice:
    """A qualification's deadline.

    For a press offence with dated statements, `deadline`, `expired` and `days_left` are those
    of the latest statement still open (or of the latest one when all expired), and `start` is
    its publication date. `date_used` says where the start date came from ("statements",
    "last_seen", "first_published", or None when unknown). `act_by` is the last working day on
    or before the deadline (no extension on weekends and public holidays).
    """

    deadline: date | None
    days_left: int | None
    expired: bool | None
    start_from: str
    start: date | None
    months: int
    rule: str
    statements: tuple[StatementDeadline, ...] = ()
    date_used: str | None = None
    deadline_weekday: str | None = None
    act_by: date | None = None


@dataclass(frozen=True)
class Qualification:
    offense: str
    variant: str
    label: str
    texts: tuple[str, ...]
    penalty: str
    press_offense: bool
    certainty: str
    prescription: PrescriptionAdvice

    @property
    def is_open(self) -> bool:
        """True while a complaint is still possible (unknown deadlines count as open)."""
        return self.prescription.expired is not True


@dataclass(frozen=True)
class SourceRef:
    id: str
    title: str
    url: str
    last_checked: date


@dataclass(frozen=True)
class Advice:
    today: date
    urgent: bool
    strategy: Strategy
    ladder: tuple[RungAdvice, ...]
    steps: tuple[StepAdvice, ...]
    qualifications: tuple[Qualification, ...]
    letters: tuple[str, ...]
    warnings: tuple[str, ...]
    sources: tuple[SourceRef, ...]
    # Whether the engine took the words as public (stated, or assumed from the platforms);
    # False without an incident. The letters read it instead of deciding again; it is not part
    # of the JSON contract (`to_dict`).
    public: bool = False

    def step_keys(self) -> tuple[str, ...]:
        return tuple(step.key for step in self.steps)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (dates as ISO strings)."""
        return {
            "today": self.today.isoformat(),
            "urgent": self.urgent,
            "strategy": {
                "level": self.strategy.level,
                "label": self.strategy.label,
                "why": list(self.strategy.why),
            },
            "ladder": [
                {
                    "level": rung.level,
                    "label": rung.label,
                    "recommended": rung.recommended,
                    "why": rung.why,
                }
                for rung in self.ladder
            ],
            "steps": [
                {
                    "key": step.key,
                    "label": step.label,
                    "done": step.done,
                    "what": step.what,
                    "why": step.why,
                    "how": step.how,
                    "letter": step.letter,
                }
                for step in self.steps
            ],
            "qualifications": [
                {
                    "offense": q.offense,
                    "variant": q.variant,
                    "label": q.label,
                    "texts": list(q.texts),
                    "penalty": q.penalty,
                    "press_offense": q.press_offense,
                    "certainty": q.certainty,
                    "prescription": {
                        "deadline": _iso(q.prescription.deadline),
                        "days_left": q.prescription.days_left,
                        "expired": q.prescription.expired,
                        "from": q.prescription.start_from,
                        "start": _iso(q.prescription.start),
                        "months": q.prescription.months,
                        "rule": q.prescription.rule,
                        "statements": [
                            {
                                "evidence": st.evidence,
                                "published_at": st.published_at.isoformat(),
                                "deadline": st.deadline.isoformat(),
                                "expired": st.expired,
                                "days_left": st.days_left,
                                "act_by": st.act_by.isoformat(),
                                "deadline_weekday": st.deadline_weekday,
                            }
                            for st in q.prescription.statements
                        ],
                        "date_used": q.prescription.date_used,
                        "deadline_weekday": q.prescription.deadline_weekday,
                        "act_by": _iso(q.prescription.act_by),
                    },
                }
                for q in self.qualifications
            ],
            "letters": list(self.letters),
            "warnings": list(self.warnings),
            "sources": [
                {
                    "id": s.id,
                    "title": s.title,
                    "url": s.url,
                    "last_checked": s.last_checked.isoformat(),
                }
                for s in self.sources
            ],
        }


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


# --------------------------------------------------------------------------- the facts


@dataclass(frozen=True)
class _Facts:
    """What the engine retains from an incident, after applying the qualification rules."""

    offenses: tuple[str, ...]
    public: bool
    public_assumed: bool
    harassment_added: bool
    insult_dropped: bool
    outrage_added: bool
    lawful: bool
    danger: bool
    colleague: bool
    reply_possible: bool
    # The words concern the doctor's work (stated, or inferred from a patient author).
    work_related: bool = False
    # Offenses dropped because every known date is before their text's start date.
    before_law: tuple[str, ...] = ()
    # Offenses kept for older facts because the text already covered the doctor's practice.
    start_date_exempt: tuple[str, ...] = ()
    # Outrage listed although the doctor says the words do not concern the work: dropped.
    outrage_not_about_work: bool = False
    # Private insult or defamation, link with the work not said: outrage possible, not added.
    outrage_possible: bool = False
    # Outrage listed by the doctor, link with the work not said: kept, the complaint must show it.
    outrage_unconfirmed: bool = False

    @property
    def offenses_set(self) -> frozenset[str]:
        return frozenset(self.offenses)


def _work_related(incident: Incident) -> bool:
    """Do the words concern the doctor's work (art. 433-5 outrage, art. 433-3 threat)?

    The rule: `incident.about_work` when the case says it (true or false); otherwise true
    only when the author is a patient (WORK_RELATIONS). An unknown or other author with
    nothing said is not taken as work-related: the doctor is told what the link would change.
    """
    if incident.about_work is not None:
        return incident.about_work
    return incident.author.relation in WORK_RELATIONS


def _fact_dates(incident: Incident, evidence: tuple[Evidence, ...]) -> list[date]:
    """Every known date of the facts: first publication, last act, each dated statement."""
    days = [d for d in (incident.first_published, incident.last_seen) if d is not None]
    days.extend(item.published_at for item in evidence if item.published_at is not None)
    return days


def _facts(incident: Incident, kb: Knowledge, case: Case | None = None) -> _Facts:
    """The offenses retained for `incident`, with the rules applied (module docstring)."""
    evidence = case.evidence if case is not None else ()
    practice = case.victim.practice if case is not None else None
    if incident.public is not None:
        public, assumed = incident.public, False
    elif incident.platforms:
        public = any(kb.platforms[p].public for p in incident.platforms)
        assumed = True
    else:
        public, assumed = True, True

    wanted = set(incident.offenses)
    harassment_added = incident.volume in ("repeated", "raid") and "harassment" not in wanted
    if harassment_added:
        wanted.add("harassment")
    insult_dropped = {"insult", "defamation"} <= wanted
    if insult_dropped:
        wanted.discard("insult")

    # Outrage (art. 433-5) needs words addressed in or because of the doctor's work.
    work_related = _work_related(incident)
    dates = _fact_dates(incident, evidence)
    outrage_in_force = not kb.offenses["outrage"].before_start_date(dates, practice)
    private_press = not public and bool(wanted & set(PRESS_OFFENSES))
    outrage_added = False
    outrage_not_about_work = False
    outrage_possible = False
    if "outrage" in wanted and incident.about_work is False:
        wanted.discard("outrage")
        outrage_not_about_work = True
    elif private_press and "outrage" not in wanted:
        if work_related:
            wanted.add("outrage")
            outrage_added = True
        elif incident.about_work is None and outrage_in_force:
            outrage_possible = True
    outrage_unconfirmed = "outrage" in wanted and not work_related and incident.about_work is None

    # Laws apply from their start date (offenses.yml `not_before`), for every offense.
    before_law: list[str] = []
    exempt: list[str] = []
    for key, offense in kb.offenses.items():
        if key not in wanted or offense.not_before is None:
            continue
        if offense.before_start_date(dates, practice):
            wanted.discard(key)
            before_law.append(key)
        elif offense.exempt_from_start_date(practice) and offense.before_start_date(dates):
            exempt.append(key)
    outrage_added = outrage_added and "outrage" in wanted
    outrage_unconfirmed = outrage_unconfirmed and "outrage" in wanted

    if incident.platforms:
        reply_possible = any(kb.platforms[p].reply_in_place for p in incident.platforms)
    else:
        reply_possible = True

    offenses = tuple(key for key in kb.offenses if key in wanted)
    return _Facts(
        offenses=offenses,
        public=public,
        public_assumed=assumed,
        harassment_added=harassment_added,
        insult_dropped=insult_dropped,
        outrage_added=outrage_added,
        # Offenses dropped for their start date are not a lawful criticism.
        lawful=not offenses and not before_law,
        danger=incident.physical_danger,
        colleague=incident.author.relation == "colleague",
        reply_possible=reply_possible,
        work_related=work_related,
        before_law=tuple(before_law),
        start_date_exempt=tuple(exempt),
        outrage_not_about_work=outrage_not_about_work,
        outrage_possible=outrage_possible,
        outrage_unconfirmed=outrage_unconfirmed,
    )


def _variant(key: str, incident: Incident, facts: _Facts, kb: Knowledge) -> OffenseVariant:
    """The form of `key` that applies: private or public, discriminatory, work-related."""
    return kb.offenses[key].qualify(
        public=facts.public,
        discriminatory=incident.discriminatory,
        work_related=facts.work_related,
    )


def _pharos_competent(incident: Incident, offenses: AbstractSet[str], kb: Knowledge) -> bool:
    """Pharos: threats, endangering someone (offenses.yml `pharos`), or any hateful or
    discriminatory content."""
    return any(kb.offenses[key].pharos for key in offenses) or (
        incident.discriminatory and bool(offenses)
    )


def _qualify(
    key: str,
    incident: Incident,
    facts: _Facts,
    kb: Knowledge,
    today: date,
    evidence: tuple[Evidence, ...] = (),
) -> tuple[Qualification, OffenseVariant]:
    variant = _variant(key, incident, facts, kb)
    rule = variant.prescription
    prescription = _prescription(key, rule, incident, evidence, kb.messages, today)
    certainty = "a_verifier" if "a_verifier" in (variant.certainty, rule.certainty) else "sur"
    qualification = Qualification(
        offense=key,
        variant=variant.variant,
        label=variant.label,
        texts=variant.texts,
        penalty=variant.penalty,
        press_offense=variant.press_offense,
        certainty=certainty,
        prescription=prescription,
    )
    return qualification, variant


def _weekday(msg: Messages, day: date) -> str:
    """The French weekday name of `day` (messages.yml, `words.weekdays`)."""
    return msg.mapping("words.weekdays")[weekday_key(day)]


def _statement_deadlines(
    evidence: tuple[Evidence, ...], months: int, msg: Messages, today: date
) -> tuple[StatementDeadline, ...]:
    """One deadline per dated statement, oldest publication first."""
    out = []
    for index, item in enumerate(evidence):
        if item.published_at is None:
            continue
        computed = compute_deadline(item.published_at, months, today)
        out.append(
            StatementDeadline(
                evidence=index,
                published_at=item.published_at,
                deadline=computed.deadline,
                expired=computed.expired,
                days_left=computed.days_left,
                act_by=last_working_day_on_or_before(computed.deadline),
                deadline_weekday=_weekday(msg, computed.deadline),
            )
        )
    return tuple(sorted(out, key=lambda st: (st.published_at, st.evidence)))


def _start_date(press: bool, start_from: str, incident: Incident) -> tuple[date | None, str | None]:
    """The start date when no statement is dated, and which date it is.

    Press offences: the last message seen only when the doctor says it is itself offending,
    else the first publication. Other offences: as the rule says (`last_seen` falls back on the
    first publication).
    """
    last_seen_counts = incident.last_seen_offending if press else start_from == "last_seen"
    if last_seen_counts and incident.last_seen is not None:
        return incident.last_seen, "last_seen"
    if incident.first_published is not None:
        return incident.first_published, "first_published"
    return None, None


def _prescription(
    key: str,
    rule: Prescription,
    incident: Incident,
    evidence: tuple[Evidence, ...],
    msg: Messages,
    today: date,
) -> PrescriptionAdvice:
    """The deadline of one qualification (per statement for a press offence)."""
    press = key in PRESS_OFFENSES
    statements = _statement_deadlines(evidence, rule.months, msg, today) if press else ()
    if statements:
        still_open = [st for st in statements if not st.expired]
        chosen = max(still_open or statements, key=lambda st: (st.deadline, st.published_at))
        return PrescriptionAdvice(
            deadline=chosen.deadline,
            days_left=chosen.days_left,
            expired=chosen.expired,
            start_from=rule.start_from,
            start=chosen.published_at,
            months=rule.months,
            rule=rule.rule,
            statements=statements,
            date_used="statements",
            deadline_weekday=chosen.deadline_weekday,
            act_by=chosen.act_by,
        )
    start, used = _start_date(press, rule.start_from, incident)
    if start is None:
        return PrescriptionAdvice(
            deadline=None,
            days_left=None,
            expired=None,
            start_from=rule.start_from,
            start=None,
            months=rule.months,
            rule=rule.rule,
        )
    computed = compute_deadline(start, rule.months, today)
    return PrescriptionAdvice(
        deadline=computed.deadline,
        days_left=computed.days_left,
        expired=computed.expired,
        start_from=rule.start_from,
        start=start,
        months=rule.months,
        rule=rule.rule,
        date_used=used,
        deadline_weekday=_weekday(msg, computed.deadline),
        act_by=last_working_day_on_or_before(computed.deadline),
    )


# --------------------------------------------------------------------------- the builder


class _Builder:
    def __init__(self, case: Case, today: date, kb: Knowledge) -> None:
        self.case = case
        self.today = today
        self.kb = kb
        self.msg = kb.messages
        self.notes: dict[str, list[str]] = {}
        self.extra_how: dict[str, list[str]] = {}
        self.warnings: list[str] = []
        self.reasons: list[str] = []
        self.source_ids: set[str] = set()
        # Steps advised without their usual letter (e.g. a platform report for lawful content:
        # a DSA art. 16 notice is for illegal content only).
        self.letterless: set[str] = set()

    # -- small helpers

    def step(self, key: str, *notes: str) -> None:
        bucket = self.notes.setdefault(key, [])
        for note in notes:
            if note not in bucket:
                bucket.append(note)

    def warn(self, path: str, **values: object) -> None:
        text = self.msg.get(path, **values)
        if text not in self.warnings:
            self.warnings.append(text)

    def reason(self, path: str, **values: object) -> None:
        text = self.msg.get(path, **values)
        if text not in self.reasons:
            self.reasons.append(text)

    def labels(self, qualifications: Iterable[Qualification]) -> str:
        return self.msg.raw("words.list_separator").join(q.label for q in qualifications)

    # -- assembling

    def finish(
        self,
        urgent: bool,
        level: str,
        ladder: dict[str, tuple[bool, str]],
        qualifications: list[Qualification],
        variants: list[OffenseVariant],
        public: bool = False,
    ) -> Advice:
        kb = self.kb
        order = kb.step_order["urgent" if urgent else "standard"]
        done = set(self.case.steps_done)
        steps: list[StepAdvice] = []
        letters: list[str] = []
        for key in order:
            if key not in self.notes:
                continue
            step = kb.steps[key]
            why = " ".join([step.why, *self.notes[key]])
            how = " ".join([step.how, *self.extra_how.get(key, [])])
            steps.append(
                StepAdvice(
                    key=key,
                    label=step.label,
                    done=key in done,
                    what=step.what,
                    why=why,
                    how=how,
                    letter=step.letter,
                )
            )
            self.source_ids.update(step.sources)
            letter = None if key in self.letterless or key in done else step.letter
            if letter is not None and letter not in letters:
                letters.append(letter)
                self.source_ids.update(kb.letters[letter].sources)
        rungs = []
        for rung_level, rung in kb.ladder.items():
            recommended, why = ladder[rung_level]
            rungs.append(
                RungAdvice(level=rung_level, label=rung.label, recommended=recommended, why=why)
            )
            self.source_ids.update(rung.sources)
        for variant in variants:
            self.source_ids.update(variant.sources)
            self.source_ids.update(kb.offenses[variant.offense].sources)
        sources = tuple(
            SourceRef(
                id=sid,
                title=kb.sources[sid].title,
                url=kb.sources[sid].url,
                last_checked=kb.sources[sid].last_checked,
            )
            for sid in sorted(self.source_ids, key=kb.source_sort_key)
        )
        return Advice(
            today=self.today,
            urgent=urgent,
            strategy=Strategy(level=level, label=kb.ladder[level].label, why=tuple(self.reasons)),
            ladder=tuple(rungs),
            steps=tuple(steps),
            qualifications=tuple(qualifications),
            letters=tuple(letters),
            warnings=tuple(self.warnings),
            sources=sources,
            public=public,
        )


def advise(case: Case | Mapping[str, Any], today: date) -> Advice:
    """Build the advice for `case` as of `today` (deterministic).

    `case` is a `Case`, or a mapping in the case format (validated with `load_case`, which
    raises `CaseError` with French messages naming the field).
    """
    if not isinstance(case, Case):
        case = load_case(case, today=today)
    kb = load_knowledge()
    builder = _Builder(case, today, kb)
    builder.warn("warnings.disclaimer")
    if case.incident is None:
        return _prevention(builder)
    return _incident(builder, case.incident)


def _prevention(b: _Builder) -> Advice:
    msg = b.msg
    b.reason("strategy.no_incident")
    for key in b.kb.ladder["preventive"].typical_steps:
        b.step(key)
    b.warnings.append(b.kb.ladder_note)
    ladder = {
        "preventive": (True, msg.get("ladder.preventive.no_incident")),
        "neutre": (False, msg.get("ladder.neutre.no_incident")),
        "pacifique": (False, msg.get("ladder.pacifique.no_incident")),
        "defensive": (False, msg.get("ladder.defensive.no_incident")),
        "offensive": (False, msg.get("ladder.offensive.no_incident")),
    }
    return b.finish(False, "preventive", ladder, [], [])


@dataclass(frozen=True)
class _Qualified:
    """The qualifications of an incident, split by whether a complaint is still possible."""

    all: list[Qualification]
    variants: list[OffenseVariant]
    open: list[Qualification]
    expired: list[Qualification]

    @property
    def penal_open(self) -> bool:
        return bool(self.open)


def _incident(b: _Builder, incident: Incident) -> Advice:
    """The advice for an incident, in named steps (the order of the calls is the order of the
    reasons, notes and warnings the doctor reads)."""
    facts = _facts(incident, b.kb, b.case)
    quals = _qualifications(b, incident, facts)
    _strategy_reasons(b, facts, quals)
    _safety_steps(b, incident, facts)
    public_reply = _contact_steps(b, incident, facts)
    _report_steps(b, incident, facts)
    _right_of_reply(b, incident, facts)
    _erasure_steps(b, incident, facts, quals)
    _legal_steps(b, facts, quals)
    ladder = _ladder(b, facts, quals, public_reply)
    level = _level(b, incident, facts, quals, public_reply)
    _warnings(b, incident, facts, quals.all, quals.open)
    return b.finish(facts.danger, level, ladder, quals.all, quals.variants, facts.public)


def _qualifications(b: _Builder, incident: Incident, facts: _Facts) -> _Qualified:
    """One qualification per retained offense, with its deadline."""
    qualifications: list[Qualification] = []
    variants: list[OffenseVariant] = []
    for key in facts.offenses:
        qualification, variant = _qualify(key, incident, facts, b.kb, b.today, b.case.evidence)
        qualifications.append(qualification)
        variants.append(variant)
    return _Qualified(
        all=qualifications,
        variants=variants,
        open=[q for q in qualifications if q.is_open],
        expired=[q for q in qualifications if not q.is_open],
    )


def _strategy_reasons(b: _Builder, facts: _Facts, quals: _Qualified) -> None:
    """Why the strategy: danger, lawful criticism, colleague, what can still go to court."""
    if facts.danger:
        threats = [q for q in quals.all if q.offense in ("threat", "doxxing")]
        if threats:
            b.reason("strategy.danger", offenses=b.labels(threats))
        else:
            b.reason("strategy.danger_generic")
    if facts.lawful:
        b.reason("strategy.lawful")
    if facts.colleague:
        b.reason("strategy.colleague")
    if facts.harassment_added:
        b.reason("strategy.harassment_from_volume")
    if any(q.variant in PRIVATE_VARIANTS for q in quals.all) or facts.outrage_added:
        b.reason("strategy.private_messages")
    if quals.open:
        b.reason("strategy.penal_open", offenses=b.labels(quals.open))
    if quals.expired:
        b.reason("strategy.penal_closed", offenses=b.labels(quals.expired))
        if not quals.open:
            b.reason("strategy.defensive_fallback")
    if facts.before_law and not quals.all:
        b.reason("strategy.before_law_only")
        b.reason("strategy.defensive_fallback")
    if b.case.victim.practice == "hospital" and not facts.lawful:
        b.reason("strategy.hospital")


def _is_raid(incident: Incident) -> bool:
    return incident.volume in ("repeated", "raid")


def _safety_steps(b: _Builder, incident: Incident, facts: _Facts) -> None:
    """Safety and evidence first: emergency call, evidence, no reply, blocking, locking."""
    if facts.danger:
        b.step("emergency_call")
    b.step("preserve_evidence")
    b.step("no_reply")
    if not facts.lawful:
        b.step("block_authors")
    raid = _is_raid(incident)
    if facts.danger or raid or any(b.kb.offenses[key].exposure for key in facts.offenses):
        b.step("lock_accounts", *([b.msg.get("step_notes.lock_raid")] if raid else []))


def _author_contact_allowed(incident: Incident, facts: _Facts, kb: Knowledge) -> bool:
    """May the doctor contact the author (removal request, formal notice)? Only an identified
    author of public words, neither a colleague (the Ordre first) nor in a danger, raid or an
    offense marked `no_contact` (offenses.yml). The letters follow this through the step."""
    return bool(
        incident.author.known
        and facts.public
        and not facts.colleague
        and not facts.danger
        and not any(kb.offenses[key].no_contact for key in facts.offenses)
        and not _is_raid(incident)
    )


def _contact_steps(b: _Builder, incident: Incident, facts: _Facts) -> bool:
    """The Ordre for a colleague, the author when allowed, a public reply to a lawful
    criticism; returns whether the public reply is advised."""
    if facts.colleague:
        b.step("cdom_conciliation")
        b.step("disciplinary_complaint")
    if _author_contact_allowed(incident, facts, b.kb):
        b.step("contact_author")
    public_reply = facts.lawful and facts.public and facts.reply_possible and not facts.colleague
    if public_reply:
        b.step("public_reply")
        b.reason("strategy.lawful_options")
    return public_reply


def _report_steps(b: _Builder, incident: Incident, facts: _Facts) -> None:
    """The platform report (not for private correspondence, platforms.yml `private`), its
    appeal, and Pharos when competent."""
    kb, msg = b.kb, b.msg
    offenses = facts.offenses_set
    reportable = facts.public or any(not kb.platforms[p].private for p in incident.platforms)
    if reportable:
        notes = []
        if facts.lawful:
            notes.append(msg.get("step_notes.report_lawful"))
            b.letterless.add("report_to_platform")
        if "impersonation" in offenses:
            notes.append(msg.get("step_notes.report_impersonation"))
        b.step("report_to_platform", *notes)
        b.extra_how["report_to_platform"] = [
            msg.get("step_notes.platform_report", label=p.label, report=p.report)
            for p in (kb.platforms[key] for key in incident.platforms)
        ]
        for key in incident.platforms:
            b.source_ids.update(kb.platforms[key].sources)
        b.step("dsa_appeal")

    if facts.public and _pharos_competent(incident, offenses, kb):
        b.step("pharos_report")
    if not facts.public and not facts.lawful:
        b.warn("warnings.pharos_not_competent")


def _erasure_steps(b: _Builder, incident: Incident, facts: _Facts, quals: _Qualified) -> None:
    """GDPR erasure then the CNIL: personal data (offenses.yml `personal_data`), a review
    site, or nothing left to take to court."""
    msg = b.msg
    expired_only = bool(quals.expired) and not quals.open
    review_site = any(b.kb.platforms[p].reviews for p in incident.platforms)
    personal_data = any(b.kb.offenses[key].personal_data for key in facts.offenses)
    if personal_data or review_site or expired_only:
        notes = []
        if personal_data:
            notes.append(msg.get("step_notes.erasure_personal_data"))
        if expired_only:
            notes.append(msg.get("step_notes.erasure_after_expiry"))
        b.step("erasure_request", *notes)
        b.step("cnil_complaint")


def _legal_steps(b: _Builder, facts: _Facts, quals: _Qualified) -> None:
    """The complaint while a deadline is open, the Ordre, the employer, support, monitoring."""
    msg = b.msg
    if quals.penal_open and not facts.lawful:
        notes = []
        if facts.danger:
            notes.append(msg.get("step_notes.urgent_complaint"))
        if facts.colleague:
            notes.append(msg.get("step_notes.colleague_complaint"))
        for q in quals.open:
            if q.press_offense:
                deadline = q.prescription.deadline
                notes.append(
                    msg.get(
                        "step_notes.press_deadline",
                        label=q.label,
                        deadline=date_fr(deadline) if deadline else "?",
                    )
                )
                notes.extend(_press_act_by_notes(b, q))
        if quals.expired:
            notes.append(
                msg.get(
                    "step_notes.partial_expired",
                    expired=b.labels(quals.expired),
                    open=b.labels(quals.open),
                )
            )
        b.step("file_complaint", *notes)
        b.step("commissioner_report")
    if not facts.lawful:
        b.step("inform_cdom")
        if b.case.victim.practice == "hospital":
            b.step("functional_protection")
    if any(b.kb.offenses[key].victim_support for key in facts.offenses) or facts.danger:
        b.step("victim_support")
    b.step("monitor_reputation")


def _ladder(
    b: _Builder, facts: _Facts, quals: _Qualified, public_reply: bool
) -> dict[str, tuple[bool, str]]:
    """Each rung recommended or not, and why; from the defensive rung up, the lawyer and the
    insurer are always added."""
    msg = b.msg
    if facts.lawful:
        preventive = (True, msg.get("ladder.preventive.lawful"))
    else:
        preventive = (False, msg.get("ladder.preventive.later"))
    if "harassment" in facts.offenses:
        neutre = (True, msg.get("ladder.neutre.harassment"))
    else:
        neutre = (True, msg.get("ladder.neutre.incident"))
    if public_reply:
        pacifique = (True, msg.get("ladder.pacifique.lawful"))
    elif facts.colleague:
        pacifique = (False, msg.get("ladder.pacifique.colleague"))
    elif not facts.lawful:
        pacifique = (False, msg.get("ladder.pacifique.illicit"))
    else:
        pacifique = (False, msg.get("ladder.pacifique.no_place"))
    if facts.colleague:
        defensive = (True, msg.get("ladder.defensive.colleague"))
    elif facts.lawful:
        defensive = (True, msg.get("ladder.defensive.lawful"))
    else:
        defensive = (True, msg.get("ladder.defensive.illicit"))
    open_labels = b.labels(quals.open)
    if facts.lawful:
        offensive = (False, msg.get("ladder.offensive.lawful"))
    elif not quals.all:
        offensive = (False, msg.get("ladder.offensive.before_law"))
    elif not quals.penal_open:
        offensive = (False, msg.get("ladder.offensive.expired", offenses=b.labels(quals.expired)))
    elif facts.danger:
        offensive = (True, msg.get("ladder.offensive.urgent", offenses=open_labels))
    elif facts.colleague:
        offensive = (True, msg.get("ladder.offensive.colleague", offenses=open_labels))
    else:
        offensive = (True, msg.get("ladder.offensive.open", offenses=open_labels))
    if defensive[0] or offensive[0]:
        lawyer_notes = [msg.get("step_notes.lawyer_lawful")] if facts.lawful else []
        b.step("consult_lawyer", *lawyer_notes)
        b.step("contact_insurer")
    return {
        "preventive": preventive,
        "neutre": neutre,
        "pacifique": pacifique,
        "defensive": defensive,
        "offensive": offensive,
    }


def _level(
    b: _Builder, incident: Incident, facts: _Facts, quals: _Qualified, public_reply: bool
) -> str:
    """The recommended rung."""
    if facts.danger:
        return "offensive"
    if facts.colleague:
        return "defensive"
    if facts.lawful and public_reply and incident.wants_reply:
        b.reason("strategy.lawful_reply")
        return "pacifique"
    if facts.lawful:
        return "neutre"
    if quals.penal_open:
        return "offensive"
    return "defensive"


def _right_of_reply(b: _Builder, incident: Incident, facts: _Facts) -> None:
    """Right of reply: public text, nowhere to answer in place, within 3 months of publication."""
    if not facts.public or facts.colleague or "harassment" in facts.offenses or facts.danger:
        return
    if not (facts.lawful or "defamation" in facts.offenses):
        return
    platforms = [b.kb.platforms[p] for p in incident.platforms]
    if not any(p.public and not p.reply_in_place for p in platforms):
        return
    start = b.case.latest_publication()
    if start is None:
        b.step("right_of_reply")
        return
    limit = compute_deadline(start, RIGHT_OF_REPLY_MONTHS, b.today)
    if limit.expired:
        return
    deadline = date_fr(limit.deadline)
    if start != incident.first_published:
        note = b.msg.get(
            "step_notes.right_of_reply_deadline_statement",
            deadline=deadline,
            published=date_fr(start),
        )
    else:
        note = b.msg.get("step_notes.right_of_reply_deadline", deadline=deadline)
    b.step("right_of_reply", note)


def day_with_weekday(msg: Messages, day: date) -> str:
    """ "samedi 14/03/2026"."""
    return msg.get("words.day_with_weekday", weekday=_weekday(msg, day), date=date_fr(day))


def non_working_reason(msg: Messages, day: date) -> str:
    """Why `day` is not a working day: "un week-end", "un jour férié (lundi de Pâques)"."""
    holiday = holiday_key(day)
    if holiday is not None:
        name = msg.mapping("words.holidays")[holiday]
        return msg.get("words.non_working_holiday", holiday=name)
    return msg.raw("words.non_working_weekend")


def _period(msg: Messages, months: int) -> str:
    """ "3 mois", "1 an", "6 ans"."""
    if months % 12:
        return msg.get("words.period_months", count=months)
    if months == 12:
        return msg.raw("words.period_one_year")
    return msg.get("words.period_years", count=months // 12)


def _join(msg: Messages, items: Iterable[str]) -> str:
    """ "a, b et c"."""
    parts = list(items)
    if len(parts) < 2:
        return "".join(parts)
    head = msg.raw("words.list_separator").join(parts[:-1])
    return head + msg.raw("words.last_separator") + parts[-1]


def _dates(msg: Messages, days: Iterable[date]) -> str:
    """ "le 01/06/2026", "les 01/06/2026, 14/08/2026 et 10/09/2026"."""
    shown = [date_fr(d) for d in days]
    if len(shown) == 1:
        return msg.get("words.on_date", date=shown[0])
    return msg.get("words.on_dates", dates=_join(msg, shown))


def _press_act_by_notes(b: _Builder, q: Qualification) -> list[str]:
    """Complaint-step notes: act by the previous working day; and before the oldest open
    statement's deadline to cover every statement still open."""
    msg, p = b.msg, q.prescription
    notes = []
    if p.deadline is not None and p.act_by is not None and p.act_by != p.deadline:
        notes.append(
            msg.get(
                "step_notes.press_act_by",
                label=q.label,
                day=day_with_weekday(msg, p.deadline),
                when=non_working_reason(msg, p.deadline),
                act_by=day_with_weekday(msg, p.act_by),
            )
        )
    still_open = [st for st in p.statements if not st.expired]
    if p.deadline is not None and still_open and still_open[0].deadline < p.deadline:
        oldest = still_open[0]
        notes.append(
            msg.get(
                "step_notes.press_statements_earliest",
                label=q.label,
                published=date_fr(oldest.published_at),
                deadline=date_fr(oldest.deadline),
                act_by=day_with_weekday(msg, oldest.act_by),
            )
        )
    return notes


def _press_expired(b: _Builder, q: Qualification) -> None:
    """Why the penal route is closed, naming the date(s) the deadline was counted from."""
    p = q.prescription
    assert p.deadline is not None and p.start is not None
    if p.date_used == "statements":
        published = _dates(b.msg, (st.published_at for st in p.statements))
        b.warn(
            "warnings.press_expired_statements",
            label=q.label,
            published=published,
            deadline=date_fr(p.deadline),
        )
        return
    key = (
        "warnings.press_expired_last_seen"
        if p.date_used == "last_seen"
        else "warnings.press_expired"
    )
    b.warn(key, label=q.label, deadline=date_fr(p.deadline), start=date_fr(p.start))


def _statement_warnings(b: _Builder, incident: Incident, q: Qualification) -> None:
    """Press offences: which date the deadline was counted from, which statements are too old
    and which stay open, near deadlines of older statements, and deadlines that fall on a
    Saturday, a Sunday or a public holiday (no extension: art. 65 of the 1881 law is not a
    procedural time limit)."""
    if q.offense not in PRESS_OFFENSES:
        return
    msg, p = b.msg, q.prescription
    period = _period(msg, p.months)
    still_open = [st for st in p.statements if not st.expired]
    if p.date_used == "statements":
        b.warn(
            "warnings.statement_dates_used", label=q.label, period=period, count=len(p.statements)
        )
        old = [st for st in p.statements if st.expired]
        if old and still_open:
            b.warn(
                "warnings.press_partly_expired",
                label=q.label,
                expired=_dates(msg, (st.published_at for st in old)),
                open=_join(
                    msg,
                    (
                        msg.get(
                            "words.statement_open",
                            published=date_fr(st.published_at),
                            deadline=date_fr(st.deadline),
                        )
                        for st in still_open
                    ),
                ),
            )
        for st in still_open:
            if st.deadline != p.deadline and st.days_left <= DEADLINE_SOON_DAYS:
                b.warn(
                    "warnings.statement_deadline_soon",
                    label=q.label,
                    published=date_fr(st.published_at),
                    deadline=date_fr(st.deadline),
                    days=st.days_left,
                )
        latest = p.statements[-1].published_at
        last = incident.last_seen
        if last is not None and last > latest and incident.last_seen_offending is not False:
            limit = compute_deadline(last, p.months, b.today)
            if not limit.expired:
                b.warn(
                    "warnings.last_seen_not_dated",
                    label=q.label,
                    date=date_fr(last),
                    deadline=date_fr(limit.deadline),
                )
    elif p.date_used == "last_seen" and p.start is not None:
        b.warn("warnings.date_used_last_seen", label=q.label, date=date_fr(p.start), period=period)
    elif p.date_used == "first_published" and p.start is not None:
        several = incident.volume in ("repeated", "raid")
        later = incident.last_seen is not None and incident.last_seen != p.start
        if several or later:
            b.warn(
                "warnings.date_used_first_published",
                label=q.label,
                date=date_fr(p.start),
                period=period,
            )
    targets: list[tuple[date, date, date | None]]
    if p.statements:
        targets = [(st.deadline, st.act_by, st.published_at) for st in still_open]
    elif p.deadline is not None and p.act_by is not None and not p.expired:
        targets = [(p.deadline, p.act_by, None)]
    else:
        targets = []
    for deadline, act_by, published in targets:
        if is_working_day(deadline):
            continue
        label = q.label
        if published is not None:
            label = msg.get("words.statement_of", label=q.label, published=date_fr(published))
        b.warn(
            "warnings.deadline_non_working_day",
            label=label,
            day=day_with_weekday(msg, deadline),
            when=non_working_reason(msg, deadline),
            act_by=day_with_weekday(msg, act_by),
        )


def _warnings(
    b: _Builder,
    incident: Incident,
    facts: _Facts,
    qualifications: list[Qualification],
    open_quals: list[Qualification],
) -> None:
    practice = b.case.victim.practice
    offenses = set(facts.offenses)
    if facts.danger or "doxxing" in offenses:
        b.warn("warnings.address_protection")
    if facts.lawful:
        b.warn("warnings.lawful_no_complaint")
    if facts.insult_dropped:
        b.warn("warnings.insult_and_defamation")
    if facts.public_assumed:
        b.warn(
            "warnings.public_assumed_public" if facts.public else "warnings.public_assumed_private"
        )
    for warning, offense_keys in (
        ("warnings.before_law", facts.before_law),
        ("warnings.start_date_exempt", facts.start_date_exempt),
    ):
        for key in offense_keys:
            offense = b.kb.offenses[key]
            assert offense.not_before is not None
            b.warn(
                warning,
                label=offense.label,
                date=date_fr(offense.not_before),
                law=offense.not_before_law,
            )
    if facts.outrage_not_about_work:
        b.warn("warnings.outrage_not_about_work")
    if facts.outrage_possible:
        b.warn("warnings.outrage_if_about_work")
    if facts.outrage_unconfirmed:
        b.warn("warnings.outrage_work_link")
    if any(q.variant == "health_professional" for q in qualifications):
        b.warn("warnings.threat_health_professional")
    elif "threat" in offenses and incident.about_work is None:
        b.warn("warnings.threat_if_about_work")
    if any(q.variant in DISCRIMINATORY_VARIANTS for q in qualifications):
        b.warn("warnings.discriminatory_one_paragraph")
    if (
        facts.public
        and any(b.kb.offenses[key].pharos_redirect for key in offenses)
        and not _pharos_competent(incident, offenses, b.kb)
    ):
        b.warn("warnings.pharos_not_for_private_disputes")
    if "outrage" in offenses and facts.public:
        b.warn("warnings.outrage_public")
    if any(q.press_offense for q in open_quals):
        b.warn("warnings.press_no_interrupt")
    for q in qualifications:
        p = q.prescription
        if p.deadline is None:
            b.warn("warnings.unknown_date", label=q.label)
        elif p.expired and q.press_offense:
            _press_expired(b, q)
        elif p.expired:
            b.warn("warnings.expired", label=q.label, deadline=date_fr(p.deadline))
        elif p.days_left is not None and p.days_left <= DEADLINE_SOON_DAYS:
            b.warn(
                "warnings.deadline_soon",
                label=q.label,
                days=p.days_left,
                deadline=date_fr(p.deadline),
            )
    for q in qualifications:
        _statement_warnings(b, incident, q)
    if any(q.prescription.deadline is not None for q in qualifications):
        b.warn("warnings.deadline_convention")
    if "harassment" in offenses:
        b.warn("warnings.harassment_start")
    if any(q.variant in PRIVATE_VARIANTS for q in qualifications):
        b.warn("warnings.private_prescription")
    if facts.colleague and open_quals:
        b.warn("warnings.colleague_deadline")
    if practice == "salaried" and not facts.lawful:
        b.warn("warnings.salaried")
    if practice == "hospital" and any(
        b.kb.offenses[key].public_service_aggravation for key in offenses
    ):
        b.warn("warnings.hospital_public_service")
    for q in qualifications:
        if q.certainty == "a_verifier":
            b.warn("warnings.uncertain_qualification", label=q.label)
    b.warnings.append(b.kb.ladder_note)
