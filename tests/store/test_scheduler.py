"""The follow-up scheduler against a stand-in for the Rasa server's follow-up channel: the
request it makes, what a success, a refusal and a channel down do to the follow-up (the real
channel is tested in tests/channels/test_follow_up_channel.py, the real stack in
tests/integration/test_follow_ups_stack.py)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from riposte.scheduler import Scheduler
from riposte.store.repository import CaseRepository
from tests.store.test_follow_ups import SENDER, new_case, paris, rows, sync

SECRET = "secret-d-action-de-test-0123456789"


class FakeRasa(http.server.ThreadingHTTPServer):
    """Answers like the follow-up channel: the action takes the follow-up (the store call
    `action_follow_up` makes), then the channel sends, or fails with 502 when `down`."""

    def __init__(self, repo: CaseRepository) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.repo = repo
        self.down = False
        self.requests: list[dict[str, Any]] = []
        self.said: list[Any] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(http.server.BaseHTTPRequestHandler):
    server: FakeRasa

    def log_message(self, *_: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(
            {
                "path": self.path,
                "token": self.headers.get("X-Riposte-Follow-Up-Token"),
                "body": body,
            }
        )
        taken = self.server.repo.take_follow_up(body["follow_up"], body["sender"])
        if taken is not None:
            self.server.said.append(taken)
        status = 502 if self.server.down and taken is not None else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")


@pytest.fixture
def rasa(repo: CaseRepository) -> Iterator[FakeRasa]:
    server = FakeRasa(repo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_due_follow_up_is_triggered_in_its_conversation_once(
    repo: CaseRepository, rasa: FakeRasa
) -> None:
    code = new_case(repo)
    sync(repo, code)
    at = paris("2027-01-11", 10)
    scheduler = Scheduler(repo, rasa.url, SECRET, now=lambda: at)
    assert scheduler.run_once().sent == 1
    (request,) = rasa.requests
    assert request["path"] == "/webhooks/follow_ups/webhook"
    assert request["token"] == SECRET
    assert (request["body"]["sender"], request["body"]["channel"]) == (SENDER, "telegram")
    assert [f.facts["days"] for f in rasa.said] == [30]
    assert [r.state for r in rows(repo)] == ["sent", "due", "due"]
    assert scheduler.run_once().sent == 0  # nothing more is due
    assert len(rasa.requests) == 1


def test_a_channel_down_is_tried_again_until_it_comes_back(
    repo: CaseRepository, rasa: FakeRasa
) -> None:
    code = new_case(repo)
    sync(repo, code)
    now = [paris("2027-01-11", 10)]
    scheduler = Scheduler(repo, rasa.url, SECRET, now=lambda: now[0])
    rasa.down = True
    assert scheduler.run_once().failed == 1
    assert rows(repo)[0].state == "due" and rows(repo)[0].attempts == 1
    assert scheduler.run_once().failed == 0  # waits before trying again
    now[0] += timedelta(seconds=30)
    assert scheduler.run_once().failed == 1
    rasa.down = False
    now[0] += timedelta(seconds=30)
    assert scheduler.run_once().sent == 0  # the wait doubled: 60 s now
    now[0] += timedelta(seconds=30)
    assert scheduler.run_once().sent == 1
    assert rows(repo)[0].state == "sent"
    assert len(rasa.said) == 3  # said twice into a channel down, then delivered


def test_rasa_unreachable_releases_the_claim(repo: CaseRepository) -> None:
    code = new_case(repo)
    sync(repo, code)
    at = paris("2027-01-11", 10)
    scheduler = Scheduler(repo, "http://127.0.0.1:9", SECRET, now=lambda: at, timeout=5)
    assert scheduler.run_once().failed == 1
    first = rows(repo)[0]
    assert first.state == "due" and first.claim is None
    assert first.next_try_at == at + timedelta(seconds=30)


def test_a_conversation_that_does_not_take_it_leaves_it_due(
    repo: CaseRepository, rasa: FakeRasa
) -> None:
    """Rasa answered 200 but the action said nothing (the claim was not this conversation's,
    or the follow-up was stopped meanwhile): it is not counted as sent."""
    code = new_case(repo)
    sync(repo, code)
    repo.stop_follow_ups(code, actor="chat", conversation=("chat", SENDER))
    assert (
        Scheduler(repo, rasa.url, SECRET, now=lambda: paris("2027-01-11", 10)).run_once().sent == 0
    )
    assert rasa.requests == []  # stopped: not even claimed
    repo.resume_follow_ups(code, actor="chat", conversation=("chat", SENDER))
    sync(repo, code, today=date(2026, 11, 24))
    assert (
        Scheduler(repo, rasa.url, SECRET, now=lambda: paris("2027-01-11", 10)).run_once().sent == 1
    )
