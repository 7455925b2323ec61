"""Who follows which demo library, so an organiser's /broadcast has someone to reach."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Library, LibraryFollow, LibraryKind, Reader
from bot.services.demo.accounts import READER_TELEGRAM_ID
from bot.services.demo.activity import ACTIVITY_TELEGRAM_BASE
from bot.services.demo.data import CENTRAL_LIBRARY
from bot.services.demo.summary import DemoSummary

# The demo reader follows the central library (the organiser's) and their district's branch;
# every other demo reader follows their district's home library.
PERSONA_FOLLOWS: dict[int, tuple[str, ...]] = {READER_TELEGRAM_ID: (CENTRAL_LIBRARY, "HBPL-XS")}


def home_libraries(libraries: Mapping[str, Library]) -> dict[int, Library]:
    """Each district's home library: its first public library by code, else its first one."""
    homes: dict[int, Library] = {}
    for code in sorted(
        libraries, key=lambda code: (libraries[code].kind != LibraryKind.PUBLIC, code)
    ):
        homes.setdefault(libraries[code].district_id, libraries[code])
    return homes


async def seed_follows(
    session: AsyncSession, libraries: Mapping[str, Library], summary: DemoSummary
) -> None:
    """The follows of the demo reader and the district readers (idempotent)."""
    readers = list(
        await session.scalars(
            select(Reader).where(
                Reader.telegram_id.in_(list(PERSONA_FOLLOWS))
                | (Reader.telegram_id > ACTIVITY_TELEGRAM_BASE)
            )
        )
    )
    homes = home_libraries(libraries)
    wanted: dict[tuple[int, int], None] = {}
    for reader in readers:
        codes = PERSONA_FOLLOWS.get(reader.telegram_id)
        if codes is not None:
            wanted.update({(reader.id, libraries[code].id): None for code in codes})
        elif reader.district_id in homes:
            wanted[(reader.id, homes[reader.district_id].id)] = None
    existing = await session.execute(
        select(LibraryFollow.reader_id, LibraryFollow.library_id).where(
            LibraryFollow.reader_id.in_([reader.id for reader in readers])
        )
    )
    for reader_id, library_id in existing.all():
        wanted.pop((reader_id, library_id), None)
    session.add_all(
        LibraryFollow(reader_id=reader_id, library_id=library_id)
        for reader_id, library_id in wanted
    )
    summary.follows_created += len(wanted)
    await session.flush()
