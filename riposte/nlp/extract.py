"""Structured facts from a doctor's free French text, so that the bot does not ask again.

`extract_facts(text, today)` reads one message and returns a `Facts`; `Facts.to_slots()` gives
the slot values that were found (nothing is set for what the text does not say). The words
that lead to each fact live in `riposte/knowledge/lexicon.yml` (reviewable French data); the
platform aliases come from `riposte/knowledge/platforms.yml`. This module holds the matching
engine and the few rules that combine the findings:

- a finding preceded by a negation in the same clause does not count ("pas de menace"); only
  words listed as transparent may stand between the negation and the finding, so that
  "je n'ai pas répondu à ses insultes" keeps the insults;
- "outrage" needs a private context (private message, e-mail, SMS) and an outrage word
  ("outrageant", "ordurier"…); a private insult alone is not reported as outrage, because
  outrage also needs words about the doctor's work, which the advice engine decides
  (riposte/advice/engine.py); a raid, or repetition together with another offence, is harassment;
- "urgent" and "physical_danger": a threat of death or violence, someone near the home or the
  practice, fear for one's safety, or published personal data with a call to come; "urgent"
  alone also covers the doctor's own distress (suicidal thoughts). A denial ("je ne suis pas
  en danger") gives False; silence gives None, so the bot still asks;
- a critical review with no offence is `lawful_criticism`;
- dates: the words just before a date (or just after) say whether it is the first publication
  ("depuis", "ça a commencé") or the last one ("encore", "le dernier"); a discovery date or a
  date about the doctor's career is ignored; an unlabelled date counts as the first
  publication, and a later unlabelled one as the last;
- platforms: the aliases are matched exactly first. Then each word left over, and each pair
  of adjacent words written together ("face bouk" -> "facebouk"), is compared with the brand
  names of `platform_typos` (lexicon.yml), which tolerate a typo: names of 6 to 9 letters
  allow one edit (a letter missing, added, changed, or two letters swapped), longer names
  two; the first letter must be right; the words of `platform_context.not_typo`
  ("twister", "googler") never count, nor a brand name an exception set aside ("j'ai
  googlé"). Shorter aliases ("fb", "insta", "snap") and ordinary words ("forum", "courriel",
  "blogue") are matched exactly only: one letter away lie "bloque", "courrier",
  "réduit" (reddit)... The distances come from rapidfuzz; the verdict per word is cached.

Nothing is loaded at import time; the lexicon is compiled on first use and cached.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz.distance import OSA

from riposte import clock
from riposte.knowledge import OFFENSE_KEYS, PLATFORM_KEYS
from riposte.nlp import NormalizedText, fold, normalize
from riposte.nlp.dates import find_dates_normalized

__all__ = [
    "AUTHOR_RELATIONS",
    "Facts",
    "LEXICON_KEYS",
    "Lexicon",
    "LexiconError",
    "OFFENSES",
    "PLATFORM_KEYS",
    "PRACTICES",
    "SLOT_NAMES",
    "VOLUMES",
    "compile_pattern",
    "extract_facts",
    "load_lexicon",
]

logger = logging.getLogger(__name__)

OFFENSES: tuple[str, ...] = OFFENSE_KEYS
VOLUMES: tuple[str, ...] = ("single", "repeated", "raid")
AUTHOR_RELATIONS: tuple[str, ...] = ("patient", "colleague", "unknown", "other")
PRACTICES: tuple[str, ...] = ("liberal", "hospital", "salaried", "other")
SLOT_NAMES: tuple[str, ...] = (
    "platforms",
    "offenses",
    "urgent",
    "physical_danger",
    "volume",
    "public",
    "author_relation",
    "author_known",
    "author_handles",
    "practice",
    "discriminatory",
    "first_published",
    "last_seen",
    "lawful_criticism",
    "wants_reply",
)

#: The groups of lexicon.yml and the keys each may use.
LEXICON_KEYS: Mapping[str, frozenset[str]] = {
    "offenses": frozenset(OFFENSES),
    "criticism": frozenset({"lawful"}),
    "danger": frozenset({"physical", "incitement", "distress", "safe"}),
    "volume": frozenset(VOLUMES),
    "visibility": frozenset({"public", "private"}),
    "author_relation": frozenset(AUTHOR_RELATIONS),
    "author_identity": frozenset({"known"}),
    "practice": frozenset(PRACTICES),
    "discrimination": frozenset({"slur", "motive"}),
    "wishes": frozenset({"reply"}),
    "date_cues": frozenset({"first_published", "last_seen", "published", "discovered", "ignore"}),
    "negation": frozenset({"negator", "negator_with_ne", "transparent", "ignore"}),
    "platform_aliases": frozenset(PLATFORM_KEYS),
    "platform_context": frozenset({"context_only", "before", "after", "not_typo"}),
    "platform_typos": frozenset(PLATFORM_KEYS),
    "counts": frozenset({"messages", "accounts", "times"}),
}
THRESHOLD_KEYS: frozenset[str] = frozenset({"raid_messages", "raid_accounts", "repeated_messages"})

#: Groups whose entries are single words (compared token by token, not compiled).
_WORD_LIST_KEYS: frozenset[tuple[str, str]] = frozenset(
    {
        ("negation", "negator"),
        ("negation", "negator_with_ne"),
        ("negation", "transparent"),
        ("platform_context", "context_only"),
        ("platform_context", "not_typo"),
        *(("platform_typos", key) for key in PLATFORM_KEYS),
    }
)

#: Texts longer than this are cut (a chat message is far shorter; keeps the cost bounded).
MAX_CHARS = 100_000

_GAP = r"[^\w.!?;\n]+(?:\w+[^\w.!?;\n]+){0,6}"
_TOKEN = re.compile(r"\w+")
_CLAUSE_BREAK = re.compile(r"[.!?;:\n,()\[\]]|\bmais\b|\bpar contre\b|\bcependant\b|\bpourtant\b")
_SENTENCE_BREAK = re.compile(r"[.!?;\n]")
_HANDLE = re.compile(r"(?<![\w@.])@([A-Za-z0-9_](?:[A-Za-z0-9_.]{0,48}[A-Za-z0-9_])?)")
_NEGATION_SPAN = 6  # tokens looked at before a finding
_CUE_WINDOW = 60  # characters looked at before a date for its label
_AFTER_WINDOW = 30  # characters looked at after a date
_TYPO_MIN_LETTERS = 6  # shorter brand names are matched exactly only
_TYPO_TWO_EDITS = 10  # names this long or longer tolerate two edits, shorter ones one
_TYPO_MAX_EDITS = 2
_TYPO_CACHE_SIZE = 4096  # distinct words remembered per lexicon


class LexiconError(ValueError):
    """lexicon.yml or platforms.yml does not follow its documented format."""


# ---------------------------------------------------------------------------------------------
# Pattern language (documented at the top of lexicon.yml)
# ---------------------------------------------------------------------------------------------


def _compile_words(text: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        nxt = text[index + 1] if index + 1 < len(text) else ""
        if char == " " and nxt == "?":
            out.append(r"\s*")
            index += 2
            continue
        if char == " ":
            # after an apostrophe the space is optional: "(ne|n') plus" also finds "n'en"
            out.append(r"(?:\s+|(?<='))")
        elif char == "'":
            out.append(r"'?\s*")
        elif char == "-":
            out.append(r"[-\s]?")
        elif char == "*":
            out.append(r"\w*")
        elif char == "(":
            out.append("(?:")
        elif char in "|)?":
            out.append(char)
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


def _pattern_body(pattern: str) -> str:
    parts = [part.strip() for part in pattern.split("...")]
    return _GAP.join(_compile_words(part) for part in parts)


def compile_pattern(pattern: str) -> str:
    """Translate one lexicon pattern into a regular expression (whole words only)."""
    return rf"(?<!\w)(?:{_pattern_body(pattern)})(?!\w)"


def _alternation(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for many patterns. A single leading look-behind (rather than one per
    alternative) lets the regex engine skip quickly to possible first letters: ~15x faster."""
    bodies = [_pattern_body(p) for p in patterns]
    if not bodies:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(bodies)})(?!\w)")


