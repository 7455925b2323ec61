"""reading life: the reading log, reading preferences and the also-reserved pairs

Revision ID: 0016_reading
Revises: 0011_outbox_outcomes
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_reading"
down_revision: str | None = "0011_outbox_outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_holds_reader_id_work_id", "holds", ["reader_id", "work_id"])
    op.create_table(
        "reading_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("work_id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "rating IS NULL OR rating BETWEEN 1 AND 5", name=op.f("ck_reading_log_rating_range")
        ),
        sa.ForeignKeyConstraint(
            ["reader_id"],
            ["readers.id"],
            name=op.f("fk_reading_log_reader_id_readers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_id"], ["works.id"], name=op.f("fk_reading_log_work_id_works"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
            name=op.f("fk_reading_log_library_id_libraries"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reading_log")),
        sa.UniqueConstraint("reader_id", "work_id", name=op.f("uq_reading_log_reader_id_work_id")),
    )
    op.create_index("ix_reading_log_read_at", "reading_log", ["read_at"])
    op.create_index("ix_reading_log_work_id_read_at", "reading_log", ["work_id", "read_at"])
    op.create_table(
        "reading_preferences",
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("recommendations", sa.Boolean(), nullable=False),
        sa.Column("weekly_digest", sa.Boolean(), nullable=False),
        sa.Column("digest_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reader_id"],
            ["readers.id"],
            name=op.f("fk_reading_preferences_reader_id_readers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("reader_id", name=op.f("pk_reading_preferences")),
    )

    op.create_table(
        "also_reserved",
        sa.Column("work_id", sa.Integer(), nullable=False),
        sa.Column("other_work_id", sa.Integer(), nullable=False),
        sa.Column("readers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_id"],
            ["works.id"],
            name=op.f("fk_also_reserved_work_id_works"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["other_work_id"],
            ["works.id"],
            name=op.f("fk_also_reserved_other_work_id_works"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("work_id", "other_work_id", name=op.f("pk_also_reserved")),
    )
    op.create_index("ix_also_reserved_work_id_readers", "also_reserved", ["work_id", "readers"])


def downgrade() -> None:
    op.drop_index("ix_also_reserved_work_id_readers", table_name="also_reserved")
    op.drop_table("also_reserved")
    op.drop_table("reading_preferences")
    op.drop_index("ix_reading_log_work_id_read_at", table_name="reading_log")
    op.drop_index("ix_reading_log_read_at", table_name="reading_log")
    op.drop_table("reading_log")
    op.drop_index("ix_holds_reader_id_work_id", table_name="holds")
