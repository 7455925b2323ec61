"""cnmarc: variant titles, Chinese Library Classification, edition and series of works;
copies may be not for loan (item status from catalogue exports); a library's own CNMARC
holdings field

Revision ID: 0014_cnmarc
Revises: 0013_harvest
Create Date: 2026-12-06 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_cnmarc"
down_revision: str | None = "0013_harvest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_STATUSES = ("available", "on_loan", "held", "in_transit", "missing")
_WITH_NOT_FOR_LOAN = (*_STATUSES, "not_for_loan")
_CHECK = "ck_items_item_status"


def _item_status(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *values, name="item_status", native_enum=False, create_constraint=True, length=24
    )


def _statuses(values: tuple[str, ...]) -> None:
    """Let items.status take `values` (a VARCHAR with a CHECK constraint)."""
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot alter a constraint: the table is copied with the new one.
        with op.batch_alter_table("items", recreate="always") as batch:
            batch.drop_constraint(op.f(_CHECK), type_="check")
            batch.create_check_constraint(op.f(_CHECK), sa.column("status").in_(values))
        return
    op.drop_constraint(op.f(_CHECK), "items", type_="check")
    op.create_check_constraint(op.f(_CHECK), "items", sa.column("status").in_(values))


def upgrade() -> None:
    _statuses(_WITH_NOT_FOR_LOAN)
    with op.batch_alter_table("libraries") as batch:
        batch.add_column(sa.Column("holdings_fields", sa.String(length=200), nullable=True))
    with op.batch_alter_table("works") as batch:
        batch.add_column(
            sa.Column("variant_titles", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(
            sa.Column("clc_numbers", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(sa.Column("edition", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("series", sa.String(length=500), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE items SET status = 'available' WHERE status = 'not_for_loan'")
    _statuses(_STATUSES)
    with op.batch_alter_table("libraries") as batch:
        batch.drop_column("holdings_fields")
    with op.batch_alter_table("works") as batch:
        batch.drop_column("series")
        batch.drop_column("edition")
        batch.drop_column("clc_numbers")
        batch.drop_column("variant_titles")
