"""The follow-up scheduler: sends the follow-ups that fell due, through Rasa.

Every `interval` seconds it claims what is due in the case store (riposte/store/follow_ups.py:
one claimant per follow-up, whatever the number of schedulers and Rasa servers), then asks
Rasa to speak in the doctor's conversation, through the follow-up channel of the Rasa server
(riposte_rasa/channels/follow_ups.py; the action secret RIPOSTE_ACTION_SECRET opens it, Rasa's
public HTTP API is not needed):

    POST {rasa}/webhooks/follow_ups/webhook      X-Riposte-Follow-Up-Token: <action secret>
    {"sender": "<conversation>", "channel": "telegram|signal", "follow_up": "<id>.<claim>"}

Rasa runs `action_follow_up` (actions/follow_ups.py) on `/follow_up_due`, which marks the
follow-up sent with the claim and says it through the channel: the message is a normal bot
turn of the conversation.
Rasa answers 200 once the channel took it; on any failure (the channel down, Rasa
unreachable, a timeout) the follow-up is released and tried again after a wait that doubles
(30 s up to an hour). A scheduler killed mid-way leaves a claim that lapses after 5 minutes;
a follow-up already sent is never claimed again.

What is persisted is all in the database: the scheduler keeps nothing in memory across
turns, and survives restarts. Logs carry the follow-up's number, kind and channel, never a
case code, a conversation or a text.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from riposte import clock
from riposte.store.errors import StoreError
from riposte.store.follow_ups import Claimed
from riposte.store.repository import CaseRepository

logger = logging.getLogger("riposte.scheduler")

PATH = "/webhooks/follow_ups/webhook"
TOKEN_HEADER = "X-Riposte-Follow-Up-Token"
DEFAULT_INTERVAL = 60.0  # seconds between two passes
HTTP_TIMEOUT = 120.0  # Rasa runs the action, then the channel sends: allow for a slow one
BATCH = 20


@dataclass(frozen=True)
class Pass:
    """What one pass did: follow-ups sent, and those that must be tried again."""

    sent: int = 0
    failed: int = 0


class Scheduler:
    def __init__(
        self,
        repo: CaseRepository,
        rasa_url: str,
        secret: str,
        *,
        now: Callable[[], datetime] = clock.now,
        timeout: float = HTTP_TIMEOUT,
    ) -> None:
        self.repo = repo
        self.rasa_url = rasa_url.rstrip("/")
        self.secret = secret
        self.now = now
        self.timeout = timeout

    def run_once(self) -> Pass:
        """Claim what is due now and send it; never raises for a store or channel failure."""
        try:
            claimed = self.repo.claim_follow_ups(BATCH, now=self.now())
        except StoreError as error:
            logger.error("follow-ups: store unavailable (%s)", type(error).__name__)
            return Pass()
        sent = failed = 0
        for item in claimed:
            if self._send(item):
                sent += 1
            else:
                failed += 1
        return Pass(sent, failed)

    def run(self, stop: threading.Event, interval: float = DEFAULT_INTERVAL) -> None:
        """Pass after pass until `stop` is set (checked between passes and during the wait)."""
        while not stop.is_set():
            result = self.run_once()
            if result.sent or result.failed:
                continue  # there may be more: go on at once
            stop.wait(interval)

    def _send(self, item: Claimed) -> bool:
        body = {"sender": item.sender_id, "channel": item.channel, "follow_up": item.entity}
        request = urllib.request.Request(
            self.rasa_url + PATH,
            data=json.dumps(body).encode("utf-8"),
            method="POST",
            headers={"Content-Type": "application/json", TOKEN_HEADER: self.secret},
        )
        problem = None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as error:
            problem = f"HTTP {error.code}"
        except (urllib.error.URLError, OSError) as error:
            problem = type(error).__name__
        try:
            if problem is None:
                if self.repo.settle_follow_up(item, now=self.now()):
                    logger.info("follow-up %d (%s) sent on %s", item.id, item.kind, item.channel)
                    return True
                problem = "not said by the conversation"
            retry = self.repo.release_follow_up(item, now=self.now())
        except StoreError as error:
            logger.error("follow-ups: store unavailable (%s)", type(error).__name__)
            return False
        logger.warning(
            "follow-up %d (%s) not delivered on %s (%s): next try at %s",
            item.id,
            item.kind,
            item.channel,
            problem,
            retry.isoformat(timespec="seconds"),
        )
        return False
