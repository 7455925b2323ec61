"""The notices holds send through the outbox: in transit, ready, reminder, expired, cancelled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.config import Settings
from bot.i18n import Gettext, Translator, in_every_language
from bot.models import (
    Hold,
    HoldStatus,
    Library,
    Notification,
    NotificationStatus,
    Work,
)
from bot.services import outbox
from bot.services.members import describe_opening_hours
from bot.services.outbox import Button, OutboxMessage

# Callback data of the buttons under hold notices; handlers.holds.HoldAction unpacks it.
ACTION_PREFIX = "hd"
ACTION_ON_MY_WAY = "way"
ACTION_EXTEND = "ext"
ACTION_PASS_ON = "pass"
# The Reserve button (handlers.hold_buttons.ReserveWork).
RESERVE_PREFIX = "rsv"

KIND_TRANSIT = "hold.transit"
KIND_READY = "hold.ready"
KIND_REMINDER = "hold.reminder"
KIND_EXPIRED = "hold.expired"
KIND_CANCELLED = "hold.cancelled"
KIND_WARNING = "hold.warning"
KIND_WATCH = "hold.watch"
TITLE_CHARS = 100


def action_data(action: str, hold_id: int) -> str:
    """The callback data of a notice button."""
    return f"{ACTION_PREFIX}:{action}:{hold_id}"


def _clip(text: str, limit: int = TITLE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def work_title(work: Work) -> str:
    """Original-script title with the romanised one, as HTML."""
    if work.original_title and work.original_title.strip() != work.title.strip():
        return f"<b>{escape(_clip(work.original_title))}</b> · {escape(_clip(work.title))}"
    return f"<b>{escape(_clip(work.title))}</b>"


def library_label(library: Library, language: str) -> str:
    """A library's name in the language, escaped."""
    name = library.name_en if language == "en" and library.name_en else library.name
    return escape(_clip(name, 60))


def when(moment: datetime, settings: Settings) -> str:
    """A moment in the alliance's time zone."""
    return moment.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")


async def _load(session: AsyncSession, hold_ids: Sequence[int]) -> list[Hold]:
    return list(
        await session.scalars(
            select(Hold)
            .where(Hold.id.in_(hold_ids))
            .options(selectinload(Hold.work), selectinload(Hold.pickup_library))
            .order_by(Hold.id)
        )
    )


def _send(
    session: AsyncSession,
    hold: Hold,
    kind: str,
    key: str,
    message: OutboxMessage,
    *,
    now: datetime,
    not_before: datetime | None = None,
) -> outbox.Outgoing:
    return outbox.Outgoing(
        reader_id=hold.reader_id,
        kind=kind,
        message=message,
        dedup_key=key,
        priority=outbox.Priority.HIGH,
        not_before=not_before,
    )


async def in_transit(
    session: AsyncSession,
    hold: Hold,
    days: int,
    *,
    settings: Settings,
    translator: Translator,
    now: datetime,
) -> None:
    """The copy is on its way to the pickup library."""
    work, library = hold.work, hold.pickup_library

    def render(_: Gettext, language: str) -> str:
        return _(
            "🚚 {title} is on its way to {library}. It should arrive in about {days} days; "
            "I will tell you when it is ready for pickup."
        ).format(title=work_title(work), library=library_label(library, language), days=days)

    message = OutboxMessage(text=in_every_language(translator, render))
    key = f"{KIND_TRANSIT}:{hold.id}:{now.timestamp():.0f}"
    await outbox.enqueue_many(
        session, [_send(session, hold, KIND_TRANSIT, key, message, now=now)], now=now
    )


