"""bookstores: partner stores and their staff, "you choose, we pay" rules, vouchers, settlements

Revision ID: 0012_bookstores
Revises: 0011_outbox_outcomes
Create Date: 2026-12-06 07:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_bookstores"
down_revision: str | None = "0011_outbox_outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "bookstores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("address_en", sa.String(length=300), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "latitude BETWEEN -90 AND 90", name=op.f("ck_bookstores_latitude_range")
        ),
        sa.CheckConstraint(
            "longitude BETWEEN -180 AND 180", name=op.f("ck_bookstores_longitude_range")
        ),
        _fk("bookstores", "library_id", "libraries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookstores")),
        sa.UniqueConstraint("code", name=op.f("uq_bookstores_code")),
    )
    op.create_index(op.f("ix_bookstores_library_id"), "bookstores", ["library_id"], unique=False)
    op.create_table(
        "bookstore_staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("bookstore_id", sa.Integer(), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        _when("granted_at"),
        _fk("bookstore_staff", "reader_id", "readers", "CASCADE"),
        _fk("bookstore_staff", "bookstore_id", "bookstores", "CASCADE"),
        _fk("bookstore_staff", "granted_by_id", "readers", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookstore_staff")),
        sa.UniqueConstraint(
            "reader_id", "bookstore_id", name=op.f("uq_bookstore_staff_reader_id_bookstore_id")
        ),
    )
    op.create_index(
        op.f("ix_bookstore_staff_bookstore_id"), "bookstore_staff", ["bookstore_id"], unique=False
    )
    op.create_table(
        "choose_rules",
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("price_cap", sa.Integer(), nullable=False),
        sa.Column("reader_quota", sa.Integer(), nullable=False),
        sa.Column("monthly_budget", sa.Integer(), nullable=False),
        sa.Column("max_copies", sa.Integer(), nullable=False),
        sa.Column("loan_days", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        _when("updated_at"),
        sa.CheckConstraint("price_cap >= 0", name=op.f("ck_choose_rules_price_cap_non_negative")),
        sa.CheckConstraint(
            "reader_quota >= 0", name=op.f("ck_choose_rules_reader_quota_non_negative")
        ),
        sa.CheckConstraint(
            "monthly_budget >= 0", name=op.f("ck_choose_rules_monthly_budget_non_negative")
        ),
        sa.CheckConstraint("max_copies >= 0", name=op.f("ck_choose_rules_max_copies_non_negative")),
        sa.CheckConstraint(
            "loan_days BETWEEN 1 AND 365", name=op.f("ck_choose_rules_loan_days_range")
        ),
        _fk("choose_rules", "library_id", "libraries", "CASCADE"),
        _fk("choose_rules", "updated_by_id", "readers", "SET NULL"),
        sa.PrimaryKeyConstraint("library_id", name=op.f("pk_choose_rules")),
    )
    op.create_table(
        "choose_budgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("spent", sa.Integer(), nullable=False),
        sa.CheckConstraint("spent >= 0", name=op.f("ck_choose_budgets_spent_non_negative")),
        _fk("choose_budgets", "library_id", "libraries", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_choose_budgets")),
        sa.UniqueConstraint("library_id", "month", name=op.f("uq_choose_budgets_library_id_month")),
    )
    op.create_table(
        "vouchers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("bookstore_id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("isbn", sa.String(length=13), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "issued",
                "confirmed",
                name="voucher_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("month", sa.String(length=7), nullable=False),
        _when("issued_at"),
        _when("valid_until"),
        sa.Column("price", sa.Integer(), nullable=True),
        _when("confirmed_at", nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        _when("due_at", nullable=True),
        sa.CheckConstraint(
            "price IS NULL OR price >= 0", name=op.f("ck_vouchers_price_non_negative")
        ),
        _fk("vouchers", "reader_id", "readers", "CASCADE"),
        _fk("vouchers", "bookstore_id", "bookstores"),
        _fk("vouchers", "library_id", "libraries"),
        _fk("vouchers", "confirmed_by_id", "readers", "SET NULL"),
        _fk("vouchers", "item_id", "items", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouchers")),
        sa.UniqueConstraint("code", name=op.f("uq_vouchers_code")),
    )
    op.create_index(op.f("ix_vouchers_bookstore_id"), "vouchers", ["bookstore_id"], unique=False)
    op.create_index("ix_vouchers_reader_id_month", "vouchers", ["reader_id", "month"], unique=False)
    op.create_index(
        "ix_vouchers_library_id_month", "vouchers", ["library_id", "month"], unique=False
    )
    op.create_table(
        "settlements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bookstore_id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("vouchers", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        _when("approved_at"),
        _fk("settlements", "bookstore_id", "bookstores"),
        _fk("settlements", "library_id", "libraries"),
        _fk("settlements", "approved_by_id", "readers", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlements")),
        sa.UniqueConstraint(
            "bookstore_id",
            "library_id",
            "month",
            name=op.f("uq_settlements_bookstore_id_library_id_month"),
        ),
    )


def downgrade() -> None:
    op.drop_table("settlements")
    op.drop_index("ix_vouchers_library_id_month", table_name="vouchers")
    op.drop_index("ix_vouchers_reader_id_month", table_name="vouchers")
    op.drop_index(op.f("ix_vouchers_bookstore_id"), table_name="vouchers")
    op.drop_table("vouchers")
    op.drop_table("choose_budgets")
    op.drop_table("choose_rules")
    op.drop_index(op.f("ix_bookstore_staff_bookstore_id"), table_name="bookstore_staff")
    op.drop_table("bookstore_staff")
    op.drop_index(op.f("ix_bookstores_library_id"), table_name="bookstores")
    op.drop_table("bookstores")
