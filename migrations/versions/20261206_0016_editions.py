"""editions: a work's other titles and the family key linking editions and translations

Revision ID: 0016_editions
Revises: 0015_ils
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_editions"
down_revision: str | None = "0015_ils"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("works") as batch:
        batch.add_column(
            sa.Column("other_titles", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(sa.Column("family_key", sa.String(length=255), nullable=True))
        batch.create_index(batch.f("ix_works_family_key"), ["family_key"], unique=False)
    # Existing rows got "[]"; new rows get theirs from the application, as other lists do.
    with op.batch_alter_table("works") as batch:
        batch.alter_column("other_titles", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("works") as batch:
        batch.drop_index(batch.f("ix_works_family_key"))
        batch.drop_column("family_key")
        batch.drop_column("other_titles")