@dataclass(frozen=True)
class _KeyMatcher:
    """The patterns of one lexicon key, with its exceptions (`!` patterns)."""

    positive: re.Pattern[str] | None
    exceptions: re.Pattern[str] | None

    @classmethod
    def build(cls, patterns: Iterable[str]) -> _KeyMatcher:
        plain = [p for p in patterns if not p.startswith("!")]
        excluded = [p[1:] for p in patterns if p.startswith("!")]
        return cls(_alternation(plain), _alternation(excluded))

    def spans(self, text: str) -> list[tuple[int, int]]:
        if self.positive is None:
            return []
        found = [m.span() for m in self.positive.finditer(text) if m.end() > m.start()]
        if not found or self.exceptions is None:
            return found
        blocked = [m.span() for m in self.exceptions.finditer(text)]
        return [s for s in found if not any(s[0] < b[1] and b[0] < s[1] for b in blocked)]


def _typo_edits(name: str) -> int:
    """How many edits a brand name tolerates (see the module docstring)."""
    return _TYPO_MAX_EDITS if len(name) >= _TYPO_TWO_EDITS else 1


@dataclass(frozen=True)
class _TypoMatcher:
    """Brand names recognised despite a typo ("fcebook", "instgram"), one word at a time."""

    names: Mapping[str, str]  # brand name -> platform key
    by_initial: Mapping[str, tuple[str, ...]]
    not_typos: frozenset[str]
    shortest: int
    longest: int
    _cache: dict[str, str | None] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, names: Mapping[str, str], not_typos: Iterable[str]) -> _TypoMatcher:
        by_initial: dict[str, list[str]] = {}
        for name in sorted(names):
            by_initial.setdefault(name[0], []).append(name)
        return cls(
            names=dict(names),
            by_initial={initial: tuple(group) for initial, group in by_initial.items()},
            not_typos=frozenset(not_typos),
            shortest=min((len(n) - _typo_edits(n) for n in names), default=0),
            longest=max((len(n) + _typo_edits(n) for n in names), default=0),
        )

    def key(self, word: str) -> str | None:
        """The platform whose brand name `word` is (perhaps misspelt), or None."""
        if not self.shortest <= len(word) <= self.longest:
            return None
        if word in self._cache:
            return self._cache[word]
        found: str | None = None
        fewest = _TYPO_MAX_EDITS + 1
        if word not in self.not_typos:
            for name in self.by_initial.get(word[0], ()):
                allowed = _typo_edits(name)
                if abs(len(word) - len(name)) > allowed:
                    continue
                # optimal string alignment: a swap of two neighbouring letters is one edit
                distance = OSA.distance(word, name, score_cutoff=allowed)
                if distance <= allowed and distance < fewest:
                    found, fewest = self.names[name], distance
        if len(self._cache) >= _TYPO_CACHE_SIZE:
            self._cache.clear()
        self._cache[word] = found
        return found


