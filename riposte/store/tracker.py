"""Erase conversations from Rasa's SQL tracker store (table `events`, column `sender_id`).

`erase_conversation` deletes the conversations of given senders (when their case is deleted);
`purge_conversations` deletes every conversation idle for a number of days. Both work on the
rows as Rasa or `EncryptedSQLTrackerStore` wrote them (nothing is decrypted), and treat a
SQLite file that does not exist yet, or a database without an `events` table, as nothing to
erase (no file is created).

`rekey_conversations` seals the events' `data` column again with the current master key (key
rotation, `riposte rekey`); it is the only function here that decrypts.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import column, create_engine, delete, func, inspect, select, table, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from riposte.privacy import KeySet
    from riposte.store.crypto import Sealer

EVENTS_TABLE = "events"
EVENTS_KEY_PURPOSE = "tracker-events"
SEALED_PREFIX = "enc1:"
_CHUNK = 500
_EVENTS = table(
    EVENTS_TABLE,
    column("id"),
    column("sender_id"),
    column("type_name"),
    column("timestamp"),
    column("data"),
)


def events_aad(sender_id: str, type_name: str) -> str:
    """The associated data of an event's sealed `data`: its conversation and type."""
    return json.dumps(["events.data", sender_id, type_name])


def events_sealer(keys: KeySet) -> Sealer:
    """The sealer of the `data` column: the current key's, opening with the previous ones."""
    from riposte.store.crypto import Sealer

    purpose = EVENTS_KEY_PURPOSE
    return Sealer(keys.current.derive(purpose), *(k.derive(purpose) for k in keys.previous))


def _missing_sqlite_file(tracker_store_url: str) -> bool:
    url = make_url(tracker_store_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return False
    return not Path(str(url.database)).exists()


@contextmanager
def _events_engine(tracker_store_url: str) -> Iterator[Engine | None]:
    """A short-lived engine, or None when there is no `events` table to erase from."""
    if _missing_sqlite_file(tracker_store_url):
        yield None
        return
    engine = create_engine(tracker_store_url, future=True, poolclass=NullPool)
    try:
        yield engine if inspect(engine).has_table(EVENTS_TABLE) else None
    finally:
        engine.dispose()


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def erase_conversation(tracker_store_url: str, sender_ids: Iterable[str]) -> int:
    """Delete every event of `sender_ids`; returns the number of rows deleted."""
    ids = sorted(set(sender_ids))
    if not ids:
        return 0
    with _events_engine(tracker_store_url) as engine:
        if engine is None:
            return 0
        deleted = 0
        with engine.begin() as connection:
            for chunk in _chunks(ids):
                result = connection.execute(delete(_EVENTS).where(_EVENTS.c.sender_id.in_(chunk)))
                deleted += int(result.rowcount or 0)
        return deleted


def purge_conversations(
    tracker_store_url: str, older_than_days: int, now: datetime | float | None = None
) -> int:
    """Delete every conversation whose newest event is older than `older_than_days` days.

    `now` (a datetime or a UNIX time; default: the current time) sets the cut-off, compared
    with the column `timestamp` (UNIX time). Returns the number of conversations erased.
    """
    if older_than_days < 0:
        raise ValueError("older_than_days must be >= 0")
    if now is None:
        now = time.time()
    elif isinstance(now, datetime):
        now = now.timestamp()
    cutoff = float(now) - older_than_days * 86400
    newest = func.coalesce(func.max(_EVENTS.c.timestamp), 0.0)
    idle = select(_EVENTS.c.sender_id).group_by(_EVENTS.c.sender_id).having(newest < cutoff)
    with _events_engine(tracker_store_url) as engine:
        if engine is None:
            return 0
        with engine.begin() as connection:
            senders = list(connection.execute(idle).scalars())
            for chunk in _chunks(senders):
                connection.execute(delete(_EVENTS).where(_EVENTS.c.sender_id.in_(chunk)))
        return len(senders)


def rekey_conversations(tracker_store_url: str, keys: KeySet) -> tuple[int, int]:
    """Seal every sealed event again with the current key; returns (resealed, already current).

    One transaction per chunk of rows: an interruption leaves every row readable with the
    current and previous keys, and running it again finishes the work. Rows in plain JSON
    (written before encryption) are left as they are.
    """
    from riposte.store.crypto import DecryptionError
    from riposte.store.errors import StoreConfigError, message

    sealer = events_sealer(keys)
    resealed = current = 0
    last_id = -1
    with _events_engine(tracker_store_url) as engine:
        if engine is None:
            return 0, 0
        while True:
            with engine.begin() as connection:
                rows = connection.execute(
                    select(_EVENTS.c.id, _EVENTS.c.sender_id, _EVENTS.c.type_name, _EVENTS.c.data)
                    .where(_EVENTS.c.id > last_id)
                    .order_by(_EVENTS.c.id)
                    .limit(_CHUNK)
                ).all()
                for row_id, sender_id, type_name, data in rows:
                    last_id = row_id
                    if not isinstance(data, str) or not data.startswith(SEALED_PREFIX):
                        continue
                    sealed = base64.b64decode(data[len(SEALED_PREFIX) :])
                    try:
                        new = sealer.reseal(sealed, events_aad(sender_id, type_name))
                    except DecryptionError:
                        key_id = keys.current.key_id
                        raise StoreConfigError(
                            message("tracker.cannot_decrypt", key_id=key_id)
                        ) from None
                    if new is None:
                        current += 1
                        continue
                    text = SEALED_PREFIX + base64.b64encode(new).decode("ascii")
                    connection.execute(
                        update(_EVENTS).where(_EVENTS.c.id == row_id).values(data=text)
                    )
                    resealed += 1
            if len(rows) < _CHUNK:
                return resealed, current
