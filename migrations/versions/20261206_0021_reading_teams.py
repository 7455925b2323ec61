"""reading teams: team kinds (district, school, department), colleges of an institution,
readers' departments, badges, and the books of a "finish this list" challenge frozen when
it is set

Revision ID: 0021_reading_teams
Revises: 0020_campus_more
Create Date: 2026-12-06 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_reading_teams"
down_revision: str | None = "0020_campus_more"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# On SQLite no table that others point at is copied (batch mode): dropping ``challenges``
# to copy it would fire the ON DELETE CASCADE of the tables that point at it (SQLite
# enforces foreign keys here). Its changes are plain ADD and DROP COLUMN; only
# ``reading_preferences``, which nothing points at, is copied to gain a foreign key.


def upgrade() -> None:
    op.create_table(
        "partner_institutions",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_institutions_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
            name=op.f("fk_partner_institutions_library_id_libraries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", name=op.f("pk_partner_institutions")),
    )
    op.create_index("ix_partner_institutions_library_id", "partner_institutions", ["library_id"])
    with op.batch_alter_table("reading_preferences") as batch:
        batch.add_column(sa.Column("department_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_reading_preferences_department_id_partners"),
            "partners",
            ["department_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.add_column(
        "challenges",
        sa.Column("team_kind", sa.String(length=12), nullable=False, server_default="none"),
    )
    op.add_column("challenge_entries", sa.Column("team_id", sa.Integer(), nullable=True))
    # District teams become the "district" kind; their participants keep the district they
    # have now as their team.
    op.execute("UPDATE challenges SET team_kind = 'district' WHERE team_by_district")
    op.execute(
        "UPDATE challenge_entries SET team_id = (SELECT readers.district_id FROM readers "
        "WHERE readers.id = challenge_entries.reader_id) WHERE challenge_id IN "
        "(SELECT id FROM challenges WHERE team_kind = 'district')"
    )
    op.drop_column("challenges", "team_by_district")
    op.create_table(
        "challenge_books",
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("work_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_challenge_books_challenge_id_challenges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_id"],
            ["works.id"],
            name=op.f("fk_challenge_books_work_id_works"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("challenge_id", "work_id", name=op.f("pk_challenge_books")),
    )
    op.create_index("ix_challenge_books_work_id", "challenge_books", ["work_id"])
    # Running list challenges freeze the books their list has now.
    op.execute(
        "INSERT INTO challenge_books (challenge_id, work_id) "
        "SELECT challenges.id, reading_list_entries.work_id FROM challenges "
        "JOIN reading_list_entries ON reading_list_entries.list_id = challenges.list_id "
        "WHERE challenges.kind = 'list'"
    )
    op.create_table(
        "reader_badges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("badge", sa.String(length=24), nullable=False),
        sa.Column("awarded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reader_id"],
            ["readers.id"],
            name=op.f("fk_reader_badges_reader_id_readers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reader_badges")),
        sa.UniqueConstraint("reader_id", "badge", name=op.f("uq_reader_badges_reader_id_badge")),
    )


def downgrade() -> None:
    op.drop_table("reader_badges")
    op.drop_index("ix_challenge_books_work_id", table_name="challenge_books")
    op.drop_table("challenge_books")
    op.add_column(
        "challenges",
        sa.Column("team_by_district", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # A school or department team had no place before: it becomes a district team.
    op.execute("UPDATE challenges SET team_by_district = (team_kind <> 'none')")
    op.drop_column("challenges", "team_kind")
    op.drop_column("challenge_entries", "team_id")
    with op.batch_alter_table("reading_preferences") as batch:
        batch.drop_constraint(
            op.f("fk_reading_preferences_department_id_partners"), type_="foreignkey"
        )
        batch.drop_column("department_id")
    op.drop_index("ix_partner_institutions_library_id", table_name="partner_institutions")
    op.drop_table("partner_institutions")