# ---------------------------------------------------------------------------------------------
# Lexicon loading
# ---------------------------------------------------------------------------------------------


def _read_yaml(path: Path | None, default_name: str) -> Any:
    if path is not None:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = (resources.files("riposte") / "knowledge" / default_name).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is 10x faster
    return yaml.load(text, Loader=loader)  # a safe loader (no Python objects)


def _string_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise LexiconError(f"{where}: expected a list of non-empty strings")
    return [v.strip() for v in value]


def _check_pattern(pattern: str, where: str) -> None:
    body = pattern[1:] if pattern.startswith("!") else pattern
    if fold(body) != body:
        raise LexiconError(f"{where}: pattern {pattern!r} must be lower case without accents")


def _build_matcher(patterns: list[str], where: str) -> _KeyMatcher:
    try:
        return _KeyMatcher.build(patterns)
    except re.error:
        for pattern in patterns:  # find the culprit for a useful message
            try:
                re.compile(compile_pattern(pattern.removeprefix("!")))
            except re.error as error:
                raise LexiconError(f"{where}: pattern {pattern!r} is invalid ({error})") from None
        raise


@dataclass(frozen=True)
class Lexicon:
    """The compiled lexicon: one matcher per (group, key), plus platforms and negation."""

    matchers: Mapping[tuple[str, str], _KeyMatcher]
    platform_matchers: Mapping[str, _KeyMatcher]
    platform_public: Mapping[str, bool]
    context_only: Mapping[str, re.Pattern[str]]  # platform key -> ambiguous aliases
    typos: _TypoMatcher
    context_before: re.Pattern[str] | None
    context_after: re.Pattern[str] | None
    negators: frozenset[str]
    negators_with_ne: frozenset[str]
    transparent: frozenset[str]
    negation_ignore: re.Pattern[str] | None
    count_regex: re.Pattern[str] | None
    account_nouns: frozenset[str]
    times_nouns: frozenset[str]
    thresholds: Mapping[str, int]

    def spans(self, group: str, key: str, text: str) -> list[tuple[int, int]]:
        matcher = self.matchers.get((group, key))
        return matcher.spans(text) if matcher else []


