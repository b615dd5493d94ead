"""The foundation's acceptance, against the real processes started by `riposte serve`."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.integration.conftest import Stack, http_status


def test_rest_channel_greets_in_french_and_says_it_is_not_a_lawyer(stack: Stack) -> None:
    replies = stack.say("t1", "Bonjour")
    text = " ".join(r.get("text", "") for r in replies)
    assert "Riposte" in text
    assert "pas avocat" in text
    # Rasa knows the sender only by its pseudonym (riposte/channels).
    assert replies[0]["recipient_id"] == stack.pseudonym("t1") != "t1"


def test_fallback_offers_the_main_choices_as_buttons(stack: Stack) -> None:
    replies = stack.say("t-fallback", "xqzv wplk brr")
    buttons = [b for r in replies for b in r.get("buttons", [])]
    assert buttons, replies
    assert all(b["payload"].startswith("/") for b in buttons)


@pytest.mark.parametrize("answer", ["oui", "non"])
def test_a_yes_or_no_with_nothing_to_answer_offers_the_main_choices(
    stack: Stack, answer: str
) -> None:
    replies = stack.say(f"t-first-{answer}", answer)
    buttons = [b for r in replies for b in r.get("buttons", [])]
    assert any(b["payload"] == "/request_help" for b in buttons), replies


def test_web_page_is_served_with_security_headers(stack: Stack) -> None:
    with urllib.request.urlopen(stack.url("/", stack.web_port), timeout=10) as response:
        body = response.read().decode()
        assert response.status == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        policy = response.headers["Content-Security-Policy"]
    assert '<html lang="fr">' in body
    assert "Votre message" in body
    # Scripts only from the page itself; connections only to the page and its Rasa server.
    assert "script-src 'self';" in policy
    rasa = f"127.0.0.1:{stack.rasa_port}"
    assert f"connect-src 'self' http://{rasa} ws://{rasa};" in policy
    with urllib.request.urlopen(stack.url("/config.json", stack.web_port), timeout=10) as r:
        config = json.loads(r.read())
    assert config["rasaPort"] == stack.rasa_port
    assert config["socketPath"] == "/socket.io/"
    assert config["maxMessageChars"] == 5000
    assert config["quickExitUrl"].startswith("https://")


def test_rasa_refuses_a_body_over_1_mb_and_tells_no_version(stack: Stack) -> None:
    """Sanic's limit (SANIC_REQUEST_MAX_SIZE, set by `riposte serve`) answers before any
    channel reads the body; Rasa's root says nothing of its version; neither does the page."""
    body = json.dumps({"sender": "t-big", "message": "x" * 2_000_000}).encode()
    request = urllib.request.Request(
        stack.url("/webhooks/rest/webhook"),
        data=body,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (ConnectionError, urllib.error.URLError):
        status = 413  # Sanic may close before the whole body is sent: refused all the same
    assert status == 413
    with urllib.request.urlopen(stack.url("/"), timeout=10) as response:
        assert response.read().decode() == "Hello from Rasa"
    with urllib.request.urlopen(stack.url("/", stack.web_port), timeout=10) as response:
        assert response.headers["Server"] == "Riposte"
    assert stack.say("t-big", "Bonjour")  # still answering


def test_http_api_is_off_without_a_token(stack: Stack) -> None:
    stack.say("t1", "Bonjour")
    assert http_status(stack.url("/conversations/t1/tracker")) == 404
    assert "désactivée" in stack.output()


def test_http_api_requires_the_configured_token(stacks: dict[str, Stack]) -> None:
    stack = stacks["token"]
    stack.say("t2", "Bonjour")
    assert http_status(stack.url("/conversations/t2/tracker")) == 401
    assert http_status(stack.url("/conversations/t2/tracker?token=wrong-token-123456")) == 401
    url = stack.url(f"/conversations/{stack.pseudonym('t2')}/tracker?token={stack.token}")
    with urllib.request.urlopen(url, timeout=10) as response:
        tracker = json.loads(response.read())
    assert tracker["sender_id"] == stack.pseudonym("t2")
    assert any(e.get("text") == "Bonjour" for e in tracker["events"] if e["event"] == "user")


def test_conversation_is_kept_in_the_sqlite_tracker_store(stack: Stack) -> None:
    stack.say("t-store", "Bonjour")
    db = stack.var_dir / "tracker.db"
    assert db.is_file() and db.stat().st_size > 0
