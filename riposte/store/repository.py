"""The case repository: the only code that opens database sessions.

    repo = CaseRepository.from_env()          # nothing connects yet
    code, secret = repo.create_case(case_dict) # first use: upgrade head, load or create the key
    record = repo.open_case(code, secret)

Each public method runs one short transaction. Personal fields and files are sealed with keys
derived from the case's own random data key, itself sealed with a key derived from the master
key (`riposte.privacy`) and destroyed when the case is deleted; cases stored before case keys
use the master-derived keys until `riposte rekey`. The facts needed for deadlines stay clear.
A case code is an address; the secret (checked by `open_case`) is what the doctor proves.
Methods other than `open_case` take the code: for the operator's command line on the server
(actor "cli"), and for the chat once the case is open, where they also take the conversation
(`conversation=(channel, sender_id)`) and refuse one that did not create or resume the case
(`link_sender`), exactly as they refuse an unknown code: knowing a code is not enough.

`CaseRepository` is the one class the rest of the code uses. Its methods live with their
aggregate, each module beside this one, over the shared `base.StoreBase` (session factory,
keys, one case's sealers, audit record, quotas):

* `cases`: `create_case`, `read_case`, `update_case`, `link_sender`;
* `opening`: `open_case` and the wait after repeated wrong secrets;
* `evidence`: `add_evidence`, `attach_evidence_file`, `evidence_content`;
* `inbox`: `put_inbox_file`, `add_inbox_evidence`, `purge_inbox`;
* `letters`: `record_letter`, `letter_content`, and the single-use links
  (`use_link`, `link_used`, `release_link`);
* `deletion`: `delete_case`;
* `deadlines`: `cases_with_deadlines`;
* `follow_ups`: the follow-ups planned, claimed and sent (`sync_follow_ups`,
  `claim_follow_ups`, `take_follow_up`…), stopped and resumed, and the channels' address book;
* here, the calls over the whole store: `purge` (the expired inbox entries, then the idle
  cases), `audit_trail` (read through `audit`) and `rekey` (done by `rekey`).

What one case may hold is in `quotas`; the store's policies and environment in `config`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from riposte.store.audit import read_trail
from riposte.store.base import CHAT_ACTOR, Clock, Conversation, utc_now
from riposte.store.cases import CaseStore, merge_patch
from riposte.store.codes import normalise_code
from riposte.store.config import DEFAULT_PURGE_DAYS, StoreConfig
from riposte.store.deadlines import DeadlineStore
from riposte.store.deletion import DeletionStore
from riposte.store.evidence import EvidenceStore
from riposte.store.follow_ups import FollowUpStore
from riposte.store.inbox import InboxStore
from riposte.store.letters import LetterStore
from riposte.store.models import CaseRow
from riposte.store.opening import OpeningStore
from riposte.store.quotas import Quotas
from riposte.store.records import AuditEntry, DeletionReport

if TYPE_CHECKING:
    from riposte.store.rekey import RekeyReport

__all__ = [
    "CHAT_ACTOR",
    "CaseRepository",
    "Clock",
    "Conversation",
    "Quotas",
    "merge_patch",
    "reset_shared_repository",
    "shared_repository",
    "utc_now",
]

_LOG = logging.getLogger(__name__)


class CaseRepository(
    CaseStore,
    OpeningStore,
    EvidenceStore,
    InboxStore,
    LetterStore,
    DeletionStore,
    DeadlineStore,
    FollowUpStore,
):
    """The case store. Thread-safe; connects, migrates and loads the key on first use."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CaseRepository:
        return cls(StoreConfig.from_env(env))

    def __enter__(self) -> CaseRepository:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def purge(
        self,
        older_than_days: int = DEFAULT_PURGE_DAYS,
        now: datetime | None = None,
        *,
        actor: str = "purge",
    ) -> list[DeletionReport]:
        """Delete every case with no activity (creation, opening, change) for that many days.

        Expired inbox entries (files received more than `INBOX_HOURS` ago) go too.
        """
        if older_than_days < 0:
            raise ValueError("older_than_days must be >= 0")
        st = self._ready()
        self.purge_inbox(now)
        cutoff = (now or self._now()) - timedelta(days=older_than_days)
        with st.sessions() as s:
            query = select(CaseRow.code).where(CaseRow.last_activity_at < cutoff)
            codes = list(s.execute(query.order_by(CaseRow.id)).scalars())
        return [self.delete_case(code, actor=actor, reason="purge") for code in codes]

    def audit_trail(self, code: str) -> list[AuditEntry]:
        """Every audit entry of a code, the deletion record included (oldest first)."""
        st = self._ready()
        canonical = normalise_code(code) or code
        with st.sessions() as s:
            return read_trail(s, self._subjects(st, canonical))

    def rekey(self) -> RekeyReport:
        """Seal every value of the store again with the current master key (`riposte rekey`);
        values sealed by previous keys (`RIPOSTE_PREVIOUS_KEYS`) are opened with them."""
        from riposte.store.rekey import rekey_store

        report = rekey_store(self, self._ready())
        _LOG.info("store re-sealed with the current key (%d values)", report.values)
        return report


_shared: CaseRepository | None = None
_shared_lock = threading.Lock()


def shared_repository() -> CaseRepository:
    """The process's repository, configured from the environment on first use.

    Used by every long-running process (action server, web page); one engine per process.
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = CaseRepository.from_env()
        return _shared


def reset_shared_repository() -> None:
    """Close and forget the process's repository (tests change the configuration)."""
    global _shared
    with _shared_lock:
        if _shared is not None:
            _shared.close()
        _shared = None
