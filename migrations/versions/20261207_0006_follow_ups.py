"""Follow-ups: the messages sent later to the doctor, and the channels' address book.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("follow_ups_stopped_at", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column(
                "follow_ups_announced", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "case_id",
            sa.Integer(),
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("ref", sa.String(120), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False, index=True),
        sa.Column("facts", sa.JSON(), nullable=True),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("conversation", sa.String(64), nullable=True, index=True),
        sa.Column("recipient", sa.LargeBinary(), nullable=True),
        sa.Column("state", sa.String(12), nullable=False, index=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_try_at", sa.DateTime(), nullable=True),
        sa.Column("claim", sa.String(64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("case_id", "kind", "ref"),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("conversation", sa.String(64), nullable=False, index=True),
        sa.Column("address", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("channel", "conversation"),
    )


def downgrade() -> None:
    op.drop_table("contacts")
    op.drop_table("follow_ups")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("follow_ups_announced")
        batch.drop_column("follow_ups_stopped_at")
