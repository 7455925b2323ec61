"""Editions and translations of one work: the works that share a family key.

Import reads the family key from what a record says (``bot.catalogue.editions``); here the
other members of a work's family are found, for its index document and its card.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Work

# Members of a family looked at (the first by id): their titles go into each other's index
# documents and the card lists them.
MAX_FAMILY = 12
CHUNK = 1000


def _family_members(keys: Collection[str]) -> Any:
    """The first MAX_FAMILY works (by id) of each family key: id, key and titles."""
    ranked = (
        select(
            Work.id,
            Work.family_key,
            Work.title,
            Work.original_title,
            func.row_number().over(partition_by=Work.family_key, order_by=Work.id).label("rank"),
        )
        .where(Work.family_key.in_(list(keys)))
        .subquery()
    )
    return select(ranked).where(ranked.c.rank <= MAX_FAMILY)


async def family_titles(session: AsyncSession, works: Sequence[Work]) -> dict[int, list[str]]:
    """For each work, the titles of the other editions and translations of its family."""
    keys = {work.family_key for work in works if work.family_key}
    members: dict[str, list[Any]] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = list(keys)[start : start + CHUNK]
        for row in (await session.execute(_family_members(chunk))).all():
            members.setdefault(row.family_key, []).append(row)
    titles: dict[int, list[str]] = {}
    for work in works:
        others = [row for row in members.get(work.family_key or "", []) if row.id != work.id]
        if others:
            own = {work.title, work.original_title}
            names = (name for row in others for name in (row.title, row.original_title))
            titles[work.id] = [name for name in dict.fromkeys(names) if name and name not in own]
    return titles


async def with_families(session: AsyncSession, work_ids: Collection[int]) -> list[int]:
    """The works and the other editions and translations of each (whose documents name them)."""
    keys: set[str] = set()
    for start in range(0, len(work_ids), CHUNK):
        id_chunk = list(work_ids)[start : start + CHUNK]
        found = await session.scalars(
            select(Work.family_key).where(Work.id.in_(id_chunk), Work.family_key.is_not(None))
        )
        keys.update(key for key in found if key)
    ids = set(work_ids)
    for start in range(0, len(keys), CHUNK):
        chunk = list(keys)[start : start + CHUNK]
        ids.update(row.id for row in (await session.execute(_family_members(chunk))).all())
    return sorted(ids)


async def family_of(session: AsyncSession, work: Work) -> list[Work]:
    """The other editions and translations of a work (up to MAX_FAMILY), oldest record first."""
    if not work.family_key:
        return []
    members = await session.scalars(
        select(Work)
        .where(Work.family_key == work.family_key, Work.id != work.id)
        .order_by(Work.id)
        .limit(MAX_FAMILY)
    )
    return list(members)
