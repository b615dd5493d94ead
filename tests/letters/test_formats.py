"""Each letter rendered to PDF and DOCX, read back (pdftotext, python-docx): key content present.

Also: HTML is a standalone A4 page with print CSS and no remote resource; DOCX is made of real,
editable paragraphs; the PDF embeds a system font (DejaVu).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from riposte.advice.engine import advise
from riposte.case import load_case
from riposte.letters.build import build_letter
from riposte.letters.filters import lower_first
from riposte.letters.model import Document
from riposte.letters.output import render, to_html, write_atomic
from tests.letters.conftest import docx_text, pdf_text, squash
from tests.letters.samples import SAMPLES, TODAY, Sample

# One sample per kind, plus the prescribed-offence complaint.
FORMAT_SAMPLES = tuple({sample.kind: sample for sample in reversed(SAMPLES)}.values()) + tuple(
    s for s in SAMPLES if s.case == "liberal_expired_mixed" and s.kind == "procureur"
)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _expectations(sample: Sample, document: Document) -> tuple[list[str], list[str]]:
    """(phrases, unbreakable tokens) the rendered letter must contain."""
    phrases = ["Brouillon à vérifier avant tout envoi.", document.title]
    phrases += [line for line in document.section_text("recipient").split("\n") if line]
    phrases.append(document.section_text("place_date"))
    tokens: list[str] = []
    if "enclosures" in document.sections:
        phrases.append("Pièces jointes")
        case = load_case(sample.case_path, today=TODAY)
        tokens += [item.sha256 for item in case.evidence if item.sha256]
        tokens += [item.url for item in case.evidence if item.url]
    if sample.kind == "procureur":
        advice = advise(load_case(sample.case_path, today=TODAY), TODAY)
        for qualification in advice.qualifications:
            if qualification.is_open:
                phrases.append(lower_first(qualification.label))
                for text in qualification.texts:
                    # "Loi du 29 juillet 1881, art. 29 al. 2 (définition)" -> "art. 29 al. 2"
                    phrases.append(text.split(", ", 1)[1].split(" (", 1)[0])
    return phrases, tokens


def _check(text: str, phrases: list[str], tokens: list[str]) -> None:
    flat = squash(text)
    compact = _compact(text)
    for phrase in phrases:
        assert squash(phrase) in flat, phrase
    for token in tokens:
        assert _compact(token) in compact, token


@pytest.mark.parametrize("sample", FORMAT_SAMPLES, ids=lambda s: s.id)
def test_pdf_text_has_the_key_content(sample: Sample, tmp_path: Path) -> None:
    document = build_letter(sample.case_path, sample.kind, TODAY, sample.options)
    path = tmp_path / "courrier.pdf"
    data = render(document, "pdf")
    assert data.startswith(b"%PDF-")
    path.write_bytes(data)
    _check(pdf_text(path), *_expectations(sample, document))


@pytest.mark.parametrize("sample", FORMAT_SAMPLES, ids=lambda s: s.id)
def test_docx_text_has_the_key_content(sample: Sample, tmp_path: Path) -> None:
    document = build_letter(sample.case_path, sample.kind, TODAY, sample.options)
    path = tmp_path / "courrier.docx"
    path.write_bytes(render(document, "docx"))
    _check(docx_text(path), *_expectations(sample, document))


def test_expired_offence_is_left_out_of_every_format(tmp_path: Path) -> None:
    sample = Sample("liberal_expired_mixed", "procureur")
    document = build_letter(sample.case_path, sample.kind, TODAY)
    body = document.section_text("body") + document.section_text("subject")
    assert "Harcèlement moral en ligne" in body
    assert "iffamation" not in body  # prescribed: not qualified, not in the subject
    draft = document.section_text("draft")
    assert "Faits prescrits écartés" in draft and "1er septembre 2026" in draft
    pdf = tmp_path / "p.pdf"
    pdf.write_bytes(render(document, "pdf"))
    text = squash(pdf_text(pdf))
    assert "Faits prescrits écartés" in text
    assert "art. 29 al. 1" not in text


def test_docx_is_editable_paragraphs_with_layout(tmp_path: Path) -> None:
    import docx

    sample = Sample("liberal_named_defamation", "procureur")
    path = tmp_path / "p.docx"
    path.write_bytes(render(build_letter(sample.case_path, sample.kind, TODAY), "docx"))
    document = docx.Document(str(path))
    texts = [p.text for p in document.paragraphs]
    assert len(texts) > 30
    assert texts[0].startswith("Brouillon à vérifier avant tout envoi.")
    recipient = next(p for p in document.paragraphs if p.text.startswith("Madame ou Monsieur"))
    indent = recipient.paragraph_format.left_indent
    assert indent is not None and abs(indent.cm - 7) < 0.01
    sender = next(p for p in document.paragraphs if p.text.startswith("Dr Claire MARTIN"))
    assert not sender.paragraph_format.left_indent
    styles = [(p.style.name if p.style is not None else "", p.text) for p in document.paragraphs]
    assert ("Heading 2", "I. Exposé des faits") in styles
    assert any(style == "List Bullet" for style, _ in styles)
    section = document.sections[0]
    width, height = section.page_width, section.page_height
    assert width is not None and height is not None
    assert (round(width.cm, 1), round(height.cm, 1)) == (21.0, 29.7)
    assert document.core_properties.title.startswith("Objet : plainte contre Jean Dupuis")


def test_html_is_a_printable_french_page_without_remote_resources() -> None:
    sample = Sample("hospital_raid_contre_x", "procureur")
    html = to_html(build_letter(sample.case_path, sample.kind, TODAY))
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="fr">' in html
    assert "size: A4" in html and "DejaVu Serif" in html
    assert '<address class="sender">' in html and '<address class="recipient">' in html
    assert "<ol>" in html and '<li value="1">' in html
    assert not re.search(r"<[a-z]+[^>]*\s(src|href)=|@import|url\(", html)


def test_pdf_embeds_dejavu_and_is_a4(tmp_path: Path) -> None:
    if shutil.which("pdffonts") is None or shutil.which("pdfinfo") is None:
        pytest.fail("poppler-utils absent : lancez scripts/system-deps.sh")
    sample = Sample("liberal_named_defamation", "procureur")
    path = tmp_path / "p.pdf"
    path.write_bytes(render(build_letter(sample.case_path, sample.kind, TODAY), "pdf"))
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    assert "DejaVu" in fonts.stdout
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info.stdout)
    assert "Title:" in info.stdout and "plainte contre Jean Dupuis" in info.stdout


def test_pdf_layout_puts_recipient_right_and_place_date_before_subject(tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext absent")
    sample = Sample("liberal_named_defamation", "procureur")
    path = tmp_path / "p.pdf"
    path.write_bytes(render(build_letter(sample.case_path, sample.kind, TODAY), "pdf"))
    layout = subprocess.run(
        ["pdftotext", "-layout", "-f", "1", "-l", "1", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = layout.splitlines()
    sender = next(line for line in lines if "Dr Claire MARTIN" in line)
    recipient = next(line for line in lines if "Madame ou Monsieur le Procureur" in line)
    assert len(sender) - len(sender.lstrip()) < 10
    assert len(recipient) - len(recipient.lstrip()) > 30
    order = [layout.index(marker) for marker in ("Dr Claire MARTIN", "Procureur", "À Lyon, le")]
    assert order == sorted(order)
    assert layout.index("À Lyon, le") < layout.index("Objet")


def test_write_atomic_replaces_whole_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "lettre.pdf"
    target.write_bytes(b"ancien")
    write_atomic(target, b"nouveau")
    assert target.read_bytes() == b"nouveau"
    assert [p.name for p in tmp_path.iterdir()] == ["lettre.pdf"]
