"""Reading lists (书单): librarians and organisers build them, readers follow and reserve."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import Event, ListFollow, Reader, ReadingList, ReadingListEntry, Work, utcnow
from bot.services.errors import InvalidInputError, NotAllowedError, NotFoundError
from bot.services.reading.list_links import unlink_all, upcoming_events
from bot.services.reading.log import work_by_isbn
from bot.services.search.holdings import LibraryPlace
from bot.services.search.query import valid_id
from bot.services.search.work_card import work_card

MAX_ENTRIES = 1000
TITLE_CHARS = 200
NOTE_CHARS = 200
PAGE = 10


class ListTooLong(InvalidInputError):
    """Adding the books would take the list over MAX_ENTRIES."""

    def __init__(self, count: int) -> None:
        super().__init__(str(count))
        self.count = count


class BadTitle(InvalidInputError):
    """A list needs a Chinese title of 1-200 characters (the English one is optional)."""


@dataclass(frozen=True)
class EntryView:
    position: int
    work_id: int
    title: str
    original_title: str | None
    note: str | None


@dataclass(frozen=True)
class ListView:
    """A list with one page of its entries."""

    list: ReadingList
    entries: tuple[EntryView, ...]
    total: int
    followers: int
    following: bool
    page: int
    # Published events still to come that carry the list, soonest first.
    events: tuple[Event, ...] = ()

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE))


def parse_titles(text: str) -> tuple[str, str | None]:
    """``中文标题 | English title``: the two titles (the English one may be left out)."""
    chinese, _, english = text.partition("|")
    title = " ".join(chinese.split())
    title_en = " ".join(english.split()) or None
    if not title or len(title) > TITLE_CHARS or len(title_en or "") > TITLE_CHARS:
        raise BadTitle(text)
    return title, title_en


async def create_list(
    session: AsyncSession, author: Reader, title: str, title_en: str | None
) -> ReadingList:
    """A new, unpublished list (the titles as ``parse_titles`` gives them)."""
    title, title_en = parse_titles(f"{title} | {title_en or ''}")
    async with write(session):
        made = ReadingList(title=title, title_en=title_en, created_by_id=author.id)
        session.add(made)
        await session.flush()
        return made


async def _own(session: AsyncSession, editor: Reader, list_id: int, *, admin: bool) -> ReadingList:
    found = await session.get(ReadingList, list_id) if valid_id(list_id) else None
    if found is None:
        raise NotFoundError("list")
    if not admin and found.created_by_id != editor.id:
        raise NotAllowedError("list")
    return found


async def add_books(
    session: AsyncSession, editor: Reader, list_id: int, isbns: list[str], *, admin: bool = False
) -> int:
    """Add the books with these ISBNs at the end (those already on it stay where they are).

    All or nothing: an unknown ISBN, or more than MAX_ENTRIES books in all, refuses the lot.
    The count is checked with the list's row locked, so two additions at once cannot pass
    the limit together. Returns how many were added.
    """
    works = [await work_by_isbn(session, isbn) for isbn in isbns]
    return await _append(session, editor, list_id, [work.id for work in works], admin=admin)


async def add_work(
    session: AsyncSession, editor: Reader, list_id: int, work_id: int, *, admin: bool = False
) -> int:
    """Add one work (from its card) at the end, as ``add_books`` does: 0 when it is on the
    list already."""
    if not valid_id(work_id) or await session.get(Work, work_id) is None:
        raise NotFoundError("work")
    return await _append(session, editor, list_id, [work_id], admin=admin)


async def _append(
    session: AsyncSession, editor: Reader, list_id: int, work_ids: list[int], *, admin: bool
) -> int:
    async with write(session):
        await _own(session, editor, list_id, admin=admin)
        await session.execute(
            update(ReadingList).where(ReadingList.id == list_id).values(updated_at=func.now())
        )
        present = set(
            await session.scalars(
                select(ReadingListEntry.work_id).where(ReadingListEntry.list_id == list_id)
            )
        )
        new = list(dict.fromkeys(work_id for work_id in work_ids if work_id not in present))
        if len(present) + len(new) > MAX_ENTRIES:
            raise ListTooLong(len(present) + len(new))
        last = await session.scalar(
            select(func.max(ReadingListEntry.position)).where(ReadingListEntry.list_id == list_id)
        )
        start = (last or 0) + 1
        session.add_all(
            ReadingListEntry(list_id=list_id, work_id=work_id, position=start + n)
            for n, work_id in enumerate(new)
        )
        await session.flush()
        return len(new)


async def _entries(session: AsyncSession, list_id: int) -> list[ReadingListEntry]:
    return list(
        await session.scalars(
            select(ReadingListEntry)
            .where(ReadingListEntry.list_id == list_id)
            .order_by(ReadingListEntry.position, ReadingListEntry.id)
        )
    )


async def _entry_at(session: AsyncSession, list_id: int, number: int) -> ReadingListEntry:
    entries = await _entries(session, list_id)
    if not 1 <= number <= len(entries):
        raise NotFoundError("entry")
    return entries[number - 1]


async def remove_entry(
    session: AsyncSession, editor: Reader, list_id: int, number: int, *, admin: bool = False
) -> None:
    """Take the book at place ``number`` (1-based) off the list."""
    async with write(session):
        await _own(session, editor, list_id, admin=admin)
        entry = await _entry_at(session, list_id, number)
        await session.delete(entry)


async def move_up(
    session: AsyncSession, editor: Reader, list_id: int, number: int, *, admin: bool = False
) -> None:
    """Swap the book at place ``number`` with the one before it."""
    async with write(session):
        await _own(session, editor, list_id, admin=admin)
        entries = await _entries(session, list_id)
        if not 2 <= number <= len(entries):
            raise NotFoundError("entry")
        # Positions are renumbered 1..n, so gaps left by removals close as well.
        entries[number - 2], entries[number - 1] = entries[number - 1], entries[number - 2]
        for place, entry in enumerate(entries, start=1):
            entry.position = place


async def set_note(
    session: AsyncSession,
    editor: Reader,
    list_id: int,
    number: int,
    note: str,
    *,
    admin: bool = False,
) -> None:
    """The short note on the book at place ``number`` (empty: none)."""
    text = " ".join(note.split())
    if len(text) > NOTE_CHARS:
        raise InvalidInputError("note")
    async with write(session):
        await _own(session, editor, list_id, admin=admin)
        entry = await _entry_at(session, list_id, number)
        entry.note = text or None


async def set_published(
    session: AsyncSession, editor: Reader, list_id: int, published: bool, *, admin: bool = False
) -> ReadingList:
    """Publish the list to readers, or take it back (and off its events and campaigns)."""
    async with write(session):
        found = await _own(session, editor, list_id, admin=admin)
        found.published = published
        if not published:
            await unlink_all(session, found.id)
        return found


async def published_lists(session: AsyncSession) -> list[tuple[ReadingList, int]]:
    """Published lists, newest first, with their number of books."""
    count = func.count(ReadingListEntry.id)
    rows = await session.execute(
        select(ReadingList, count)
        .outerjoin(ReadingListEntry, ReadingListEntry.list_id == ReadingList.id)
        .where(ReadingList.published.is_(True))
        .group_by(ReadingList.id)
        .order_by(ReadingList.created_at.desc(), ReadingList.id.desc())
        .limit(30)
    )
    return [(found, int(n)) for found, n in rows]


async def own_lists(session: AsyncSession, author: Reader) -> list[ReadingList]:
    """The lists the person made."""
    return list(
        await session.scalars(
            select(ReadingList)
            .where(ReadingList.created_by_id == author.id)
            .order_by(ReadingList.id.desc())
        )
    )


async def list_view(
    session: AsyncSession, reader: Reader, list_id: int, page: int = 0, *, editor: bool = False
) -> ListView:
    """One page of a list: published ones for everybody, unpublished for their author."""
    found = await session.get(ReadingList, list_id) if valid_id(list_id) else None
    if found is None or not (found.published or editor or found.created_by_id == reader.id):
        raise NotFoundError("list")
    total = await session.scalar(
        select(func.count())
        .select_from(ReadingListEntry)
        .where(ReadingListEntry.list_id == list_id)
    )
    pages = max(1, -(-int(total or 0) // PAGE))
    page = min(max(page, 0), pages - 1)
    rows = await session.execute(
        select(ReadingListEntry, Work)
        .join(Work, Work.id == ReadingListEntry.work_id)
        .where(ReadingListEntry.list_id == list_id)
        .order_by(ReadingListEntry.position, ReadingListEntry.id)
        .offset(page * PAGE)
        .limit(PAGE)
    )
    entries = tuple(
        EntryView(page * PAGE + n, work.id, work.title, work.original_title, entry.note)
        for n, (entry, work) in enumerate(rows, start=1)
    )
    followers = await session.scalar(
        select(func.count()).select_from(ListFollow).where(ListFollow.list_id == list_id)
    )
    following = await session.scalar(
        select(ListFollow.id).where(
            ListFollow.list_id == list_id, ListFollow.reader_id == reader.id
        )
    )
    events = tuple(await upcoming_events(session, list_id, utcnow())) if found.published else ()
    return ListView(
        found, entries, int(total or 0), int(followers or 0), following is not None, page, events
    )


async def follow(session: AsyncSession, reader: Reader, list_id: int, on: bool) -> None:
    """Follow or unfollow a published list (twice is the same as once)."""
    found = await session.get(ReadingList, list_id) if valid_id(list_id) else None
    if found is None or not found.published:
        raise NotFoundError("list")
    try:
        async with write(session):
            existing = await session.scalar(
                select(ListFollow).where(
                    ListFollow.list_id == list_id, ListFollow.reader_id == reader.id
                )
            )
            if on and existing is None:
                session.add(ListFollow(list_id=list_id, reader_id=reader.id))
            elif not on and existing is not None:
                await session.delete(existing)
    except IntegrityError:
        pass  # followed at the same moment by another tap: followed once


@dataclass(frozen=True)
class Nearest:
    """Where a listed book is nearest to the reader: on a shelf, or held with copies out."""

    place: LibraryPlace | None
    on_shelf: bool


async def nearest_copies(
    session: AsyncSession, reader: Reader, work_ids: list[int]
) -> dict[int, Nearest]:
    """For each work, the nearest library with a copy on the shelf (else the nearest with
    any copy; no place when no library has one), from the reader's location or district."""
    found: dict[int, Nearest] = {}
    for work_id in work_ids:
        card = await work_card(session, reader, work_id)
        shelf = next((holding for holding in card.holdings if holding.available), None)
        if shelf is not None:
            found[work_id] = Nearest(shelf.library, True)
        elif card.holdings:
            found[work_id] = Nearest(card.holdings[0].library, False)
        else:
            found[work_id] = Nearest(None, False)
    return found
