"""reading more: challenges to finish a reading list or to explore a CLC class

Revision ID: 0019_reading_more
Revises: 0018_reading
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_reading_more"
down_revision: str | None = "0018_reading"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("challenges") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=8), nullable=False, server_default="books")
        )
        batch.add_column(sa.Column("list_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("clc_class", sa.String(length=1), nullable=True))
        batch.create_foreign_key(
            op.f("fk_challenges_list_id_reading_lists"),
            "reading_lists",
            ["list_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("challenges") as batch:
        batch.drop_constraint(op.f("fk_challenges_list_id_reading_lists"), type_="foreignkey")
        batch.drop_column("clc_class")
        batch.drop_column("list_id")
        batch.drop_column("kind")