def _ready_message(
    holds: Sequence[Hold], settings: Settings, translator: Translator
) -> OutboxMessage:
    def block(_: Gettext, language: str, hold: Hold, number: int | None) -> list[str]:
        library = hold.pickup_library
        head = f"{number}. " if number is not None else ""
        lines = [head + work_title(hold.work)]
        lines.append(_("🏛 {library}").format(library=library_label(library, language)))
        if library.address:
            lines.append(_("📍 {address}").format(address=escape(_clip(library.address))))
        if library.opening_hours:
            hours = describe_opening_hours(library.opening_hours, language)
            lines.append(_("🕘 {hours}").format(hours=escape(_clip(hours))))
        assert hold.ready_until is not None
        lines.append(
            _("Kept for you until {until} ({days} opening days).").format(
                until=when(hold.ready_until, settings), days=settings.hold_shelf_days
            )
        )
        return lines

    def render(_: Gettext, language: str) -> str:
        if len(holds) == 1:
            lines = [_("📗 Your book is ready for pickup:"), *block(_, language, holds[0], None)]
        else:
            lines = [_("📗 {count} of your books are ready for pickup:").format(count=len(holds))]
            for number, hold in enumerate(holds, start=1):
                lines.append("")
                lines.extend(block(_, language, hold, number))
        lines.append("")
        lines.append(_("Show your alliance card (/card) at the desk."))
        return "\n".join(lines)

    buttons = []
    for number, hold in enumerate(holds, start=1):
        prefix = f"{number} · " if len(holds) > 1 else ""

        def on_my_way(_: Gettext, language: str, prefix: str = prefix) -> str:
            return prefix + _("🚶 On my way")

        def extend(_: Gettext, language: str, prefix: str = prefix) -> str:
            return prefix + _("➕ 2 days")

        def pass_on(_: Gettext, language: str, prefix: str = prefix) -> str:
            return prefix + _("🔁 Pass it on")

        buttons.append(
            [
                Button(
                    in_every_language(translator, on_my_way),
                    callback_data=action_data(ACTION_ON_MY_WAY, hold.id),
                ),
                Button(
                    in_every_language(translator, extend),
                    callback_data=action_data(ACTION_EXTEND, hold.id),
                ),
                Button(
                    in_every_language(translator, pass_on),
                    callback_data=action_data(ACTION_PASS_ON, hold.id),
                ),
            ]
        )
    libraries = {hold.pickup_library_id for hold in holds}
    first = holds[0].pickup_library
    location = (first.latitude, first.longitude) if len(libraries) == 1 else None
    return OutboxMessage(
        text=in_every_language(translator, render), buttons=buttons, location=location
    )


