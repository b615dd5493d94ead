"""The reviewed knowledge base: YAML files in this folder, loaded once into dataclasses.

`load()` reads and validates every file on first use and caches the result; nothing is read
at import time. Malformed data raises `KnowledgeError`, whose message names the file and the
key path (for example ``offenses.yml: offenses.insult.prescription.months: expected an
integer``). These messages are for the people who maintain the data, hence in English; all
user-facing French text lives in the YAML files themselves.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

KNOWLEDGE_DIR = Path(__file__).resolve().parent

CERTAINTIES: tuple[str, ...] = ("sur", "a_verifier")
LADDER_LEVELS: tuple[str, ...] = ("preventive", "neutre", "pacifique", "defensive", "offensive")
OFFENSE_KEYS: tuple[str, ...] = (
    "insult",
    "defamation",
    "harassment",
    "threat",
    "doxxing",
    "impersonation",
    "privacy",
    "outrage",
    "malicious_messages",
    "deepfake",
)
REQUIRED_STEP_KEYS: tuple[str, ...] = (
    "emergency_call",
    "preserve_evidence",
    "commissioner_report",
    "report_to_platform",
    "pharos_report",
    "block_authors",
    "lock_accounts",
    "contact_author",
    "public_reply",
    "right_of_reply",
    "erasure_request",
    "cnil_complaint",
    "file_complaint",
    "inform_cdom",
    "disciplinary_complaint",
    "functional_protection",
    "contact_insurer",
    "consult_lawyer",
    "monitor_reputation",
    "dsa_appeal",
)
PLATFORM_KEYS: tuple[str, ...] = (
    "x",
    "facebook",
    "instagram",
    "tiktok",
    "linkedin",
    "youtube",
    "telegram",
    "whatsapp",
    "snapchat",
    "reddit",
    "google_reviews",
    "review_site",
    "forum",
    "blog",
    "email",
    "sms",
    "other",
)
LETTER_KINDS: tuple[str, ...] = (
    "procureur",
    "platform_notice",
    "erasure_request",
    "cnil_complaint",
    "right_of_reply",
    "cdom_declaration",
    "functional_protection",
    "formal_notice",
)
PRESCRIPTION_STARTS: tuple[str, ...] = ("first_published", "last_seen")
STEP_ORDERS: tuple[str, ...] = ("standard", "urgent")
VARIANT_KINDS: tuple[str, ...] = (
    "discriminatory",
    "private",
    "private_discriminatory",
    "health_professional",
)
PRACTICES: tuple[str, ...] = ("liberal", "hospital", "salaried", "other")

_SOURCE_ID = re.compile(r"^S[0-9]+[a-z]?$")
_ALIAS = re.compile(r"^[a-z0-9][a-z0-9 '.\-]*$")

FILES: tuple[str, ...] = (
    "sources.yml",
    "ladder.yml",
    "offenses.yml",
    "steps.yml",
    "platforms.yml",
    "contacts.yml",
    "messages.yml",
)


class KnowledgeError(ValueError):
    """Malformed knowledge data; the message names the file and the key path."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}")
        self.file = file
        self.key = key
        self.problem = problem


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    url: str
    last_checked: date
    note: str
    other_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rung:
    level: str
    label: str
    meaning: str
    when: str
    risks: tuple[str, ...]
    typical_steps: tuple[str, ...]
    sources: tuple[str, ...]
    certainty: str
    # Steps of this rung that Riposte added itself: not described by the Ordre's 2018 guide.
    riposte_additions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prescription:
    months: int
    start_from: str
    rule: str
    certainty: str


@dataclass(frozen=True)
class OffenseVariant:
    """One legal qualification: the base offense or one of its forms (see VARIANT_KINDS)."""

    offense: str
    variant: str
    label: str
    texts: tuple[str, ...]
    penalty: str
    prescription: Prescription
    press_offense: bool
    sources: tuple[str, ...]
    certainty: str


