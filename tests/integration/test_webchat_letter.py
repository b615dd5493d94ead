"""The complaint to the procureur drafted from the web page, in headless Chromium at a desktop
size against the real stack: the situation typed in the page, every question of the complaint
form answered through the page's controls, the summary confirmed with its button, then the
letter's two download links shown, the PDF downloaded by the browser and read back.

The screenshot, with the links in view, goes to var/test-artifacts/webchat-lettre.png;
docs/webchat-lettre.png is a copy of it (docs/guide.md shows it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, ViewportSize

from tests.integration.conftest import Stack
from tests.integration.test_webchat import (
    ARTIFACTS,
    WAIT_MS,
    axe_violations,
    before_sending,
    open_chat,
    send_and_wait,
    shown_replies,
)
from tests.letters.conftest import docx_text, pdf_text, squash

DESKTOP = ViewportSize(width=1280, height=800)
# A made-up doctor: nobody of that name should ever be in a test's letter by chance.
NAME = "Camille Zorglubin"
STATEMENT = "« cette généraliste est une escroc »"
SITUATION = (
    "Depuis le 2 novembre des dizaines de comptes me traitent d'escroc sur TikTok, "
    "je suis généraliste libérale"
)
# The complaint form's questions, each answered by typing, and what the next reply asks.
ANSWERS = [
    (NAME, "date de naissance"),
    ("12/03/1978", "lieu de naissance"),
    ("passer", "adresse"),  # optional: the complaint leaves a blank
    ("12 rue des Lilas", "code postal"),
    ("44000 Nantes", "tribunal judiciaire"),
    ("la même", "Racontez les **faits**"),
    ("Depuis le 2 novembre, des dizaines de comptes me traitent d'escroc.", "propos exacts"),
    (STATEMENT, "De quand datent ces propos"),
    ("il y a une semaine", "Est-ce juste ?"),
]
SCREENSHOT = ARTIFACTS / "webchat-lettre.png"
WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LETTER_HREF = re.compile(r"^/lettres/[A-Za-z0-9_.~-]+\.(pdf|docx)$")


def replies_to(page: Page, bot: Stack, send: Callable[[], None]) -> str:
    """`send()` one message through the page, wait for the whole turn, and return the bot's
    replies to it as the page shows them (its transcript), one piece a line."""
    shown = before_sending(page, bot).shown
    send_and_wait(page, bot, send)
    return "\n".join(shown_replies(page, shown))


def typed(page: Page, text: str) -> Callable[[], None]:
    def send() -> None:
        box = page.get_by_role("textbox", name="Votre message")
        box.fill(text)
        box.press("Enter")

    return send


def test_the_complaint_is_drafted_and_downloaded_from_the_page(
    browser: Browser, bot: Stack, tmp_path: Path
) -> None:
    ctx = browser.new_context(viewport=DESKTOP, locale="fr-FR", accept_downloads=True)
    ctx.set_default_timeout(WAIT_MS)
    try:
        page = open_chat(ctx, bot)
        replies_to(page, bot, typed(page, SITUATION))
        offer = replies_to(page, bot, typed(page, "rédiger ma plainte"))
        assert "dossier chiffré" in offer, offer
        # The case file the complaint is kept in, opened with its button.
        log = page.get_by_role("log")
        proposed = log.get_by_role("group", name="Réponses proposées").last
        yes = proposed.get_by_role("button", name="Ouvrir le dossier et continuer")
        asked = replies_to(page, bot, yes.click)
        assert "Code du dossier" in asked and "Phrase secrète" in asked, asked
        assert "Je prépare votre plainte" in asked and "prénom et nom" in asked, asked
        for answer, expected in ANSWERS:
            asked = replies_to(page, bot, typed(page, answer))
            assert expected in asked, (answer, asked)
        assert f"{NAME}, 12 rue des Lilas, 44000 Nantes" in asked, asked

        # The summary is confirmed with its button, the way a doctor would.
        confirm = log.get_by_role("group", name="Réponses proposées").last
        confirm = confirm.get_by_role("button", name="C'est juste, rédiger")
        done = replies_to(page, bot, confirm.click)
        assert "Votre plainte est prête" in done and "brouillon à vérifier" in done, done
        chosen = log.get_by_role("button", name="C'est juste, rédiger", pressed=True)
        assert chosen.count() == 1 and chosen.is_disabled()

        # The letter's links, as the page renders them: two download links, PDF and DOCX.
        pdf_link = log.get_by_role("link", name="Télécharger la lettre (PDF)")
        docx_link = log.get_by_role("link", name="Télécharger la lettre (Word, DOCX)")
        assert pdf_link.count() == 1 and docx_link.count() == 1
        for link, kind in ((pdf_link, "pdf"), (docx_link, "docx")):
            href = link.get_attribute("href") or ""
            assert (match := LETTER_HREF.match(href)) and match.group(1) == kind, href
            assert link.get_attribute("download") is not None

        # The PDF, downloaded by the browser as a click on the link, and read back.
        with page.expect_download(timeout=WAIT_MS) as started:
            pdf_link.click()
        download = started.value
        assert download.suggested_filename.endswith(".pdf"), download.suggested_filename
        saved = tmp_path / "plainte.pdf"
        download.save_as(saved)
        assert saved.read_bytes().startswith(b"%PDF")
        text = squash(pdf_text(saved))
        assert "ZORGLUBIN" in text.upper() and "Procureur de la République" in text
        assert "cette généraliste est une escroc" in text
        # The DOCX link serves the same letter as a Word document (with the page's cookies).
        docx_url = f"http://127.0.0.1:{bot.web_port}{docx_link.get_attribute('href')}"
        docx = ctx.request.get(docx_url, fail_on_status_code=True)
        assert docx.headers["content-type"] == WORD
        (tmp_path / "plainte.docx").write_bytes(docx.body())
        words = squash(docx_text(tmp_path / "plainte.docx"))
        assert "ZORGLUBIN" in words.upper() and "cette généraliste est une escroc" in words

        # Both links in view inside the conversation area, for the screenshot.
        area = page.locator("#messages").bounding_box()
        assert area is not None
        for link in (pdf_link, docx_link):
            box = link.bounding_box()
            assert box is not None and link.is_visible()
            assert area["y"] <= box["y"] and box["y"] + box["height"] <= area["y"] + area["height"]
        report = axe_violations(page)
        assert report == "", report
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
    finally:
        ctx.close()
