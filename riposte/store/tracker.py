"""Erase conversations from Rasa's SQL tracker store (table `events`, column `sender_id`).

`erase_conversation` deletes the conversations of given senders (when their case is deleted);
`purge_conversations` deletes every conversation idle for a number of days. Both work on the
rows as Rasa or `EncryptedSQLTrackerStore` wrote them (nothing is decrypted), and treat a
SQLite file that does not exist yet, or a database without an `events` table, as nothing to
erase (no file is created).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import column, create_engine, delete, func, inspect, select, table
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

EVENTS_TABLE = "events"
_CHUNK = 500
_EVENTS = table(EVENTS_TABLE, column("sender_id"), column("timestamp"))


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
