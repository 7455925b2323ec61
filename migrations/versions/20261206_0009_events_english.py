"""events: English titles and place names; "中文 / English" titles split into both

Revision ID: 0009_events_english
Revises: 0008
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_events_english"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIMIT = 200
# Han characters and CJK punctuation (《》：（）, full-width forms). A migration keeps its own
# copy of the rule (bot.services.events.drafts.split_bilingual) so that it never changes.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
LATIN = re.compile(r"[A-Za-z]")
SEPARATOR = " / "

events = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("title", sa.String),
    sa.column("title_en", sa.String),
    sa.column("place_name", sa.String),
    sa.column("place_name_en", sa.String),
)


def split_bilingual(text: str) -> tuple[str, str] | None:
    """("中文", "English") for exactly "中文 / English" (or "English / 中文"), else None."""
    if text.count(SEPARATOR) != 1:
        return None
    first, second = (part.strip() for part in text.split(SEPARATOR))
    for chinese, english in ((first, second), (second, first)):
        if CJK.search(chinese) and LATIN.search(english) and not CJK.search(english):
            return chinese, english
    return None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title_en", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("place_name_en", sa.String(length=200), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(events.c.id, events.c.title, events.c.place_name))
    for event_id, title, place_name in list(rows):
        changes: dict[str, str] = {}
        title_parts = split_bilingual(title or "")
        if title_parts is not None:
            changes.update(title=title_parts[0], title_en=title_parts[1])
        place_parts = split_bilingual(place_name or "")
        if place_parts is not None:
            changes.update(place_name=place_parts[0], place_name_en=place_parts[1])
        if changes:
            connection.execute(events.update().where(events.c.id == event_id).values(**changes))


def _joined(original: str | None, english: str | None) -> str | None:
    if original is None or not english or english == original:
        return original
    joined = f"{original}{SEPARATOR}{english}"
    return joined if len(joined) <= LIMIT else original


def downgrade() -> None:
    # The English variants go back into the one column they came from, where they fit.
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            events.c.id,
            events.c.title,
            events.c.title_en,
            events.c.place_name,
            events.c.place_name_en,
        ).where(sa.or_(events.c.title_en.is_not(None), events.c.place_name_en.is_not(None)))
    )
    for event_id, title, title_en, place_name, place_name_en in list(rows):
        connection.execute(
            events.update()
            .where(events.c.id == event_id)
            .values(title=_joined(title, title_en), place_name=_joined(place_name, place_name_en))
        )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("place_name_en")
        batch_op.drop_column("title_en")
