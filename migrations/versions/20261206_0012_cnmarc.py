"""cnmarc: variant titles, Chinese Library Classification, edition and series of works

Revision ID: 0012_cnmarc
Revises: 0011_outbox_outcomes
Create Date: 2026-12-06 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_cnmarc"
down_revision: str | None = "0011_outbox_outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("works") as batch:
        batch.add_column(
            sa.Column("variant_titles", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(
            sa.Column("clc_numbers", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(sa.Column("edition", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("series", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("works") as batch:
        batch.drop_column("series")
        batch.drop_column("edition")
        batch.drop_column("clc_numbers")
        batch.drop_column("variant_titles")
