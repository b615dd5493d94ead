"""The document model of a letter, and the parser of what a letter template renders.

A letter template renders a small, fixed text format; one template per kind serves every
output format (Markdown, HTML, DOCX, PDF), because each of them is produced from the parsed
`Document`.

The text format is made of sections, each opened by a line ``::: name`` and closed by a line
``:::``:

* ``draft`` (required): the warning that the letter is a draft to be checked;
* ``sender``, ``recipient``, ``mentions``, ``place_date``, ``signature``: address-like
  sections, one line of the letter per non-blank line;
* ``subject`` (required), ``body`` (required), ``enclosures``: prose sections, made of blocks
  separated by blank lines. A block is a paragraph (consecutive lines, joined with a space),
  a heading (``## `` or ``### ``), a bullet item (``- ``), a numbered item (``12. ``) or a
  quotation (``> ``). A line ending with ``\\`` forces a line break inside the block;
  ``**`` toggles bold.

Only the template's own text is read as markup. Printed values arrive wrapped between the
private markers of `riposte.letters.environment` and are kept verbatim, whatever they contain
(``::: body``, ``## ``, ``**``, ``<script>``, ``{{ 7*7 }}``); a line break inside a value
becomes a line break inside its block.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from riposte.letters.environment import DATA_CLOSE, DATA_OPEN, LINE_BREAK

SECTIONS: tuple[str, ...] = (
    "draft",
    "sender",
    "recipient",
    "mentions",
    "place_date",
    "subject",
    "body",
    "signature",
    "enclosures",
)
REQUIRED_SECTIONS: frozenset[str] = frozenset(
    {"draft", "sender", "recipient", "place_date", "subject", "body", "signature"}
)
LINE_SECTIONS: frozenset[str] = frozenset(
    {"sender", "recipient", "mentions", "place_date", "signature"}
)
BLOCK_KINDS: tuple[str, ...] = ("paragraph", "heading", "bullet", "numbered", "quote", "lines")

_OPEN = re.compile(r"^::: ([a-z_]+)$")
_CLOSE = ":::"
# A numbered item: "12. " in the template's text, or a value made of digits only followed by
# ". " (so that a template can number items with {{ loop.index }} or an exhibit number).
_NUMBERED = re.compile("^(?:([0-9]{1,4})|" + DATA_OPEN + "([0-9]{1,4})" + DATA_CLOSE + ")\\. ")
# French typography: a non-breaking space before these signs and inside the quotation marks,
# applied to the template's own text only (values are printed as typed).
_NBSP_BEFORE = re.compile(r" ([:;!?»])")
_NBSP_AFTER = re.compile(r"(«|\bn°) ")


class TemplateStructureError(RuntimeError):
    """A template rendered text that does not follow the letter format (a template bug)."""


@dataclass(frozen=True)
class Span:
    """A run of text with one style; `data` is True when the text comes from the case."""

    text: str
    bold: bool = False
    data: bool = False


Line = tuple[Span, ...]


@dataclass(frozen=True)
class Block:
    kind: str
    lines: tuple[Line, ...]
    level: int = 0
    number: int | None = None

    @property
    def text(self) -> str:
        """The block's plain text, lines separated by newlines."""
        return "\n".join(line_text(line) for line in self.lines)


@dataclass(frozen=True)
class Document:
    kind: str
    sections: Mapping[str, tuple[Block, ...]] = field(default_factory=dict)

    def section(self, name: str) -> tuple[Block, ...]:
        return self.sections.get(name, ())

    def section_text(self, name: str) -> str:
        return "\n".join(block.text for block in self.section(name))

    @property
    def title(self) -> str:
        """The subject line as plain text (document title in DOCX and PDF metadata)."""
        return " ".join(self.section_text("subject").split())

    def plain_text(self) -> str:
        """Every section's text, in order (for tests and searches)."""
        return "\n\n".join(self.section_text(name) for name in SECTIONS if name in self.sections)


def line_text(line: Line) -> str:
    return "".join(span.text for span in line)


# --------------------------------------------------------------------------- tokens


@dataclass
class _Token:
    text: str
    bold: bool
    data: bool


_BREAK = _Token("\n", False, False)


def _typography(text: str) -> str:
    return _NBSP_AFTER.sub("\\1\u00a0", _NBSP_BEFORE.sub("\u00a0\\1", text))


class _Inline:
    """Splits template output lines into styled tokens (bold state kept across lines)."""

    def __init__(self) -> None:
        self.bold = False

    def tokens(self, raw: str) -> list[_Token]:
        out: list[_Token] = []
        position = 0
        while position < len(raw):
            start = raw.find(DATA_OPEN, position)
            literal = raw[position:] if start < 0 else raw[position:start]
            if DATA_CLOSE in literal:
                raise TemplateStructureError("unbalanced value marker")
            out.extend(self._literal(literal))
            if start < 0:
                break
            end = raw.find(DATA_CLOSE, start + 1)
            if end < 0:
                raise TemplateStructureError("unterminated value marker")
            value = raw[start + 1 : end]
            for index, piece in enumerate(value.split(LINE_BREAK)):
                if index:
                    out.append(_BREAK)
                if piece:
                    out.append(_Token(piece, self.bold, True))
            position = end + 1
        return out

    def _literal(self, text: str) -> list[_Token]:
        out: list[_Token] = []
        for index, piece in enumerate(text.split("**")):
            if index:
                self.bold = not self.bold
            if piece:
                out.append(_Token(_typography(piece), self.bold, False))
        return out