@dataclass(frozen=True)
class Offense:
    key: str
    label: str
    definition: str
    texts: tuple[str, ...]
    penalty: str
    prescription: Prescription
    press_offense: bool
    complaint_must_state: tuple[str, ...]
    sources: tuple[str, ...]
    certainty: str
    variants: Mapping[str, OffenseVariant] = field(default_factory=dict)
    not_before: date | None = None
    not_before_law: str | None = None
    not_before_except_practice: tuple[str, ...] = ()
    non_public_only: bool = False
    # Pharos is competent for public content of this kind (offenses.yml header).
    pharos: bool = False
    # Riposte never advises contacting the author (no removal request, no formal notice).
    no_contact: bool = False
    # The offense concerns the doctor's personal data: GDPR erasure, then the CNIL.
    personal_data: bool = False
    # Pharos refuses it when aimed at one person: the doctor is told to file a complaint.
    pharos_redirect: bool = False
    # It exposes the doctor: locking the accounts is advised.
    exposure: bool = False
    # Victim support (116 006) is offered.
    victim_support: bool = False
    # Heavier penalty when the victim has a public service mission (hospital doctor).
    public_service_aggravation: bool = False
    # The employer may file the complaint for the doctor (art. 15-3-4 CPP).
    employer_complaint: bool = False

    @property
    def base(self) -> OffenseVariant:
        return OffenseVariant(
            offense=self.key,
            variant="base",
            label=self.label,
            texts=self.texts,
            penalty=self.penalty,
            prescription=self.prescription,
            press_offense=self.press_offense,
            sources=self.sources,
            certainty=self.certainty,
        )

    def qualify(
        self, public: bool, discriminatory: bool, work_related: bool = False
    ) -> OffenseVariant:
        """The qualification that applies.

        Non-public words: the private discriminatory form, else the private form. Then the
        (public) discriminatory form; then, for words linked to the doctor's work, the
        health-professional form (threats, art. 433-3); else the base offense.
        """
        if not public:
            if discriminatory and "private_discriminatory" in self.variants:
                return self.variants["private_discriminatory"]
            if "private" in self.variants:
                return self.variants["private"]
        if discriminatory and "discriminatory" in self.variants:
            return self.variants["discriminatory"]
        if work_related and "health_professional" in self.variants:
            return self.variants["health_professional"]
        return self.base

    def exempt_from_start_date(self, practice: str | None) -> bool:
        """True when the text already applied to this mode of practice before `not_before`."""
        return practice is not None and practice in self.not_before_except_practice

    def before_start_date(self, dates: Iterable[date], practice: str | None = None) -> bool:
        """True when the text cannot apply: it has a start date and every known date of the
        facts is before it (unknown dates never exclude the text)."""
        if self.not_before is None or self.exempt_from_start_date(practice):
            return False
        known = list(dates)
        return bool(known) and all(day < self.not_before for day in known)


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    what: str
    how: str
    why: str
    sources: tuple[str, ...]
    certainty: str
    letter: str | None = None
    contacts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Letter:
    kind: str
    label: str
    content: str
    guardrail: str
    sources: tuple[str, ...]
    certainty: str


@dataclass(frozen=True)
class Platform:
    key: str
    label: str
    aliases: tuple[str, ...]
    public: bool
    reply_in_place: bool
    report: str
    sources: tuple[str, ...]
    certainty: str
    # Private correspondence (e-mail, text message): no platform to report to, no DSA notice,
    # no account suspension; never public (platforms.yml header).
    private: bool = False
    # A review site or business listing: GDPR erasure is always offered.
    reviews: bool = False


@dataclass(frozen=True)
class Contact:
    key: str
    label: str
    purpose: str
    when: str
    sources: tuple[str, ...]
    certainty: str
    phone: tuple[str, ...] = ()
    sms: str | None = None
    url: str | None = None
    email: str | None = None
    hours: str | None = None


