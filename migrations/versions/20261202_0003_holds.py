"""holds: pull list, reminder and warning marks; watches for works without copies

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 04:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("holds") as batch:
        batch.add_column(sa.Column("pulled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "work_watches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("work_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["reader_id"],
            ["readers.id"],
            name=op.f("fk_work_watches_reader_id_readers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_id"],
            ["works.id"],
            name=op.f("fk_work_watches_work_id_works"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_watches")),
        sa.UniqueConstraint("reader_id", "work_id", name=op.f("uq_work_watches_reader_id_work_id")),
    )
    op.create_index(op.f("ix_work_watches_work_id"), "work_watches", ["work_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_work_watches_work_id"), table_name="work_watches")
    op.drop_table("work_watches")
    with op.batch_alter_table("holds") as batch:
        batch.drop_column("warned_at")
        batch.drop_column("reminded_at")
        batch.drop_column("pulled_at")
