"""A public reply to a review, proof-read in the chat (the « pacifique » rung).

The doctor types or pastes a draft; `read_draft` accepts it or says why not (empty, too long),
`review` runs the secrecy and tone check (riposte.letters.reply_check) and builds a proposal:
the draft without its flagged sentences when enough of it remains, with an invitation to make
contact if it has none, else the neutral reply; the proposal itself always passes the check.
`review_text` renders the findings for the chat. The draft is plain text throughout: nothing
in it is interpreted (HTML, template syntax).

Pure functions, no Rasa; French texts live in riposte/letters/data/messages.yml (section
`reply_chat`) and riposte/letters/data/reply_check.yml (section `proposal`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from riposte.letters.build import load_messages
from riposte.letters.reply_check import DATA, Finding, check_reply, fold, suggest_neutral_reply

# The reply form's one question (domain/reply.yml, forms.reply_form).
FORM_SLOTS: tuple[str, ...] = ("reply_draft",)
# The longest draft read (characters); longer ones are refused, the limit said.
MAX_DRAFT = 3_000
# The sources shown with the rules of a good reply (riposte/knowledge/sources.yml): the Ordre's
# guide on online reputation and reviews, medical secrecy (art. 4), no advertising (art. 19),
# and not discrediting the profession (art. 31).
RULES_SOURCES: tuple[str, ...] = ("S1", "S12", "S15", "S17")
PACIFIQUE = "pacifique"
# A sentence: up to its final punctuation, or to the end of the line.
_SENTENCE = re.compile(r"[^.!?…\n]+[.!?…]*")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Draft:
    """A draft as read: `text` when accepted, else `error` ("empty" or "too_long")."""

    text: str | None = None
    error: str | None = None
    length: int = 0


@dataclass(frozen=True)
class Review:
    """What the check found in a draft, and the wording proposed when it found something."""

    findings: tuple[Finding, ...]
    proposal: str | None
    from_draft: bool = False

    @property
    def clean(self) -> bool:
        return not self.findings


@dataclass(frozen=True)
class _ProposalData:
    courtesy_words: frozenset[str]
    sign_offs: tuple[str, ...]
    contact_words: frozenset[str]
    min_words: int
    contact_sentence: str
    greetings: tuple[str, ...]
    greeting: str


@functools.lru_cache(maxsize=1)
def _proposal_data() -> _ProposalData:
    with DATA.open(encoding="utf-8") as handle:
        node: Mapping[str, Any] = yaml.safe_load(handle)["proposal"]
    return _ProposalData(
        courtesy_words=frozenset(fold(w) for w in node["courtesy_words"]),
        sign_offs=tuple(fold(w) for w in node["sign_offs"]),
        contact_words=frozenset(fold(w) for w in node["contact_words"]),
        min_words=int(node["min_words"]),
        contact_sentence=" ".join(str(node["contact_sentence"]).split()),
        greetings=tuple(fold(w) for w in node["greetings"]),
        greeting=str(node["greeting"]),
    )


def read_draft(text: str | None) -> Draft:
    """The draft as typed (surrounding blanks removed), or why it is refused."""
    clean = (text or "").strip()
    if not clean:
        return Draft(error="empty")
    if len(clean) > MAX_DRAFT:
        return Draft(error="too_long", length=len(clean))
    return Draft(text=clean, length=len(clean))


def own_names(case: Mapping[str, Any] | None) -> list[str]:
    """The doctor's own names from the case (never flagged: a signature is expected)."""
    victim = (case or {}).get("victim") or {}
    names = [victim.get("first_name"), victim.get("last_name")]
    return [name.strip() for name in names if isinstance(name, str) and name.strip()]


def _sentences(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group().strip()) for m in _SENTENCE.finditer(text)]


def _content_words(sentences: Iterable[str], data: _ProposalData) -> int:
    words = (w for s in sentences for w in _WORD.findall(fold(s)))
    return sum(1 for w in words if w not in data.courtesy_words)


