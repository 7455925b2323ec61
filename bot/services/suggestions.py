"""'You choose, the library buys': purchase suggestions merged by title or ISBN, one vote each."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache

from opencc import OpenCC
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import PurchaseSuggestion, PurchaseVote, Reader, SuggestionStatus
from bot.services.errors import DomainError, InvalidInputError, NotAllowedError
from bot.services.search import clean_query, logged_search

MATCH_KEY_CHARS = 300
QUERY_CHARS = 300
_WORD = re.compile(r"[^\W_]+")


class SuggestionLimitError(DomainError):
    """The reader has made as many suggestions this month as the alliance allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} suggestions a month")
        self.limit = limit


class NothingToSuggestError(InvalidInputError):
    """The query has no words or ISBN to suggest."""


@dataclass(frozen=True)
class SuggestionOutcome:
    """The suggestion after the reader's vote, and whether this vote was new."""

    suggestion_id: int
    query: str
    isbn: str | None
    votes: int
    status: SuggestionStatus
    created: bool
    counted: bool


@lru_cache(maxsize=1)
def _to_simplified() -> OpenCC:
    return OpenCC("t2s")


def match_key(query: str, isbn: str | None = None) -> str | None:
    """The key duplicates merge on: ``isbn:<ISBN-13>``, else the folded words of the query."""
    if isbn:
        return f"isbn:{isbn}"
    folded = unicodedata.normalize("NFKC", query).casefold()
    if any("\u2e80" <= char <= "\u9fff" for char in folded):
        folded = str(_to_simplified().convert(folded))
    words = " ".join(_WORD.findall(folded))
    return f"q:{words}"[:MATCH_KEY_CHARS] if words else None


def month_start(now: datetime, zone: tzinfo) -> datetime:
    """The first instant of the calendar month ``now`` falls in, in the alliance's time zone."""
    local = now.astimezone(zone)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def votes_this_month(
    session: AsyncSession, reader_id: int, now: datetime, zone: tzinfo
) -> int:
    """How many suggestions (new or seconded) the reader made this calendar month."""
    count = await session.scalar(
        select(func.count(PurchaseVote.id)).where(
            PurchaseVote.reader_id == reader_id, PurchaseVote.created_at >= month_start(now, zone)
        )
    )
    return int(count or 0)


async def _outcome(
    session: AsyncSession, suggestion_id: int, *, created: bool, counted: bool
) -> SuggestionOutcome:
    row = (
        await session.execute(
            select(
                PurchaseSuggestion.query,
                PurchaseSuggestion.isbn,
                PurchaseSuggestion.votes,
                PurchaseSuggestion.status,
            ).where(PurchaseSuggestion.id == suggestion_id)
        )
    ).one()
    return SuggestionOutcome(
        suggestion_id=suggestion_id,
        query=row.query,
        isbn=row.isbn,
        votes=row.votes,
        status=row.status,
        created=created,
        counted=counted,
    )


async def _find(session: AsyncSession, key: str) -> int | None:
    return await session.scalar(
        select(PurchaseSuggestion.id).where(PurchaseSuggestion.match_key == key)
    )


async def suggest_purchase(
    session: AsyncSession,
    reader: Reader,
    query: str,
    *,
    isbn: str | None = None,
    now: datetime,
    zone: tzinfo,
    monthly_limit: int,
) -> SuggestionOutcome:
    """Suggest a title (or ISBN) for purchase, or second an existing suggestion: one vote each."""
    key = match_key(query, isbn)
    if key is None:
        raise NothingToSuggestError("nothing to suggest")
    async with write(session):
        suggestion_id = await _find(session, key)
        if suggestion_id is not None:
            already = await session.scalar(
                select(PurchaseVote.id).where(
                    PurchaseVote.suggestion_id == suggestion_id, PurchaseVote.reader_id == reader.id
                )
            )
            if already is not None:
                return await _outcome(session, suggestion_id, created=False, counted=False)
        if await votes_this_month(session, reader.id, now, zone) >= monthly_limit:
            raise SuggestionLimitError(monthly_limit)
        created = False
        if suggestion_id is None:
            try:
                async with session.begin_nested():
                    suggestion = PurchaseSuggestion(
                        match_key=key, query=query[:QUERY_CHARS], isbn=isbn, votes=1
                    )
                    session.add(suggestion)
                    await session.flush()
                    session.add(
                        PurchaseVote(
                            suggestion_id=suggestion.id, reader_id=reader.id, created_at=now
                        )
                    )
                    await session.flush()
                suggestion_id, created = suggestion.id, True
            except IntegrityError:
                # Somebody suggested the same title a moment ago: second theirs.
                suggestion_id = await _find(session, key)
                if suggestion_id is None:
                    raise
        counted = created
        if not created:
            try:
                async with session.begin_nested():
                    session.add(
                        PurchaseVote(
                            suggestion_id=suggestion_id, reader_id=reader.id, created_at=now
                        )
                    )
                    await session.flush()
            except IntegrityError:
                counted = False  # a double tap: the first vote stands
            else:
                counted = True
                await session.execute(
                    update(PurchaseSuggestion)
                    .where(PurchaseSuggestion.id == suggestion_id)
                    .values(votes=PurchaseSuggestion.votes + 1)
                )
    return await _outcome(session, suggestion_id, created=created, counted=counted)


async def suggest_from_search(
    session: AsyncSession,
    reader: Reader,
    search_id: int,
    *,
    now: datetime,
    zone: tzinfo,
    monthly_limit: int,
) -> SuggestionOutcome:
    """Suggest what one of the reader's own searches looked for in vain."""
    logged = await logged_search(session, reader, search_id)
    if logged.hit_count:
        raise NotAllowedError("that search found works in the catalogue")
    cleaned = clean_query(logged.query)
    return await suggest_purchase(
        session,
        reader,
        cleaned.text,
        isbn=cleaned.isbn,
        now=now,
        zone=zone,
        monthly_limit=monthly_limit,
    )
