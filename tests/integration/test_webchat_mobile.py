"""The web page's layout on a phone (390×780, a common size) and on a desktop screen, in
headless Chromium against the real stack (see test_webchat.py for the page's behaviour).

The page must be exactly the screen's height: the conversation scrolls inside its own area, the
input stays at the bottom, nothing is wider than the screen. Measured after a real conversation:
long bot messages with lists, and choices of several buttons.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.integration.conftest import Stack
from tests.integration.test_webchat import (
    ARTIFACTS,
    WAIT_MS,
    open_chat,
    type_and_send,
)

PHONE = {"width": 390, "height": 780}
# What a 780-pixel-high phone leaves above its on-screen keyboard, once the browser resizes the
# page for it (`interactive-widget=resizes-content` in the page's viewport tag).
PHONE_WITH_KEYBOARD = {"width": 390, "height": 440}
DESKTOP = {"width": 1280, "height": 800}
# The page's margin around the conversation area (.5rem on a phone, .75rem on a desktop), with
# a pixel for rounding: the area's bottom edge is at most this far from the screen's.
MARGIN_PX = 13
DESCRIPTION = (
    "Un patient a laissé un avis injurieux et mensonger sur ma fiche Google, "
    "il dit que je suis un charlatan"
)
# docs/webchat-mobile.png is a copy of it.
SCREENSHOT = ARTIFACTS / "webchat-mobile.png"

# Where the page's parts are, once the document is scrolled as far as it goes (what a finger
# pulling the conversation up does when the conversation is already at its end).
LAYOUT = """() => {
  window.scrollTo(0, document.documentElement.scrollHeight);
  const box = (element) => {
    const r = element.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, left: r.left, right: r.right};
  };
  const one = (selector) => box(document.querySelector(selector));
  const all = (selector) => Array.from(document.querySelectorAll(selector), box);
  return {
    width: window.innerWidth,
    height: window.innerHeight,
    scrollWidth: document.documentElement.scrollWidth,
    scrollHeight: document.documentElement.scrollHeight,
    scrollY: window.scrollY,
    page: one('.page'),
    chat: one('.chat'),
    messages: one('#messages'),
    composer: one('#composer'),
    textbox: one('#message'),
    send: one('#send'),
    bubbles: all('.bubble'),
    choices: Array.from(document.querySelectorAll('.choices'),
                        (group) => Array.from(group.querySelectorAll('button'), box)),
  };
}"""


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="fr-FR")
    ctx.set_default_timeout(WAIT_MS)
    yield ctx
    ctx.close()


def layout(page: Page) -> dict[str, Any]:
    measured: dict[str, Any] = page.evaluate(LAYOUT)
    return measured


def assert_fills_the_screen(shown: dict[str, Any]) -> None:
    """The page is the screen's height, no more: the conversation area reaches the screen's
    bottom edge, with the input inside it, and the document itself never scrolls."""
    height = shown["height"]
    assert shown["scrollHeight"] <= height and shown["scrollY"] == 0, shown
    assert height - MARGIN_PX <= shown["chat"]["bottom"] <= height, shown["chat"]
    composer = shown["composer"]
    assert shown["chat"]["top"] < composer["top"] and composer["bottom"] <= shown["chat"]["bottom"]
    for part in ("textbox", "send"):
        assert 0 <= shown[part]["top"] and shown[part]["bottom"] <= height, (part, shown[part])


def assert_nothing_wider_than_the_screen(shown: dict[str, Any]) -> None:
    width = shown["width"]
    assert shown["scrollWidth"] <= width, shown["scrollWidth"]
    for box in shown["bubbles"] + [b for group in shown["choices"] for b in group]:
        assert 0 <= box["left"] and box["right"] <= width, box


def test_phone_conversation_uses_the_whole_screen(phone: BrowserContext, bot: Stack) -> None:
    page = open_chat(phone, bot)
    # A description, then the triage's last questions: the advice follows, with its choices
    # as buttons; then the whole checklist, a long message with lists.
    type_and_send(page, bot, DESCRIPTION)
    type_and_send(page, bot, "hier")
    type_and_send(page, bot, "en libéral")
    type_and_send(page, bot, "toutes les étapes")
    log = page.get_by_role("log")
    assert log.locator(".bubble li").count() >= 10  # the summary's and the checklist's lists
    shown = layout(page)
    widest_choice = max(shown["choices"], key=len)
    assert len(widest_choice) >= 4, shown["choices"]
    # Too many to stand side by side on a phone: the buttons go on several lines.
    assert len({round(b["top"]) for b in widest_choice}) >= 2, widest_choice
    assert_nothing_wider_than_the_screen(shown)
    assert_fills_the_screen(shown)
    assert page.get_by_role("textbox", name="Votre message").is_visible()
    assert page.get_by_role("button", name="Envoyer").is_visible()
    # The conversation scrolls inside its own area, down to its last message.
    last = page.locator(".entry").last.bounding_box()
    assert last is not None and last["y"] + last["height"] <= shown["messages"]["bottom"] + 1


def test_phone_input_stays_in_view_above_the_keyboard(phone: BrowserContext, bot: Stack) -> None:
    page = open_chat(phone, bot)
    type_and_send(page, bot, DESCRIPTION)
    assert_fills_the_screen(layout(page))
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))

    box = page.get_by_role("textbox", name="Votre message")
    box.focus()
    page.set_viewport_size(PHONE_WITH_KEYBOARD)
    shown = layout(page)
    assert_fills_the_screen(shown)
    assert_nothing_wider_than_the_screen(shown)
    assert shown["messages"]["bottom"] - shown["messages"]["top"] >= 64  # still a few lines
    assert page.get_by_role("button", name="Quitter rapidement").is_visible()
    box.fill("un brouillon")
    assert page.get_by_role("button", name="Envoyer").is_enabled()
    # Real phones: the browser resizes the page for its keyboard (as set_viewport_size did
    # here), and lets the page use the whole screen, the safe-area insets keeping it clear of
    # a notch or the home bar.
    viewport = page.locator("meta[name=viewport]").get_attribute("content") or ""
    assert "interactive-widget=resizes-content" in viewport and "viewport-fit=cover" in viewport


def test_desktop_keeps_its_centred_column(browser: Browser, bot: Stack) -> None:
    ctx = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    ctx.set_default_timeout(WAIT_MS)
    try:
        page = open_chat(ctx, bot)
        type_and_send(page, bot, DESCRIPTION)
        type_and_send(page, bot, "hier")
        shown = layout(page)
        assert_fills_the_screen(shown)
        assert_nothing_wider_than_the_screen(shown)
        column = shown["page"]
        # One column of 52rem, in the middle of the screen.
        assert column["right"] - column["left"] == 52 * 16
        assert abs(column["left"] - (DESKTOP["width"] - column["right"])) <= 1
        assert page.locator("#hint").is_visible()
        assert page.locator(".tagline").is_visible()
    finally:
        ctx.close()