def _with_contact(kept: list[str], data: _ProposalData) -> list[str]:
    """`kept` with the invitation to make contact, before a final sign-off, if it has none."""
    words = {w for s in kept for w in _WORD.findall(fold(s))}
    if words & data.contact_words:
        return kept
    last = fold(kept[-1]) if kept else ""
    if len(kept) > 1 and last.startswith(data.sign_offs):
        return [*kept[:-1], data.contact_sentence, kept[-1]]
    return [*kept, data.contact_sentence]


def propose(
    draft: str,
    findings: Sequence[Finding],
    *,
    names: Iterable[str] = (),
    use_ner: bool = True,
) -> tuple[str, bool]:
    """A compliant wording and whether it comes from the draft (else: the neutral reply).

    Every sentence holding a flagged passage is left out; what remains is kept when it says
    something beyond courtesy, completed with an invitation to make contact, and checked again.
    """
    data = _proposal_data()
    names = tuple(names)
    kept = [
        sentence
        for start, end, sentence in _sentences(draft)
        if sentence and not any(f.start < end and start < f.end for f in findings)
    ]
    if _content_words(kept, data) >= data.min_words:
        kept = _with_contact(kept, data)
        # The greeting went with a flagged sentence: keep it.
        if fold(draft.lstrip()).startswith(data.greetings) and not fold(kept[0]).startswith(
            data.greetings
        ):
            kept = [data.greeting, kept[0][:1].lower() + kept[0][1:], *kept[1:]]
        proposal = " ".join(kept)
        if not check_reply(proposal, own_names=names, use_ner=use_ner):
            return proposal, True
    return suggest_neutral_reply(), False


def review(draft: str, *, names: Iterable[str] = (), use_ner: bool = True) -> Review:
    """Check `draft`; with findings, propose a compliant wording."""
    names = tuple(names)
    findings = tuple(check_reply(draft, own_names=names, use_ner=use_ner))
    if not findings:
        return Review(findings=(), proposal=None)
    proposal, from_draft = propose(draft, findings, names=names, use_ner=use_ner)
    return Review(findings=findings, proposal=proposal, from_draft=from_draft)


def review_text(result: Review) -> str:
    """The findings, one by one (quoted excerpt, why it is a problem), then the proposal."""
    m = load_messages()
    lines = [m.get("reply_chat.header", count=len(result.findings))]
    explained: set[str] = set()
    for index, finding in enumerate(result.findings, start=1):
        values = {
            "index": index,
            "label": finding.label,
            "excerpt": " ".join(finding.excerpt.split()),
            "explanation": finding.explanation,
        }
        # The reason is given once per kind of problem.
        key = "reply_chat.finding_again" if finding.kind in explained else "reply_chat.finding"
        explained.add(finding.kind)
        lines.append(m.get(key, **values))
    heading = "proposal_from_draft" if result.from_draft else "proposal_neutral"
    lines += [
        "",
        m.raw(f"reply_chat.{heading}"),
        str(result.proposal),
        "",
        m.raw("reply_chat.footer"),
    ]
    return "\n".join(lines)


def sources_text() -> str:
    """The public sources of the rules of a good reply, from the knowledge files."""
    from riposte.knowledge import load as load_knowledge

    kb = load_knowledge()
    m = load_messages()
    return m.raw("reply_chat.source_separator").join(
        m.get("reply_chat.source", title=kb.sources[key].title, url=kb.sources[key].url)
        for key in RULES_SOURCES
    )


def not_recommended_why(advice: Any) -> str | None:
    """Why a public reply is not recommended in this case (the ladder's reason for the
    pacifique rung), or None when it is, or when the advice has no such rung."""
    for rung in getattr(advice, "ladder", ()):
        if rung.level == PACIFIQUE:
            return None if rung.recommended else str(rung.why)
    return None
