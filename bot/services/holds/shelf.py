"""The periodic holds work: ready holds expire or are reminded, unfilled ones warned and
expired, suspensions end. Each unit of work is its own write block."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.config import Settings
from bot.db import write
from bot.models import Hold, HoldStatus
from bot.services.holds import notices
from bot.services.holds.access import load_relations, lock_work
from bot.services.holds.queue import NOT_COLLECTED, UNFILLED, close, release, target_if_first


async def _locked(session: AsyncSession, hold_id: int) -> Hold | None:
    """The hold as it is now, its work locked (it may have changed since it was listed)."""
    hold = await session.get(Hold, hold_id)
    if hold is None:
        return None
    await lock_work(session, hold.work_id)
    await session.refresh(hold)
    return hold


async def _expire_ready(
    session: AsyncSession, hold_id: int, *, settings: Settings, now: datetime
) -> bool:
    hold = await _locked(session, hold_id)
    if (
        hold is None
        or hold.status is not HoldStatus.READY
        or hold.ready_until is None
        or hold.ready_until >= now
    ):
        return False
    await load_relations(session, hold)
    await notices.expired_on_shelf(session, hold, now=now)
    await release(session, hold, settings=settings, now=now)
    close(hold, HoldStatus.EXPIRED, now, NOT_COLLECTED)
    return True


async def expire_ready_holds(session: AsyncSession, *, settings: Settings, now: datetime) -> int:
    """Ready holds past ready-until expire, with a notice; their copies go on. Commits each."""
    ids = list(
        await session.scalars(
            select(Hold.id).where(Hold.status == HoldStatus.READY, Hold.ready_until < now)
        )
    )
    done = 0
    for hold_id in ids:
        async with write(session):
            done += await _expire_ready(session, hold_id, settings=settings, now=now)
    return done


async def remind_ready_holds(session: AsyncSession, *, settings: Settings, now: datetime) -> int:
    """Remind readers ``hold_reminder_days`` before ready-until (once per deadline). Commits."""
    if not settings.hold_reminder_days:
        return 0
    soon = now + timedelta(days=settings.hold_reminder_days)
    async with write(session):
        holds = list(
            await session.scalars(
                select(Hold)
                .where(
                    Hold.status == HoldStatus.READY,
                    Hold.reminded_at.is_(None),
                    Hold.ready_until <= soon,
                    Hold.ready_until > now,
                    # A hold that was ready for less than a day needs no reminder yet.
                    Hold.ready_at < now - timedelta(days=1),
                )
                .options(selectinload(Hold.work), selectinload(Hold.pickup_library))
            )
        )
        for hold in holds:
            hold.reminded_at = now
            await notices.reminder(session, hold, now=now)
    return len(holds)


async def expire_unfilled_holds(
    session: AsyncSession, *, settings: Settings, now: datetime
) -> tuple[int, int]:
    """Warn a week before, then expire queued holds past ``unfilled_hold_days``. Commits."""
    warn_from = now + timedelta(days=settings.hold_unfilled_warning_days)
    days = settings.unfilled_hold_days
    async with write(session):
        warned = list(
            await session.scalars(
                select(Hold)
                .where(
                    Hold.status == HoldStatus.QUEUED,
                    Hold.warned_at.is_(None),
                    Hold.expires_at <= warn_from,
                    Hold.expires_at > now,
                )
                .options(selectinload(Hold.work), selectinload(Hold.pickup_library))
            )
        )
        for hold in warned:
            hold.warned_at = now
            await notices.unfilled_warning(session, hold, days=days, now=now)
        expired = list(
            await session.scalars(
                select(Hold)
                .where(Hold.status == HoldStatus.QUEUED, Hold.expires_at <= now)
                .options(selectinload(Hold.work), selectinload(Hold.pickup_library))
            )
        )
        for hold in expired:
            close(hold, HoldStatus.EXPIRED, now, UNFILLED)
            await notices.expired_unfilled(session, hold, days=days, now=now)
    return len(warned), len(expired)


async def reactivate_suspended_holds(
    session: AsyncSession, *, settings: Settings, now: datetime
) -> int:
    """Suspensions that ended: the hold is active again and may take a copy on a shelf."""
    ids = list(
        await session.scalars(
            select(Hold.id).where(
                Hold.status == HoldStatus.QUEUED,
                Hold.suspended_until.is_not(None),
                Hold.suspended_until <= now,
            )
        )
    )
    for hold_id in ids:
        async with write(session):
            hold = await _locked(session, hold_id)
            if (
                hold is not None
                and hold.status is HoldStatus.QUEUED
                and hold.suspended_until is not None
            ):
                hold.suspended_until = None
                await session.flush()
                await target_if_first(session, hold, settings=settings, now=now)
    return len(ids)
