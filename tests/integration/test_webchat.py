"""The web chat in a real browser: headless Chromium (Debian package) driven by Playwright,
against the real stack (`riposte serve`: page, Rasa's socket.io channel, action server).

`make test` installs Chromium (scripts/chromium-test.sh) and passes its path in
RIPOSTE_CHROMIUM. Screenshots are saved in var/test-artifacts/ (the README shows one).
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page

from devtools.waiting import timeout_factor, wait_until
from riposte.store.codes import mask_shown_passphrase
from tests.integration.conftest import ROOT, Stack

ARTIFACTS = ROOT / "var" / "test-artifacts"
QUICK_EXIT = "https://meteofrance.com/"
# Counts, in each page, the `session_confirm` messages its socket.io connection received: from
# the first on, the page can send (a test that reloads the page waits for it). An observer
# only: each WebSocket the page opens is the browser's own, with one more message listener.
COUNT_SESSION_CONFIRMS = """
(() => {
  const Native = window.WebSocket;
  window.riposteSessionConfirms = 0;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        if (typeof event.data === "string" && event.data.includes('"session_confirm"')) {
          window.riposteSessionConfirms += 1;
        }
      });
    }
  };
})();
"""
PNG = b"\x89PNG\r\n\x1a\n" + b"capture d'ecran " * 64
# Every wait of these tests, Playwright's included (seconds, and milliseconds for Playwright).
WAIT_S = 60 * timeout_factor()
WAIT_MS = int(WAIT_S * 1000)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1000, "height": 860}, locale="fr-FR")
    ctx.set_default_timeout(WAIT_MS)
    ctx.add_init_script(COUNT_SESSION_CONFIRMS)
    # The quick exit leaves for a public site: answered locally, nothing leaves the machine.
    ctx.route(QUICK_EXIT + "**", lambda route: route.fulfill(body="<title>Météo</title>"))
    yield ctx
    ctx.close()


def open_chat(context: BrowserContext, bot: Stack) -> Page:
    """A new page, once the whole of its greeting is shown."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"http://127.0.0.1:{bot.web_port}/")
    # The page sends /greet once its session is confirmed: a new conversation, nothing shown.
    page.locator(".entry.bot").first.wait_for(timeout=WAIT_MS)
    wait_turn(page, bot, Before(shown=0, said=0, events=0))
    assert errors == []
    return page


@dataclass(frozen=True)
class Before:
    """Where a conversation stood before a message: the page's transcript entries, and the
    user messages and events the server had recorded."""

    shown: int
    said: int
    events: int


def before_sending(page: Page, bot: Stack) -> Before:
    events = tracker_events(bot, session_id(page))
    said = sum(1 for e in events if e.get("event") == "user")
    return Before(shown=len(transcript(page)), said=said, events=len(events))


def wait_turn(page: Page, bot: Stack, before: Before) -> None:
    """Wait for the whole of the bot's turn to the message sent after `before`.

    Rasa records a turn once, at its end, after sending all its replies: the turn is over when
    the server's tracker holds the message. The page has then received them all (or soon
    will): wait until its transcript holds exactly the replies the tracker recorded (but for
    the passphrase, which the tracker never keeps).
    """
    sid = session_id(page)
    (expected,) = wait_until(
        lambda: turn_replies(bot, sid, before),
        lambda: f"the server to record the turn to message {before.said + 1} of {sid[:8]}…",
        timeout=WAIT_S,
        interval=0.1,
    )
    wait_until(
        lambda: kept_on_file(shown_replies(page, before.shown)) == expected,
        lambda: f"the page to show the replies {expected} (shown: "
        f"{shown_replies(page, before.shown)})",
        timeout=WAIT_S,
        interval=0.05,
    )
    page.locator("#typing").wait_for(state="hidden", timeout=WAIT_MS)


def send_and_wait(page: Page, bot: Stack, send: Callable[[], None]) -> None:
    """`send()` one message (typed, or a choice pressed), then wait for the whole reply."""
    before = before_sending(page, bot)
    send()
    wait_turn(page, bot, before)


def type_and_send(page: Page, bot: Stack, text: str) -> None:
    box = page.get_by_role("textbox", name="Votre message")

    def send() -> None:
        box.fill(text)
        box.press("Enter")

    send_and_wait(page, bot, send)


def session_id(page: Page) -> str:
    value = page.evaluate("JSON.parse(sessionStorage.getItem('riposte.session'))")
    assert isinstance(value, str)
    return value


