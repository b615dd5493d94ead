"""The rendering machinery: French filters, the strict sandboxed environment, the parser, data."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

import jinja2
import pytest
from jinja2.sandbox import SandboxedEnvironment

from riposte.case import SCHEMA_PATH
from riposte.knowledge import LETTER_KINDS
from riposte.letters import filters
from riposte.letters.build import CHECKS, load_messages, load_requirements
from riposte.letters.environment import (
    DATA_CLOSE,
    DATA_OPEN,
    TEMPLATES_DIR,
    LetterTemplateError,
    clean_text,
    get_environment,
)
from riposte.letters.model import TemplateStructureError, parse
from riposte.letters.output import to_markdown

# --------------------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2026, 11, 24), "24 novembre 2026"),
        (date(2026, 12, 1), "1er décembre 2026"),
        (date(2027, 2, 8), "8 février 2027"),
        (date(2026, 8, 15), "15 août 2026"),
    ],
)
def test_date_fr(value: date, expected: str) -> None:
    assert filters.date_fr(value) == expected


def test_numeric_date_time_and_paris_time() -> None:
    assert filters.date_num(date(2026, 1, 5)) == "05/01/2026"
    summer = datetime(2026, 10, 2, 9, 15, tzinfo=timezone.utc)
    assert filters.time_fr(summer) == "11\u00a0h\u00a015"
    assert filters.datetime_fr(summer) == "2 octobre 2026 à 11\u00a0h\u00a015"
    winter = datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert filters.datetime_fr(winter) == "1er janvier 2027 à 5\u00a0h\u00a030"
    naive = datetime(2026, 3, 4, 8, 5)
    assert filters.datetime_fr(naive) == "4 mars 2026 à 8\u00a0h\u00a005"


def test_lists_quotes_and_case() -> None:
    assert filters.join_fr([]) == ""
    assert filters.join_fr(["a"]) == "a"
    assert filters.join_fr(["a", "b", "c"]) == "a, b et c"
    assert filters.join_or_fr(["a", "b"]) == "a ou b"
    assert filters.quote_fr(" charlatan ") == "«\u00a0charlatan\u00a0»"
    # A quote copied with its own quotation marks is not quoted twice.
    for typed in (
        "« charlatan »",
        '"charlatan"',
        "\u201ccharlatan\u201d",
        "«\u00a0charlatan\u00a0»",
    ):
        assert filters.quote_fr(typed) == "«\u00a0charlatan\u00a0»", typed
    # Two quotes in a row keep their marks: only the outer pair would be wrong to drop.
    assert (
        filters.quote_fr("« escroc » et « charlatan »")
        == "«\u00a0« escroc » et « charlatan »\u00a0»"
    )
    assert filters.lower_first("Injure publique") == "injure publique"
    assert filters.lower_first("RGPD, art. 17") == "RGPD, art. 17"
    assert filters.lower_first("X (ex-Twitter)") == "X (ex-Twitter)"
    assert filters.upper_first("médecin") == "Médecin"
    assert filters.surname("Lefèvre") == "LEFÈVRE"


@pytest.mark.parametrize(
    ("text", "de", "a"),
    [
        ("Lyon", "de Lyon", "à Lyon"),
        ("Angers", "d'Angers", "à Angers"),
        ("Évry", "d'Évry", "à Évry"),
        ("Le Havre", "du Havre", "au Havre"),
        ("Les Sables-d'Olonne", "des Sables-d'Olonne", "aux Sables-d'Olonne"),
        ("La Rochelle", "de La Rochelle", "à La Rochelle"),
        ("injure publique", "d'injure publique", "à injure publique"),
        ("harcèlement moral", "de harcèlement moral", "à harcèlement moral"),
    ],
)
def test_prepositions(text: str, de: str, a: str) -> None:
    assert filters.de_fr(text) == de
    assert filters.a_fr(text) == a


def test_filters_are_registered_in_the_environment() -> None:
    env = get_environment()
    for name in filters.FILTERS:
        assert env.filters[name] is filters.FILTERS[name]


# --------------------------------------------------------------------------- environment


def test_one_strict_sandboxed_environment() -> None:
    env = get_environment()
    assert env is get_environment()
    assert isinstance(env, SandboxedEnvironment)
    assert env.undefined is jinja2.StrictUndefined
    assert env.trim_blocks and env.lstrip_blocks
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ absent }}").render()
    with pytest.raises(jinja2.exceptions.SecurityError):
        env.from_string("{{ ''.__class__.__mro__ }}").render()


def test_autoescape_only_for_html_templates() -> None:
    env = get_environment()
    assert env.get_template("_layout.html.j2").environment is env
    html = env.from_string("{{ x }}")  # a string template: not HTML, not escaped
    assert html.render(x="<b>") == f"{DATA_OPEN}<b>{DATA_CLOSE}"
    layout_autoescape = env.autoescape
    assert callable(layout_autoescape)
    assert layout_autoescape("_layout.html.j2") is True
    assert layout_autoescape("procureur.md.j2") is False


@pytest.mark.parametrize("value", [None, True, date(2026, 1, 1)])
def test_printing_a_raw_none_bool_or_date_is_a_template_bug(value: object) -> None:
    with pytest.raises(LetterTemplateError):
        get_environment().from_string("{{ v }}").render(v=value)


def test_clean_text() -> None:
    assert clean_text("a\r\nb\tc\x00d\ue000e\ud800f\ufffeg") == "a\u2028b cdefg"


# --------------------------------------------------------------------------- parser

FRAME = """::: draft
Brouillon.
:::
::: sender
Expéditeur
:::
::: recipient
Destinataire
:::
::: place_date
Lyon
:::
::: subject
**Objet :** essai
:::
::: body
{body}
:::
::: signature
Nom
:::
"""


def _body(text: str) -> list[tuple[str, str, int | None]]:
    document = parse("essai", FRAME.replace("{body}", text))
    return [(b.kind, b.text, b.number) for b in document.section("body")]


def test_parser_blocks() -> None:
    body = (
        "Premier\nparagraphe.\n\n## Titre\nTexte\n- un\n- deux\nsuite\n\n3. trois\\\nligne\n> cité"
    )
    assert _body(body) == [
        ("paragraph", "Premier paragraphe.", None),
        ("heading", "Titre", None),
        ("paragraph", "Texte", None),
        ("bullet", "un", None),
        ("bullet", "deux suite", None),
        ("numbered", "trois\nligne", 3),
        ("quote", "cité", None),
    ]


def test_parser_reads_markup_only_in_template_text() -> None:
    value = f"{DATA_OPEN}## pas un titre **pas gras**{DATA_CLOSE}"
    blocks = parse("essai", FRAME.replace("{body}", value)).section("body")
    assert [(b.kind, b.text) for b in blocks] == [("paragraph", "## pas un titre **pas gras**")]
    assert not any(span.bold for span in blocks[0].lines[0])
    numbered = parse("essai", FRAME.replace("{body}", f"{DATA_OPEN}7{DATA_CLOSE}. Sept"))
    assert numbered.section("body")[0].number == 7
    fake = parse("essai", FRAME.replace("{body}", f"{DATA_OPEN}7. Sept{DATA_CLOSE}"))
    assert fake.section("body")[0].kind == "paragraph"


def test_parser_typography_and_bold() -> None:
    document = parse("essai", FRAME.replace("{body}", "Pièce n° 2 : « vu » ; fin !"))
    assert (
        document.section_text("body") == "Pièce n°\u00a02\u00a0: «\u00a0vu\u00a0»\u00a0; fin\u00a0!"
    )
    subject = document.section("subject")[0].lines[0]
    assert subject[0].bold and subject[0].text == "Objet\u00a0:"
    assert not subject[1].bold


@pytest.mark.parametrize(
    "broken",
    [
        "texte hors section\n" + FRAME,
        FRAME.replace("::: body\n", "::: corps\n"),
        FRAME.replace("::: signature\nNom\n:::\n", ""),
        FRAME + "::: body\nencore\n:::\n",
        FRAME.replace(":::\n::: signature", "::: signature"),
    ],
)
def test_parser_rejects_malformed_templates(broken: str) -> None:
    with pytest.raises(TemplateStructureError):
        parse("essai", broken.replace("{body}", "Texte"))


def test_markdown_output_of_a_minimal_letter() -> None:
    text = to_markdown(parse("essai", FRAME.replace("{body}", "- un\n- deux")))
    assert text == (
        "> Brouillon.\n\nExpéditeur\n\nDestinataire\n\nLyon\n\n**Objet\u00a0:** essai\n\n"
        "- un\n- deux\n\nNom\n"
    )


# --------------------------------------------------------------------------- data files


def _schema_paths() -> set[str]:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    out: set[str] = set()

    def walk(node: dict[str, Any], prefix: str) -> None:
        for name, sub in node.get("properties", {}).items():
            path = f"{prefix}.{name}" if prefix else name
            out.add(path)
            if isinstance(sub, dict):
                walk(sub, path)
                items = sub.get("items")
                if isinstance(items, dict):
                    walk(items, f"{path}[*]")

    walk(schema, "")
    return out


def test_required_fields_exist_in_the_case_schema() -> None:
    paths = _schema_paths()
    requirements = load_requirements()
    assert set(requirements.kinds) == set(LETTER_KINDS)
    for path in requirements.field_labels:
        assert path in paths, path
    for requirement in requirements.kinds.values():
        assert set(requirement.checks_first + requirement.checks) <= set(CHECKS)


def test_every_message_used_by_the_code_exists() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = [
        root / "riposte" / "letters" / "build.py",
        root / "riposte" / "cli" / "letter.py",
        root / "riposte" / "cli" / "reply_check.py",
    ]
    keys = set()
    for source in sources:
        text = source.read_text(encoding="utf-8")
        keys.update(re.findall(r'"((?:checks|missing|letter_cli|reply_check)\.[a-z_]+)"', text))
    assert len(keys) > 30
    messages = load_messages()
    for key in sorted(keys):
        assert messages.has(key), key


def test_one_template_per_kind_and_each_extends_the_frame() -> None:
    for kind in LETTER_KINDS:
        source = (TEMPLATES_DIR / f"{kind}.md.j2").read_text(encoding="utf-8")
        assert '{% extends "_letter.md.j2" %}' in source, kind
    names = {p.name for p in TEMPLATES_DIR.glob("*.md.j2") if not p.name.startswith("_")}
    assert names == {f"{kind}.md.j2" for kind in LETTER_KINDS}
