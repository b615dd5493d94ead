"""Rasa's SQL tracker store with the conversations encrypted at rest, and erasure on request.

Use it in `endpoints.yml` instead of `type: SQL` (same `url`, a full SQLAlchemy URL):

    tracker_store:
      type: riposte_rasa.tracker_store.EncryptedSQLTrackerStore
      url: ${TRACKER_STORE_URL}

Rasa instantiates a custom class with `host=<url>`, and `SQLTrackerStore.get_db_url` uses a
host containing `://` as the complete URL, exactly as for `type: SQL`.

What is stored: one row per event in the table `events`, as Rasa writes it, except the `data`
column (the whole event as JSON: the doctor's messages, slot values, bot replies), which is
sealed with AES-256-GCM under a key derived from the master key (purpose `tracker-events`) and
written as `enc1:<base64>`. The associated data binds each row to its `sender_id` and
`type_name`, so a sealed value copied to another conversation does not open. The other
columns stay in clear, as Rasa needs them to query: `sender_id` (a channel id or pseudonym),
`type_name`, `timestamp`, `intent_name` (for `user` events, the intent predicted by the model
or a `/intent` payload, which Rasa accepts only for intents of the domain) and `action_name`
(the event's `name`: an action, a slot, a form or a reminder name; `user` and `bot` events
have none). Rows without the prefix, written by the plain SQL store before, are read as plain
JSON and stay as they are (they disappear with the conversation: erasure or purge).

Erasure on request: when the tracker to save has the slot `erase_conversation` set to true
(the action that deletes a case sets it), `save` deletes every row of the conversation and
writes nothing, so the next message starts an empty conversation. Deleting rows anywhere else
would not do: `SQLTrackerStore.save` appends the events after the number already stored, so
Rasa would write the whole conversation again at its next save.

Database restarts: Rasa's engine is rebuilt with `pool_pre_ping` (PostgreSQL and other server
databases), so that a pooled connection the database closed (restart, failover, proxy) is
replaced when it is taken from the pool instead of failing the next message. While the
database is unreachable, each message fails as a whole (riposte_rasa/patches.py, item
3): nothing is written, and the channel asks the doctor to send it again.

Credentials are never kept: before a conversation is saved, the case code and the
passphrase are masked (`riposte.store.codes.redact_credentials`) in the doctor's messages and
in the slot `resume_credentials` that receives the answer to « code and passphrase? », and the
passphrase the assistant shows once, when the case is opened, is masked in its message
(`mask_shown_passphrase`; the assistant's messages keep every other word, the case code
included). The doctor reads them in the conversation as it happens; the copy on file, and the
tracker Rasa's HTTP API returns, hold only masks. The code is still kept in the slot
`case_code` (sealed), which the actions need.

The master key is read on first use (`RIPOSTE_SECRET_KEY`, else the key file under
`RIPOSTE_VAR_DIR`), never created here: `riposte serve` creates it before Rasa starts.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import TYPE_CHECKING, Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import AllSlotsReset, Restarted, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from riposte.store.codes import mask_shown_passphrase, redact_credentials
from riposte.store.crypto import DecryptionError, Sealer
from riposte.store.errors import StoreConfigError, message
from riposte.store.tracker import (
    EVENTS_KEY_PURPOSE,
    SEALED_PREFIX,
    events_aad,
    events_sealer,
)
from riposte_rasa import patches as rasa_hooks

if TYPE_CHECKING:
    from collections.abc import Mapping

    from riposte.privacy import KeySet, KeySource

ERASE_SLOT = "erase_conversation"
CREDENTIALS_SLOT = "resume_credentials"
# What validate_resume_form leaves in the slot once the answer is read (no credential).
CREDENTIALS_OUTCOMES = frozenset({"ok", "failed", "locked"})
KEY_PURPOSE = EVENTS_KEY_PURPOSE
PREFIX = SEALED_PREFIX
_LOG = logging.getLogger(__name__)


def load_tracker_key(env: Mapping[str, str] | None = None) -> KeySource:
    """The master key for the conversations; never created (the launcher does that)."""
    return load_tracker_keys(env).current


def load_tracker_keys(env: Mapping[str, str] | None = None) -> KeySet:
    """The current and previous master keys (`RIPOSTE_PREVIOUS_KEYS`); never created."""
    from riposte.privacy import load_keys
    from riposte.store.config import StoreConfig

    config = StoreConfig.from_env(env)
    service_keys = config.service_keys is not None or config.service_keys_file is not None
    if config.secret_key is None and not service_keys and not config.key_file.exists():
        raise StoreConfigError(message("tracker.key_missing", path=config.key_file))
    return load_keys(config, create=False)


def erasure_requested(tracker: DialogueStateTracker) -> bool:
    """True when the slot `erase_conversation` is true.

    Should the slot be missing from the domain (Rasa then ignores the `SlotSet` with a
    warning), the latest `SlotSet` event of the current session decides instead.
    """
    slot = tracker.slots.get(ERASE_SLOT)
    if slot is not None:
        return slot.value is True
    for event in reversed(tracker.events):
        if isinstance(event, SlotSet) and event.key == ERASE_SLOT:
            return event.value is True
        if isinstance(event, (Restarted, AllSlotsReset, SessionStarted)):
            break
    return False


def credential_answers(events: list[dict[str, Any]]) -> set[str]:
    """The texts set into the slot `resume_credentials`: answers holding credentials."""
    return {
        str(event["value"])
        for event in events
        if event.get("event") == "slot"
        and event.get("name") == CREDENTIALS_SLOT
        and isinstance(event.get("value"), str)
        and event["value"] not in CREDENTIALS_OUTCOMES
    }


def redact_event(data: dict[str, Any], answers: set[str]) -> dict[str, Any]:
    """The event as it is kept on file: credentials masked (a copy; `data` is unchanged)."""
    kind = data.get("event")
    if kind == "user" and isinstance(data.get("text"), str):
        text = data["text"]
        answer = text in answers or _intent(data) == "resume_case"
        redacted = {**data, "text": redact_credentials(text, answer=answer)}
        parse_data = data.get("parse_data")
        if isinstance(parse_data, dict) and isinstance(parse_data.get("text"), str):
            redacted["parse_data"] = {
                **parse_data,
                "text": redact_credentials(parse_data["text"], answer=answer),
            }
        return redacted
    if kind == "bot":
        # The passphrase shown once, in the text and in the values it was made from (Rasa
        # keeps the template's variables in the event's metadata). The rest reads as sent.
        return {key: _redact_values(value) for key, value in data.items()}
    if (
        kind == "slot"
        and data.get("name") == CREDENTIALS_SLOT
        and isinstance(data.get("value"), str)
        and data["value"] not in CREDENTIALS_OUTCOMES
    ):
        return {**data, "value": redact_credentials(data["value"], answer=True)}
    return data


def _redact_values(value: Any) -> Any:
    if isinstance(value, str):
        return mask_shown_passphrase(value)
    if isinstance(value, dict):
        return {key: _redact_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_values(item) for item in value]
    return value


def _intent(data: dict[str, Any]) -> str | None:
    parse_data = data.get("parse_data") or {}
    name = (parse_data.get("intent") or {}).get(INTENT_NAME_KEY)
    return name if isinstance(name, str) else None


class EncryptedSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` whose `data` column is encrypted; erases a conversation on request."""

    engine: Any  # set by SQLTrackerStore.__init__, rebuilt below
    sessionmaker: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._sealer: Sealer | None = None
        self._master: KeySource | None = None
        rasa_hooks.install()
        super().__init__(*args, **kwargs)
        self._ping_pooled_connections()

    def _ping_pooled_connections(self) -> None:
        """Rebuild Rasa's engine (same URL and options) with `pool_pre_ping`; not for SQLite,
        which has no server to restart (and whose in-memory databases live in the pool)."""
        import sqlalchemy as sa
        from rasa.core.tracker_store import create_engine_kwargs

        if self.engine.dialect.name == "sqlite":
            return
        url = self.engine.url.render_as_string(hide_password=False)
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    # ------------------------------------------------------------------ encryption

    def _events_sealer(self) -> Sealer:
        if self._sealer is None:
            keys = load_tracker_keys()
            self._master = keys.current
            self._sealer = events_sealer(keys)
        return self._sealer

    def seal_data(self, sender_id: str, type_name: str, data: dict[str, Any]) -> str:
        """The `data` column of one event: `enc1:` and the sealed JSON in base64."""
        plaintext = json.dumps(data).encode("utf-8")
        sealed = self._events_sealer().seal(plaintext, events_aad(sender_id, type_name))
        return PREFIX + base64.b64encode(sealed).decode("ascii")

    def open_data(self, sender_id: str, type_name: str, stored: str) -> dict[str, Any]:
        """The event dictionary from a `data` column, sealed or (older rows) plain JSON."""
        if not stored.startswith(PREFIX):
            return dict(json.loads(stored))
        sealer = self._events_sealer()
        try:
            sealed = base64.b64decode(stored[len(PREFIX) :], validate=True)
            return dict(json.loads(sealer.open(sealed, events_aad(sender_id, type_name))))
        except (DecryptionError, binascii.Error, ValueError):
            key_id = self._master.key_id if self._master is not None else "?"
            raise StoreConfigError(message("tracker.cannot_decrypt", key_id=key_id)) from None

    # ------------------------------------------------------------------ Rasa's interface

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """`SQLTrackerStore._retrieve` (Rasa 3.6), decrypting each row."""
        with self.session_scope() as session:
            rows = self._event_query(
                session,
                sender_id,
                fetch_events_from_all_sessions=fetch_events_from_all_sessions,
            ).all()
            events = [self.open_data(row.sender_id, row.type_name, row.data) for row in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        """`SQLTrackerStore.save` (Rasa 3.6) with `data` sealed; erases the conversation when
        the slot `erase_conversation` is true (nothing written, nothing sent to a broker)."""
        if erasure_requested(tracker):
            self.erase(tracker.sender_id)
            _LOG.info("conversation erased on request")
            return
        self._events_sealer()  # a missing key fails before anything is written
        await self.stream_events(tracker)
        with self.session_scope() as session:
            new_events = [event.as_dict() for event in self._additional_events(session, tracker)]
            answers = credential_answers(new_events)
            for event_dict in new_events:
                data = redact_event(event_dict, answers)
                intent = _intent(data)
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=data["event"],
                        timestamp=data.get("timestamp"),
                        intent_name=intent,
                        action_name=data.get("name"),
                        data=self.seal_data(tracker.sender_id, data["event"], data),
                    )
                )
            session.commit()

    def erase(self, sender_id: str) -> int:
        """Delete every event of `sender_id`; returns the number of rows deleted."""
        with self.session_scope() as session:
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        return int(deleted or 0)
