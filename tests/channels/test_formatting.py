"""The replies' `**bold**` markup for Telegram (HTML) and Signal (plain text)."""

from __future__ import annotations

from riposte_rasa.channels.formatting import plain, telegram_html


def test_plain_removes_only_balanced_bold_markers() -> None:
    assert plain("**Code du dossier : RIP-7KQ2-M9**") == "Code du dossier : RIP-7KQ2-M9"
    assert plain("a **b** c **d**") == "a b c d"
    assert plain("2 ** 3 et 4**") == "2 ** 3 et 4**"  # no bold: spaces inside the markers
    assert plain("**début\n\nfin**") == "**début\n\nfin**"  # never across paragraphs
    assert plain("sans gras") == "sans gras"


def test_telegram_html_escapes_everything_but_the_bold() -> None:
    assert telegram_html("**Palier** <script>alert(1)</script> & co") == (
        "<b>Palier</b> &lt;script&gt;alert(1)&lt;/script&gt; &amp; co"
    )
    assert telegram_html("**<i>**") == "<b>&lt;i&gt;</b>"
    assert telegram_html('l\'**avis** "Google"') == 'l\'<b>avis</b> "Google"'
