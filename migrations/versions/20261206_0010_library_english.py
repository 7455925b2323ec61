"""library english: an optional English address for English readers

Revision ID: 0010_library_english
Revises: 0009_events_english
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_library_english"
down_revision: str | None = "0009_events_english"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("libraries") as batch:
        batch.add_column(sa.Column("address_en", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("libraries") as batch:
        batch.drop_column("address_en")
