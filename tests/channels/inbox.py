"""The case store's inbox as the channel tests see it (the store under the `key` fixture's
RIPOSTE_VAR_DIR, opened through the process's shared repository like the channels do)."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from riposte.store.models import InboxRow
from riposte.store.records import EvidenceRecord
from riposte.store.repository import shared_repository
from riposte_rasa.channels.evidence_files import ENTITY, INTENT

# Real magic numbers: the channels check the content, never the announced type.
PNG = b"\x89PNG\r\n\x1a\n" + b"capture of @troll_quixotique " * 40
JPEG = b"\xff\xd8\xff\xe0" + b"photo of a review " * 40
PDF = b"%PDF-1.4 saved page of https://x.com/troll_quixotique/status/1\n%%EOF"
TEXT = b"MZ this is not an image, whatever its name says"


def reference(text: str) -> str:
    """The inbox reference of a `/send_evidence_file{…}` message (AssertionError otherwise)."""
    intent, _, entities = text.partition("{")
    assert intent == f"/{INTENT}", text
    ref = json.loads("{" + entities)[ENTITY]
    assert isinstance(ref, str) and len(ref) >= 20
    return ref


def inbox_count() -> int:
    repo = shared_repository()
    repo.ensure_ready()
    state = repo._state
    assert state is not None
    with state.sessions() as s:
        return int(s.execute(select(func.count(InboxRow.id))).scalar() or 0)


def file_in_new_case(ref: str, sender: str) -> tuple[EvidenceRecord, bytes | None]:
    """File the inbox entry in a new case, as the action server does; the item and its file."""
    repo = shared_repository()
    code, _secret = repo.create_case({})
    repo.link_sender(code, "chat", sender)
    record = repo.add_inbox_evidence(code, ref, sender, conversation=("chat", sender))
    return record, repo.evidence_content(code, record.number)
