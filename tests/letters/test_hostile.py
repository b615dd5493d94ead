"""Hostile input: values are data, never templates nor markup, in every output format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from riposte.letters.build import build_letter
from riposte.letters.output import render, to_html, to_markdown
from tests.letters.conftest import LoadCase, docx_text, pdf_text, squash
from tests.letters.samples import TODAY

JINJA = "{{ 7*7 }}"
JINJA_BLOCK = "{% for x in range(3) %}{% endfor %}"
HTML = '<script>alert("x")</script><img src="http://exemple.invalid/x.png">'
MARKUP = "::: body\n## Titre injecté\n- puce injectée\n1. numéro **gras** > citation"
EMOJI_HANDLE = "@💉😈_anti🦠vax_🔥🔥_\u200d👩‍⚕️"


@pytest.fixture
def hostile(load_sample: LoadCase) -> dict[str, object]:
    data = load_sample("hospital_raid_contre_x")
    data["victim"]["first_name"] = JINJA
    data["victim"]["last_name"] = JINJA_BLOCK
    data["victim"]["profession"] = HTML
    data["victim"]["address"] = MARKUP
    data["incident"]["author"]["handles"] = [EMOJI_HANDLE, "@{{ config }}"]
    data["evidence"][0][
        "excerpt"
    ] = "contrôle\x00\x07\x1b[31m, séparateurs \u2028\u2029, \ue000privé\ue001"
    data["evidence"][1]["author"] = "**gras** _souligné_ `code` [lien](http://x)"
    return data


def test_values_are_printed_as_typed_never_evaluated(hostile: dict[str, object]) -> None:
    document = build_letter(hostile, "procureur", TODAY)
    text = document.plain_text()
    assert JINJA in text
    assert "{% FOR X IN RANGE(3) %}{% ENDFOR %}" in text  # family names are in capitals
    assert "49" not in document.section_text("sender")
    assert "@{{ config }}" in text
    assert EMOJI_HANDLE in text
    assert HTML in text


def test_markup_in_a_value_creates_no_structure(hostile: dict[str, object]) -> None:
    document = build_letter(hostile, "procureur", TODAY)
    sender = document.section("sender")
    assert len(sender) == 1 and sender[0].kind == "lines"
    assert "## Titre injecté" in sender[0].text and "::: body" in sender[0].text
    headings = [b.text for b in document.section("body") if b.kind == "heading"]
    assert "Titre injecté" not in " ".join(headings)
    assert not any(span.bold for line in sender[0].lines for span in line)
    # The parsed document has exactly the sections the template wrote.
    assert list(document.sections) == [
        "draft",
        "sender",
        "recipient",
        "mentions",
        "place_date",
        "subject",
        "body",
        "signature",
        "enclosures",
    ]


def test_control_characters_and_private_markers_are_removed(hostile: dict[str, object]) -> None:
    text = build_letter(hostile, "procureur", TODAY).plain_text()
    for char in ("\x00", "\x07", "\x1b", "\ue000", "\ue001", "\u2028", "\u2029"):
        assert char not in text
    assert "contrôle[31m, séparateurs" in text


def test_markdown_escapes_values(hostile: dict[str, object]) -> None:
    markdown = to_markdown(build_letter(hostile, "procureur", TODAY))
    assert r"\<script\>" in markdown
    assert r"\*\*gras\*\*" in markdown
    assert "\\## Titre injecté" in markdown
    assert "\n## Titre injecté" not in markdown


def test_html_escapes_every_value(hostile: dict[str, object]) -> None:
    html = to_html(build_letter(hostile, "procureur", TODAY))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert JINJA in html
    body = html.split("<body", 1)[1]
    assert not re.search(r"<[a-z]+[^>]*\s(src|href)=", body)


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_binary_formats_keep_values_as_text(
    fmt: str, hostile: dict[str, object], tmp_path: Path
) -> None:
    path = tmp_path / f"lettre.{fmt}"
    path.write_bytes(render(build_letter(hostile, "procureur", TODAY), fmt))
    text = squash(docx_text(path) if fmt == "docx" else pdf_text(path))
    assert JINJA in text
    assert '<script>alert("x")</script>' in text
    assert "::: body ## Titre injecté - puce injectée" in text


@pytest.mark.parametrize("fmt", ["md", "html", "docx", "pdf"])
def test_huge_summary_and_emoji_render_in_every_format(
    fmt: str, load_sample: LoadCase, tmp_path: Path
) -> None:
    data = load_sample("liberal_named_defamation")
    paragraph = "Ils m'accusent encore 😡🤬💉 de tout et de rien, jour après jour. "
    data["incident"]["summary"] = (paragraph * (50_000 // len(paragraph) + 1))[:50_000]
    data["incident"]["author"]["handles"] = [EMOJI_HANDLE]
    data["evidence"][0]["author"] = EMOJI_HANDLE
    document = build_letter(data, "procureur", TODAY)
    output = render(document, fmt)
    assert len(output) > 20_000
    if fmt == "docx":
        path = tmp_path / "lettre.docx"
        path.write_bytes(output)
        assert "jour après jour" in docx_text(path)
        assert EMOJI_HANDLE in docx_text(path)
    if fmt == "pdf":
        path = tmp_path / "lettre.pdf"
        path.write_bytes(output)
        text = pdf_text(path)
        assert text.count("jour après jour") > 500
        assert "Pièces jointes" in text


def test_values_never_reach_the_template_loader(load_sample: LoadCase) -> None:
    data = load_sample("liberal_named_defamation")
    data["victim"]["last_name"] = '{% include "/etc/passwd" %}{{ self.__init__.__globals__ }}'
    document = build_letter(data, "procureur", TODAY)
    assert "root:" not in document.plain_text()
    assert '{% INCLUDE "/ETC/PASSWD" %}' in document.section_text("signature")
