"""Output formats of a parsed letter: Markdown, HTML, DOCX and PDF.

* Markdown (`md`): the letter as readable text for the chat; values are escaped so that a
  Markdown renderer shows them as typed.
* HTML (`html`): rendered by `templates/letters/_layout.html.j2` with autoescape, print CSS
  for an A4 French letter (sender top-left, recipient on the right, place and date, subject,
  body, signature, enclosures).
* DOCX (`docx`): python-docx, real editable paragraphs with the same layout.
* PDF (`pdf`): WeasyPrint from the HTML, with DejaVu (a system font); every URL fetch is
  refused, so nothing is read from the network or from the disk.

python-docx and WeasyPrint are imported on first use only.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from riposte.letters.environment import get_environment
from riposte.letters.model import SECTIONS, Block, Document, Line

FORMATS: tuple[str, ...] = ("md", "html", "docx", "pdf")
BINARY_FORMATS: frozenset[str] = frozenset({"docx", "pdf"})
LAYOUT_TEMPLATE = "_layout.html.j2"


# --------------------------------------------------------------------------- Markdown

_MD_INLINE = re.compile(r"([\\`*\[\]<>|])")
_MD_UNDERSCORE = re.compile(r"(?<![0-9A-Za-zÀ-ÿ])_|_(?![0-9A-Za-zÀ-ÿ])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+=~-]|[0-9]+[.)])")


def _md_escape(text: str, line_start: bool) -> str:
    text = _MD_INLINE.sub(r"\\\1", text)
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    if line_start:
        text = _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return text


def _md_line(line: Line) -> str:
    out: list[str] = []
    bold = False
    for index, span in enumerate(line):
        text = _md_escape(span.text, index == 0) if span.data else span.text
        if span.bold != bold:
            if bold:
                # Close before the trailing spaces: "**a **" is not bold in CommonMark.
                stripped = out[-1].rstrip() if out else ""
                trailing = out[-1][len(stripped) :] if out else ""
                if out:
                    out[-1] = stripped
                out.append("**" + trailing)
            else:
                out.append("**")
            bold = span.bold
        out.append(text)
    if bold:
        out.append("**")
    return "".join(out)


def _md_lines(block: Block, indent: str) -> str:
    return ("  \n" + indent).join(_md_line(line) for line in block.lines)


def _md_block(block: Block) -> str:
    if block.kind == "heading":
        return "#" * block.level + " " + _md_lines(block, "")
    if block.kind == "bullet":
        return "- " + _md_lines(block, "  ")
    if block.kind == "numbered":
        marker = f"{block.number}. "
        return marker + _md_lines(block, " " * len(marker))
    if block.kind == "quote":
        return "> " + _md_lines(block, "> ")
    return _md_lines(block, "")


def _md_blocks(blocks: Iterable[Block]) -> str:
    out: list[str] = []
    previous: Block | None = None
    for block in blocks:
        text = _md_block(block)
        # Consecutive items of one list stay together.
        same_list = previous is not None and previous.kind == block.kind
        if out and not (same_list and block.kind in ("bullet", "numbered")):
            out.append("")
        out.append(text)
        previous = block
    return "\n".join(out)


def to_markdown(doc: Document) -> str:
    """The letter as Markdown text (also readable as plain text)."""
    parts: list[str] = []
    for name, blocks in doc.sections.items():
        text = _md_blocks(blocks)
        if name == "draft":
            text = "\n".join("> " + line if line else ">" for line in text.split("\n"))
        parts.append(text)
    return "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------- HTML


def _plain_block(block: Block) -> dict[str, Any]:
    return {
        "kind": block.kind,
        "level": block.level,
        "number": block.number,
        "lines": [
            [{"text": span.text, "bold": span.bold} for span in line] for line in block.lines
        ],
    }


def _plain(doc: Document) -> dict[str, list[dict[str, Any]]]:
    """The document as plain mappings for the HTML layout template.

    Consecutive list items of the same kind are grouped into one ``list`` entry (``ordered``
    for numbered items), so that the layout writes real ``<ul>`` and ``<ol>`` lists.
    """
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in SECTIONS}
    for name, blocks in doc.sections.items():
        groups: list[dict[str, Any]] = []
        for block in blocks:
            if block.kind in ("bullet", "numbered"):
                ordered = block.kind == "numbered"
                last = groups[-1] if groups else None
                if last is None or last["kind"] != "list" or last["ordered"] != ordered:
                    last = {"kind": "list", "ordered": ordered, "items": []}
                    groups.append(last)
                last["items"].append(_plain_block(block))
            else:
                groups.append(_plain_block(block))
        out[name] = groups
    return out


def to_html(doc: Document) -> str:
    """The letter as a standalone HTML page with print CSS (every value escaped)."""
    template = get_environment().get_template(LAYOUT_TEMPLATE)
    return template.render(kind=doc.kind, title=doc.title, sections=_plain(doc))


# --------------------------------------------------------------------------- PDF


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"resource fetching is disabled in letters: {url[:80]}")


def to_pdf(doc: Document) -> bytes:
    """The letter as an A4 PDF (WeasyPrint, system fonts, no URL ever fetched)."""
    import weasyprint

    html = weasyprint.HTML(string=to_html(doc), base_url=None, url_fetcher=_refuse_fetch)
    pdf = html.write_pdf()
    if not isinstance(pdf, bytes):  # pragma: no cover - write_pdf without target returns bytes
        raise RuntimeError("WeasyPrint returned no PDF")
    return pdf


# --------------------------------------------------------------------------- DOCX

DOCX_FONT = "DejaVu Serif"
DOCX_FONT_SIZE_PT = 10.5
DOCX_RIGHT_COLUMN_CM = 7.0
DOCX_LANGUAGE = "fr-FR"


def to_docx(doc: Document) -> bytes:
    """The letter as an editable DOCX (real paragraphs and styles)."""
    import docx
    from docx.enum.text import WD_BREAK
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)

    styles = document.styles
    normal = styles["Normal"]
    normal.font.name = DOCX_FONT
    normal.font.size = Pt(DOCX_FONT_SIZE_PT)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), DOCX_FONT)
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), DOCX_LANGUAGE)
    rpr.append(language)
    normal.paragraph_format.space_after = Pt(6)
    for name, size in (("Heading 2", 12), ("Heading 3", 11)):
        style = styles[name]
        style.font.name = DOCX_FONT
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.paragraph_format.space_before = Pt(12)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.keep_with_next = True

    def add_runs(paragraph: Any, lines: Iterable[Line]) -> None:
        for index, line in enumerate(lines):
            if index:
                paragraph.add_run().add_break(WD_BREAK.LINE)
            for span in line:
                run = paragraph.add_run(span.text)
                run.bold = span.bold or None

    def shade(paragraph: Any) -> Any:
        ppr = paragraph._p.get_or_add_pPr()
        fill = OxmlElement("w:shd")
        fill.set(qn("w:val"), "clear")
        fill.set(qn("w:color"), "auto")
        fill.set(qn("w:fill"), "EFEFEF")
        ppr.append(fill)
        return paragraph

    def add_block(block: Block, indent_cm: float = 0.0) -> Any:
        if block.kind == "heading":
            paragraph = document.add_paragraph(style=f"Heading {block.level}")
        elif block.kind == "bullet":
            paragraph = document.add_paragraph(style="List Bullet")
        elif block.kind == "quote":
            paragraph = document.add_paragraph()
            paragraph.paragraph_format.left_indent = Cm(1)
            paragraph.paragraph_format.right_indent = Cm(1)
        else:
            paragraph = document.add_paragraph()
        if block.kind == "numbered":
            paragraph.paragraph_format.left_indent = Cm(0.9 + indent_cm)
            paragraph.paragraph_format.first_line_indent = Cm(-0.9)
            paragraph.add_run(f"{block.number}.\t")
            paragraph.paragraph_format.tab_stops.add_tab_stop(Cm(0.9 + indent_cm))
        elif indent_cm:
            paragraph.paragraph_format.left_indent = Cm(indent_cm)
        add_runs(paragraph, block.lines)
        if block.kind == "quote":
            for run in paragraph.runs:
                run.italic = True
        return paragraph

    right = DOCX_RIGHT_COLUMN_CM
    handlers: dict[str, Callable[[Block], Any]] = {
        "draft": lambda b: shade(add_block(b)),
        "sender": lambda b: add_block(b),
        "recipient": lambda b: add_block(b, indent_cm=right),
        "mentions": lambda b: add_block(b, indent_cm=right),
        "place_date": lambda b: add_block(b, indent_cm=right),
        "subject": lambda b: add_block(b),
        "body": lambda b: add_block(b),
        "signature": lambda b: add_block(b, indent_cm=right),
        "enclosures": lambda b: add_block(b),
    }
    spacing_before = {
        "recipient": 18,
        "place_date": 18,
        "subject": 12,
        "signature": 24,
        "enclosures": 18,
    }
    for name, blocks in doc.sections.items():
        for index, block in enumerate(blocks):
            paragraph = handlers[name](block)
            if index == 0 and name in spacing_before:
                paragraph.paragraph_format.space_before = Pt(spacing_before[name])

    properties = document.core_properties
    properties.title = doc.title
    properties.language = DOCX_LANGUAGE
    properties.author = ""
    properties.comments = ""
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- dispatch


def render(doc: Document, fmt: str) -> bytes:
    """The letter in format `fmt` (one of FORMATS), as bytes (UTF-8 for text formats)."""
    if fmt == "md":
        return to_markdown(doc).encode("utf-8")
    if fmt == "html":
        return to_html(doc).encode("utf-8")
    if fmt == "docx":
        return to_docx(doc)
    if fmt == "pdf":
        return to_pdf(doc)
    raise ValueError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, then rename.

    Either the whole file is written or `path` is left untouched (no partial letter). The
    file is readable by its owner only (0600, from mkstemp): a letter holds personal data.
    """
    directory = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=".riposte-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
