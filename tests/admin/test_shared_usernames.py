"""A @username two readers share: /grant and /audit never pick one of them by chance.

Issue 16, defect 19: a stale row (someone renamed and was not seen since) kept the username
another reader now has; the lookup took an arbitrary row and the reply did not say who.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import AuditLog, Reader, Role, RoleGrant, utcnow
from tests.admin.conftest import Staff
from tests.factories import make_reader
from tests.harness import inline_labels


async def _sams(
    sessionmaker: async_sessionmaker[AsyncSession], *, stale_seen: timedelta | None
) -> tuple[int, int]:
    """Two readers called @sam: a row created first (seen ``stale_seen`` ago, or never when
    None) and the current holder, seen just now. Their database ids."""
    now = utcnow()
    async with sessionmaker() as session:
        stale = await make_reader(
            session,
            telegram_id=601,
            first_name="Samuel",
            username="sam",
            last_seen_at=None if stale_seen is None else now - stale_seen,
        )
        current = await make_reader(
            session,
            telegram_id=602,
            first_name="Sam",
            username="Sam",
            last_seen_at=None if stale_seen is None else now,
        )
        await session.commit()
        return stale.id, current.id


async def _grants(sessionmaker: async_sessionmaker[AsyncSession]) -> list[tuple[int, Role]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Reader.telegram_id, RoleGrant.role)
            .join(RoleGrant.reader)
            .where(Reader.telegram_id.in_((601, 602)))
        )
        return [(telegram_id, role) for telegram_id, role in rows.all()]


async def test_the_reader_seen_last_holds_the_username_and_the_reply_says_who(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _sams(sessionmaker, stale_seen=timedelta(days=90))
    [done] = await staff.admin.send("/grant @sam organiser")
    assert done.text == "Done: Sam (@Sam, id 602) is now organiser."
    assert await _grants(sessionmaker) == [(602, Role.ORGANISER)]
    [done] = await staff.admin.send("/revoke @SAM organiser")
    assert done.text == "Done: Sam (@Sam, id 602) is no longer organiser."
    assert await _grants(sessionmaker) == []


async def test_an_unclear_username_asks_which_reader_is_meant(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _sams(sessionmaker, stale_seen=None)
    [question] = await staff.admin.send("/grant @sam librarian HOME")
    assert question.text == (
        "Several readers are known as @sam. Which one do you mean?\n"
        "• Samuel (@sam, id 601) — never seen\n"
        "• Sam (@Sam, id 602) — never seen"
    )
    assert inline_labels(question) == ["Samuel · id 601", "Sam · id 602"]
    assert await _grants(sessionmaker) == []

    [done] = await staff.admin.tap("Sam · id 602")
    assert done.text == "Done: Sam (@Sam, id 602) is now librarian (HOME)."
    assert await _grants(sessionmaker) == [(602, Role.LIBRARIAN)]
    # The question's buttons are gone: a second tap cannot grant again.
    assert inline_labels(staff.admin.chat()[-2]) == []


async def test_readers_seen_within_minutes_of_each_other_are_unclear_too(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _sams(sessionmaker, stale_seen=timedelta(minutes=2))
    [question] = await staff.admin.send("/revoke @sam admin")
    assert (question.text or "").startswith("Several readers are known as @sam.")
    assert "last seen" in (question.text or "")


async def test_audit_of_a_shared_username_asks_whose_entries(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    stale_id, current_id = await _sams(sessionmaker, stale_seen=None)
    async with sessionmaker() as session:
        for actor_id in (stale_id, current_id, current_id):
            session.add(AuditLog(actor_id=actor_id, action="event.create", details={}))
        await session.commit()
    [question] = await staff.admin.send("/audit @sam event")
    assert (question.text or "").startswith("Several readers are known as @sam.")
    await staff.admin.tap("Sam · id 602")
    # The question becomes the page of the reader chosen.
    lines = (staff.admin.last_bot_message().text or "").split("\n")
    assert lines[0] == "📜 Audit log, newest first: 2 entries (page 1 of 1)."
    assert lines[1] == "By: Sam (@Sam, id 602)"
    [page] = await staff.admin.send("/audit 601")
    assert (page.text or "").split("\n")[:2] == [
        "📜 Audit log, newest first: 1 entries (page 1 of 1).",
        "By: Samuel (@sam, id 601)",
    ]
