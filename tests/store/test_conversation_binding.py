"""From the chat, a case is reachable only by a conversation that opened or resumed it.

`link_sender` binds a conversation (channel label, sender id) to a case when the chat creates it
or resumes it with the code and the secret; every other chat call names its conversation and is
refused, as for an unknown code, when that conversation is not bound to the case. Knowing a
code is not enough. The operator's tools (actor "cli"), the purge and the signed web links
(actor "web") are not chat calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from riposte.store.errors import UnknownCaseError
from riposte.store.repository import CaseRepository
from tests.store.conftest import sample_case

OWNER = ("chat", "sender-of-the-doctor")
STRANGER = ("chat", "sender-of-someone-else")
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def bound_case(repo: CaseRepository) -> str:
    code = repo.create_case(sample_case(), actor="chat").code
    repo.link_sender(code, *OWNER)
    repo.add_evidence(code, {"url": "https://x.com/a/status/1", "excerpt": "escroc"}, actor="cli")
    return code


def chat_calls(repo: CaseRepository, code: str) -> dict[str, Callable[..., Any]]:
    """Every chat entry point that reads or changes a case, for `code`."""
    return {
        "read_case": lambda c: repo.read_case(code, actor="chat", conversation=c),
        "update_case": lambda c: repo.update_case(
            code, {"incident": {"summary": "Réécrit."}}, actor="chat", conversation=c
        ),
        "add_evidence": lambda c: repo.add_evidence(
            code, {"excerpt": "ajout"}, actor="chat", conversation=c
        ),
        "attach_evidence_file": lambda c: repo.attach_evidence_file(
            code, 5, PNG, "piece-5.png", actor="chat", conversation=c
        ),
        "record_letter": lambda c: repo.record_letter(
            code, "procureur", b"%PDF-1.7", actor="chat", conversation=c
        ),
        "add_inbox_evidence": lambda c: repo.add_inbox_evidence(
            code,
            repo.put_inbox_file(OWNER[1] if c is None else c[1], PNG, filename="capture.png"),
            OWNER[1] if c is None else c[1],
            actor="chat",
            conversation=c,
        ),
        "delete_case": lambda c: repo.delete_case(code, actor="chat", conversation=c),
    }


CALLS = (
    "read_case",
    "update_case",
    "add_evidence",
    "attach_evidence_file",
    "record_letter",
    "add_inbox_evidence",
    "delete_case",
)


@pytest.mark.parametrize("call", CALLS)
def test_another_conversation_is_refused_as_for_an_unknown_code(
    repo: CaseRepository, call: str
) -> None:
    code = bound_case(repo)
    before = repo.read_case(code, actor="cli")
    for conversation in (STRANGER, ("telegram", OWNER[1])):
        with pytest.raises(UnknownCaseError) as refused:
            chat_calls(repo, code)[call](conversation)
        with pytest.raises(UnknownCaseError) as unknown:
            chat_calls(repo, "RIP-0000-00")[call](conversation)
        # Nothing tells a bound code from an unknown one.
        assert type(refused.value) is type(unknown.value) is UnknownCaseError
        assert str(refused.value) == str(unknown.value).replace("RIP-0000-00", code)
    after = repo.read_case(code, actor="cli")
    assert after.to_dict() == before.to_dict()  # nothing read, written or erased
    assert after.letters == () and len(after.evidence) == 5  # the sample's 4, and 1
    assert [e.action for e in repo.audit_trail(code)].count("read") == 2  # the operator's


@pytest.mark.parametrize("call", CALLS)
def test_the_bound_conversation_reaches_its_case(repo: CaseRepository, call: str) -> None:
    code = bound_case(repo)
    chat_calls(repo, code)[call](OWNER)


def test_a_conversation_that_resumed_the_case_reaches_it(repo: CaseRepository) -> None:
    new = repo.create_case(sample_case(), actor="chat")
    repo.link_sender(new.code, *OWNER)
    other = ("chat", "the-doctor-on-another-device")
    with pytest.raises(UnknownCaseError):
        repo.read_case(new.code, actor="chat", conversation=other)
    repo.open_case(new.code, new.secret, actor="chat")  # code and secret, as the chat does
    repo.link_sender(new.code, *other)
    assert repo.read_case(new.code, actor="chat", conversation=other).code == new.code


@pytest.mark.parametrize("call", CALLS)
def test_a_chat_call_must_name_its_conversation(repo: CaseRepository, call: str) -> None:
    code = bound_case(repo)
    with pytest.raises(ValueError, match="conversation"):
        chat_calls(repo, code)[call](None)


def test_the_chat_is_the_default_actor_of_the_writes(repo: CaseRepository) -> None:
    """A caller that forgets `actor` is taken for the chat, and refused without conversation."""
    code = bound_case(repo)
    with pytest.raises(ValueError, match="conversation"):
        repo.update_case(code, {"incident": {"summary": "x"}})
    with pytest.raises(ValueError, match="conversation"):
        repo.record_letter(code, "procureur")
    with pytest.raises(ValueError, match="conversation"):
        repo.delete_case(code, actor="chat:0123456789abcdef")


def test_operator_tools_need_no_conversation(repo: CaseRepository) -> None:
    code = bound_case(repo)
    with pytest.raises(ValueError, match="conversation"):
        repo.read_case(code, actor="chat")
    assert repo.read_case(code, actor="cli").code == code
    repo.update_case(code, {"incident": {"summary": "Par l'exploitant."}}, actor="cli")
    repo.record_letter(code, "procureur", actor="cli")
    repo.attach_evidence_file(code, 1, PNG, "piece-1.png", actor="web")  # a signed link
    assert repo.delete_case(code, actor="cli").code == code
