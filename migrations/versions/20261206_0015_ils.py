"""ils: a connector per library (manual, SIP2 or a status feed), holds relayed, cards linked

Revision ID: 0015_ils
Revises: 0014_cnmarc
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_ils"
down_revision: str | None = "0014_cnmarc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ils_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "manual",
                "sip2",
                "feed",
                name="ils_kind",
                native_enum=False,
                length=24,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("password", sa.String(length=255), nullable=False),
        sa.Column("location", sa.String(length=255), nullable=False),
        sa.Column("institution", sa.String(length=255), nullable=False),
        sa.Column("use_tls", sa.Boolean(), nullable=False),
        sa.Column("encoding", sa.String(length=32), nullable=False),
        sa.Column("feed_url", sa.String(length=1000), nullable=False),
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
            ["library_id"],
            ["libraries.id"],
            name=op.f("fk_ils_connections_library_id_libraries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ils_connections")),
        sa.UniqueConstraint("library_id", name=op.f("uq_ils_connections_library_id")),
    )

    op.create_table(
        "ils_hold_relays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hold_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "placed",
                "refused",
                "no_card",
                "cancelled",
                name="ils_relay_status",
                native_enum=False,
                length=24,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=300), nullable=False),
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
            ["hold_id"],
            ["holds.id"],
            name=op.f("fk_ils_hold_relays_hold_id_holds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_ils_hold_relays_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ils_hold_relays")),
        sa.UniqueConstraint("hold_id", "item_id", name=op.f("uq_ils_hold_relays_hold_id_item_id")),
    )
    op.create_index(
        op.f("ix_ils_hold_relays_hold_id"), "ils_hold_relays", ["hold_id"], unique=False
    )
    op.create_table(
        "ils_patron_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("card_number", sa.String(length=64), nullable=False),
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
            ["library_id"],
            ["libraries.id"],
            name=op.f("fk_ils_patron_links_library_id_libraries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reader_id"],
            ["readers.id"],
            name=op.f("fk_ils_patron_links_reader_id_readers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ils_patron_links")),
        sa.UniqueConstraint(
            "reader_id", "library_id", name=op.f("uq_ils_patron_links_reader_id_library_id")
        ),
    )
    op.create_index(
        op.f("ix_ils_patron_links_reader_id"), "ils_patron_links", ["reader_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ils_patron_links_reader_id"), table_name="ils_patron_links")
    op.drop_table("ils_patron_links")
    op.drop_index(op.f("ix_ils_hold_relays_hold_id"), table_name="ils_hold_relays")
    op.drop_table("ils_hold_relays")
    op.drop_table("ils_connections")