class Messages:
    """French sentences used by the engine and the command line (messages.yml)."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    def has(self, path: str) -> bool:
        node: Any = self._data
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return False
            node = node[part]
        return isinstance(node, str)

    def raw(self, path: str) -> str:
        node: Any = self._data
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise KnowledgeError("messages.yml", path, "missing message")
            node = node[part]
        if not isinstance(node, str):
            raise KnowledgeError("messages.yml", path, "expected a string")
        return node

    def get(self, path: str, /, **values: object) -> str:
        """The message at dotted `path`, with `{name}` placeholders filled from `values`."""
        template = self.raw(path)
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            raise KnowledgeError("messages.yml", path, f"cannot fill placeholders: {exc}") from exc

    def mapping(self, path: str) -> Mapping[str, str]:
        node: Any = self._data
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise KnowledgeError("messages.yml", path, "missing section")
            node = node[part]
        if not isinstance(node, Mapping) or not all(isinstance(v, str) for v in node.values()):
            raise KnowledgeError("messages.yml", path, "expected a mapping of strings")
        return node


@dataclass(frozen=True)
class Knowledge:
    sources: Mapping[str, Source]
    ladder: Mapping[str, Rung]
    ladder_note: str
    offenses: Mapping[str, Offense]
    steps: Mapping[str, Step]
    step_order: Mapping[str, tuple[str, ...]]
    letters: Mapping[str, Letter]
    platforms: Mapping[str, Platform]
    contacts: Mapping[str, Contact]
    messages: Messages

    def source_sort_key(self, source_id: str) -> tuple[int, str]:
        match = re.match(r"^S([0-9]+)([a-z]?)$", source_id)
        if match is None:  # pragma: no cover - ids are validated at load time
            return (10**9, source_id)
        return (int(match.group(1)), match.group(2))


# --------------------------------------------------------------------------- validation


class _Reader:
    """Typed access to one YAML file, reporting the file and key path on error."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, path: str, problem: str) -> KnowledgeError:
        return KnowledgeError(self.file, path, problem)

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping) or not value:
            raise self.fail(path, "expected a non-empty mapping")
        for key in value:
            if not isinstance(key, str):
                raise self.fail(path, f"keys must be strings, found {key!r}")
        return value

    def get(self, node: Mapping[str, Any], key: str, path: str) -> Any:
        if key not in node:
            raise self.fail(f"{path}.{key}", "missing key")
        return node[key]

    def text(self, node: Mapping[str, Any], key: str, path: str) -> str:
        value = self.get(node, key, path)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{path}.{key}", "expected a non-empty string")
        return value.strip()

    def opt_text(self, node: Mapping[str, Any], key: str, path: str) -> str | None:
        if node.get(key) is None:
            return None
        return self.text(node, key, path)

    def flag(self, node: Mapping[str, Any], key: str, path: str) -> bool:
        value = self.get(node, key, path)
        if not isinstance(value, bool):
            raise self.fail(f"{path}.{key}", "expected true or false")
        return value

    def count(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(path, "expected a positive integer")
        return value

    def day(self, value: Any, path: str) -> date:
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(path, "expected a date YYYY-MM-DD")

    def texts(
        self, node: Mapping[str, Any], key: str, path: str, allow_empty: bool = False
    ) -> tuple[str, ...]:
        value = self.get(node, key, path)
        if not isinstance(value, list) or (not value and not allow_empty):
            raise self.fail(f"{path}.{key}", "expected a non-empty list")
        out: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{path}.{key}[{index}]", "expected a non-empty string")
            out.append(item.strip())
        return tuple(out)

    def opt_texts(self, node: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        if node.get(key) is None:
            return ()
        return self.texts(node, key, path)

    def keys(
        self,
        node: Mapping[str, Any],
        key: str,
        path: str,
        allowed: Mapping[str, Any] | tuple[str, ...],
    ) -> tuple[str, ...]:
        values = self.texts(node, key, path)
        for index, value in enumerate(values):
            if value not in allowed:
                raise self.fail(f"{path}.{key}[{index}]", f"unknown key {value!r}")
        return values

    def source_ids(
        self, node: Mapping[str, Any], path: str, known: Mapping[str, Source]
    ) -> tuple[str, ...]:
        ids = self.texts(node, "sources", path)
        for index, source_id in enumerate(ids):
            if not _SOURCE_ID.match(source_id):
                raise self.fail(f"{path}.sources[{index}]", f"malformed source id {source_id!r}")
            if source_id not in known:
                raise self.fail(
                    f"{path}.sources[{index}]", f"source {source_id!r} is not in sources.yml"
                )
        return ids

    def certainty(self, node: Mapping[str, Any], path: str) -> str:
        value = self.text(node, "certainty", path)
        if value not in CERTAINTIES:
            raise self.fail(f"{path}.certainty", f"expected one of {', '.join(CERTAINTIES)}")
        return value

    def exact_keys(self, node: Mapping[str, Any], expected: tuple[str, ...], path: str) -> None:
        missing = [key for key in expected if key not in node]
        extra = [key for key in node if key not in expected]
        if missing:
            raise self.fail(path, f"missing keys: {', '.join(missing)}")
        if extra:
            raise self.fail(path, f"unexpected keys: {', '.join(extra)}")


def _read_yaml(directory: Path, name: str) -> Any:
    path = directory / name
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except OSError as exc:
        raise KnowledgeError(name, "(file)", f"cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise KnowledgeError(name, "(file)", f"invalid YAML: {exc}") from exc


def _top(reader: _Reader, data: Any, key: str) -> Mapping[str, Any]:
    root = reader.mapping(data, "(root)")
    if key not in root:
        raise reader.fail(key, "missing top-level key")
    return reader.mapping(root[key], key)


def _load_sources(data: Any) -> dict[str, Source]:
    r = _Reader("sources.yml")
    section = _top(r, data, "sources")
    out: dict[str, Source] = {}
    for source_id, raw in section.items():
        path = f"sources.{source_id}"
        if not _SOURCE_ID.match(source_id):
            raise r.fail(path, "malformed source id (expected S<number>[letter])")
        node = r.mapping(raw, path)
        url = r.text(node, "url", path)
        if not url.startswith("https://"):
            raise r.fail(f"{path}.url", "expected an https:// address")
        out[source_id] = Source(
            id=source_id,
            title=r.text(node, "title", path),
            url=url,
            last_checked=r.day(r.get(node, "last_checked", path), f"{path}.last_checked"),
            note=r.text(node, "note", path),
            other_urls=r.opt_texts(node, "other_urls", path),
        )
    return out


def _load_ladder(data: Any, sources: Mapping[str, Source]) -> tuple[dict[str, Rung], str]:
    r = _Reader("ladder.yml")
    root = r.mapping(data, "(root)")
    note = r.text(root, "note", "(root)")
    section = _top(r, data, "ladder")
    if tuple(section) != LADDER_LEVELS:
        raise r.fail(
            "ladder", f"expected exactly these keys in this order: {', '.join(LADDER_LEVELS)}"
        )
    out: dict[str, Rung] = {}
    for level, raw in section.items():
        path = f"ladder.{level}"
        node = r.mapping(raw, path)
        out[level] = Rung(
            level=level,
            label=r.text(node, "label", path),
            meaning=r.text(node, "meaning", path),
            when=r.text(node, "when", path),
            risks=r.texts(node, "risks", path),
            typical_steps=r.texts(node, "typical_steps", path),
            sources=r.source_ids(node, path, sources),
            certainty=r.certainty(node, path),
            riposte_additions=r.opt_texts(node, "riposte_additions", path),
        )
    return out, note


def _load_prescription(r: _Reader, raw: Any, path: str, default_certainty: str) -> Prescription:
    node = r.mapping(raw, path)
    has_months = "months" in node
    has_years = "years" in node
    if has_months == has_years:
        raise r.fail(path, "give exactly one of months or years")
    months = (
        r.count(node["months"], f"{path}.months")
        if has_months
        else 12 * r.count(node["years"], f"{path}.years")
    )
    start_from = r.text(node, "from", path)
    if start_from not in PRESCRIPTION_STARTS:
        raise r.fail(f"{path}.from", f"expected one of {', '.join(PRESCRIPTION_STARTS)}")
    certainty = r.certainty(node, path) if "certainty" in node else default_certainty
    return Prescription(
        months=months, start_from=start_from, rule=r.text(node, "rule", path), certainty=certainty
    )


def _load_offenses(data: Any, sources: Mapping[str, Source]) -> dict[str, Offense]:
    r = _Reader("offenses.yml")
    section = _top(r, data, "offenses")
    r.exact_keys(section, OFFENSE_KEYS, "offenses")
    out: dict[str, Offense] = {}
    for key in OFFENSE_KEYS:
        path = f"offenses.{key}"
        node = r.mapping(section[key], path)
        certainty = r.certainty(node, path)
        press = r.flag(node, "press_offense", path)
        variants: dict[str, OffenseVariant] = {}
        raw_variants = node.get("variants")
        if raw_variants is not None:
            variant_nodes = r.mapping(raw_variants, f"{path}.variants")
            for kind, raw_variant in variant_nodes.items():
                vpath = f"{path}.variants.{kind}"
                if kind not in VARIANT_KINDS:
                    raise r.fail(vpath, f"unknown variant (expected {', '.join(VARIANT_KINDS)})")
                vnode = r.mapping(raw_variant, vpath)
                vcertainty = r.certainty(vnode, vpath)
                variants[kind] = OffenseVariant(
                    offense=key,
                    variant=kind,
                    label=r.text(vnode, "label", vpath),
                    texts=r.texts(vnode, "texts", vpath),
                    penalty=r.text(vnode, "penalty", vpath),
                    prescription=_load_prescription(
                        r, r.get(vnode, "prescription", vpath), f"{vpath}.prescription", vcertainty
                    ),
                    press_offense=r.flag(vnode, "press_offense", vpath)
                    if "press_offense" in vnode
                    else press,
                    sources=r.source_ids(vnode, vpath, sources),
                    certainty=vcertainty,
                )
        not_before_raw = node.get("not_before")
        not_before = None if not_before_raw is None else r.day(not_before_raw, f"{path}.not_before")
        not_before_law = r.opt_text(node, "not_before_law", path)
        if (not_before is None) != (not_before_law is None):
            raise r.fail(path, "not_before and not_before_law go together")
        except_practice = r.opt_texts(node, "not_before_except_practice", path)
        if except_practice and not_before is None:
            raise r.fail(f"{path}.not_before_except_practice", "needs not_before")
        for index, practice in enumerate(except_practice):
            if practice not in PRACTICES:
                raise r.fail(
                    f"{path}.not_before_except_practice[{index}]",
                    f"unknown practice {practice!r} (expected {', '.join(PRACTICES)})",
                )
        out[key] = Offense(
            key=key,
            label=r.text(node, "label", path),
            definition=r.text(node, "definition", path),
            texts=r.texts(node, "texts", path),
            penalty=r.text(node, "penalty", path),
            prescription=_load_prescription(
                r, r.get(node, "prescription", path), f"{path}.prescription", certainty
            ),
            press_offense=press,
            complaint_must_state=r.texts(node, "complaint_must_state", path),
            sources=r.source_ids(node, path, sources),
            certainty=certainty,
            variants=variants,
            not_before=not_before,
            not_before_law=not_before_law,
            not_before_except_practice=except_practice,
            non_public_only=r.flag(node, "non_public_only", path)
            if "non_public_only" in node
            else False,
            pharos=r.flag(node, "pharos", path),
            no_contact=r.flag(node, "no_contact", path),
            personal_data=r.flag(node, "personal_data", path),
            pharos_redirect=r.flag(node, "pharos_redirect", path),
            exposure=r.flag(node, "exposure", path),
            victim_support=r.flag(node, "victim_support", path),
            public_service_aggravation=r.flag(node, "public_service_aggravation", path),
            employer_complaint=r.flag(node, "employer_complaint", path),
        )
    return out


def _load_contacts(data: Any, sources: Mapping[str, Source]) -> dict[str, Contact]:
    r = _Reader("contacts.yml")
    section = _top(r, data, "contacts")
    out: dict[str, Contact] = {}
    for key, raw in section.items():
        path = f"contacts.{key}"
        node = r.mapping(raw, path)
        url = r.opt_text(node, "url", path)
        if url is not None and not url.startswith("https://"):
            raise r.fail(f"{path}.url", "expected an https:// address")
        out[key] = Contact(
            key=key,
            label=r.text(node, "label", path),
            purpose=r.text(node, "for", path),
            when=r.text(node, "when", path),
            sources=r.source_ids(node, path, sources),
            certainty=r.certainty(node, path),
            phone=r.opt_texts(node, "phone", path),
            sms=r.opt_text(node, "sms", path),
            url=url,
            email=r.opt_text(node, "email", path),
            hours=r.opt_text(node, "hours", path),
        )
    return out


def _load_steps(
    data: Any, sources: Mapping[str, Source], contacts: Mapping[str, Contact]
) -> tuple[dict[str, Step], dict[str, tuple[str, ...]], dict[str, Letter]]:
    r = _Reader("steps.yml")
    root = r.mapping(data, "(root)")
    letters_section = _top(r, data, "letters")
    r.exact_keys(letters_section, LETTER_KINDS, "letters")
    letters: dict[str, Letter] = {}
    for kind in LETTER_KINDS:
        path = f"letters.{kind}"
        node = r.mapping(letters_section[kind], path)
        letters[kind] = Letter(
            kind=kind,
            label=r.text(node, "label", path),
            content=r.text(node, "content", path),
            guardrail=r.text(node, "guardrail", path),
            sources=r.source_ids(node, path, sources),
            certainty=r.certainty(node, path),
        )
    section = _top(r, data, "steps")
    missing = [key for key in REQUIRED_STEP_KEYS if key not in section]
    if missing:
        raise r.fail("steps", f"missing keys: {', '.join(missing)}")
    steps: dict[str, Step] = {}
    for key, raw in section.items():
        path = f"steps.{key}"
        node = r.mapping(raw, path)
        letter = r.opt_text(node, "letter", path)
        if letter is not None and letter not in letters:
            raise r.fail(f"{path}.letter", f"unknown letter kind {letter!r}")
        steps[key] = Step(
            key=key,
            label=r.text(node, "label", path),
            what=r.text(node, "what", path),
            how=r.text(node, "how", path),
            why=r.text(node, "why", path),
            sources=r.source_ids(node, path, sources),
            certainty=r.certainty(node, path),
            letter=letter,
            contacts=r.keys(node, "contacts", path, contacts) if "contacts" in node else (),
        )
    order_section = r.mapping(r.get(root, "order", "(root)"), "order")
    r.exact_keys(order_section, STEP_ORDERS, "order")
    orders: dict[str, tuple[str, ...]] = {}
    for name in STEP_ORDERS:
        sequence = r.keys(order_section, name, "order", steps)
        if len(set(sequence)) != len(sequence):
            raise r.fail(f"order.{name}", "a step is listed twice")
        absent = [key for key in steps if key not in sequence]
        if absent:
            raise r.fail(f"order.{name}", f"steps missing from the order: {', '.join(absent)}")
        orders[name] = sequence
    return steps, orders, letters


def _load_platforms(data: Any, sources: Mapping[str, Source]) -> dict[str, Platform]:
    r = _Reader("platforms.yml")
    section = _top(r, data, "platforms")
    r.exact_keys(section, PLATFORM_KEYS, "platforms")
    out: dict[str, Platform] = {}
    for key in PLATFORM_KEYS:
        path = f"platforms.{key}"
        node = r.mapping(section[key], path)
        aliases = r.texts(node, "aliases", path)
        for index, alias in enumerate(aliases):
            if not _ALIAS.match(alias):
                raise r.fail(
                    f"{path}.aliases[{index}]",
                    f"alias {alias!r} must be lower-case, without accents",
                )
        public = r.flag(node, "public", path)
        private = r.flag(node, "private", path)
        if private and public:
            raise r.fail(f"{path}.private", "a private channel cannot be public (public: false)")
        out[key] = Platform(
            key=key,
            label=r.text(node, "label", path),
            aliases=aliases,
            public=public,
            reply_in_place=r.flag(node, "reply_in_place", path),
            report=r.text(node, "report", path),
            sources=r.source_ids(node, path, sources),
            certainty=r.certainty(node, path),
            private=private,
            reviews=r.flag(node, "reviews", path),
        )
    return out


def _check_messages(r: _Reader, node: Any, path: str) -> None:
    if isinstance(node, str):
        try:
            list(string.Formatter().parse(node))
        except ValueError as exc:
            raise r.fail(path, f"malformed placeholder: {exc}") from exc
        return
    mapping = r.mapping(node, path)
    for key, value in mapping.items():
        _check_messages(r, value, f"{path}.{key}" if path != "(root)" else key)


def _load_messages(data: Any) -> Messages:
    r = _Reader("messages.yml")
    root = r.mapping(data, "(root)")
    _check_messages(r, root, "(root)")
    return Messages(root)


def _cross_check(ladder: Mapping[str, Rung], steps: Mapping[str, Step]) -> None:
    r = _Reader("ladder.yml")
    for level, rung in ladder.items():
        for name in ("typical_steps", "riposte_additions"):
            for index, step in enumerate(getattr(rung, name)):
                if step not in steps:
                    raise r.fail(
                        f"ladder.{level}.{name}[{index}]", f"unknown step {step!r} (steps.yml)"
                    )


def load_from(directory: Path) -> Knowledge:
    """Read and validate the knowledge files in `directory` (no cache)."""
    raw = {name: _read_yaml(directory, name) for name in FILES}
    sources = _load_sources(raw["sources.yml"])
    ladder, ladder_note = _load_ladder(raw["ladder.yml"], sources)
    offenses = _load_offenses(raw["offenses.yml"], sources)
    contacts = _load_contacts(raw["contacts.yml"], sources)
    steps, step_order, letters = _load_steps(raw["steps.yml"], sources, contacts)
    platforms = _load_platforms(raw["platforms.yml"], sources)
    messages = _load_messages(raw["messages.yml"])
    _cross_check(ladder, steps)
    return Knowledge(
        sources=sources,
        ladder=ladder,
        ladder_note=ladder_note,
        offenses=offenses,
        steps=steps,
        step_order=step_order,
        letters=letters,
        platforms=platforms,
        contacts=contacts,
        messages=messages,
    )


@functools.lru_cache(maxsize=1)
def load_messages() -> Messages:
    """Only messages.yml (cheap): for command-line help texts built before any real work."""
    return _load_messages(_read_yaml(KNOWLEDGE_DIR, "messages.yml"))


@functools.lru_cache(maxsize=1)
def load() -> Knowledge:
    """The packaged knowledge, read and validated on first call, then cached."""
    return load_from(KNOWLEDGE_DIR)


@functools.lru_cache(maxsize=1)
def load_conversation() -> Mapping[str, Any]:
    """The French texts of the chat (conversation.yml), read once; the chat's `chat` section
    holds the wording of the advice message."""
    data: Mapping[str, Any] = _read_yaml(KNOWLEDGE_DIR, "conversation.yml")
    return data
