"""Signal through the real stack (`riposte serve` with SIGNAL_NUMBER): the one bridge reads the
fake signal-cli-rest-api's websocket, Rasa answers through /v2/send, the connection is
re-established after a drop, the tracker store holds the pseudonym only, and an attachment the
doctor sends ends up in the case's evidence journal (channel → inbox → action server)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from devtools.waiting import wait_until
from riposte.store.config import StoreConfig
from riposte.store.repository import CaseRepository
from tests.channels.fake_signal_api import BOT_NUMBER
from tests.channels.inbox import PNG
from tests.channels.test_signal import SENDER_NUMBER, SENDER_UUID, envelope, with_attachment
from tests.integration.conftest import Fakes, Stack
from tests.integration.fakes import ThreadedSignal


@pytest.fixture(scope="module")
def signal_stack(stacks: dict[str, Stack], fakes: Fakes) -> tuple[Stack, ThreadedSignal]:
    """The shared token stack, started with SIGNAL_* pointing at the fake (conftest.py)."""
    return stacks["token"], fakes.signal


def test_a_message_is_answered_once_and_only_the_pseudonym_is_kept(
    signal_stack: tuple[Stack, ThreadedSignal],
) -> None:
    stack, fake = signal_stack
    fake.run(fake.api.wait_connections(1, timeout=60))
    fake.push(envelope("bonjour", timestamp=1))
    sent = fake.run(fake.api.wait_sent(1, timeout=60))
    assert sent[0]["recipients"] == [SENDER_UUID]
    assert sent[0]["number"] == BOT_NUMBER
    assert "Riposte" in sent[0]["message"]
    assert "1." in sent[0]["message"]  # the button, as a numbered choice
    # Rasa saves the conversation once the turn is over, just after the reply is sent.
    pseudonym = stack.pseudonym(SENDER_UUID, channel="signal").encode()

    def saved() -> bytes:
        content = (Path(stack.var_dir) / "tracker.db").read_bytes()
        return content if pseudonym in content else b""

    tracker = wait_until(
        saved,
        "the conversation saved under the sender's pseudonym",
        interval=0.2,
        ignoring=(FileNotFoundError,),
    )
    assert SENDER_UUID.encode() not in tracker and SENDER_NUMBER.encode() not in tracker


def test_the_bridge_reconnects_after_a_drop(signal_stack: tuple[Stack, ThreadedSignal]) -> None:
    stack, fake = signal_stack
    before = len(fake.api.sent)
    opened = fake.api.connections
    fake.run(fake.api.drop())
    fake.run(fake.api.wait_connections(opened + 1, timeout=60))
    fake.push(envelope("qui es-tu ?", timestamp=2))
    sent = fake.run(fake.api.wait_sent(before + 1, timeout=60))
    assert len(sent) >= before + 1
    assert stack.process.poll() is None


def test_an_attachment_sent_is_filed_in_the_case_with_its_fingerprint(
    signal_stack: tuple[Stack, ThreadedSignal],
) -> None:
    stack, fake = signal_stack
    fake.run(fake.api.wait_connections(1, timeout=60))
    other = "7e6d5c4b-3a29-4817-9605-f4e3d2c1b0a9"  # a doctor without a case yet
    fake.api.attachments["Xy7Kq2Lm9Pn4.png"] = PNG
    body = with_attachment("Xy7Kq2Lm9Pn4.png", PNG, text="capture du raid")
    body["envelope"]["sourceUuid"] = other
    before = len(fake.api.sent)
    fake.push(body)
    # No case yet: offered, the buttons numbered; « 1 » (Ouvrir le dossier…) opens it and
    # files the attachment that waited.
    offer = fake.run(fake.api.wait_sent(before + 1, timeout=60))[before:]
    assert any("dossier chiffré" in s["message"] and "1. Ouvrir" in s["message"] for s in offer)
    choice = envelope("1", timestamp=2)
    choice["envelope"]["sourceUuid"] = other
    before = len(fake.api.sent)
    fake.push(choice)
    sent = fake.run(fake.api.wait_sent(before + 2, timeout=60))[before:]
    texts = [s["message"] for s in sent if s["recipients"] == [other]]
    fingerprint = hashlib.sha256(PNG).hexdigest()
    saved = next(t for t in texts if "Pièce n° 1" in t)
    assert "reçu par Signal" in saved and fingerprint[:16] in saved
    assert fake.api.deleted == ["Xy7Kq2Lm9Pn4.png"]
    code = next(m.group(0) for t in texts if (m := re.search(r"RIP-[0-9A-Z]{4}-[0-9A-Z]{2}", t)))
    with CaseRepository(StoreConfig.from_env({"RIPOSTE_VAR_DIR": str(stack.var_dir)})) as repo:
        (item,) = repo.read_case(code, actor="test").evidence
        assert item.item.sha256 == fingerprint and item.item.excerpt == "capture du raid"
        assert repo.evidence_content(code, item.number) == PNG
