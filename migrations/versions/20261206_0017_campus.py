"""campus programme: living books with slots, waitlists and feedback; quizzes; volunteers;
essay, poetry and photo contests; partners

Revision ID: 0017_campus
Revises: 0016_editions
Create Date: 2026-12-06 07:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_campus"
down_revision: str | None = "0016_editions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _timestamps() -> list[sa.Column[object]]:
    return [
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
    ]


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _index(table: str, *columns: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.create_index(batch.f(f"ix_{table}_{'_'.join(columns)}"), list(columns), unique=False)


def _living_books() -> None:
    op.create_table(
        "living_books",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("blurb", sa.Text(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        *_timestamps(),
        _fk("living_books", "event_id", "events", "CASCADE"),
        _fk("living_books", "person_id", "readers", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_living_books")),
    )
    _index("living_books", "event_id")
    _index("living_books", "person_id")
    op.create_table(
        "living_book_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        _when("starts_at"),
        _when("ends_at"),
        sa.Column("reader_id", sa.Integer(), nullable=True),
        _when("booked_at", nullable=True),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_living_book_slots_ends_after_start")
        ),
        _fk("living_book_slots", "book_id", "living_books", "CASCADE"),
        _fk("living_book_slots", "reader_id", "readers", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_living_book_slots")),
        sa.UniqueConstraint(
            "book_id", "starts_at", name=op.f("uq_living_book_slots_book_id_starts_at")
        ),
        sa.UniqueConstraint(
            "book_id", "reader_id", name=op.f("uq_living_book_slots_book_id_reader_id")
        ),
    )
    _index("living_book_slots", "reader_id")
    op.create_table(
        "living_book_waits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        _when("created_at"),
        _fk("living_book_waits", "book_id", "living_books", "CASCADE"),
        _fk("living_book_waits", "reader_id", "readers", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_living_book_waits")),
        sa.UniqueConstraint(
            "book_id", "reader_id", name=op.f("uq_living_book_waits_book_id_reader_id")
        ),
    )
    op.create_table(
        "living_book_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        _when("created_at"),
        sa.CheckConstraint(
            "rating BETWEEN 1 AND 5", name=op.f("ck_living_book_feedback_rating_range")
        ),
        _fk("living_book_feedback", "slot_id", "living_book_slots", "CASCADE"),
        _fk("living_book_feedback", "author_id", "readers", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_living_book_feedback")),
        sa.UniqueConstraint(
            "slot_id", "author_id", name=op.f("uq_living_book_feedback_slot_id_author_id")
        ),
    )


def _quizzes() -> None:
    op.create_table(
        "quizzes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=True),
        sa.Column("organiser_id", sa.Integer(), nullable=True),
        sa.Column(
            "mode",
            sa.Enum(
                "live",
                "window",
                name="quiz_mode",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        _when("starts_at"),
        _when("closes_at", nullable=True),
        sa.Column("gap_seconds", sa.Integer(), nullable=False),
        sa.Column("top_places", sa.Integer(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("boards_sent", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("gap_seconds >= 0", name=op.f("ck_quizzes_gap_not_negative")),
        sa.CheckConstraint("top_places >= 1", name=op.f("ck_quizzes_top_places_positive")),
        _fk("quizzes", "organiser_id", "readers", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quizzes")),
    )
    _index("quizzes", "organiser_id")
    _index("quizzes", "starts_at")
    op.create_table(
        "quiz_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("text_en", sa.String(length=500), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("options_en", sa.JSON(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.CheckConstraint("correct >= 0", name=op.f("ck_quiz_questions_correct_not_negative")),
        sa.CheckConstraint(
            "seconds BETWEEN 5 AND 300", name=op.f("ck_quiz_questions_seconds_range")
        ),
        _fk("quiz_questions", "quiz_id", "quizzes", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_questions")),
        sa.UniqueConstraint("quiz_id", "position", name=op.f("uq_quiz_questions_quiz_id_position")),
    )
    op.create_table(
        "quiz_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        _when("joined_at"),
        sa.Column("current", sa.Integer(), nullable=False),
        _when("shown_at", nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("time_ms", sa.Integer(), nullable=False),
        _fk("quiz_entries", "quiz_id", "quizzes", "CASCADE"),
        _fk("quiz_entries", "reader_id", "readers", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_entries")),
        sa.UniqueConstraint("quiz_id", "reader_id", name=op.f("uq_quiz_entries_quiz_id_reader_id")),
    )
    op.create_table(
        "quiz_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        _when("answered_at"),
        sa.Column("elapsed_ms", sa.Integer(), nullable=False),
        _fk("quiz_answers", "entry_id", "quiz_entries", "CASCADE"),
        _fk("quiz_answers", "question_id", "quiz_questions", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_answers")),
        sa.UniqueConstraint(
            "entry_id", "question_id", name=op.f("uq_quiz_answers_entry_id_question_id")
        ),
    )
    _index("quiz_answers", "question_id")


def _volunteers() -> None:
    op.create_table(
        "volunteer_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=60), nullable=False),
        _when("starts_at"),
        _when("ends_at"),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_volunteer_shifts_ends_after_start")
        ),
        sa.CheckConstraint("places >= 1", name=op.f("ck_volunteer_shifts_places_positive")),
        _fk("volunteer_shifts", "event_id", "events", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_shifts")),
        sa.UniqueConstraint("token", name=op.f("uq_volunteer_shifts_token")),
    )
    _index("volunteer_shifts", "event_id")
    op.create_table(
        "volunteer_signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        _when("signed_up_at"),
        _when("checked_in_at", nullable=True),
        _when("checked_out_at", nullable=True),
        sa.CheckConstraint(
            "checked_out_at IS NULL OR checked_in_at IS NOT NULL",
            name=op.f("ck_volunteer_signups_out_after_in"),
        ),
        _fk("volunteer_signups", "shift_id", "volunteer_shifts", "CASCADE"),
        _fk("volunteer_signups", "reader_id", "readers", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_signups")),
        sa.UniqueConstraint(
            "shift_id", "reader_id", name=op.f("uq_volunteer_signups_shift_id_reader_id")
        ),
    )
    _index("volunteer_signups", "reader_id")


def _submissions() -> None:
    op.create_table(
        "submission_contests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "essay",
                "poetry",
                "photo",
                name="contest_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("organiser_id", sa.Integer(), nullable=True),
        _when("deadline"),
        sa.Column("entries_per_reader", sa.Integer(), nullable=False),
        sa.Column("results_published", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "entries_per_reader >= 1", name=op.f("ck_submission_contests_entries_positive")
        ),
        _fk("submission_contests", "organiser_id", "readers", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_contests")),
    )
    _index("submission_contests", "organiser_id")
    op.create_table(
        "contest_judges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        _fk("contest_judges", "contest_id", "submission_contests", "CASCADE"),
        _fk("contest_judges", "reader_id", "readers", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_judges")),
        sa.UniqueConstraint(
            "contest_id", "reader_id", name=op.f("uq_contest_judges_contest_id_reader_id")
        ),
    )
    op.create_table(
        "contest_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("file_id", sa.String(length=200), nullable=True),
        sa.Column("file_kind", sa.String(length=16), nullable=True),
        _when("submitted_at"),
        sa.Column("consent", sa.Boolean(), nullable=True),
        _fk("contest_entries", "contest_id", "submission_contests", "CASCADE"),
        _fk("contest_entries", "reader_id", "readers", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_entries")),
    )
    _index("contest_entries", "contest_id")
    _index("contest_entries", "reader_id")
    op.create_table(
        "entry_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("judge_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        _when("scored_at"),
        sa.CheckConstraint("score BETWEEN 1 AND 10", name=op.f("ck_entry_scores_score_range")),
        _fk("entry_scores", "entry_id", "contest_entries", "CASCADE"),
        _fk("entry_scores", "judge_id", "readers", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_scores")),
        sa.UniqueConstraint("entry_id", "judge_id", name=op.f("uq_entry_scores_entry_id_judge_id")),
    )


def _partners() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "college",
                "department",
                "student_union",
                "bookstore",
                "museum",
                "publisher",
                "other",
                name="partner_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("code", name=op.f("uq_partners_code")),
    )
    op.create_table(
        "partner_organisers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        _fk("partner_organisers", "partner_id", "partners", "CASCADE"),
        _fk("partner_organisers", "reader_id", "readers", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_organisers")),
        sa.UniqueConstraint(
            "partner_id", "reader_id", name=op.f("uq_partner_organisers_partner_id_reader_id")
        ),
    )
    _index("partner_organisers", "reader_id")
    op.create_table(
        "event_hosts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        _fk("event_hosts", "event_id", "events", "CASCADE"),
        _fk("event_hosts", "partner_id", "partners", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_hosts")),
        sa.UniqueConstraint(
            "event_id", "partner_id", name=op.f("uq_event_hosts_event_id_partner_id")
        ),
    )
    _index("event_hosts", "partner_id")


def upgrade() -> None:
    _living_books()
    _quizzes()
    _volunteers()
    _submissions()
    _partners()


def downgrade() -> None:
    for table in (
        "event_hosts",
        "partner_organisers",
        "partners",
        "entry_scores",
        "contest_entries",
        "contest_judges",
        "submission_contests",
        "volunteer_signups",
        "volunteer_shifts",
        "quiz_answers",
        "quiz_entries",
        "quiz_questions",
        "quizzes",
        "living_book_feedback",
        "living_book_waits",
        "living_book_slots",
        "living_books",
    ):
        op.drop_table(table)
