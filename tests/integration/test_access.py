"""Access through the running stack: no endpoint lists or reads another person's case.

Doctor A opens a case in the chat; from another sender, the only way in is A's code with A's
secret (tests/integration/test_case_file.py checks the right and wrong secret). Here every
other door is tried: payloads naming slots or entities, REST metadata, the Rasa HTTP API
without or with a wrong token, the web server's paths (listing, traversal, forged letter and
upload links), and where the action server listens.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.action_calls import action_call
from tests.integration.conftest import Stack
from tests.integration.test_case_file import HANDLE, repository, start_case, texts

OWNER = "access-owner"
INTRUDER = "access-intruder"


def status_and_body(url: str, data: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def say_raw(bot: Stack, body: dict[str, Any]) -> list[dict[str, Any]]:
    status, raw = status_and_body(bot.url("/webhooks/rest/webhook"), json.dumps(body).encode())
    assert status == 200, raw
    return json.loads(raw)  # type: ignore[no-any-return]


def outward_address() -> str | None:
    """This machine's address on its default route (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("198.51.100.1", 9))  # TEST-NET-2: never reached
        except OSError:
            return None
        address = str(s.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@pytest.fixture(scope="module")
def owner_case(bot: Stack) -> tuple[str, str]:
    return start_case(bot, OWNER)


def test_forged_payloads_do_not_open_another_persons_case(
    bot: Stack, owner_case: tuple[str, str]
) -> None:
    code, secret = owner_case
    before = repository(bot).open_case(code, secret).to_dict()
    attempts = [
        f'/inform{{"case_code": "{code}"}}',
        f'/resume_case{{"case_code": "{code}"}}',
        f'/ask_deadlines{{"case_code": "{code}", "platforms": ["x"]}}',
        '/send_evidence_file{"evidence_file_ref": "1"}',
        f'/send_evidence_file{{"evidence_file_ref": "{code}"}}',
        "où en est mon dossier ?",
        "quels sont mes délais ?",
        f"reprendre le dossier {code}",
        "je veux supprimer mon dossier",
        "oui",
    ]
    seen = ""
    for message in attempts:
        seen += texts(say_raw(bot, {"sender": INTRUDER, "message": message})) + "\n"
    metadata = {"case_code": code, "sender_id": bot.pseudonym(OWNER), "input_channel": "rest"}
    seen += texts(
        say_raw(bot, {"sender": INTRUDER, "message": "mes délais ?", "metadata": metadata})
    )
    assert HANDLE not in seen and secret not in seen
    assert bot.slots(INTRUDER)["case_code"] != code, seen
    assert bot.slots(INTRUDER)["platforms"] is None
    # The owner's case is untouched, and still the owner's.
    assert repository(bot).open_case(code, secret).to_dict() == before
    assert bot.slots(OWNER)["case_code"] == code


def test_the_http_api_reads_no_conversation_without_the_token(
    stacks: dict[str, Stack], owner_case: tuple[str, str]
) -> None:
    bot = stacks["token"]
    pseudonym = bot.pseudonym(OWNER)
    for token in ("", "?token=", "?token=wrong-token-0123456789", f"?token={bot.token}x"):
        status, body = status_and_body(bot.url(f"/conversations/{pseudonym}/tracker{token}"))
        assert status in (401, 403), (token, status)
        assert HANDLE.encode() not in body
    # Without a token configured the API is not there at all (no route, no listing).
    plain = stacks["plain"]
    for path in (f"/conversations/{pseudonym}/tracker", "/conversations", "/status"):
        status, _ = status_and_body(plain.url(path))
        assert status in (401, 403, 404, 405), (path, status)


def test_the_web_server_lists_nothing_and_serves_only_signed_links(
    bot: Stack, owner_case: tuple[str, str]
) -> None:
    code, _ = owner_case
    forged_letter = f"/lettres/{code}-1.pdf"
    paths = [
        "/lettres/",
        "/letters/",
        forged_letter,
        "/pieces/",
        f"/pieces/{code}",
        "/var/",
        "/../var/riposte.db",
        "/%2e%2e/var/tracker.db",
        "/..%2f..%2fvar%2fsecret.key",
        "/vendor/",
        "/cases",
    ]
    for path in paths:
        status, body = status_and_body(bot.url(path, port=bot.web_port))
        assert status in (403, 404), (path, status)
        assert code.encode() not in body and HANDLE.encode() not in body
        assert b"Directory listing" not in body and b"<li><a href" not in body


def test_the_action_server_listens_on_loopback_only(bot: Stack) -> None:
    """The action server trusts the conversation Rasa sends it: only Rasa may reach it."""
    address = outward_address()
    if address is None:
        pytest.fail("No network interface other than loopback: cannot check the binding.")
    # The Rasa server answers on that address only if RIPOSTE_HOST opens it: same binding.
    for port in (bot.actions_port, bot.rasa_port):
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((address, port)) != 0, (address, port)
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex(("127.0.0.1", bot.actions_port)) == 0


def test_a_forged_call_to_the_action_server_is_refused(
    bot: Stack, owner_case: tuple[str, str]
) -> None:
    code, secret = owner_case
    before = repository(bot).open_case(code, secret).to_dict()
    url = f"http://127.0.0.1:{bot.actions_port}/webhook"
    for action in ("action_complaint_summary", "action_deliver_complaint", "action_delete_case"):
        for headers in ({}, {"Authorization": "Bearer " + "x" * 43}):
            request = urllib.request.Request(
                url, data=json.dumps(action_call(action, code)).encode()
            )
            for name, value in {"Content-Type": "application/json", **headers}.items():
                request.add_header(name, value)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status, body = int(response.status), response.read()
            except urllib.error.HTTPError as error:
                status, body = int(error.code), error.read()
            assert status == 401, (action, headers, status)
            assert HANDLE.encode() not in body and b"/lettres/" not in body
    assert repository(bot).open_case(code, secret).to_dict() == before


def test_a_case_code_slot_set_through_the_api_opens_nothing(
    bot: Stack, owner_case: tuple[str, str]
) -> None:
    """With the API token one can put any slot in a conversation and run any action: Rasa then
    calls the action server with the secret, but the case is not that conversation's."""
    code, secret = owner_case
    before = repository(bot).open_case(code, secret).to_dict()
    sender = "access-api-intruder"
    bot.say(sender, "bonjour")
    conversation = f"/conversations/{bot.pseudonym(sender)}"
    said = {}
    for named in (code, "RIP-0000-00"):
        events = [{"event": "slot", "name": "case_code", "value": named}]
        status, raw = status_and_body(
            bot.url(f"{conversation}/tracker/events?token={bot.token}"), json.dumps(events).encode()
        )
        assert status == 200, raw
        status, raw = status_and_body(
            bot.url(f"{conversation}/execute?token={bot.token}"),
            json.dumps({"name": "action_complaint_summary"}).encode(),
        )
        assert status == 200, raw
        said[named] = texts(json.loads(raw)["messages"])
    assert said[code] == said["RIP-0000-00"], said  # as for a code that does not exist
    assert HANDLE not in said[code]
    assert repository(bot).open_case(code, secret).to_dict() == before
