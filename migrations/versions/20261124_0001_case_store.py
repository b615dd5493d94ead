"""Case store: cases, incident facts, evidence journal, steps, letters, senders, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _case_id(unique: bool = False, nullable: bool = False) -> sa.Column:
    return sa.Column(
        "case_id",
        sa.Integer(),
        sa.ForeignKey("cases.id", ondelete="CASCADE"),
        nullable=nullable,
        unique=unique,
    )


def upgrade() -> None:
    op.create_table(
        "store_meta",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "cases",
        _id(),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("storage_key", sa.String(32), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(255), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(), nullable=False),
        sa.Column("victim", sa.LargeBinary(), nullable=True),
        sa.Column("court_city", sa.LargeBinary(), nullable=True),
    )
    op.create_index("ix_cases_last_activity_at", "cases", ["last_activity_at"])
    op.create_table(
        "incidents",
        _id(),
        _case_id(unique=True),
        sa.Column("platforms", sa.JSON(), nullable=False),
        sa.Column("offenses", sa.JSON(), nullable=False),
        sa.Column("discriminatory", sa.Boolean(), nullable=False),
        sa.Column("first_published", sa.Date(), nullable=True),
        sa.Column("last_seen", sa.Date(), nullable=True),
        sa.Column("author_known", sa.Boolean(), nullable=True),
        sa.Column("author_relation", sa.String(16), nullable=True),
        sa.Column("volume", sa.String(16), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=True),
        sa.Column("physical_danger", sa.Boolean(), nullable=False),
        sa.Column("details", sa.LargeBinary(), nullable=True),
    )
    op.create_table(
        "evidence",
        _id(),
        _case_id(),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("captured_at", sa.String(40), nullable=True),
        sa.Column("details", sa.LargeBinary(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("stored_file", sa.String(64), nullable=True),
        sa.UniqueConstraint("case_id", "number"),
    )
    op.create_index("ix_evidence_case_id", "evidence", ["case_id"])
    op.create_table(
        "steps",
        _id(),
        _case_id(),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("case_id", "key"),
    )
    op.create_index("ix_steps_case_id", "steps", ["case_id"])
    op.create_table(
        "letters",
        _id(),
        _case_id(),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("stored_file", sa.String(64), nullable=True),
        sa.UniqueConstraint("case_id", "number"),
    )
    op.create_index("ix_letters_case_id", "letters", ["case_id"])
    op.create_table(
        "senders",
        _id(),
        _case_id(),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("sender_id", sa.LargeBinary(), nullable=False),
        sa.Column("linked_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("case_id", "pseudonym"),
    )
    op.create_index("ix_senders_case_id", "senders", ["case_id"])
    op.create_index("ix_senders_pseudonym", "senders", ["pseudonym"])
    op.create_table(
        "audit",
        _id(),
        _case_id(nullable=True),
        sa.Column("subject", sa.String(64), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
    )
    op.create_index("ix_audit_case_id", "audit", ["case_id"])
    op.create_index("ix_audit_subject", "audit", ["subject"])


def downgrade() -> None:
    for table in ("audit", "senders", "letters", "steps", "evidence", "incidents", "cases"):
        op.drop_table(table)
    op.drop_table("store_meta")
