"""Deadline facts in clear: each statement's publication date, the last message's nature.

`evidence.published_at` (each statement has its own press deadline) and
`incidents.last_seen_offending` (the fallback start date when no statement is dated) are facts
the deadlines depend on, like `first_published`: the reminders compute deadlines without
decrypting anything. Both are nullable; existing rows keep NULL (the fields are new).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("published_at", sa.Date(), nullable=True))
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("last_seen_offending", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("last_seen_offending")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("published_at")