def _parse_lexicon(raw: Any) -> tuple[dict[tuple[str, str], list[str]], dict[str, int]]:
    if not isinstance(raw, dict):
        raise LexiconError("lexicon.yml: the top level must be a mapping")
    entries: dict[tuple[str, str], list[str]] = {}
    thresholds: dict[str, int] = {}
    for group, content in raw.items():
        if group == "version":
            continue
        if group == "thresholds":
            if not isinstance(content, dict):
                raise LexiconError("lexicon.yml: thresholds must be a mapping")
            for key, value in content.items():
                if key not in THRESHOLD_KEYS or not isinstance(value, int) or value < 1:
                    raise LexiconError(f"lexicon.yml: thresholds.{key} is not a known count")
                thresholds[key] = value
            continue
        if group not in LEXICON_KEYS:
            raise LexiconError(f"lexicon.yml: unknown group {group!r}")
        if not isinstance(content, dict):
            raise LexiconError(f"lexicon.yml: {group} must be a mapping of keys to lists")
        for key, patterns in content.items():
            where = f"lexicon.yml: {group}.{key}"
            if key not in LEXICON_KEYS[group]:
                raise LexiconError(f"{where}: unknown key (allowed: {sorted(LEXICON_KEYS[group])})")
            values = _string_list(patterns, where)
            for pattern in values:
                if (group, key) in _WORD_LIST_KEYS:
                    if fold(pattern) != pattern or not re.fullmatch(r"\w+", pattern):
                        raise LexiconError(f"{where}: {pattern!r} must be one folded word")
                else:
                    _check_pattern(pattern, where)
            entries[(group, key)] = values
    missing = THRESHOLD_KEYS - thresholds.keys()
    if missing:
        raise LexiconError(f"lexicon.yml: thresholds missing: {sorted(missing)}")
    return entries, thresholds


def _parse_platforms(raw: Any) -> dict[str, tuple[list[str], bool]]:
    if not isinstance(raw, dict) or not isinstance(raw.get("platforms"), dict):
        raise LexiconError("platforms.yml: expected a top-level 'platforms' mapping")
    platforms: dict[str, tuple[list[str], bool]] = {}
    for key, entry in raw["platforms"].items():
        if not isinstance(entry, dict):
            raise LexiconError(f"platforms.yml: platforms.{key} must be a mapping")
        aliases = _string_list(entry.get("aliases", []), f"platforms.yml: {key}.aliases")
        platforms[str(key)] = ([fold(a) for a in aliases], bool(entry.get("public", False)))
    return platforms


