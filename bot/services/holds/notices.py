"""The notices holds raise, as typed intents queued in the caller's transaction.

What each notice shows is data here; how it reads (language, text, buttons) is decided in
``bot.notices.holds`` when the outbox sends it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.config import Settings
from bot.models import Hold, HoldStatus, Library, Notification, NotificationStatus, Work
from bot.notices.intents import Names, Notice, NoticeData, notice_kind, payload_of, read_notice
from bot.services import outbox
from bot.services.errors import InvalidInputError


def title_of(work: Work) -> Names:
    """A work's title: the original-script one with the romanised (English) one beside it."""
    original = (work.original_title or "").strip()
    if original and original != work.title.strip():
        return Names(name=original, name_en=work.title)
    return Names(name=work.title)


def library_of(library: Library) -> Names:
    """A library's name and its English variant."""
    return Names(name=library.name, name_en=library.name_en)


@notice_kind("hold.transit")
class HoldInTransit(NoticeData):
    """A copy is on its way to the pickup library."""

    hold_id: int
    title: Names
    library: Names
    days: int


class ReadyHold(BaseModel):
    """One hold in a ready notice, with where and until when it waits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hold_id: int
    title: Names
    library_id: int
    library: Names
    address: str = ""
    opening_hours: str = ""
    latitude: float
    longitude: float
    until: datetime


@notice_kind("hold.ready")
class HoldsReady(NoticeData):
    """Holds ready for pickup (the ones that became ready while the notice waited join it)."""

    holds: tuple[ReadyHold, ...]
    shelf_days: int

    @property
    def hold_ids(self) -> list[int]:
        """The holds the notice is about."""
        return [hold.hold_id for hold in self.holds]


@notice_kind("hold.reminder")
class HoldReminder(NoticeData):
    """A ready hold's pickup date is close."""

    hold_id: int
    title: Names
    library: Names
    until: datetime


@notice_kind("hold.expired")
class HoldExpiredOnShelf(NoticeData):
    """A ready hold was not collected in time."""

    hold_id: int
    title: Names
    library: Names
    until: datetime


@notice_kind("hold.unfilled")
class HoldExpiredUnfilled(NoticeData):
    """No copy came free for a queued hold within the unfilled-hold period."""

    hold_id: int
    title: Names
    days: int


@notice_kind("hold.warning")
class HoldExpiresSoon(NoticeData):
    """A queued hold will expire unfilled soon."""

    hold_id: int
    title: Names
    expires_at: datetime
    days: int


@notice_kind("hold.cancelled")
class HoldCancelledByLibrary(NoticeData):
    """The library cancelled the hold: its last copy went missing."""

    hold_id: int
    title: Names


@notice_kind("hold.watch")
class CopyArrived(NoticeData):
    """A copy of a work the reader watched has come into the alliance."""

    work_id: int
    title: Names


def _notice(
    hold: Hold, data: NoticeData, key: str, *, not_before: datetime | None = None
) -> Notice:
    return Notice(
        reader_id=hold.reader_id,
        data=data,
        dedup_key=key,
        priority=outbox.Priority.HIGH,
        not_before=not_before,
    )


async def in_transit(session: AsyncSession, hold: Hold, days: int, *, now: datetime) -> None:
    """The copy is on its way to the pickup library."""
    data = HoldInTransit(
        hold_id=hold.id,
        title=title_of(hold.work),
        library=library_of(hold.pickup_library),
        days=days,
    )
    key = f"{HoldInTransit.kind}:{hold.id}:{now.timestamp():.0f}"
    await outbox.enqueue_notices(session, [_notice(hold, data, key)], now=now)


def _ready_notice(holds: Sequence[Hold], settings: Settings) -> HoldsReady:
    entries = []
    for hold in holds:
        library = hold.pickup_library
        assert hold.ready_until is not None
        entries.append(
            ReadyHold(
                hold_id=hold.id,
                title=title_of(hold.work),
                library_id=library.id,
                library=library_of(library),
                address=library.address or "",
                opening_hours=library.opening_hours or "",
                latitude=library.latitude,
                longitude=library.longitude,
                until=hold.ready_until,
            )
        )
    return HoldsReady(holds=tuple(entries), shelf_days=settings.hold_shelf_days)


async def _load(session: AsyncSession, hold_ids: Sequence[int]) -> list[Hold]:
    return list(
        await session.scalars(
            select(Hold)
            .where(Hold.id.in_(hold_ids))
            .options(selectinload(Hold.work), selectinload(Hold.pickup_library))
            .order_by(Hold.id)
        )
    )


def _notice_hold_ids(notice: Notification) -> list[int]:
    try:
        data = read_notice(notice.payload)
    except InvalidInputError:
        data = None
    if isinstance(data, HoldsReady):
        return data.hold_ids
    # A row queued before notices were intents: merged ones list their holds in the
    # payload, the first one's dedup key names its hold.
    first = notice.dedup_key.split(":")[1]
    return [int(i) for i in notice.payload.get("hold_ids", [first])]