def transcript(page: Page) -> list[dict[str, Any]]:
    """The conversation as the page keeps it (sessionStorage): the texts as received."""
    entries = page.evaluate("JSON.parse(sessionStorage.getItem('riposte.transcript') || '[]')")
    assert isinstance(entries, list)
    return entries


def paragraphs(text: str | None, buttons: list[dict[str, Any]] | None) -> list[str]:
    """A reply as comparable pieces: its paragraphs (Rasa's socket.io channel sends each as a
    message of its own) and its buttons' titles."""
    pieces = [part.strip() for part in (text or "").split("\n\n") if part.strip()]
    return pieces + [f"[{button.get('title')}]" for button in buttons or []]


def kept_on_file(replies: list[str]) -> list[str]:
    """The replies as the tracker keeps them: the passphrase shown once is masked there."""
    return [mask_shown_passphrase(reply) for reply in replies]


def shown_replies(page: Page, since: int) -> list[str]:
    """The bot's replies in the page's transcript from entry `since` on."""
    entries = [e for e in transcript(page)[since:] if e.get("who") == "bot"]
    return [piece for e in entries for piece in paragraphs(e.get("text"), e.get("buttons"))]


def tracker_events(bot: Stack, browser_session: str) -> list[dict[str, Any]]:
    pseudonym = bot.pseudonym(browser_session, channel="socketio")
    url = bot.url(f"/conversations/{pseudonym}/tracker?token={bot.token}")
    with urllib.request.urlopen(url, timeout=30) as response:
        tracker = json.loads(response.read())
    return tracker["events"]  # type: ignore[no-any-return]


def user_texts(bot: Stack, browser_session: str) -> list[str]:
    return [e.get("text") for e in tracker_events(bot, browser_session) if e.get("event") == "user"]


def turn_replies(bot: Stack, browser_session: str, before: Before) -> tuple[list[str], ...]:
    """The bot's replies recorded since `before`, once the server recorded the turn of the
    message sent then (an empty tuple before; a turn without replies gives `([],)`)."""
    events = tracker_events(bot, browser_session)
    if sum(1 for e in events if e.get("event") == "user") <= before.said:
        return ()
    replies = []
    for event in events[before.events :]:
        if event.get("event") == "bot":
            data = event.get("data") or {}
            buttons = data.get("buttons") or data.get("quick_replies")
            replies += paragraphs(event.get("text"), buttons)
    return (replies,)


def tab_to(page: Page, reached: str) -> bool:
    """Press Tab until the JavaScript expression `reached` is true of the focused element.

    A walk through the page's tab order, not a wait (the page is settled before): it stops
    after as many presses as the page has elements that could take the focus, and a few more
    for the document itself, by which point the focus has been everywhere.
    """
    stops = page.evaluate(
        "document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]').length"
    )
    for _ in range(int(stops) + 3):
        page.keyboard.press("Tab")
        if page.evaluate(f"(element => {reached})(document.activeElement)"):
            return True
    return False


def axe_violations(page: Page) -> str:
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    results = Axe().run(page, options=options)
    return "" if results.violations_count == 0 else results.generate_report()


def test_page_is_accessible_and_names_its_controls(context: BrowserContext, bot: Stack) -> None:
    page = open_chat(context, bot)
    assert page.locator("html").get_attribute("lang") == "fr"
    log = page.get_by_role("log")
    assert log.get_attribute("aria-live") == "polite"
    assert page.get_by_role("textbox", name="Votre message").is_visible()
    assert page.get_by_role("button", name="Envoyer").is_visible()
    assert page.get_by_role("button", name="Quitter rapidement").is_visible()
    # The greeting's **Riposte** is bold, and its choice is a button.
    assert log.locator("strong", has_text="Riposte").count() >= 1
    send_and_wait(page, bot, page.get_by_role("button", name="Ce que je peux faire").click)
    assert log.locator("li").count() >= 3  # the "- …" lines are a real list
    report = axe_violations(page)
    assert report == "", report
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webchat.png"))