def _to_lines(tokens: list[_Token]) -> tuple[Line, ...]:
    lines: list[list[Span]] = [[]]
    for token in tokens:
        if token is _BREAK:
            lines.append([])
            continue
        current = lines[-1]
        if current and current[-1].bold == token.bold and current[-1].data == token.data:
            current[-1] = Span(current[-1].text + token.text, token.bold, token.data)
        else:
            current.append(Span(token.text, token.bold, token.data))
    out: list[Line] = []
    for spans in lines:
        out.append(_strip(spans))
    # Drop blank lines at the start and the end of a block.
    while out and not line_text(out[0]).strip():
        out.pop(0)
    while out and not line_text(out[-1]).strip():
        out.pop()
    return tuple(out)


def _strip(spans: list[Span]) -> Line:
    if not spans:
        return ()
    first, last = spans[0], spans[-1]
    spans[0] = Span(first.text.lstrip(), first.bold, first.data)
    last = spans[-1]
    spans[-1] = Span(last.text.rstrip(), last.bold, last.data)
    return tuple(span for span in spans if span.text)


# --------------------------------------------------------------------------- parsing


def _sections(text: str) -> Iterator[tuple[str, list[str]]]:
    current: str | None = None
    lines: list[str] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip(" ")
        if current is None:
            match = _OPEN.match(line)
            if match:
                current, lines = match.group(1), []
            elif line.strip():
                raise TemplateStructureError(f"line {number}: text outside a section: {line!r}")
            continue
        if line == _CLOSE:
            yield current, lines
            current = None
        elif _OPEN.match(line):
            raise TemplateStructureError(f"line {number}: section {current!r} is not closed")
        else:
            lines.append(line)
    if current is not None:
        raise TemplateStructureError(f"section {current!r} is not closed")


def _line_section(lines: list[str]) -> tuple[Block, ...]:
    inline = _Inline()
    tokens: list[_Token] = []
    for raw in lines:
        if not raw.strip():
            continue
        if tokens:
            tokens.append(_BREAK)
        tokens.extend(inline.tokens(raw.strip()))
    built = _to_lines(tokens)
    return (Block("lines", built),) if built else ()


def _prose_section(lines: list[str]) -> tuple[Block, ...]:
    blocks: list[Block] = []
    inline = _Inline()
    kind: str | None = None
    level = 0
    number: int | None = None
    tokens: list[_Token] = []
    hard_break = False

    def flush() -> None:
        nonlocal kind, tokens
        if kind is not None:
            built = _to_lines(tokens)
            if built:
                blocks.append(Block(kind, built, level, number))
        kind, tokens = None, []
        inline.bold = False

    for raw in lines:
        line = raw.strip()
        if not line:
            flush()
            continue
        content = line
        new_kind: str | None = None
        new_level = 0
        new_number: int | None = None
        numbered = _NUMBERED.match(line)
        if line.startswith("### "):
            new_kind, new_level, content = "heading", 3, line[4:]
        elif line.startswith("## "):
            new_kind, new_level, content = "heading", 2, line[3:]
        elif line.startswith("- "):
            new_kind, content = "bullet", line[2:]
        elif line.startswith("> "):
            new_kind = None if kind == "quote" else "quote"
            content = line[2:]
        elif numbered:
            digits = numbered.group(1) or numbered.group(2)
            new_kind, new_number, content = "numbered", int(digits), line[numbered.end() :]
        if new_kind is not None or kind is None or kind == "heading":
            flush()
            kind = new_kind or "paragraph"
            level, number = new_level, new_number
            hard_break = False
        elif tokens:
            tokens.append(_BREAK if hard_break else _Token(" ", inline.bold, False))
        hard_break = content.endswith("\\")
        if hard_break:
            content = content[:-1].rstrip()
        tokens.extend(inline.tokens(content))
    flush()
    return tuple(blocks)


def parse(kind: str, text: str) -> Document:
    """Parse a rendered letter template into a `Document` (raises `TemplateStructureError`)."""
    sections: dict[str, tuple[Block, ...]] = {}
    for name, lines in _sections(text):
        if name not in SECTIONS:
            raise TemplateStructureError(f"unknown section {name!r}")
        if name in sections:
            raise TemplateStructureError(f"section {name!r} appears twice")
        if name in LINE_SECTIONS:
            sections[name] = _line_section(lines)
        else:
            sections[name] = _prose_section(lines)
    missing = sorted(name for name in REQUIRED_SECTIONS if not sections.get(name))
    if missing:
        raise TemplateStructureError(f"empty or missing sections: {', '.join(missing)}")
    ordered = {name: sections[name] for name in SECTIONS if sections.get(name)}
    return Document(kind=kind, sections=ordered)