async def ready(session: AsyncSession, hold: Hold, *, settings: Settings, now: datetime) -> None:
    """Ready for pickup; holds that become ready while a notice waits join that notice."""
    day_start = datetime.combine(now.astimezone(settings.zone).date(), datetime.min.time())
    day_start = day_start.replace(tzinfo=settings.zone)
    pending = await session.scalar(
        select(Notification)
        .where(
            Notification.reader_id == hold.reader_id,
            Notification.kind == HoldsReady.kind,
            Notification.status == NotificationStatus.PENDING,
            Notification.created_at >= day_start,
        )
        .order_by(Notification.id.desc())
        .limit(1)
    )
    if pending is not None:
        hold_ids = _notice_hold_ids(pending)
        holds = [
            h for h in await _load(session, [*hold_ids, hold.id]) if h.status is HoldStatus.READY
        ]
        merged = await session.execute(
            update(Notification)
            .where(Notification.id == pending.id, Notification.status == NotificationStatus.PENDING)
            .values(payload=payload_of(_ready_notice(holds, settings)))
        )
        if merged.rowcount == 1:  # type: ignore[attr-defined]
            return
    delay = timedelta(minutes=settings.hold_ready_digest_minutes)
    key = f"{HoldsReady.kind}:{hold.id}:{now.timestamp():.0f}"
    notice = _notice(hold, _ready_notice([hold], settings), key, not_before=now + delay)
    await outbox.enqueue_notices(session, [notice], now=now)


async def settle_ready_notice(session: AsyncSession, hold: Hold, *, settings: Settings) -> None:
    """A ready hold changed (collected, cancelled, passed on, extended, its copy missing)
    while its notice still waits for the digest delay: redraw the notice from the holds still
    ready, with their current dates, or withdraw it when none is."""
    pending = await session.scalars(
        select(Notification).where(
            Notification.reader_id == hold.reader_id,
            Notification.kind == HoldsReady.kind,
            Notification.status == NotificationStatus.PENDING,
        )
    )
    for notice in list(pending):
        hold_ids = _notice_hold_ids(notice)
        if hold.id not in hold_ids:
            continue
        await session.flush()
        holds = [h for h in await _load(session, hold_ids) if h.status is HoldStatus.READY]
        if holds:
            values: dict[str, object] = {"payload": payload_of(_ready_notice(holds, settings))}
        else:
            values = {"status": NotificationStatus.SKIPPED, "last_error": "hold no longer ready"}
        await session.execute(
            update(Notification)
            .where(Notification.id == notice.id, Notification.status == NotificationStatus.PENDING)
            .values(**values)
        )


async def reminder(session: AsyncSession, hold: Hold, *, now: datetime) -> None:
    """The ready-until date is close (one reminder per deadline)."""
    assert hold.ready_until is not None
    data = HoldReminder(
        hold_id=hold.id,
        title=title_of(hold.work),
        library=library_of(hold.pickup_library),
        until=hold.ready_until,
    )
    key = f"{HoldReminder.kind}:{hold.id}:{hold.ready_until.timestamp():.0f}"
    await outbox.enqueue_notices(session, [_notice(hold, data, key)], now=now)


# Both ways a hold expires share one key: a hold is told of its expiry once.
def _expiry_key(hold: Hold) -> str:
    return f"hold.expired:{hold.id}"


async def expired_on_shelf(session: AsyncSession, hold: Hold, *, now: datetime) -> None:
    """A ready hold was not collected in time."""
    data = HoldExpiredOnShelf(
        hold_id=hold.id,
        title=title_of(hold.work),
        library=library_of(hold.pickup_library),
        until=hold.ready_until or now,
    )
    await outbox.enqueue_notices(session, [_notice(hold, data, _expiry_key(hold))], now=now)


async def expired_unfilled(session: AsyncSession, hold: Hold, *, days: int, now: datetime) -> None:
    """No copy came free within the unfilled-hold period of ``days``."""
    data = HoldExpiredUnfilled(hold_id=hold.id, title=title_of(hold.work), days=days)
    await outbox.enqueue_notices(session, [_notice(hold, data, _expiry_key(hold))], now=now)


async def unfilled_warning(session: AsyncSession, hold: Hold, *, days: int, now: datetime) -> None:
    """An unfilled hold expires soon (holds wait at most ``days`` for a copy)."""
    assert hold.expires_at is not None
    data = HoldExpiresSoon(
        hold_id=hold.id, title=title_of(hold.work), expires_at=hold.expires_at, days=days
    )
    key = f"{HoldExpiresSoon.kind}:{hold.id}"
    await outbox.enqueue_notices(session, [_notice(hold, data, key)], now=now)


async def cancelled_by_library(session: AsyncSession, hold: Hold, *, now: datetime) -> None:
    """The library cancelled the hold (its last copy went missing)."""
    data = HoldCancelledByLibrary(hold_id=hold.id, title=title_of(hold.work))
    key = f"{HoldCancelledByLibrary.kind}:{hold.id}"
    await outbox.enqueue_notices(session, [_notice(hold, data, key)], now=now)


async def copy_arrived(
    session: AsyncSession, *, watch_id: int, reader_id: int, work: Work, now: datetime
) -> None:
    """A copy of a work the reader watched has come into the alliance."""
    notice = Notice(
        reader_id=reader_id,
        data=CopyArrived(work_id=work.id, title=title_of(work)),
        dedup_key=f"{CopyArrived.kind}:{watch_id}",
    )
    await outbox.enqueue_notices(session, [notice], now=now)
