"""The advice engine: from a case to a graduated-response plan (deterministic, pure Python).

`advise(case, today)` applies the decision tree of the team's legal facts (section 8):

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
  act); private insults add the 2025 offense of insulting a health professional (outrage);
* Pharos only for public content; a colleague goes through the Ordre's conciliation first and
  never gets a public riposte; a hospital doctor is told of the protection fonctionnelle;
  a lawful criticism never leads to a complaint; no incident means prevention;
* from the defensive rung up, the lawyer and the insurer are always recommended.

All French text comes from the knowledge files (messages.yml and the others).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from riposte.case import Case, Incident, load_case
from riposte.deadlines import compute_deadline
from riposte.knowledge import Knowledge, OffenseVariant
from riposte.knowledge import load as load_knowledge

DEADLINE_SOON_DAYS = 30
"""A qualification whose deadline is this close (in days) triggers a warning."""

PRESS_OFFENSES = ("insult", "defamation")
PHAROS_OFFENSES = frozenset({"threat", "doxxing", "harassment"})
NO_CONTACT_OFFENSES = frozenset({"threat", "doxxing", "harassment"})
PERSONAL_DATA_OFFENSES = frozenset({"doxxing", "privacy", "impersonation"})
EXPOSURE_OFFENSES = frozenset({"doxxing", "harassment", "privacy", "impersonation"})
PUBLIC_SERVICE_OFFENSES = frozenset({"doxxing", "privacy"})
PRIVATE_CHANNELS = frozenset({"email", "sms"})
REVIEW_PLATFORMS = frozenset({"google_reviews", "review_site"})
SUPPORT_OFFENSES = frozenset({"harassment", "threat"})
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
class PrescriptionAdvice:
    deadline: date | None
    days_left: int | None
    expired: bool | None
    start_from: str
    start: date | None
    months: int
    rule: str


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


def format_date(value: date) -> str:
    """French numeric date (JJ/MM/AAAA)."""
    return value.strftime("%d/%m/%Y")


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
    outrage_before_law: bool
    lawful: bool
    danger: bool
    colleague: bool
    reply_possible: bool


def _all_before(incident: Incident, limit: date | None) -> bool:
    """True when every known date of the incident is before `limit` (and one is known)."""
    if limit is None:
        return False
    known = [d for d in (incident.first_published, incident.last_seen) if d is not None]
    return bool(known) and all(d < limit for d in known)


def _facts(incident: Incident, kb: Knowledge) -> _Facts:
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

    outrage = kb.offenses["outrage"]
    before_law = _all_before(incident, outrage.not_before)
    outrage_added = False
    outrage_before_law = False
    if not public and wanted & set(PRESS_OFFENSES) and "outrage" not in wanted:
        if before_law:
            outrage_before_law = True
        else:
            wanted.add("outrage")
            outrage_added = True
    if "outrage" in wanted and before_law:
        wanted.discard("outrage")
        outrage_before_law = True

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
        outrage_before_law=outrage_before_law,
        lawful=not offenses,
        danger=incident.physical_danger,
        colleague=incident.author.relation == "colleague",
        reply_possible=reply_possible,
    )


def _qualify(
    key: str, incident: Incident, facts: _Facts, kb: Knowledge, today: date
) -> tuple[Qualification, OffenseVariant]:
    variant = kb.offenses[key].qualify(public=facts.public, discriminatory=incident.discriminatory)
    rule = variant.prescription
    if rule.start_from == "last_seen":
        start = incident.last_seen or incident.first_published
    else:
        start = incident.first_published
    if start is None:
        prescription = PrescriptionAdvice(
            deadline=None,
            days_left=None,
            expired=None,
            start_from=rule.start_from,
            start=None,
            months=rule.months,
            rule=rule.rule,
        )
    else:
        computed = compute_deadline(start, rule.months, today)
        prescription = PrescriptionAdvice(
            deadline=computed.deadline,
            days_left=computed.days_left,
            expired=computed.expired,
            start_from=rule.start_from,
            start=start,
            months=rule.months,
            rule=rule.rule,
        )
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


def _incident(b: _Builder, incident: Incident) -> Advice:
    kb, msg, case = b.kb, b.msg, b.case
    facts = _facts(incident, kb)
    practice = case.victim.practice

    # -- qualifications and deadlines
    qualifications: list[Qualification] = []
    variants: list[OffenseVariant] = []
    for key in facts.offenses:
        qualification, variant = _qualify(key, incident, facts, kb, b.today)
        qualifications.append(qualification)
        variants.append(variant)
    open_quals = [q for q in qualifications if q.is_open]
    expired_quals = [q for q in qualifications if not q.is_open]
    penal_open = bool(open_quals)
    offenses = set(facts.offenses)

    # -- strategy reasons
    if facts.danger:
        threats = [q for q in qualifications if q.offense in ("threat", "doxxing")]
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
    if any(q.variant == "private" for q in qualifications) or facts.outrage_added:
        b.reason("strategy.private_messages")
    if open_quals:
        b.reason("strategy.penal_open", offenses=b.labels(open_quals))
    if expired_quals:
        b.reason("strategy.penal_closed", offenses=b.labels(expired_quals))
        if not open_quals:
            b.reason("strategy.defensive_fallback")
    if practice == "hospital" and not facts.lawful:
        b.reason("strategy.hospital")

    # -- steps
    if facts.danger:
        b.step("emergency_call")
    b.step("preserve_evidence")
    b.step("no_reply")
    if not facts.lawful:
        b.step("block_authors")
    raid = incident.volume in ("repeated", "raid")
    if facts.danger or raid or offenses & EXPOSURE_OFFENSES:
        b.step("lock_accounts", *([msg.get("step_notes.lock_raid")] if raid else []))
    if facts.colleague:
        b.step("cdom_conciliation")
    if (
        incident.author.known
        and facts.public
        and not facts.colleague
        and not facts.danger
        and not offenses & NO_CONTACT_OFFENSES
        and not raid
    ):
        b.step("contact_author")
    public_reply = facts.lawful and facts.public and facts.reply_possible and not facts.colleague
    if public_reply:
        b.step("public_reply")
        b.reason("strategy.lawful_options")

    reportable = facts.public or any(p not in PRIVATE_CHANNELS for p in incident.platforms)
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

    discriminatory_press = incident.discriminatory and offenses & set(PRESS_OFFENSES)
    if facts.public and (offenses & PHAROS_OFFENSES or discriminatory_press):
        b.step("pharos_report")
    if not facts.public and not facts.lawful:
        b.warn("warnings.pharos_not_competent")

    _right_of_reply(b, incident, facts)

    expired_only = bool(expired_quals) and not open_quals
    review_site = any(p in REVIEW_PLATFORMS for p in incident.platforms)
    if offenses & PERSONAL_DATA_OFFENSES or review_site or expired_only:
        notes = []
        if offenses & PERSONAL_DATA_OFFENSES:
            notes.append(msg.get("step_notes.erasure_personal_data"))
        if expired_only:
            notes.append(msg.get("step_notes.erasure_after_expiry"))
        b.step("erasure_request", *notes)
        b.step("cnil_complaint")

    if penal_open and not facts.lawful:
        notes = []
        if facts.danger:
            notes.append(msg.get("step_notes.urgent_complaint"))
        if facts.colleague:
            notes.append(msg.get("step_notes.colleague_complaint"))
        for q in open_quals:
            if q.press_offense:
                deadline = q.prescription.deadline
                notes.append(
                    msg.get(
                        "step_notes.press_deadline",
                        label=q.label,
                        deadline=format_date(deadline) if deadline else "?",
                    )
                )
        if expired_quals:
            notes.append(
                msg.get(
                    "step_notes.partial_expired",
                    expired=b.labels(expired_quals),
                    open=b.labels(open_quals),
                )
            )
        b.step("file_complaint", *notes)
        b.step("commissioner_report")
    if not facts.lawful:
        b.step("inform_cdom")
        if practice == "hospital":
            b.step("functional_protection")
    if offenses & SUPPORT_OFFENSES or facts.danger:
        b.step("victim_support")
    b.step("monitor_reputation")

    # -- ladder
    if facts.lawful:
        preventive = (True, msg.get("ladder.preventive.lawful"))
    else:
        preventive = (False, msg.get("ladder.preventive.later"))
    if "harassment" in offenses:
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
    if facts.lawful:
        offensive = (False, msg.get("ladder.offensive.lawful"))
    elif not penal_open:
        offensive = (False, msg.get("ladder.offensive.expired", offenses=b.labels(expired_quals)))
    elif facts.danger:
        offensive = (True, msg.get("ladder.offensive.urgent", offenses=b.labels(open_quals)))
    elif facts.colleague:
        offensive = (True, msg.get("ladder.offensive.colleague", offenses=b.labels(open_quals)))
    else:
        offensive = (True, msg.get("ladder.offensive.open", offenses=b.labels(open_quals)))
    ladder = {
        "preventive": preventive,
        "neutre": neutre,
        "pacifique": pacifique,
        "defensive": defensive,
        "offensive": offensive,
    }
    # From the defensive rung up, always the lawyer and the insurer.
    if defensive[0] or offensive[0]:
        lawyer_notes = [msg.get("step_notes.lawyer_lawful")] if facts.lawful else []
        b.step("consult_lawyer", *lawyer_notes)
        b.step("contact_insurer")

    # -- strategy level
    if facts.danger:
        level = "offensive"
    elif facts.colleague:
        level = "defensive"
    elif facts.lawful and public_reply and incident.wants_reply:
        level = "pacifique"
        b.reason("strategy.lawful_reply")
    elif facts.lawful:
        level = "neutre"
    elif penal_open:
        level = "offensive"
    else:
        level = "defensive"

    _warnings(b, incident, facts, qualifications, open_quals)
    return b.finish(facts.danger, level, ladder, qualifications, variants)


def _right_of_reply(b: _Builder, incident: Incident, facts: _Facts) -> None:
    """Right of reply: public text, nowhere to answer in place, within 3 months of publication."""
    if not facts.public or facts.colleague or "harassment" in facts.offenses or facts.danger:
        return
    if not (facts.lawful or "defamation" in facts.offenses):
        return
    platforms = [b.kb.platforms[p] for p in incident.platforms]
    if not any(p.public and not p.reply_in_place for p in platforms):
        return
    if incident.first_published is None:
        b.step("right_of_reply")
        return
    limit = compute_deadline(incident.first_published, RIGHT_OF_REPLY_MONTHS, b.today)
    if not limit.expired:
        b.step(
            "right_of_reply",
            b.msg.get("step_notes.right_of_reply_deadline", deadline=format_date(limit.deadline)),
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
    if facts.outrage_before_law:
        b.warn("warnings.outrage_before_law")
    if "outrage" in offenses and facts.public:
        b.warn("warnings.outrage_public")
    if any(q.press_offense for q in open_quals):
        b.warn("warnings.press_no_interrupt")
    for q in qualifications:
        p = q.prescription
        if p.deadline is None:
            b.warn("warnings.unknown_date", label=q.label)
        elif p.expired and q.press_offense:
            assert p.start is not None
            b.warn(
                "warnings.press_expired",
                label=q.label,
                deadline=format_date(p.deadline),
                start=format_date(p.start),
            )
        elif p.expired:
            b.warn("warnings.expired", label=q.label, deadline=format_date(p.deadline))
        elif p.days_left is not None and p.days_left <= DEADLINE_SOON_DAYS:
            b.warn(
                "warnings.deadline_soon",
                label=q.label,
                days=p.days_left,
                deadline=format_date(p.deadline),
            )
    if any(q.prescription.deadline is not None for q in qualifications):
        b.warn("warnings.deadline_convention")
    if "harassment" in offenses:
        b.warn("warnings.harassment_start")
    if any(q.variant == "private" for q in qualifications):
        b.warn("warnings.private_prescription")
    if facts.colleague and open_quals:
        b.warn("warnings.colleague_deadline")
    if practice == "salaried" and not facts.lawful:
        b.warn("warnings.salaried")
    if practice == "hospital" and offenses & PUBLIC_SERVICE_OFFENSES:
        b.warn("warnings.hospital_public_service")
    for q in qualifications:
        if q.certainty == "a_verifier":
            b.warn("warnings.uncertain_qualification", label=q.label)
    b.warnings.append(b.kb.ladder_note)