def test_keyboard_alone_reaches_choices_and_sends(context: BrowserContext, bot: Stack) -> None:
    page = open_chat(context, bot)
    assert tab_to(page, "element.textContent === 'Ce que je peux faire'")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # a visible focus ring
    send_and_wait(page, bot, lambda: page.keyboard.press("Enter"))
    assert page.locator(".entry.user").last.inner_text().endswith("Ce que je peux faire")
    assert tab_to(page, "element.id === 'message'")

    def type_question() -> None:
        page.keyboard.type("qui es-tu ?")
        page.keyboard.press("Enter")

    send_and_wait(page, bot, type_question)
    assert page.locator(".entry.user").last.inner_text().endswith("qui es-tu ?")


def test_conversation_survives_a_reload(context: BrowserContext, bot: Stack) -> None:
    page = open_chat(context, bot)
    first = "Depuis hier je reçois des insultes sur Twitter après un avis"
    type_and_send(page, bot, first)
    shown = page.get_by_role("log").inner_text()
    sid = session_id(page)
    assert len(sid) >= 43  # 256 random bits, drawn by the server
    page.get_by_role("textbox", name="Votre message").fill("un brouillon pas encore envoyé")

    page.reload()
    page.locator(".entry.bot").first.wait_for(timeout=WAIT_MS)
    assert page.get_by_role("log").inner_text() == shown
    # The transcript is shown at once; sending needs the session confirmed again.
    page.wait_for_function("() => window.riposteSessionConfirms > 0", timeout=WAIT_MS)
    assert session_id(page) == sid
    box = page.get_by_role("textbox", name="Votre message")
    assert box.input_value() == "un brouillon pas encore envoyé"
    type_and_send(page, bot, "oui")
    # The same conversation on the server: both messages, before and after the reload.
    texts = user_texts(bot, sid)
    assert texts[-2:] == [first, "oui"], texts


def test_screenshot_upload_checks_type_and_size_on_both_sides(
    context: BrowserContext, bot: Stack
) -> None:
    page = open_chat(context, bot)
    for text in (
        "ajouter une preuve",
        "https://x.com/zorglub_vindicatif/status/42",
        "hier vers 21 h 30",
        "@zorglub_vindicatif",
        "« escroc, tu finiras en prison »",
        "le même jour",
        "oui",  # to the case file the evidence journal is kept in: opened, the item filed
    ):
        type_and_send(page, bot, text)
    field = page.get_by_label("Joindre la capture d'écran (image ou PDF, 10 Mo au plus)")
    send = page.get_by_role("button", name="Envoyer la capture")
    note = page.locator(".upload-status")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)

    field.set_input_files({"name": "notes.txt", "mimeType": "text/plain", "buffer": b"x"})
    send.click()
    assert "ni une image" in note.inner_text()
    big = {"name": "big.png", "mimeType": "image/png", "buffer": b"\0" * (10 * 1024 * 1024 + 1)}
    field.set_input_files(big)
    send.click()
    assert "dépasse 10 Mo" in note.inner_text()
    assert posts == []  # refused in the page, nothing sent

    # A file that claims to be an image is checked by content on the server.
    fake = {"name": "faux.png", "mimeType": "image/png", "buffer": b"<html>pas une image"}
    field.set_input_files(fake)
    send.click()
    page.wait_for_function(
        "() => document.querySelector('.upload-status').textContent.includes('ni une image ni')",
        timeout=WAIT_MS,
    )
    assert len(posts) == 1

    field.set_input_files({"name": "capture.png", "mimeType": "image/png", "buffer": PNG})
    send.click()
    page.wait_for_function(
        "() => document.querySelector('.upload-status').textContent.includes('Capture enreg')",
        timeout=WAIT_MS,
    )
    assert hashlib.sha256(PNG).hexdigest()[:16] in note.inner_text()
    report = axe_violations(page)
    assert report == "", report
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webchat-upload.png"))
    page.set_viewport_size({"width": 375, "height": 740})
    page.screenshot(path=str(ARTIFACTS / "webchat-phone.png"))

    page.reload()
    page.locator(".upload-status").wait_for(timeout=WAIT_MS)
    assert "Capture enregistrée" in page.locator(".upload-status").inner_text()


def test_phone_sized_screen(browser: Browser, bot: Stack) -> None:
    ctx = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True)
    ctx.set_default_timeout(WAIT_MS)
    try:
        page = open_chat(ctx, bot)
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1]  # nothing wider than the screen
        for name in ("Quitter rapidement", "Envoyer"):
            box = page.get_by_role("button", name=name).bounding_box()
            assert box is not None and box["y"] + box["height"] <= 640 and box["height"] >= 24
        assert page.get_by_role("textbox", name="Votre message").is_visible()
        report = axe_violations(page)
        assert report == "", report
    finally:
        ctx.close()


