"""reading life: the reading log, reading preferences and the also-reserved pairs

Revision ID: 0018_reading
Revises: 0017_campus
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_reading"
down_revision: str | None = "0017_campus"
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
    op.create_table(
        "reading_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["readers.id"],
            name=op.f("fk_reading_lists_created_by_id_readers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reading_lists")),
    )
    op.create_index("ix_reading_lists_created_by_id", "reading_lists", ["created_by_id"])
    op.create_table(
        "reading_list_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("work_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["reading_lists.id"],
            name=op.f("fk_reading_list_entries_list_id_reading_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_id"],
            ["works.id"],
            name=op.f("fk_reading_list_entries_work_id_works"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reading_list_entries")),
        sa.UniqueConstraint(
            "list_id", "work_id", name=op.f("uq_reading_list_entries_list_id_work_id")
        ),
    )
    op.create_index(
        "ix_reading_list_entries_list_id_position",
        "reading_list_entries",
        ["list_id", "position"],
    )
    op.create_table(
        "list_follows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["reading_lists.id"],
            name=op.f("fk_list_follows_list_id_reading_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reader_id"],
            ["readers.id"],
            name=op.f("fk_list_follows_reader_id_readers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_follows")),
        sa.UniqueConstraint("list_id", "reader_id", name=op.f("uq_list_follows_list_id_reader_id")),
    )
    op.create_index("ix_list_follows_reader_id", "list_follows", ["reader_id"])
    op.create_table(
        "challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=True),
        sa.Column("goal", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("team_by_district", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("goal BETWEEN 1 AND 1000", name=op.f("ck_challenges_goal_range")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_challenges_period_order")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["readers.id"],
            name=op.f("fk_challenges_created_by_id_readers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenges")),
    )
    op.create_index("ix_challenges_created_by_id", "challenges", ["created_by_id"])
    op.create_table(
        "challenge_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_challenge_entries_challenge_id_challenges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reader_id"],
            ["readers.id"],
            name=op.f("fk_challenge_entries_reader_id_readers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenge_entries")),
        sa.UniqueConstraint(
            "challenge_id", "reader_id", name=op.f("uq_challenge_entries_challenge_id_reader_id")
        ),
    )
    op.create_index("ix_challenge_entries_reader_id", "challenge_entries", ["reader_id"])


def downgrade() -> None:
    op.drop_index("ix_challenge_entries_reader_id", table_name="challenge_entries")
    op.drop_table("challenge_entries")
    op.drop_index("ix_challenges_created_by_id", table_name="challenges")
    op.drop_table("challenges")
    op.drop_index("ix_list_follows_reader_id", table_name="list_follows")
    op.drop_table("list_follows")
    op.drop_index("ix_reading_list_entries_list_id_position", table_name="reading_list_entries")
    op.drop_table("reading_list_entries")
    op.drop_index("ix_reading_lists_created_by_id", table_name="reading_lists")
    op.drop_table("reading_lists")
    op.drop_index("ix_also_reserved_work_id_readers", table_name="also_reserved")
    op.drop_table("also_reserved")
    op.drop_table("reading_preferences")
    op.drop_index("ix_reading_log_work_id_read_at", table_name="reading_log")
    op.drop_index("ix_reading_log_read_at", table_name="reading_log")
    op.drop_table("reading_log")
    op.drop_index("ix_holds_reader_id_work_id", table_name="holds")