async def ready(
    session: AsyncSession,
    hold: Hold,
    *,
    settings: Settings,
    translator: Translator,
    now: datetime,
) -> None:
    """Ready for pickup; holds that become ready while a notice waits join that notice."""
    day_start = datetime.combine(now.astimezone(settings.zone).date(), datetime.min.time())
    day_start = day_start.replace(tzinfo=settings.zone)
    pending = await session.scalar(
        select(Notification)
        .where(
            Notification.reader_id == hold.reader_id,
            Notification.kind == KIND_READY,
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
        payload = _ready_message(holds, settings, translator).to_payload()
        payload["hold_ids"] = [h.id for h in holds]
        merged = await session.execute(
            update(Notification)
            .where(Notification.id == pending.id, Notification.status == NotificationStatus.PENDING)
            .values(payload=payload)
        )
        if merged.rowcount == 1:  # type: ignore[attr-defined]
            return
    message = _ready_message([hold], settings, translator)
    delay = timedelta(minutes=settings.hold_ready_digest_minutes)
    key = f"{KIND_READY}:{hold.id}:{now.timestamp():.0f}"
    outgoing = _send(session, hold, KIND_READY, key, message, now=now, not_before=now + delay)
    await outbox.enqueue_many(session, [outgoing], now=now)


def _notice_hold_ids(notice: Notification) -> list[int]:
    # The first notice's key names its hold; merged notices list theirs in the payload.
    first = notice.dedup_key.split(":")[1]
    return [int(i) for i in notice.payload.get("hold_ids", [first])]


async def settle_ready_notice(
    session: AsyncSession, hold: Hold, *, settings: Settings, translator: Translator
) -> None:
    """A ready hold changed (collected, cancelled, passed on, extended, its copy missing)
    while its notice still waits for the digest delay: redraw the notice from the holds still
    ready, with their current dates, or withdraw it when none is."""
    pending = await session.scalars(
        select(Notification).where(
            Notification.reader_id == hold.reader_id,
            Notification.kind == KIND_READY,
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
            payload = _ready_message(holds, settings, translator).to_payload()
            payload["hold_ids"] = [h.id for h in holds]
            values: dict[str, object] = {"payload": payload}
        else:
            values = {"status": NotificationStatus.SKIPPED, "last_error": "hold no longer ready"}
        await session.execute(
            update(Notification)
            .where(Notification.id == notice.id, Notification.status == NotificationStatus.PENDING)
            .values(**values)
        )


async def reminder(
    session: AsyncSession, hold: Hold, *, settings: Settings, translator: Translator, now: datetime
) -> None:
    """The ready-until date is close."""
    work, library = hold.work, hold.pickup_library
    assert hold.ready_until is not None
    until = hold.ready_until

    def render(_: Gettext, language: str) -> str:
        return _(
            "⏰ Reminder: {title} is waiting for you at {library} until {until}. "
            "After that it goes to the next reader."
        ).format(
            title=work_title(work),
            library=library_label(library, language),
            until=when(until, settings),
        )

    message = OutboxMessage(
        text=in_every_language(translator, render),
        buttons=[
            [
                Button(
                    in_every_language(translator, lambda _, language: _("🚶 On my way")),
                    callback_data=action_data(ACTION_ON_MY_WAY, hold.id),
                ),
                Button(
                    in_every_language(translator, lambda _, language: _("🔁 Pass it on")),
                    callback_data=action_data(ACTION_PASS_ON, hold.id),
                ),
            ]
        ],
    )
    key = f"{KIND_REMINDER}:{hold.id}:{until.timestamp():.0f}"
    await outbox.enqueue_many(
        session, [_send(session, hold, KIND_REMINDER, key, message, now=now)], now=now
    )


async def expired_on_shelf(
    session: AsyncSession, hold: Hold, *, settings: Settings, translator: Translator, now: datetime
) -> None:
    """A ready hold was not collected in time."""
    work, library = hold.work, hold.pickup_library
    until = hold.ready_until or now

    def render(_: Gettext, language: str) -> str:
        return _(
            "⌛ Your hold on {title} has expired: it waited for you at {library} until {until}, "
            "and the copy has gone on to the next reader. You can reserve it again from its card."
        ).format(
            title=work_title(work),
            library=library_label(library, language),
            until=when(until, settings),
        )

    message = OutboxMessage(text=in_every_language(translator, render))
    key = f"{KIND_EXPIRED}:{hold.id}"
    await outbox.enqueue_many(
        session, [_send(session, hold, KIND_EXPIRED, key, message, now=now)], now=now
    )


async def expired_unfilled(
    session: AsyncSession, hold: Hold, *, settings: Settings, translator: Translator, now: datetime
) -> None:
    """No copy came free within the unfilled-hold period."""
    work = hold.work
    days = settings.unfilled_hold_days

    def render(_: Gettext, language: str) -> str:
        return _(
            "⌛ Your hold on {title} has expired: no copy came free within {days} days. "
            "You can reserve it again from its card."
        ).format(title=work_title(work), days=days)

    message = OutboxMessage(text=in_every_language(translator, render))
    key = f"{KIND_EXPIRED}:{hold.id}"
    await outbox.enqueue_many(
        session, [_send(session, hold, KIND_EXPIRED, key, message, now=now)], now=now
    )


async def unfilled_warning(
    session: AsyncSession, hold: Hold, *, settings: Settings, translator: Translator, now: datetime
) -> None:
    """An unfilled hold expires soon."""
    work = hold.work
    assert hold.expires_at is not None
    expires = hold.expires_at
    days = settings.unfilled_hold_days

    def render(_: Gettext, language: str) -> str:
        return _(
            "⏳ Your hold on {title} will expire on {date}: holds wait at most {days} days for a "
            "copy. Nothing to do if you still want it — it keeps its place until then."
        ).format(title=work_title(work), date=when(expires, settings), days=days)

    message = OutboxMessage(text=in_every_language(translator, render))
    key = f"{KIND_WARNING}:{hold.id}"
    await outbox.enqueue_many(
        session, [_send(session, hold, KIND_WARNING, key, message, now=now)], now=now
    )


async def cancelled_by_library(
    session: AsyncSession,
    hold: Hold,
    *,
    settings: Settings,
    translator: Translator,
    now: datetime,
) -> None:
    """The library cancelled the hold (its last copy went missing)."""
    work = hold.work

    def render(_: Gettext, language: str) -> str:
        return _(
            "❌ The library had to cancel your hold on {title}: no copy is left in the alliance. "
            "Open its card to be told when a copy arrives."
        ).format(title=work_title(work))

    message = OutboxMessage(text=in_every_language(translator, render))
    key = f"{KIND_CANCELLED}:{hold.id}"
    await outbox.enqueue_many(
        session, [_send(session, hold, KIND_CANCELLED, key, message, now=now)], now=now
    )


async def copy_arrived(
    session: AsyncSession,
    *,
    watch_id: int,
    reader_id: int,
    work: Work,
    translator: Translator,
    now: datetime,
) -> None:
    """A copy of a work the reader watched has come into the alliance."""

    def render(_: Gettext, language: str) -> str:
        return _("📚 Good news: {title} has arrived in the alliance's libraries.").format(
            title=work_title(work)
        )

    message = OutboxMessage(
        text=in_every_language(translator, render),
        buttons=[
            [
                Button(
                    in_every_language(translator, lambda _, language: _("🔖 Reserve")),
                    callback_data=f"{RESERVE_PREFIX}:{work.id}",
                )
            ]
        ],
    )
    await outbox.enqueue(
        session,
        reader_id=reader_id,
        kind=KIND_WATCH,
        message=message,
        dedup_key=f"{KIND_WATCH}:{watch_id}",
        now=now,
    )
