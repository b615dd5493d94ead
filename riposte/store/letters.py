"""The store side of letters: each generated letter recorded (its content sealed if kept), and
the single use of the signed links that serve letters and evidence uploads.

Rendering and signing live in `riposte.letters`; this module only records.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from riposte.case import CaseError
from riposte.store.base import Conversation, StoreBase, letter_record
from riposte.store.errors import message
from riposte.store.models import LetterRow, LinkUseRow
from riposte.store.records import LetterRecord

_LETTER_KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class LetterStore(StoreBase):
    def record_letter(
        self,
        code: str,
        kind: str,
        content: bytes | None = None,
        *,
        media_type: str | None = None,
        actor: str = "chat",
        conversation: Conversation | None = None,
    ) -> LetterRecord:
        """Record a generated letter (kind, date, fingerprint; the content sealed if given)."""
        if not _LETTER_KIND_RE.match(kind):
            raise CaseError([message("errors.bad_letter_kind", kind=kind[:40])])
        st = self._ready()
        now = self._now()
        written: list[tuple[str, str]] = []
        try:
            with st.sessions.begin() as s:
                row = self._find_for(s, st, code, actor, conversation)
                self._check_quotas(s, row, letters=1, size=len(content or b""))
                last = s.execute(
                    select(func.max(LetterRow.number)).where(LetterRow.case_id == row.id)
                ).scalar()
                stored = None
                if content is not None:
                    stored = st.vault.write(row.storage_key, content, self._files(st, row))
                    written.append((row.storage_key, stored))
                letter = LetterRow(
                    case_id=row.id,
                    number=(last or 0) + 1,
                    kind=kind,
                    created_at=now,
                    media_type=media_type,
                    sha256=None if content is None else hashlib.sha256(content).hexdigest(),
                    size=None if content is None else len(content),
                    stored_file=stored,
                )
                s.add(letter)
                self._touch(row, now)
                self._audit(s, st, row, actor, "letter_recorded", {"kind": kind})
        except BaseException:
            for storage_key, name in written:
                st.vault.remove(storage_key, name)
            raise
        return letter_record(letter)

    def letter_content(self, code: str, number: int) -> bytes | None:
        """The decrypted content of letter `number` of the case (None when not kept)."""
        st = self._ready()
        with st.sessions() as s:
            row = self._find(s, code)
            query = select(LetterRow.stored_file).where(
                LetterRow.case_id == row.id, LetterRow.number == number
            )
            stored = s.execute(query).scalar()
        return self._read_file(st, row, stored)

    # ------------------------------------------------------------------ single-use links

    def use_link(self, link_id: str, expires: datetime) -> bool:
        """Record that the single-use link `link_id` serves now; False if it already has.

        Recorded until `expires` (then the link no longer reads anyway): expired records
        are purged here. Atomic across processes (a unique key).
        """
        st = self._ready()
        now = self._now()
        try:
            with st.sessions.begin() as s:
                s.execute(delete(LinkUseRow).where(LinkUseRow.expires_at < now))
                s.add(LinkUseRow(link_id=link_id, used_at=now, expires_at=expires))
        except IntegrityError:
            return False
        return True

    def link_used(self, link_id: str) -> bool:
        """Whether the single-use link `link_id` has already served."""
        st = self._ready()
        with st.sessions() as s:
            query = select(LinkUseRow.id).where(LinkUseRow.link_id == link_id)
            return s.execute(query).first() is not None

    def release_link(self, link_id: str) -> None:
        """Give back a link taken by `use_link` whose use then failed (it may serve again)."""
        st = self._ready()
        with st.sessions.begin() as s:
            s.execute(delete(LinkUseRow).where(LinkUseRow.link_id == link_id))