def _build_lexicon(raw_lexicon: Any, raw_platforms: Any) -> Lexicon:
    entries, thresholds = _parse_lexicon(raw_lexicon)
    platforms = _parse_platforms(raw_platforms)
    for key in (k for (g, k) in entries if g == "platform_aliases"):
        if key not in platforms:
            raise LexiconError(f"lexicon.yml: platform_aliases.{key} is not in platforms.yml")
    typo_owner: dict[str, str] = {}
    for (group, key), names in entries.items():
        for name in names if group == "platform_typos" else ():
            where = f"lexicon.yml: platform_typos.{key}"
            if len(name) < _TYPO_MIN_LETTERS:
                raise LexiconError(f"{where}: {name!r} is too short for typos (exact only)")
            if typo_owner.setdefault(name, key) != key:
                raise LexiconError(f"{where}: {name!r} is listed for two platforms")

    def words(group: str, key: str) -> frozenset[str]:
        return frozenset(entries.get((group, key), []))

    ambiguous = words("platform_context", "context_only")
    platform_matchers: dict[str, _KeyMatcher] = {}
    context_only: dict[str, re.Pattern[str]] = {}
    typo_names: dict[str, str] = {}
    for key, (aliases, _public) in platforms.items():
        extra = entries.get(("platform_aliases", key), [])
        # a name tolerates typos only if it is an alias here (a custom platforms file may
        # lack it); the packaged files are checked by the tests
        typo_names.update(
            (name, key)
            for name in entries.get(("platform_typos", key), [])
            if (name in aliases or name in extra) and name not in ambiguous
        )
        # Aliases of platforms.yml are literal text: escape the pattern operators.
        literal = [re.sub(r"[*()|?!]", "", a).replace("...", " ") for a in aliases]
        plain = sorted({a for a in literal if a and a not in ambiguous} | set(extra))
        platform_matchers[key] = _build_matcher(plain, f"platforms: {key}")
        risky = sorted({a for a in literal if a in ambiguous})
        if risky:
            context_only[key] = _alternation(risky) or re.compile(r"(?!)")

    before = entries.get(("platform_context", "before"), [])
    after = entries.get(("platform_context", "after"), [])
    count_nouns = [
        word for (group, _k), words in entries.items() if group == "counts" for word in words
    ]
    count_regex = (
        re.compile(rf"(?<![\w.,])(\d{{1,6}})\s+(?:{'|'.join(map(re.escape, count_nouns))})\b")
        if count_nouns
        else None
    )
    ignore = entries.get(("negation", "ignore"), [])
    return Lexicon(
        matchers={
            k: _build_matcher(v, f"lexicon.yml: {k[0]}.{k[1]}")
            for k, v in entries.items()
            if k not in _WORD_LIST_KEYS
            and k[0] not in ("platform_aliases", "platform_typos", "platform_context", "counts")
        },
        platform_matchers=platform_matchers,
        platform_public={key: public for key, (_aliases, public) in platforms.items()},
        context_only=context_only,
        typos=_TypoMatcher.build(typo_names, words("platform_context", "not_typo")),
        context_before=(
            re.compile(rf"(?<!\w)(?:{'|'.join(map(_pattern_body, before))})\W*$")
            if before
            else None
        ),
        context_after=(
            re.compile(rf"^\W*(?:{'|'.join(map(_pattern_body, after))})(?!\w)") if after else None
        ),
        negators=words("negation", "negator"),
        negators_with_ne=words("negation", "negator_with_ne"),
        transparent=words("negation", "transparent"),
        negation_ignore=_alternation(ignore),
        count_regex=count_regex,
        account_nouns=words("counts", "accounts"),
        times_nouns=words("counts", "times"),
        thresholds=thresholds,
    )


@lru_cache(maxsize=8)
def load_lexicon(lexicon_path: Path | None = None, platforms_path: Path | None = None) -> Lexicon:
    """Read and compile lexicon.yml and platforms.yml (the packaged files by default).

    Cached: the files are read once per process. Raises `LexiconError` if a file does not
    follow its format (a deployment error, caught by the tests).
    """
    return _build_lexicon(
        _read_yaml(lexicon_path, "lexicon.yml"), _read_yaml(platforms_path, "platforms.yml")
    )


# ---------------------------------------------------------------------------------------------
# Facts
# ---------------------------------------------------------------------------------------------


@dataclass
class Facts:
    """What one message says. None (or an empty list) means "not said"."""

    platforms: list[str] = field(default_factory=list)
    offenses: list[str] = field(default_factory=list)
    urgent: bool | None = None
    physical_danger: bool | None = None
    volume: str | None = None
    public: bool | None = None
    author_relation: str | None = None
    author_known: bool | None = None
    handles: list[str] = field(default_factory=list)
    practice: str | None = None
    discriminatory: bool | None = None
    first_published: dt.date | None = None
    last_seen: dt.date | None = None
    lawful_criticism: bool | None = None
    wants_reply: bool | None = None
    #: "group.key" -> the words of the message that led to it (for logs and explanations).
    evidence: dict[str, list[str]] = field(default_factory=dict)

    def to_slots(self) -> dict[str, Any]:
        """Slot values for Rasa: only what was found; dates as ISO strings."""
        values: dict[str, Any] = {
            "platforms": list(self.platforms),
            "offenses": list(self.offenses),
            "urgent": self.urgent,
            "physical_danger": self.physical_danger,
            "volume": self.volume,
            "public": self.public,
            "author_relation": self.author_relation,
            "author_known": self.author_known,
            "author_handles": list(self.handles),
            "practice": self.practice,
            "discriminatory": self.discriminatory,
            "first_published": self.first_published.isoformat() if self.first_published else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "lawful_criticism": self.lawful_criticism,
            "wants_reply": self.wants_reply,
        }
        return {name: value for name, value in values.items() if value not in (None, [])}


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    negated: bool


