"""Erase conversations from Rasa's SQL tracker store (table `events`, column `sender_id`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import column, create_engine, delete, inspect, table
from sqlalchemy.pool import NullPool

EVENTS_TABLE = "events"


def erase_conversation(tracker_store_url: str, sender_ids: Iterable[str]) -> int:
    """Delete every event of `sender_ids`; returns the number of rows deleted.

    Uses SQLAlchemy Core on a short-lived engine; a database without an `events` table (no
    conversation yet) counts as nothing to erase.
    """
    ids = sorted(set(sender_ids))
    if not ids:
        return 0
    engine = create_engine(tracker_store_url, future=True, poolclass=NullPool)
    try:
        if not inspect(engine).has_table(EVENTS_TABLE):
            return 0
        events = table(EVENTS_TABLE, column("sender_id"))
        with engine.begin() as connection:
            result = connection.execute(delete(events).where(events.c.sender_id.in_(ids)))
            return int(result.rowcount or 0)
    finally:
        engine.dispose()
