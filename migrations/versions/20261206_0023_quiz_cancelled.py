"""quizzes an organiser cancelled

Revision ID: 0023_quiz_cancelled
Revises: 0022_lists_searched
Create Date: 2026-12-06 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_quiz_cancelled"
down_revision: str | None = "0022_lists_searched"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("quizzes") as batch:
        batch.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("quizzes") as batch:
        batch.drop_column("cancelled_at")
