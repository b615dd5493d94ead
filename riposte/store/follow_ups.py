"""The store side of follow-ups (riposte/follow_ups.py): planned, claimed, sent, stopped.

* `sync_follow_ups`: after each change of a case from the chat, the follow-ups are planned
  again from its clear facts and steps; the conversation that made the change is the one
  reached (its channel, its id sealed with the case's key);
* `claim_follow_ups` / `take_follow_up` / `settle_follow_up` / `release_follow_up`: a scheduler
  claims what is due (one conditional UPDATE per row: one claimant only, whatever the number
  of schedulers), asks Rasa to speak; the action that speaks takes it (due -> sent, with the
  claim's token); the scheduler then settles it, or releases it with a wait before the next
  try when the channel failed;
* `stop_follow_ups` / `resume_follow_ups`: the doctor's « arrêter / reprendre les rappels »;
* `due_follow_ups_shown`: what fell due for a conversation that cannot be reached (the web
  page), shown when the case is resumed there;
* `remember_contact` / `contact_address`: the channels' address book (`contacts`);
* `follow_up_report`: the operator's list, without personal data.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from riposte import clock
from riposte.follow_ups import STEP_OF_KIND, plan
from riposte.store.base import Conversation, StoreBase, StoreState
from riposte.store.deadlines import clear_case
from riposte.store.models import (
    CaseRow,
    ContactRow,
    EvidenceRow,
    FollowUpRow,
    IncidentRow,
    StepRow,
)

_LOG = logging.getLogger(__name__)

DUE, SENT, ANSWERED, CANCELLED, FAILED = "due", "sent", "answered", "cancelled", "failed"
STATES = (DUE, SENT, ANSWERED, CANCELLED, FAILED)
# The channels a scheduler sends to; the others (the web page) show theirs on resuming.
PUSH_CHANNELS = ("telegram", "signal")
CLAIM_MINUTES = 5  # a claim not settled by then (its scheduler died) may be taken again
RETRY_FIRST_SECONDS = 30
RETRY_MAX_SECONDS = 3600
GIVE_UP_DAYS = 7  # after its due day, a follow-up never delivered is given up


@dataclass(frozen=True)
class FollowUp:
    id: int
    kind: str
    ref: str
    due_at: datetime
    facts: Mapping[str, Any]
    channel: str | None
    state: str
    attempts: int
    sent_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """For the operator: no case code, no conversation, nothing personal."""
        return {
            "id": self.id,
            "kind": self.kind,
            "due_at": self.due_at.isoformat(),
            "channel": self.channel,
            "state": self.state,
            "attempts": self.attempts,
            "sent_at": None if self.sent_at is None else self.sent_at.isoformat(),
        }


@dataclass(frozen=True)
class FollowUpPlan:
    """What planning left: `announce`, the first follow-up of the case to announce (once per
    case), `due` how many wait and `next_due` when the first of them falls due; `stopped`
    whether the doctor stopped them."""

    announce: FollowUp | None = None
    due: int = 0
    stopped: bool = False
    next_due: datetime | None = None  # when the next one falls due


@dataclass(frozen=True)
class Claimed:
    """A follow-up a scheduler holds: where to send it, and the token that proves the claim."""

    id: int
    claim: str
    kind: str
    channel: str
    sender_id: str

    @property
    def entity(self) -> str:
        """What the scheduler hands Rasa (the `follow_up` entity): id and token."""
        return f"{self.id}.{self.claim}"


def parse_entity(value: Any) -> tuple[int, str] | None:
    """The (id, token) of a `follow_up` entity, or None when malformed."""
    text = str(value or "")
    number, _, token = text.partition(".")
    if not number.isdigit() or not token or len(token) > 64:
        return None
    return int(number), token


def _record(row: FollowUpRow) -> FollowUp:
    return FollowUp(
        id=row.id,
        kind=row.kind,
        ref=row.ref,
        due_at=row.due_at,
        facts=dict(row.facts or {}),
        channel=row.channel,
        state=row.state,
        attempts=row.attempts or 0,
        sent_at=row.sent_at,
    )


def due_at(day: date) -> datetime:
    from riposte.follow_ups import DUE_HOUR

    return clock.at_paris(day, DUE_HOUR)


class FollowUpStore(StoreBase):
    # ------------------------------------------------------------------ planning

    def sync_follow_ups(
        self,
        code: str,
        *,
        channel: str | None,
        today: date,
        actor: str = "chat",
        conversation: Conversation | None = None,
    ) -> FollowUpPlan:
        """Plan the case's follow-ups again from its clear facts and its steps' days.

        New ones are added (due), changed ones moved, those no longer relevant cancelled
        (a complaint filed, a deadline moved…); sent ones whose step the doctor has since
        done become answered. With a chat `conversation` and its `channel`, the follow-ups
        still due go to that conversation from now on.
        """
        st = self._ready()
        now = self._now()
        with st.sessions.begin() as s:
            row = self._find_for(s, st, code, actor, conversation)
            steps = _steps_done_on(s, row)
            wanted = {(p.kind, p.ref): p for p in plan(_case_facts(s, row), steps, today)}
            # Where the due follow-ups go: (channel, conversation pseudonym); the recipient is
            # sealed again only when that changes (each triage message syncs the case).
            target, sender = None, ""
            if conversation is not None and channel:
                sender = conversation[1]
                target = (channel[:32], self._conversation_hash(st, sender))
            existing = {
                (f.kind, f.ref): f
                for f in s.execute(
                    select(FollowUpRow).where(FollowUpRow.case_id == row.id)
                ).scalars()
            }
            for key, current in existing.items():
                if current.state == DUE and key not in wanted:
                    current.state, current.claim, current.updated_at = CANCELLED, None, now
                elif current.state == SENT and _answered(current, steps):
                    current.state, current.updated_at = ANSWERED, now
            for key, planned in wanted.items():
                current = existing.get(key)
                if current is None:
                    if planned.due < today:
                        continue
                    current = FollowUpRow(
                        case_id=row.id,
                        kind=planned.kind,
                        ref=planned.ref,
                        state=DUE,
                        attempts=0,
                        created_at=now,
                    )
                    s.add(current)
                elif current.state != DUE:
                    continue
                changed = False
                when = due_at(planned.due)
                if current.due_at != when:
                    current.due_at, current.attempts, current.next_try_at = when, 0, None
                    changed = True
                facts = dict(planned.facts)
                if current.facts != facts:
                    current.facts, changed = facts, True
                if target is not None and (current.channel, current.conversation) != target:
                    current.channel, current.conversation = target
                    current.recipient = self._seal_recipient(st, row, target[1], sender)
                    changed = True
                if changed:
                    current.updated_at = now
            s.flush()
            due = list(
                s.execute(
                    select(FollowUpRow)
                    .where(FollowUpRow.case_id == row.id, FollowUpRow.state == DUE)
                    .order_by(FollowUpRow.due_at, FollowUpRow.id)
                ).scalars()
            )
            announce = None
            if due and not row.follow_ups_announced and row.follow_ups_stopped_at is None:
                row.follow_ups_announced = True
                announce = _record(due[0])
                self._audit(s, st, row, actor, "follow_ups_planned", {"due": len(due)})
            return FollowUpPlan(
                announce,
                len(due),
                row.follow_ups_stopped_at is not None,
                due[0].due_at if due else None,
            )

    @staticmethod
    def _conversation_hash(st: StoreState, sender_id: str) -> str:
        from riposte.privacy import pseudonymise
        from riposte.store.base import CHAT_ACTOR

        return pseudonymise(CHAT_ACTOR, sender_id, st.keys.master)

    def _seal_recipient(self, st: StoreState, row: CaseRow, hashed: str, sender_id: str) -> bytes:
        return self._fields(st, row).seal(
            sender_id.encode("utf-8"), self._aad(row, f"follow_ups.recipient.{hashed}")
        )

    # ------------------------------------------------------------------ the doctor's control

    def stop_follow_ups(
        self, code: str, *, actor: str = "chat", conversation: Conversation | None = None
    ) -> int:
        """« Arrêter les rappels »: nothing more is sent for the case; returns how many wait."""
        return self._switch(code, True, actor, conversation)

    def resume_follow_ups(
        self, code: str, *, actor: str = "chat", conversation: Conversation | None = None
    ) -> int:
        """« Reprendre les rappels »: those still due are sent again (late ones at once)."""
        return self._switch(code, False, actor, conversation)

    def _switch(self, code: str, stop: bool, actor: str, conversation: Conversation | None) -> int:
        st = self._ready()
        now = self._now()
        with st.sessions.begin() as s:
            row = self._find_for(s, st, code, actor, conversation)
            row.follow_ups_stopped_at = now if stop else None
            if not stop:
                s.execute(
                    update(FollowUpRow)
                    .where(FollowUpRow.case_id == row.id, FollowUpRow.state == DUE)
                    .values(attempts=0, next_try_at=None)
                    .execution_options(synchronize_session=False)
                )
            self._audit(s, st, row, actor, "follow_ups_stopped" if stop else "follow_ups_resumed")
            query = select(FollowUpRow.id).where(
                FollowUpRow.case_id == row.id, FollowUpRow.state == DUE
            )
            return len(s.execute(query).all())

    def follow_ups_of(
        self, code: str, *, actor: str = "cli", conversation: Conversation | None = None
    ) -> list[FollowUp]:
        """The case's follow-ups, by due time."""
        st = self._ready()
        with st.sessions() as s:
            row = self._find_for(s, st, code, actor, conversation)
            query = (
                select(FollowUpRow)
                .where(FollowUpRow.case_id == row.id)
                .order_by(FollowUpRow.due_at, FollowUpRow.id)
            )
            return [_record(f) for f in s.execute(query).scalars()]

    def due_follow_ups_shown(
        self, code: str, *, actor: str = "chat", conversation: Conversation | None = None
    ) -> list[FollowUp]:
        """The follow-ups due by now that no scheduler sends (the web page's), marked sent:
        the chat shows them as the case is resumed. None while the doctor stopped them."""
        st = self._ready()
        now = self._now()
        with st.sessions.begin() as s:
            row = self._find_for(s, st, code, actor, conversation)
            if row.follow_ups_stopped_at is not None:
                return []
            query = (
                select(FollowUpRow)
                .where(
                    FollowUpRow.case_id == row.id,
                    FollowUpRow.state == DUE,
                    FollowUpRow.due_at <= now,
                    or_(FollowUpRow.channel.is_(None), FollowUpRow.channel.not_in(PUSH_CHANNELS)),
                )
                .order_by(FollowUpRow.due_at, FollowUpRow.id)
            )
            shown = list(s.execute(query).scalars())
            for f in shown:
                f.state, f.sent_at, f.updated_at, f.claim = SENT, now, now, None
            s.flush()
            return [_record(f) for f in shown]

    # ------------------------------------------------------------------ sending

    def claim_follow_ups(
        self, limit: int = 20, *, now: datetime | None = None, claim_minutes: int = CLAIM_MINUTES
    ) -> list[Claimed]:
        """Claim up to `limit` follow-ups due by `now` on a channel a scheduler reaches.

        Each is claimed by one conditional UPDATE (state still due, no live claim): of
        several schedulers, one only gets it. Those past `GIVE_UP_DAYS` after their day are
        given up (failed) instead; a deadline reminder whose deadline has passed is
        cancelled.
        """
        st = self._ready()
        now = now or self._now()
        claimed: list[Claimed] = []
        with st.sessions() as s:
            query = (
                select(FollowUpRow.id)
                .join(CaseRow, CaseRow.id == FollowUpRow.case_id)
                .where(
                    FollowUpRow.state == DUE,
                    FollowUpRow.due_at <= now,
                    CaseRow.follow_ups_stopped_at.is_(None),
                    FollowUpRow.channel.in_(PUSH_CHANNELS),
                    FollowUpRow.recipient.is_not(None),
                    or_(FollowUpRow.next_try_at.is_(None), FollowUpRow.next_try_at <= now),
                    or_(FollowUpRow.claimed_until.is_(None), FollowUpRow.claimed_until < now),
                )
                .order_by(FollowUpRow.due_at, FollowUpRow.id)
                .limit(limit)
            )
            ids = list(s.execute(query).scalars())
        for follow_up_id in ids:
            taken = self._claim_one(st, follow_up_id, now, claim_minutes)
            if taken is not None:
                claimed.append(taken)
        return claimed

    def _claim_one(
        self, st: StoreState, follow_up_id: int, now: datetime, claim_minutes: int
    ) -> Claimed | None:
        token = secrets.token_urlsafe(18)
        with st.sessions.begin() as s:
            result = s.execute(
                update(FollowUpRow)
                .where(
                    FollowUpRow.id == follow_up_id,
                    FollowUpRow.state == DUE,
                    or_(FollowUpRow.claimed_until.is_(None), FollowUpRow.claimed_until < now),
                )
                .values(claim=token, claimed_until=now + timedelta(minutes=claim_minutes))
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                return None  # another scheduler was first
            f = s.get(FollowUpRow, follow_up_id)
            assert f is not None
            if _stale(f, now):
                f.state, f.claim, f.updated_at = (
                    (CANCELLED if f.kind == "deadline" else FAILED),
                    None,
                    now,
                )
                _LOG.warning("follow-up %d (%s) given up: its day has passed", f.id, f.kind)
                return None
            case = s.get(CaseRow, f.case_id)
            assert case is not None and f.recipient is not None
            sender_id = (
                self._fields(st, case)
                .open(f.recipient, self._aad(case, f"follow_ups.recipient.{f.conversation}"))
                .decode("utf-8")
            )
            return Claimed(f.id, token, f.kind, str(f.channel), sender_id)

    def take_follow_up(self, entity: Any, sender_id: str) -> FollowUp | None:
        """The follow-up a scheduler asked this conversation to say, marked sent; None when
        the entity is not a live claim for this conversation (already said, stopped,
        cancelled, or not its own): then nothing is said."""
        parsed = parse_entity(entity)
        if parsed is None:
            return None
        follow_up_id, token = parsed
        st = self._ready()
        now = self._now()
        hashed = self._conversation_hash(st, sender_id)
        with st.sessions.begin() as s:
            stopped = select(CaseRow.id).where(CaseRow.follow_ups_stopped_at.is_not(None))
            result = s.execute(
                update(FollowUpRow)
                .where(
                    FollowUpRow.id == follow_up_id,
                    FollowUpRow.claim == token,
                    FollowUpRow.state == DUE,
                    FollowUpRow.conversation == hashed,
                    FollowUpRow.case_id.not_in(stopped),
                )
                .values(state=SENT, sent_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                return None
            f = s.get(FollowUpRow, follow_up_id)
            assert f is not None
            return _record(f)

    def settle_follow_up(self, claimed: Claimed, *, now: datetime | None = None) -> bool:
        """After Rasa answered: True when the follow-up was said (sent); else (the action did
        not take it) it is released for a later try."""
        st = self._ready()
        with st.sessions.begin() as s:
            f = s.get(FollowUpRow, claimed.id)
            if f is None:
                return False  # the case was deleted meanwhile
            if f.state == SENT and f.claim == claimed.claim:
                f.claim, f.claimed_until = None, None
                return True
            if f.state != DUE or f.claim != claimed.claim:
                return False
        self.release_follow_up(claimed, now=now)
        return False

    def release_follow_up(self, claimed: Claimed, *, now: datetime | None = None) -> datetime:
        """The channel failed: due again after a wait that doubles at each failure (from
        `RETRY_FIRST_SECONDS` to `RETRY_MAX_SECONDS`); returns when it may be tried again.
        A follow-up the action had marked sent goes back to due (Rasa could not deliver)."""
        st = self._ready()
        now = now or self._now()
        with st.sessions.begin() as s:
            f = s.get(FollowUpRow, claimed.id)
            if f is None or f.claim != claimed.claim or f.state not in (DUE, SENT):
                return now
            f.attempts = (f.attempts or 0) + 1
            wait = min(RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS * 2 ** (f.attempts - 1))
            f.state, f.sent_at, f.claim, f.claimed_until = DUE, None, None, None
            f.next_try_at = now + timedelta(seconds=wait)
            f.updated_at = now
            return f.next_try_at

    # ------------------------------------------------------------------ the channels' book

    def remember_contact(self, channel: str, sender_id: str, address: str) -> bool:
        """Keep how `channel` reaches conversation `sender_id` while it has follow-ups due;
        forget it otherwise. Returns whether it is kept."""
        st = self._ready()
        now = self._now()
        hashed = self._conversation_hash(st, sender_id)
        with st.sessions.begin() as s:
            waiting = s.execute(
                select(FollowUpRow.id)
                .where(
                    FollowUpRow.conversation == hashed,
                    FollowUpRow.channel == channel,
                    FollowUpRow.state == DUE,
                )
                .limit(1)
            ).first()
            current = s.execute(
                select(ContactRow).where(
                    ContactRow.channel == channel, ContactRow.conversation == hashed
                )
            ).scalar_one_or_none()
            if waiting is None:
                if current is not None:
                    s.delete(current)
                return False
            aad = contact_aad(channel, hashed)
            if current is not None and st.keys.fields.open(current.address, aad) == address.encode(
                "utf-8"
            ):
                return True  # unchanged: nothing written (this runs on every message)
            sealed = st.keys.fields.seal(address.encode("utf-8"), aad)
            if current is None:
                s.add(
                    ContactRow(channel=channel, conversation=hashed, address=sealed, updated_at=now)
                )
            else:
                current.address, current.updated_at = sealed, now
            return True

    def contact_address(self, channel: str, sender_id: str) -> str | None:
        """How `channel` reaches conversation `sender_id`, if it was kept."""
        st = self._ready()
        hashed = self._conversation_hash(st, sender_id)
        with st.sessions() as s:
            sealed = s.execute(
                select(ContactRow.address).where(
                    ContactRow.channel == channel, ContactRow.conversation == hashed
                )
            ).scalar_one_or_none()
        if sealed is None:
            return None
        return st.keys.fields.open(sealed, contact_aad(channel, hashed)).decode("utf-8")

    # ------------------------------------------------------------------ the operator's list

    def follow_up_report(self, since: datetime) -> list[FollowUp]:
        """Every follow-up due or failed, and those sent since `since` (answered included)."""
        st = self._ready()
        with st.sessions() as s:
            query = select(FollowUpRow).where(
                or_(FollowUpRow.state.in_((DUE, FAILED)), FollowUpRow.sent_at >= since)
            )
            rows = s.execute(query.order_by(FollowUpRow.due_at, FollowUpRow.id)).scalars()
            return [_record(f) for f in rows]


def forget_contacts(s: Session, case_id: int) -> None:
    """Delete the address book's entries of the case's conversations (the case is going),
    unless another case still has follow-ups due for them."""
    hashes = {
        h
        for h in s.execute(
            select(FollowUpRow.conversation).where(FollowUpRow.case_id == case_id)
        ).scalars()
        if h
    }
    for hashed in hashes:
        other = s.execute(
            select(FollowUpRow.id)
            .where(
                FollowUpRow.conversation == hashed,
                FollowUpRow.case_id != case_id,
                FollowUpRow.state == DUE,
            )
            .limit(1)
        ).first()
        if other is None:
            s.execute(delete(ContactRow).where(ContactRow.conversation == hashed))


def contact_aad(channel: str, hashed: str) -> str:
    return f"contacts.address:{channel}/{hashed}"


def _stale(f: FollowUpRow, now: datetime) -> bool:
    if f.kind == "deadline":
        deadline = (f.facts or {}).get("deadline")
        if deadline and clock.local_date(now) > date.fromisoformat(str(deadline)):
            return True
    return now > f.due_at + timedelta(days=GIVE_UP_DAYS)


def _answered(f: FollowUpRow, steps: Mapping[str, date]) -> bool:
    """A follow-up sent whose step the doctor has since recorded (« c'est fait »)."""
    step = STEP_OF_KIND.get(f.kind)
    return step is not None and step in steps and f.sent_at is not None


def _steps_done_on(s: Session, row: CaseRow) -> dict[str, date]:
    query = select(StepRow).where(StepRow.case_id == row.id, StepRow.done.is_(True))
    return {
        step.key: step.done_on or clock.local_date(step.updated_at)
        for step in s.execute(query).scalars()
    }


def _case_facts(s: Session, row: CaseRow) -> Any:
    incident = s.execute(
        select(IncidentRow).where(IncidentRow.case_id == row.id)
    ).scalar_one_or_none()
    published = list(
        s.execute(
            select(EvidenceRow.published_at)
            .where(EvidenceRow.case_id == row.id)
            .order_by(EvidenceRow.number)
        ).scalars()
    )
    return clear_case(incident, published)
