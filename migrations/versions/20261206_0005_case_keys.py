"""Per-case data keys: erasure by key destruction.

`cases.data_key` holds the case's random 32-byte key, sealed with the master-derived field
key; the case's fields and files are sealed with keys derived from it, and deleting the case
overwrites then deletes it. Existing cases keep NULL and their master-sealed values until
`riposte rekey` gives them a key. The downgrade refuses to run while a case has a key
(dropping the column would make those cases unreadable).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("data_key", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # Dropping the column would destroy the keys, hence every case sealed with one.
    has_keys = sa.text("SELECT 1 FROM cases WHERE data_key IS NOT NULL LIMIT 1")
    if op.get_bind().execute(has_keys).first() is not None:
        raise RuntimeError(
            "Retour en arrière impossible : des dossiers sont chiffrés avec leur propre clé "
            "(colonne cases.data_key) ; la supprimer les rendrait illisibles."
        )
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("data_key")
