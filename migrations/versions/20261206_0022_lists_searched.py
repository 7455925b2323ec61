"""reading lists linked to events and campaigns; works readers reached from search

Revision ID: 0022_lists_searched
Revises: 0021_reading_teams
Create Date: 2026-12-06 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_lists_searched"
down_revision: str | None = "0021_reading_teams"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reading_list_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(event_id IS NULL) <> (campaign_id IS NULL)",
            name=op.f("ck_reading_list_links_one_target"),
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["reading_lists.id"],
            name=op.f("fk_reading_list_links_list_id_reading_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_reading_list_links_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_reading_list_links_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reading_list_links")),
        sa.UniqueConstraint("event_id", name=op.f("uq_reading_list_links_event_id")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_reading_list_links_campaign_id")),
    )
    op.create_index(
        op.f("ix_reading_list_links_list_id"), "reading_list_links", ["list_id"], unique=False
    )
    op.create_table(
        "searched_works",
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("work_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reader_id"],
            ["readers.id"],
            name=op.f("fk_searched_works_reader_id_readers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_id"],
            ["works.id"],
            name=op.f("fk_searched_works_work_id_works"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("reader_id", "work_id", "day", name=op.f("pk_searched_works")),
    )
    op.create_index(
        "ix_searched_works_day_work_id", "searched_works", ["day", "work_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_searched_works_day_work_id", table_name="searched_works")
    op.drop_table("searched_works")
    op.drop_index(op.f("ix_reading_list_links_list_id"), table_name="reading_list_links")
    op.drop_table("reading_list_links")