class _Reader:
    """One message being read: the normalised text and the findings per lexicon key (cached)."""

    def __init__(self, norm: NormalizedText, lexicon: Lexicon) -> None:
        self.norm = norm
        self.text = norm.text
        self.lexicon = lexicon
        self.evidence: dict[str, list[str]] = {}
        self._hits: dict[tuple[str, str], list[_Hit]] = {}

    def hits(self, group: str, key: str) -> list[_Hit]:
        """Every finding of a lexicon key, negated or not."""
        cached = self._hits.get((group, key))
        if cached is None:
            cached = [
                _Hit(start, end, self.negated(start))
                for start, end in self.lexicon.spans(group, key, self.text)
            ]
            self._hits[(group, key)] = cached
            kept = [hit for hit in cached if not hit.negated]
            if kept:
                self.note(f"{group}.{key}", kept)
        return cached

    def found(self, group: str, key: str) -> list[_Hit]:
        """Findings that are not negated."""
        return [hit for hit in self.hits(group, key) if not hit.negated]

    def note(self, label: str, hits: Iterable[_Hit]) -> None:
        """Record the original words behind `hits` as evidence for `label`."""
        self.evidence.setdefault(label, []).extend(
            self.norm.original_slice(h.start, h.end) for h in hits
        )

    def negated(self, start: int) -> bool:
        """Whether a negation governs the finding that starts at `start`."""
        lex = self.lexicon
        window = self.text[max(0, start - 80) : start]
        breaks = list(_CLAUSE_BREAK.finditer(window))
        if breaks:
            window = window[breaks[-1].end() :]
        if lex.negation_ignore is not None:
            window = lex.negation_ignore.sub(lambda m: " " * len(m.group(0)), window)
        tokens = _TOKEN.findall(window)[-_NEGATION_SPAN:]
        for index in range(len(tokens) - 1, -1, -1):
            token = tokens[index]
            is_negator = token in lex.negators or (
                token in lex.negators_with_ne
                and any(t in ("ne", "n") for t in tokens[max(0, index - 4) : index])
            )
            if is_negator:
                return True
            if token not in lex.transparent:
                return False
        return False


def _first_key(reader: _Reader, group: str, keys: Iterable[str]) -> tuple[str | None, int]:
    """The key whose first finding comes first in the text."""
    best: tuple[str | None, int] = (None, len(reader.text) + 1)
    for key in keys:
        hits = reader.found(group, key)
        if hits and hits[0].start < best[1]:
            best = (key, hits[0].start)
    return best


# ---------------------------------------------------------------------------------------------
# Extraction steps
# ---------------------------------------------------------------------------------------------


def _typo_spans(text: str, typos: _TypoMatcher, covered: bytearray) -> list[tuple[str, int, int]]:
    """Brand names written with a typo, in the words no exact alias covered: two adjacent
    words written together first ("you tub"), then each word alone."""
    found: list[tuple[str, int, int]] = []
    low, high = typos.shortest, typos.longest
    words = [
        (m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text) if not covered[m.start()]
    ]
    count = len(words)
    index = 0
    while index < count:
        start, end, word = words[index]
        if index + 1 < count:
            next_start, next_end, next_word = words[index + 1]
            if (
                low <= len(word) + len(next_word) <= high
                and text[end:next_start] in (" ", "-")
                and (key := typos.key(word + next_word)) is not None
            ):
                found.append((key, start, next_end))
                index += 2
                continue
        # a brand name written exactly was left out on purpose (exception, "j'ai googlé")
        if low <= len(word) <= high and word not in typos.names:
            key = typos.key(word)
            if key is not None:
                found.append((key, start, end))
        index += 1
    return found


def _platforms(reader: _Reader) -> list[str]:
    lex = reader.lexicon
    text = reader.text
    first_seen: dict[str, int] = {}
    exact = {key: matcher.spans(text) for key, matcher in lex.platform_matchers.items()}
    covered = bytearray(len(text) + 1)
    for spans in exact.values():
        for start, end in spans:
            covered[start:end] = b"\x01" * (end - start)
    typos: dict[str, list[_Hit]] = {}
    for key, start, end in _typo_spans(text, lex.typos, covered):
        if not reader.negated(start):
            typos.setdefault(key, []).append(_Hit(start, end, False))
    for key in lex.platform_matchers:
        kept = [_Hit(s, e, False) for s, e in exact[key] if not reader.negated(s)]
        kept.extend(typos.get(key, []))
        ambiguous = lex.context_only.get(key)
        if ambiguous is not None:
            for match in ambiguous.finditer(text):
                start, end = match.span()
                before = text[max(0, start - 40) : start]
                after = text[end : end + 30]
                in_context = (
                    lex.context_before is not None and lex.context_before.search(before)
                ) or (lex.context_after is not None and lex.context_after.search(after))
                if in_context and not reader.negated(start):
                    kept.append(_Hit(start, end, False))
        if kept:
            reader.note(f"platforms.{key}", kept)
            first_seen[key] = min(h.start for h in kept)
    return sorted(first_seen, key=first_seen.__getitem__)


