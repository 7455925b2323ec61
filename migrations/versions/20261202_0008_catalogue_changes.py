"""catalogue changes: the works each import batch changed, for every instance's index

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 08:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalogue_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_changes")),
    )
    op.create_index(
        "ix_catalogue_changes_created_at", "catalogue_changes", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_catalogue_changes_created_at", table_name="catalogue_changes")
    op.drop_table("catalogue_changes")
