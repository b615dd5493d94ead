"""Single-use links and per-conversation waits after wrong secrets.

`link_uses` remembers the random id of each upload link that has served, until the link
expires (the page's server and the action server are separate processes: the database is
what they share). `open_attempts` counts wrong secrets per case *and* conversation, with the
wait each conversation must serve: a stranger who learnt a code no longer locks the case for
everyone. `cases.failed_attempts` stays (all conversations, for the audit); `cases.locked_until`
is left in place but no longer set (dropping it would rebuild the `cases` table on SQLite).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "open_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "case_id",
            sa.Integer(),
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("case_id", "sender"),
    )
    op.create_index("ix_open_attempts_case_id", "open_attempts", ["case_id"])
    op.create_index("ix_open_attempts_last_failure_at", "open_attempts", ["last_failure_at"])
    op.create_table(
        "link_uses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("link_id", sa.String(64), nullable=False, unique=True),
        sa.Column("used_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_link_uses_expires_at", "link_uses", ["expires_at"])


def downgrade() -> None:
    op.drop_table("link_uses")
    op.drop_table("open_attempts")