def _volume_from_counts(reader: _Reader) -> str | None:
    lex = reader.lexicon
    if lex.count_regex is None:
        return None
    volume: str | None = None
    for match in lex.count_regex.finditer(reader.text):
        number = int(match.group(1))
        noun = match.group(0)[len(match.group(1)) :].strip()
        if noun in lex.times_nouns:
            limit = None
        elif noun in lex.account_nouns:
            limit = lex.thresholds["raid_accounts"]
        else:
            limit = lex.thresholds["raid_messages"]
        if limit is not None and number >= limit:
            return "raid"
        if noun not in lex.account_nouns and number >= lex.thresholds["repeated_messages"]:
            volume = "repeated"
    return volume


def _visibility(reader: _Reader, platforms: list[str]) -> bool | None:
    public = bool(reader.found("visibility", "public"))
    private = bool(reader.found("visibility", "private"))
    if public:
        return True
    if private:
        return False
    known = [reader.lexicon.platform_public[p] for p in platforms if p != "other"]
    if any(known):
        return True
    if known:
        return False
    return None


def _danger(reader: _Reader, offenses: set[str]) -> tuple[bool | None, bool | None]:
    physical_hits = reader.hits("danger", "physical")
    safe_hits = reader.hits("danger", "safe")
    physical = any(not h.negated for h in physical_hits) or any(h.negated for h in safe_hits)
    if any(h.negated for h in safe_hits):
        reader.note("danger.safe(negated)", [h for h in safe_hits if h.negated])
    if "doxxing" in offenses and reader.found("danger", "incitement"):
        physical = True
    # Recall first: a threat the lexicon recognised is a danger unless the doctor denies it.
    if "threat" in offenses and not any(not h.negated for h in safe_hits):
        physical = True
    distress = bool(reader.found("danger", "distress"))
    if physical:
        return True, True
    denied = any(h.negated for h in physical_hits) or any(not h.negated for h in safe_hits)
    if distress:
        return True, False if denied else None
    if denied:
        return False, False
    return None, None


def _author(reader: _Reader) -> tuple[str | None, bool | None]:
    relation, _position = _first_key(reader, "author_relation", ("patient", "colleague", "other"))
    unknown = bool(reader.found("author_relation", "unknown"))
    known = bool(reader.found("author_identity", "known"))
    if relation is None and unknown:
        relation = "unknown"
    if known:
        return relation, True
    if unknown:
        return relation, False
    return relation, None


def _handles(original: str) -> list[str]:
    seen: dict[str, None] = {}
    for match in _HANDLE.finditer(original):
        seen.setdefault("@" + match.group(1), None)
    return list(seen)


def _label_date(reader: _Reader, start: int, end: int, floor: int) -> str | None:
    """'first_published', 'last_seen', 'published', 'skip' or None (no label) for a date."""
    lex = reader.lexicon
    text = reader.text
    window_start = max(floor, start - _CUE_WINDOW)
    before = text[window_start:start]
    breaks = list(_SENTENCE_BREAK.finditer(before))
    if breaks:
        window_start += breaks[-1].end()
        before = text[window_start:start]
    near = " ".join(_TOKEN.findall(before)[-5:])
    if any(lex.spans("date_cues", key, near) for key in ("ignore", "discovered")):
        return "skip"
    own = text[start:end]
    for key in ("first_published", "last_seen"):
        if any(s == 0 for s, _e in lex.spans("date_cues", key, own)):
            return key
    nearest: tuple[int, str | None] = (-1, None)
    for key in ("first_published", "last_seen"):
        for _s, cue_end in lex.spans("date_cues", key, before):
            if cue_end > nearest[0]:
                nearest = (cue_end, key)
    if nearest[1] is not None:
        return nearest[1]
    after = text[end : end + _AFTER_WINDOW]
    after_breaks = _SENTENCE_BREAK.search(after)
    if after_breaks:
        after = after[: after_breaks.start()]
    after = " ".join(_TOKEN.findall(after)[:4])
    for key in ("first_published", "last_seen"):
        if lex.spans("date_cues", key, after):
            return key
    if lex.spans("date_cues", "published", before) or lex.spans("date_cues", "published", after):
        return "published"
    return None


