"""The inbox: files received on Telegram or Signal, kept sealed until filed in a case.

A channel puts the file (`put_inbox_file`) and hands Rasa a random reference; the action
server then files it as a new evidence item of the case (`add_inbox_evidence`). The database
keeps only a keyed hash of the reference, and seals the file, its name and caption bound to the
reference and the sender: only the conversation that sent it can file it. Entries left unfiled
go after `INBOX_HOURS` (`purge_inbox`), or at once when the doctor declines to keep them
(`discard_inbox_file`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from riposte.case import parse_case
from riposte.store.base import Conversation, StoreBase, StoreState
from riposte.store.config import INBOX_HOURS
from riposte.store.crypto import DecryptionError
from riposte.store.errors import InboxFileMissingError
from riposte.store.evidence import append_evidence
from riposte.store.models import InboxRow
from riposte.store.records import EvidenceRecord

_INBOX_REF_BYTES = 18  # the reference handed to Rasa: 24 URL-safe characters
_LOG = logging.getLogger(__name__)


class InboxStore(StoreBase):
    def put_inbox_file(
        self, sender: str, data: bytes, *, filename: str, caption: str | None = None
    ) -> str:
        """Keep a file a chat channel received until the action server files it in a case.

        `sender` is the pseudonym Rasa knows the conversation by; the file, its name and
        caption are sealed, bound to it and to the new random reference returned (for Rasa).
        The entry is deleted when filed (`add_inbox_evidence`) or after `INBOX_HOURS`.
        """
        st = self._ready()
        ref = secrets.token_urlsafe(_INBOX_REF_BYTES)
        details = {"filename": filename, "caption": caption}
        with st.sessions.begin() as s:
            s.add(
                InboxRow(
                    ref=self._inbox_ref(st, ref),
                    received_at=self._now(),
                    content=st.keys.files.seal(data, self._inbox_aad("content", ref, sender)),
                    details=st.keys.fields.seal_json(
                        details, self._inbox_aad("details", ref, sender)
                    ),
                )
            )
        _LOG.info("file put in the inbox (%d bytes)", len(data))
        return ref

    def add_inbox_evidence(
        self,
        code: str,
        ref: str,
        sender: str,
        *,
        actor: str = "chat",
        conversation: Conversation | None = None,
    ) -> EvidenceRecord:
        """File inbox entry `ref` as a new journal item of the case, in one transaction.

        The item gets the file (fingerprinted, sealed in the vault), its name and, as the
        excerpt, its caption; the inbox entry is deleted by the same commit. Raises
        `InboxFileMissingError` when the entry is unknown, already filed, expired, or was
        received from another sender than `sender`.
        """
        st = self._ready()
        now = self._now()
        self.purge_inbox(now)
        written: list[tuple[str, str]] = []
        try:
            with st.sessions.begin() as s:
                query = select(InboxRow).where(InboxRow.ref.in_(self._inbox_refs(st, ref)))
                entry = s.execute(query).scalar_one_or_none()
                if entry is None:
                    raise InboxFileMissingError()
                try:
                    data = st.keys.files.open(
                        entry.content, self._inbox_aad("content", ref, sender)
                    )
                    details = st.keys.fields.open_json(
                        entry.details, self._inbox_aad("details", ref, sender)
                    )
                except DecryptionError:  # another sender's entry (or altered data)
                    raise InboxFileMissingError() from None
                fields = {"file": details.get("filename"), "excerpt": details.get("caption")}
                wanted = {k: v for k, v in fields.items() if v}
                item = parse_case({"evidence": [wanted]}, now.date()).evidence[0]
                row = self._find_for(s, st, code, actor, conversation)
                taken = s.execute(delete(InboxRow).where(InboxRow.id == entry.id))
                if taken.rowcount != 1:  # filed meanwhile by a concurrent call
                    raise InboxFileMissingError()
                ev = append_evidence(self, s, st, row, item, data, now, actor, written)
        except BaseException:
            for storage_key, name in written:
                st.vault.remove(storage_key, name)
            raise
        _LOG.info("inbox file filed as an evidence item (%d bytes)", len(data))
        return EvidenceRecord(
            number=ev.number,
            item=replace(item, sha256=ev.sha256),
            recorded_at=now,
            file_size=ev.file_size,
        )

    def discard_inbox_file(self, ref: str, sender: str) -> bool:
        """Delete inbox entry `ref` now, unfiled (the doctor did not want a case to keep it);
        only its sender may. False when there is no such entry for this sender."""
        st = self._ready()
        with st.sessions.begin() as s:
            query = select(InboxRow).where(InboxRow.ref.in_(self._inbox_refs(st, ref)))
            entry = s.execute(query).scalar_one_or_none()
            if entry is None:
                return False
            try:
                st.keys.fields.open_json(entry.details, self._inbox_aad("details", ref, sender))
            except DecryptionError:  # another sender's entry
                return False
            s.execute(delete(InboxRow).where(InboxRow.id == entry.id))
        _LOG.info("inbox file discarded unfiled")
        return True

    def purge_inbox(self, now: datetime | None = None) -> int:
        """Delete the inbox entries received more than `INBOX_HOURS` ago; returns how many."""
        st = self._ready()
        cutoff = (now or self._now()) - timedelta(hours=INBOX_HOURS)
        with st.sessions.begin() as s:
            result = s.execute(delete(InboxRow).where(InboxRow.received_at < cutoff))
        count = int(result.rowcount or 0)
        if count:
            _LOG.info("%d expired inbox file(s) deleted", count)
        return count

    def _inbox_ref(self, st: StoreState, ref: str) -> str:
        return self._inbox_refs(st, ref)[0]

    @staticmethod
    def _inbox_refs(st: StoreState, ref: str) -> list[str]:
        """The keyed hash of `ref` under the current key, then under the previous ones."""
        return [
            hmac.new(key, ref.encode("utf-8"), hashlib.sha256).hexdigest()
            for key in st.keys.derived_all("inbox-ref")
        ]

    @staticmethod
    def _inbox_aad(column: str, ref: str, sender: str) -> str:
        return f"inbox.{column}:{ref}/{sender}"
