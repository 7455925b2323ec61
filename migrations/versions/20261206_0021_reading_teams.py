"""reading teams: team kinds (district, school, department), readers' departments, badges,
and the books of a "finish this list" challenge frozen when it is set

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


def upgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("library_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_partners_library_id_libraries"),
            "libraries",
            ["library_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_partners_library_id", ["library_id"])
    with op.batch_alter_table("readers") as batch:
        batch.add_column(sa.Column("department_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_readers_department_id_partners"),
            "partners",
            ["department_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_readers_department_id", ["department_id"])
    with op.batch_alter_table("challenges") as batch:
        batch.add_column(
            sa.Column("team_kind", sa.String(length=12), nullable=False, server_default="none")
        )
    with op.batch_alter_table("challenge_entries") as batch:
        batch.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
    # District teams become the "district" kind; their participants keep the district they
    # have now as their team.
    op.execute("UPDATE challenges SET team_kind = 'district' WHERE team_by_district")
    op.execute(
        "UPDATE challenge_entries SET team_id = (SELECT readers.district_id FROM readers "
        "WHERE readers.id = challenge_entries.reader_id) WHERE challenge_id IN "
        "(SELECT id FROM challenges WHERE team_kind = 'district')"
    )
    with op.batch_alter_table("challenges") as batch:
        batch.drop_column("team_by_district")
        batch.create_check_constraint(
            op.f("ck_challenges_team_kind_known"),
            "team_kind IN ('none', 'district', 'school', 'department')",
        )
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
    with op.batch_alter_table("challenges") as batch:
        batch.drop_constraint(op.f("ck_challenges_team_kind_known"), type_="check")
        batch.add_column(
            sa.Column("team_by_district", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # A school or department team had no place before: it becomes a district team.
    op.execute("UPDATE challenges SET team_by_district = (team_kind <> 'none')")
    with op.batch_alter_table("challenges") as batch:
        batch.alter_column("team_by_district", server_default=None)
        batch.drop_column("team_kind")
    with op.batch_alter_table("challenge_entries") as batch:
        batch.drop_column("team_id")
    with op.batch_alter_table("readers") as batch:
        batch.drop_index("ix_readers_department_id")
        batch.drop_constraint(op.f("fk_readers_department_id_partners"), type_="foreignkey")
        batch.drop_column("department_id")
    with op.batch_alter_table("partners") as batch:
        batch.drop_index("ix_partners_library_id")
        batch.drop_constraint(op.f("fk_partners_library_id_libraries"), type_="foreignkey")
        batch.drop_column("library_id")
