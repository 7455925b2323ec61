"""Hold notices as intents: how they read in each language, their buttons, older rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import create_i18n
from bot.models import Hold, HoldStatus, Notification, NotificationStatus, utcnow
from bot.notices.holds import HoldAct, HoldAction
from bot.notices.intents import Names, payload_of, read_notice
from bot.notices.render import render
from bot.services import outbox
from bot.services.holds import reader_actions
from bot.services.holds.notices import HoldInTransit, HoldsReady, ReadyHold
from bot.services.outbox import OutboxMessage

from .conftest import Alliance, readers

UNTIL = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)  # 18:00 in the alliance's zone


def _ready(*hold_ids: int, shelf_days: int = 7) -> HoldsReady:
    return HoldsReady(
        holds=tuple(
            ReadyHold(
                hold_id=hold_id,
                title=Names(name="红楼梦", name_en="Hong lou meng"),
                library_id=1,
                library=Names(name="海滨少儿图书馆", name_en="Haibin Children's Library"),
                address="1 Sea Road",
                opening_hours="Tu-Su 09:00-17:30",
                latitude=37.5,
                longitude=121.4,
                until=UNTIL,
            )
            for hold_id in hold_ids
        ),
        shelf_days=shelf_days,
    )


def _render(data: object, language: str, settings: Settings) -> OutboxMessage:
    assert isinstance(data, HoldsReady | HoldInTransit)
    return render(payload_of(data), language, translator=create_i18n("zh"), settings=settings)


def test_ready_notice_reads_in_each_language_with_real_buttons(settings: Settings) -> None:
    en = _render(_ready(42), "en", settings)
    text = en.text["en"]
    assert text.startswith("📗 Your book is ready for pickup:\n<b>红楼梦</b> · Hong lou meng")
    # Escaped once in the message; the button labels are plain text.
    assert "🏛 Haibin Children&#x27;s Library" in text
    assert "Kept for you until 2026-12-24 18:00 (7 opening days)." in text
    assert en.location == (37.5, 121.4)
    assert [[button.label for button in row] for row in en.buttons] == [
        ["🚶 On my way", "➕ 2 days", "🔁 Pass it on"]
    ]
    actions = [HoldAction.unpack(button.callback_data or "") for button in en.buttons[0]]
    assert actions == [
        HoldAction(action=HoldAct.ON_MY_WAY, hold_id=42),
        HoldAction(action=HoldAct.EXTEND, hold_id=42),
        HoldAction(action=HoldAct.PASS_ON, hold_id=42),
    ]
    zh = _render(_ready(42, 43), "zh", settings).text["zh"]
    assert "🏛 海滨少儿图书馆" in zh and "🕘 周二至周日 09:00-17:30" in zh


def test_counts_of_one_are_singular(settings: Settings) -> None:
    # "(1 opening days)", "about 1 days" and "➕ 1 days" before.
    one_day = settings.model_copy(update={"hold_extension_days": 1})
    ready = _render(_ready(42, shelf_days=1), "en", one_day)
    assert "(1 opening day)." in ready.text["en"]
    assert ready.buttons[0][1].label == "➕ 1 day"
    transit = HoldInTransit(
        hold_id=42,
        title=Names(name="Dune"),
        library=Names(name="市图书馆", name_en="City Library"),
        days=1,
    )
    assert "It should arrive in about 1 day;" in _render(transit, "en", settings).text["en"]
    assert "大约 1 天后到达" in _render(transit, "zh", settings).text["zh"]


async def test_a_ready_notice_queued_in_the_older_shape_still_follows_its_holds(
    session: AsyncSession, alliance: Alliance, settings: Settings
) -> None:
    [reader] = await readers(session, 1)
    hold = Hold(
        reader_id=reader.id,
        work_id=alliance.work.id,
        pickup_library_id=alliance.campus.id,
        status=HoldStatus.READY,
        queued_at=utcnow(),
        ready_at=utcnow(),
        ready_until=utcnow() + timedelta(days=3),
    )
    session.add(hold)
    await session.flush()
    old = outbox.Outgoing(
        reader_id=reader.id,
        kind=HoldsReady.kind,
        message=OutboxMessage(text={"en": "📗 Your book is ready for pickup"}),
        dedup_key=f"hold.ready:{hold.id}:1",
        not_before=utcnow() + timedelta(minutes=5),
    )
    await outbox.enqueue_many(session, [old])
    await session.commit()

    # Extended while the notice waits: it is redrawn, as an intent from then on.
    extended = await reader_actions.extend_hold(session, reader, hold.id, settings=settings)
    row = await session.scalar(select(Notification).where(Notification.kind == HoldsReady.kind))
    assert row is not None and row.status is NotificationStatus.PENDING
    data = read_notice(row.payload)
    assert isinstance(data, HoldsReady) and data.hold_ids == [hold.id]
    assert data.holds[0].until == extended.ready_until

    # Cancelled before the notice went out: the notice is withdrawn.
    await reader_actions.cancel_hold(session, reader, hold.id, "other", settings=settings)
    await session.refresh(row)
    assert row.status is NotificationStatus.SKIPPED