def _dates(reader: _Reader, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    first: dt.date | None = None
    last: dt.date | None = None
    loose: list[dt.date] = []
    floor = 0
    for start, end, match in find_dates_normalized(reader.norm, today):
        label = _label_date(reader, start, end, floor)
        floor = end
        if label == "skip":
            continue
        reader.evidence.setdefault(f"dates.{label or 'unlabelled'}", []).append(match.text)
        if label == "first_published":
            first = match.date if first is None else min(first, match.date)
        elif label == "last_seen":
            last = match.date if last is None else max(last, match.date)
        else:
            loose.append(match.date)
    if loose:
        if first is None:
            first = min(loose)
        later = [d for d in loose if d > first]
        if last is None and later:
            last = max(later)
    if first is not None and last is not None and last < first:
        last = None
    return first, last


def _extract(norm: NormalizedText, today: dt.date, lexicon: Lexicon) -> Facts:
    reader = _Reader(norm, lexicon)
    facts = Facts()
    facts.platforms = _platforms(reader)

    offenses = {key for key in OFFENSES if key != "outrage" and reader.found("offenses", key)}
    slur = bool(reader.found("discrimination", "slur"))
    motive = bool(reader.found("discrimination", "motive"))
    if slur:
        offenses.add("insult")
    if slur or motive:
        facts.discriminatory = True
    if reader.found("wishes", "reply"):
        facts.wants_reply = True

    volume: str | None = None
    if reader.found("volume", "raid"):
        volume = "raid"
    counted = _volume_from_counts(reader)
    if volume is None and counted == "raid":
        volume = "raid"
    if volume is None and (reader.found("volume", "repeated") or counted == "repeated"):
        volume = "repeated"
    if volume is None and "harassment" in offenses:
        volume = "repeated"
    if volume is None and reader.found("volume", "single"):
        volume = "single"
    facts.volume = volume
    facts.public = _visibility(reader, facts.platforms)
    if facts.public is False and reader.found("offenses", "outrage"):
        offenses.add("outrage")
    if volume == "raid" or (volume == "repeated" and offenses - {"harassment"}):
        offenses.add("harassment")
    facts.offenses = [key for key in OFFENSES if key in offenses]

    facts.urgent, facts.physical_danger = _danger(reader, offenses)
    if reader.found("criticism", "lawful"):
        facts.lawful_criticism = not offenses
    facts.author_relation, facts.author_known = _author(reader)
    facts.handles = _handles(norm.original)
    facts.practice, _position = _first_key(reader, "practice", PRACTICES)
    facts.first_published, facts.last_seen = _dates(reader, today)
    facts.evidence = reader.evidence
    return facts


_MARKUP = re.compile(r"<[a-z/!][^<>]{0,300}>")


def _without_markup(norm: NormalizedText) -> NormalizedText:
    """Blank out HTML tags (same length, so the offsets stay valid): "<b>menacé</b> de"."""
    if "<" not in norm.text:
        return norm
    blanked = _MARKUP.sub(lambda m: " " * len(m.group(0)), norm.text)
    return NormalizedText(norm.original, blanked, norm.offsets)


def extract_facts(text: str, today: dt.date, *, lexicon: Lexicon | None = None) -> Facts:
    """Read one message and return what it says (see the module docstring).

    `today` resolves relative dates ("hier"). `lexicon` defaults to the packaged files.
    Never raises on any input: a text that is not a string, or an unexpected error, gives an
    empty `Facts` (the error is logged).
    """
    if not isinstance(text, str) or not text.strip():
        return Facts()
    if isinstance(today, dt.datetime):
        today = today.date()
    elif not isinstance(today, dt.date):
        today = clock.today()
    lex = lexicon if lexicon is not None else load_lexicon()
    try:
        return _extract(_without_markup(normalize(text[:MAX_CHARS])), today, lex)
    except Exception:  # a chatbot turn must never fail on odd input
        logger.exception("extract_facts failed on a %d-character text", len(text))
        return Facts()