def test_quick_exit_clears_the_tab_and_leaves(context: BrowserContext, bot: Stack) -> None:
    page = open_chat(context, bot)
    type_and_send(page, bot, "on a publié mon adresse personnelle")
    old = session_id(page)
    page.get_by_role("textbox", name="Votre message").fill("brouillon")
    page.get_by_role("button", name="Quitter rapidement").click()
    page.wait_for_url(QUICK_EXIT + "**", timeout=WAIT_MS)
    # The chat was replaced in the history: "back" does not show it again.
    page.go_back()
    assert f":{bot.web_port}/" not in page.url
    # Back on the page: nothing of the conversation, a new session.
    page.goto(f"http://127.0.0.1:{bot.web_port}/")
    assert page.locator(".entry.user").count() == 0
    assert page.get_by_role("textbox", name="Votre message").input_value() == ""
    page.locator(".entry.bot").first.wait_for(timeout=WAIT_MS)
    assert session_id(page) != old


def test_new_conversation_starts_afresh(context: BrowserContext, bot: Stack) -> None:
    page = open_chat(context, bot)
    type_and_send(page, bot, "je reçois des menaces")
    old = session_id(page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Nouvelle conversation").click()
    page.wait_for_function(
        "old => JSON.parse(sessionStorage.getItem('riposte.session') || 'null') !== old"
        " && document.querySelectorAll('.entry.bot').length >= 1",
        arg=old,
        timeout=WAIT_MS,
    )
    assert page.locator(".entry.user").count() == 0
    assert session_id(page) != old


def test_texts_are_never_html(context: BrowserContext, bot: Stack) -> None:
    page = open_chat(context, bot)
    hostile = '<img src=x onerror="window.pwned=1"><b>gras</b> {{ 7*7 }}'
    type_and_send(page, bot, hostile)
    mine = page.locator(".entry.user").last
    assert mine.inner_text().endswith(hostile)
    assert page.locator(".entry img, .entry b").count() == 0
    assert page.evaluate("window.pwned") is None

    # The renderer of the bot's messages, on hostile and rich text.
    rendered: dict[str, Any] = page.evaluate(
        """() => {
          const div = document.createElement('div');
          const extras = {uploads: []};
          RiposteRender.appendRich(div,
            "<script>window.pwned=2</script> **gras** javascript:alert(1)\\n" +
            "- PDF : http://localhost:8080/lettres/abc_DEF-1.pdf\\n" +
            "- page : http://localhost:8080/pieces/tok-123.\\n" +
            "1. premier\\n2. second https://www.cnil.fr/plaintes).", extras);
          return {
            html: div.innerHTML,
            scripts: div.querySelectorAll('script').length,
            strong: div.querySelector('strong').textContent,
            download: div.querySelector('a.download').getAttribute('href'),
            hasDownload: div.querySelector('a.download').hasAttribute('download'),
            label: div.querySelector('a.download').textContent,
            uploads: extras.uploads,
            external: div.querySelector('ol a').getAttribute('href'),
            rel: div.querySelector('ol a').rel,
            items: div.querySelectorAll('li').length,
          };
        }"""
    )
    assert rendered["scripts"] == 0 and "&lt;script&gt;" in rendered["html"]
    assert rendered["strong"] == "gras"
    assert "javascript:" not in "".join(
        a for a in [rendered["download"], rendered["external"]] if a
    )
    assert rendered["download"] == "/lettres/abc_DEF-1.pdf" and rendered["hasDownload"]
    assert rendered["label"] == "Télécharger la lettre (PDF)"
    assert rendered["uploads"] == ["/pieces/tok-123"]
    assert rendered["external"] == "https://www.cnil.fr/plaintes"
    assert "noopener" in rendered["rel"]
    assert rendered["items"] == 4


def test_a_too_long_message_is_refused_and_kept(context: BrowserContext, bot: Stack) -> None:
    page = open_chat(context, bot)
    sid = session_id(page)
    before = user_texts(bot, sid)
    text = "a" * 50_000
    box = page.get_by_role("textbox", name="Votre message")
    box.fill(text)
    box.press("Enter")
    assert "trop long" in page.get_by_role("alert").inner_text()
    assert box.input_value() == text  # nothing lost
    assert page.locator(".entry.user").count() == 0
    assert user_texts(bot, sid) == before
