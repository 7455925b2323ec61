"""Two admins deciding the same suggestion at once: exactly one decision stands."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import (
    Notification,
    PurchaseSuggestion,
    PurchaseVote,
    Role,
    SuggestionStatus,
    utcnow,
)
from bot.services import purchasing
from bot.services.errors import NotFoundError
from bot.services.purchasing import AlreadyDecidedError
from tests.factories import make_library, make_reader


async def test_concurrent_decisions(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        library = await make_library(session)
        admins = [await make_reader(session, roles=(Role.ADMIN,)) for _ in range(2)]
        voters = [await make_reader(session) for _ in range(3)]
        suggestion = PurchaseSuggestion(match_key="q:odyssey", query="Odyssey", votes=3)
        session.add(suggestion)
        await session.flush()
        for voter in voters:
            session.add(PurchaseVote(suggestion_id=suggestion.id, reader_id=voter.id))
        await session.commit()
        suggestion_id, library_id = suggestion.id, library.id

    async def decide(admin_index: int, approve: bool) -> str:
        async with sessionmaker() as session:
            try:
                await purchasing.decide(
                    session,
                    admins[admin_index],
                    suggestion_id,
                    approve=approve,
                    library_id=library_id,
                    now=utcnow(),
                )
            except AlreadyDecidedError:
                return "refused"
            return "approved" if approve else "declined"

    outcomes = await asyncio.gather(decide(0, True), decide(1, False))
    assert sorted(outcomes) in (["approved", "refused"], ["declined", "refused"])
    async with sessionmaker() as session:
        stored = await session.get_one(PurchaseSuggestion, suggestion_id)
        notices = await session.scalar(
            select(func.count()).where(Notification.kind == purchasing.NOTICE_KIND)
        )
    winner = next(outcome for outcome in outcomes if outcome != "refused")
    assert stored.status is (
        SuggestionStatus.APPROVED if winner == "approved" else SuggestionStatus.DECLINED
    )
    assert notices == 3


async def test_approving_needs_a_library(session: AsyncSession) -> None:
    admin = await make_reader(session, roles=(Role.ADMIN,))
    suggestion = PurchaseSuggestion(match_key="q:iliad", query="Iliad", votes=1)
    session.add(suggestion)
    await session.commit()
    with pytest.raises(NotFoundError):
        await purchasing.decide(
            session,
            admin,
            suggestion.id,
            approve=True,
            library_id=987654,
            now=utcnow(),
        )
    await session.refresh(suggestion)
    assert suggestion.status is SuggestionStatus.OPEN
