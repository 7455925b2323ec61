"""events: weekly and monthly series

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 04:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "recurrence",
            sa.Enum(
                "weekly",
                "monthly",
                name="event_recurrence",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("organiser_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organiser_id"],
            ["readers.id"],
            name=op.f("fk_event_series_organiser_id_readers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_series")),
    )
    op.create_index(
        op.f("ix_event_series_organiser_id"), "event_series", ["organiser_id"], unique=False
    )
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("series_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_events_series_id"), ["series_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_events_series_id_event_series"),
            "event_series",
            ["series_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint(batch.f("fk_events_series_id_event_series"), type_="foreignkey")
        batch.drop_index(batch.f("ix_events_series_id"))
        batch.drop_column("series_id")
    op.drop_index(op.f("ix_event_series_organiser_id"), table_name="event_series")
    op.drop_table("event_series")
