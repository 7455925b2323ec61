"""campus programme: an optional image on a quiz question

Revision ID: 0020_campus_more
Revises: 0019_reading_more
Create Date: 2026-12-06 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_campus_more"
down_revision: str | None = "0019_reading_more"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("quiz_questions") as batch:
        batch.add_column(sa.Column("image_file_id", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("quiz_questions") as batch:
        batch.drop_column("image_file_id")
