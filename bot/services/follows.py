"""Following libraries: a reader hears the announcements of the libraries they follow."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import Library, LibraryFollow, Reader
from bot.services.errors import NotFoundError

PAGE_SIZE = 8


@dataclass(frozen=True)
class LibraryPage:
    """One page of the library list, with the ones the reader follows."""

    libraries: list[Library]
    followed: frozenset[int]
    page: int
    pages: int


async def library_page(session: AsyncSession, reader: Reader, page: int) -> LibraryPage:
    """Libraries by code, one page at a time (out-of-range pages are clamped)."""
    total = await session.scalar(select(func.count(Library.id))) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    libraries = list(
        await session.scalars(
            select(Library).order_by(Library.code).offset(page * PAGE_SIZE).limit(PAGE_SIZE)
        )
    )
    return LibraryPage(
        libraries=libraries,
        followed=await followed_ids(session, reader.id),
        page=page,
        pages=pages,
    )


async def followed_ids(session: AsyncSession, reader_id: int) -> frozenset[int]:
    """Ids of the libraries the reader follows."""
    rows = await session.scalars(
        select(LibraryFollow.library_id).where(LibraryFollow.reader_id == reader_id)
    )
    return frozenset(rows)


async def followed_libraries(session: AsyncSession, reader_id: int) -> list[Library]:
    """The libraries the reader follows, by code."""
    rows = await session.scalars(
        select(Library)
        .join(LibraryFollow, LibraryFollow.library_id == Library.id)
        .where(LibraryFollow.reader_id == reader_id)
        .order_by(Library.code)
    )
    return list(rows)


async def library_by_code(session: AsyncSession, code: str) -> Library:
    """A library by its code (case-insensitive)."""
    library = await session.scalar(select(Library).where(func.lower(Library.code) == code.lower()))
    if library is None:
        raise NotFoundError("library")
    return library


async def follow(session: AsyncSession, reader: Reader, library_id: int) -> Library:
    """Follow a library (following it twice is harmless)."""
    async with write(session):
        library = await session.get(Library, library_id)
        if library is None:
            raise NotFoundError("library")
        exists = await session.scalar(
            select(LibraryFollow.id).where(
                LibraryFollow.reader_id == reader.id, LibraryFollow.library_id == library_id
            )
        )
        if exists is None:
            try:
                async with session.begin_nested():
                    session.add(LibraryFollow(reader_id=reader.id, library_id=library_id))
            except IntegrityError:
                pass  # a double tap raced us to it: the reader follows the library either way
    return library


async def unfollow(session: AsyncSession, reader: Reader, library_id: int) -> Library:
    """Stop following a library (unfollowing one not followed is harmless)."""
    async with write(session):
        library = await session.get(Library, library_id)
        if library is None:
            raise NotFoundError("library")
        await session.execute(
            delete(LibraryFollow).where(
                LibraryFollow.reader_id == reader.id, LibraryFollow.library_id == library_id
            )
        )
    return library


async def follower_counts(session: AsyncSession, library_ids: Collection[int]) -> dict[int, int]:
    """How many readers follow each library."""
    if not library_ids:
        return {}
    rows = await session.execute(
        select(LibraryFollow.library_id, func.count(LibraryFollow.id))
        .where(LibraryFollow.library_id.in_(list(library_ids)))
        .group_by(LibraryFollow.library_id)
    )
    return dict(rows.all())
