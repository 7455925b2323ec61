"""Campaigns: targeting, the holdout, delivery rules and metrics against hand-computed values."""

from __future__ import annotations

import random
from datetime import time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.i18n import create_i18n
from bot.models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    Hold,
    HoldStatus,
    Notification,
    NotificationStatus,
    Reader,
    Registration,
    RegistrationStatus,
)
from bot.notices.render import render
from bot.services import outbox
from bot.services.campaigns import lifecycle
from bot.services.campaigns.links import open_link
from bot.services.campaigns.metrics import compute_metrics, refresh_metrics
from bot.services.campaigns.plans import CampaignPlan, Schedule, ScheduleKind, StateError
from bot.services.campaigns.sending import run_due
from bot.services.campaigns.targeting import Audience, AudienceKind, Reach
from sandbox.core import Sandbox
from tests.campaigns.city import City, seed_city
from tests.factories import make_event, make_reader
from tests.outbox.conftest import FakeTime, WorkerFactory, drain_until_settled, next_local

REACH = Reach(days=90, rule_name="half_median", share=0.5)
TEXT = {"zh": "来西山读书", "en": "Come and read"}


def _draft(**fields: object) -> CampaignPlan:
    values: dict[str, object] = {
        "text": TEXT,
        "audience": Audience(AudienceKind.UNDER_REACHED),
        "schedule": Schedule(ScheduleKind.NOW),
        "holdout_share": 0.1,
    }
    values.update(fields)
    return CampaignPlan(**values)  # type: ignore[arg-type]


async def _launch(
    session: AsyncSession, settings: Settings, draft: CampaignPlan, now: object, seed: int = 7
) -> Campaign:
    return await lifecycle.create_campaign(
        session,
        None,
        draft,
        now=now,  # type: ignore[arg-type]
        reach=REACH,
        bot_username="bookbridge_bot",
        rng=random.Random(seed),
    )


async def _recipients(session: AsyncSession, campaign_id: int) -> list[CampaignRecipient]:
    recipients = list(
        await session.scalars(
            select(CampaignRecipient)
            .where(CampaignRecipient.campaign_id == campaign_id)
            .order_by(CampaignRecipient.reader_id)
        )
    )
    await session.commit()  # SQLite: a read holds the write lock until the transaction ends
    return recipients


async def test_targeting_picks_exactly_the_under_reached_district_and_holds_out_a_tenth(
    session: AsyncSession, settings: Settings, fake_time: FakeTime
) -> None:
    now = fake_time.wall
    city = await seed_city(session, now)
    opted_out = await make_reader(
        session, district_id=city.districts["D"].id, notify_campaigns=False
    )
    await session.commit()
    campaign = await _launch(session, settings, _draft(), now)
    assert campaign.status is CampaignStatus.RUNNING
    assert campaign.targeting["resolved_district_ids"] == [city.districts["D"].id]
    recipients = await _recipients(session, campaign.id)
    d_ids = {r.id for r in city.readers["D"]}
    assert {r.reader_id for r in recipients} == d_ids  # nobody of A, B or C; not the opted-out
    assert opted_out.id not in {r.reader_id for r in recipients}
    held = {r.reader_id for r in recipients if r.holdout}
    assert len(held) == 2  # 10 % of 20
    rows = list(
        await session.scalars(select(Notification).where(Notification.campaign_id == campaign.id))
    )
    assert {row.reader_id for row in rows} == d_ids - held
    assert all(row.topic == "campaigns" for row in rows)
    assert all(row.message_class.value == "promotional" for row in rows)
    rendered = render(rows[0].payload, "en", translator=create_i18n("en"), settings=settings)
    button = rendered.buttons[0][0]
    assert button.url == f"https://t.me/bookbridge_bot?start=cmp_{campaign.id}"


async def test_holdout_is_never_messaged_and_quiet_hours_and_the_cap_hold(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    sandbox: Sandbox,
    make_worker: WorkerFactory,
    fake_time: FakeTime,
) -> None:
    # Launched at 22:00 alliance time: quiet hours until 08:00.
    fake_time.wall = next_local(time(22, 0))
    now = fake_time.wall
    city = await seed_city(session, now)
    for reader in city.readers["D"]:
        sandbox.add_user(reader.telegram_id, reader.first_name)
    capped = city.readers["D"][3]
    campaign = await _launch(session, settings, _draft(), now)
    recipients = await _recipients(session, campaign.id)
    held = {r.reader_id for r in recipients if r.holdout}
    if capped.id in held:
        capped = next(r for r in city.readers["D"] if r.id not in held)
    # The capped reader already had three promotional messages this week.
    async with sessionmaker() as other:
        for number in range(3):
            other.add(
                Notification(
                    reader_id=capped.id,
                    kind="broadcast",
                    message_class="promotional",
                    topic="announcements",
                    payload={"text": {"en": "x"}},
                    dedup_key=f"earlier:{number}",
                    status=NotificationStatus.SENT,
                    sent_at=now - timedelta(days=1),
                )
            )
        await other.commit()
    worker = make_worker()
    await worker.drain()
    assert all(not sandbox.messages(r.telegram_id) for r in city.readers["D"])
    morning = next_local(time(8, 0), days=2)
    fake_time.advance((morning - fake_time.wall).total_seconds() - 60)
    await worker.drain()  # 07:59: still quiet
    assert all(not sandbox.messages(r.telegram_id) for r in city.readers["D"])
    fake_time.advance(60)
    await drain_until_settled(worker, fake_time, sessionmaker)
    telegram_of = {r.id: r.telegram_id for r in city.readers["D"]}
    for reader_id, telegram_id in telegram_of.items():
        got = [m for m in sandbox.messages(telegram_id) if sandbox.is_from_bot(m)]
        if reader_id in held or reader_id == capped.id:
            assert got == []
        else:
            assert len(got) == 1 and "Come and read" in (got[0].text or "")
    async with sessionmaker() as other:
        capped_row = await other.scalar(
            select(Notification).where(
                Notification.campaign_id == campaign.id, Notification.reader_id == capped.id
            )
        )
        assert capped_row is not None and capped_row.status is NotificationStatus.SKIPPED
        assert (capped_row.last_error or "").startswith("frequency cap")
        held_rows = await other.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.campaign_id == campaign.id, Notification.reader_id.in_(held))
        )
        assert held_rows == 0


async def _convert(session: AsyncSession, city: City, reader: Reader, at: object) -> None:
    session.add(
        Hold(
            reader_id=reader.id,
            work_id=city.work.id,
            pickup_library_id=city.library.id,
            status=HoldStatus.QUEUED,
            queued_at=at,
        )
    )


async def test_metrics_and_uplift_match_hand_computed_values(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    sandbox: Sandbox,
    make_worker: WorkerFactory,
    fake_time: FakeTime,
) -> None:
    now = fake_time.wall
    # D: 1 active + 19 idle = 20 readers; holdout 20 % = 4, treated 16.
    city = await seed_city(session, now)
    campaign = await _launch(session, settings, _draft(holdout_share=0.2), now, seed=3)
    recipients = await _recipients(session, campaign.id)
    readers = {r.id: r for r in city.readers["D"]}
    treated = [readers[r.reader_id] for r in recipients if not r.holdout]
    held = [readers[r.reader_id] for r in recipients if r.holdout]
    assert (len(treated), len(held)) == (16, 4)
    # Delivery: treated[0] is not a chat the bot can reach (failed), treated[1] blocked
    # the bot (403), the other 14 get the message.
    for reader in treated[2:]:
        sandbox.add_user(reader.telegram_id, reader.first_name)
    sandbox.add_user(treated[1].telegram_id, treated[1].first_name)
    sandbox.block(treated[1].telegram_id)
    await drain_until_settled(make_worker(), fake_time, sessionmaker)
    # Opens: treated[2..5] open the link (treated[2] twice), one held-out reader opens a
    # forwarded link (not counted).
    for reader in [*treated[2:6], treated[2], held[0]]:
        await open_link(session, reader, campaign.id, now=fake_time.wall)
    # Conversions: treated[2..5] place a hold within 14 days -> 4 of 16 = 25 %;
    # treated[6] only after 15 days (not counted); treated[7] registered the day before
    # the launch (not counted). Held out: held[0] places a hold on day 3 -> 1 of 4 = 25 %;
    # uplift 0. Then treated[8] registers on day 13: 5 of 16 = 31.25 %, uplift +6.25 points.
    for reader in treated[2:6]:
        await _convert(session, city, reader, now + timedelta(days=2))
    await _convert(session, city, treated[6], now + timedelta(days=15))
    session.add(
        Registration(
            event_id=city.event.id,
            reader_id=treated[7].id,
            status=RegistrationStatus.CONFIRMED,
            created_at=now - timedelta(days=1),
        )
    )
    await _convert(session, city, held[0], now + timedelta(days=3))
    await session.commit()
    fresh = await lifecycle.get_campaign(session, campaign.id)
    metrics = await compute_metrics(session, fresh, conversion_days=14)
    assert metrics.targeted == 20 and metrics.held_out == 4 and metrics.treated == 16
    assert (metrics.sent, metrics.failed, metrics.blocked, metrics.queued) == (14, 1, 1, 0)
    assert metrics.unknown == 0
    assert metrics.opened == 4
    assert (metrics.converted, metrics.converted_holdout) == (4, 1)
    assert metrics.uplift == 0.0
    later = await make_event(session, starts_at=now + timedelta(days=20))
    session.add(
        Registration(
            event_id=later.id,
            reader_id=treated[8].id,
            status=RegistrationStatus.CONFIRMED,
            created_at=now + timedelta(days=13),
        )
    )
    await session.commit()
    metrics = await compute_metrics(session, fresh, conversion_days=14)
    assert metrics.converted == 5
    # A send whose worker stopped mid-way ends as an unknown outcome (the outbox's recovery
    # writes this): the reader may have it, so it is not a failure.
    await session.execute(
        update(Notification)
        .where(Notification.campaign_id == campaign.id, Notification.reader_id == treated[3].id)
        .values(
            status=NotificationStatus.FAILED,
            last_error=f"{outbox.UNKNOWN}: the worker sending it stopped; it may have arrived",
        )
    )
    await session.commit()
    metrics = await compute_metrics(session, fresh, conversion_days=14)
    assert (metrics.sent, metrics.failed, metrics.unknown) == (13, 1, 1)
    assert metrics.uplift == 5 / 16 - 1 / 4
    # The refresh job stores them; after the window the campaign is completed.
    await refresh_metrics(session, now=now + timedelta(days=15), conversion_days=14)
    stored = await lifecycle.get_campaign(session, campaign.id)
    await session.refresh(stored)
    assert stored.metrics["converted"] == 5 and stored.metrics["opened"] == 4
    assert stored.status is CampaignStatus.COMPLETED


async def test_pause_skips_pending_rows_resume_restores_them_cancel_ends(
    session: AsyncSession, settings: Settings, fake_time: FakeTime
) -> None:
    now = fake_time.wall
    city = await seed_city(session, now)
    admin = await make_reader(session)
    campaign = await _launch(session, settings, _draft(), now)
    campaign_id = campaign.id

    async def statuses() -> dict[str, int]:
        rows = await session.execute(
            select(Notification.status, func.count())
            .where(Notification.campaign_id == campaign_id)
            .group_by(Notification.status)
        )
        return {status.value: n for status, n in rows.all()}

    assert await statuses() == {"pending": 18}
    await lifecycle.pause(session, admin, campaign_id)
    assert await statuses() == {"skipped": 18}
    assert (await lifecycle.get_campaign(session, campaign_id)).status is CampaignStatus.PAUSED
    await lifecycle.resume(session, admin, campaign_id, now=now)
    assert await statuses() == {"pending": 18}
    assert (await lifecycle.get_campaign(session, campaign_id)).status is CampaignStatus.RUNNING
    # One row went out meanwhile; cancelling skips the rest and keeps the sent one.
    await session.execute(
        update(Notification)
        .where(
            Notification.campaign_id == campaign_id,
            Notification.reader_id == city.readers["D"][0].id,
        )
        .values(status=NotificationStatus.SENT)
    )
    await session.commit()
    await lifecycle.cancel(session, admin, campaign_id)
    counts = await statuses()
    assert counts.get("skipped", 0) + counts.get("sent", 0) == 18 and "pending" not in counts
    try:
        await lifecycle.resume(session, admin, campaign_id, now=now)
    except StateError:
        pass
    else:
        raise AssertionError("a cancelled campaign resumed")


async def test_weekly_campaign_sends_a_wave_each_week_to_the_same_treated_readers(
    session: AsyncSession, settings: Settings, fake_time: FakeTime
) -> None:
    now = fake_time.wall
    await seed_city(session, now)
    start = now + timedelta(hours=2)
    campaign = await _launch(
        session, settings, _draft(schedule=Schedule(ScheduleKind.WEEKLY, start)), now
    )
    assert campaign.status is CampaignStatus.SCHEDULED and campaign.next_run_at == start
    kwargs = {"reach": REACH, "bot_username": "b"}
    assert await run_due(session, now=now, **kwargs) == []  # type: ignore[arg-type]
    assert await run_due(session, now=start, **kwargs) == [campaign.id]  # type: ignore[arg-type]
    assert await run_due(session, now=start, **kwargs) == []  # type: ignore[arg-type]
    week = start + timedelta(days=7)
    assert await run_due(session, now=week, **kwargs) == [campaign.id]  # type: ignore[arg-type]
    rows = (
        await session.execute(
            select(Notification.reader_id, func.count())
            .where(Notification.campaign_id == campaign.id)
            .group_by(Notification.reader_id)
        )
    ).all()
    assert len(rows) == 18 and all(n == 2 for _r, n in rows)
    recipients = await _recipients(session, campaign.id)
    assert len(recipients) == 20


async def test_a_paused_scheduled_campaign_does_not_launch_until_resumed(
    session: AsyncSession, settings: Settings, fake_time: FakeTime
) -> None:
    now = fake_time.wall
    await seed_city(session, now)
    admin = await make_reader(session)
    start = now + timedelta(hours=1)
    campaign = await _launch(
        session, settings, _draft(schedule=Schedule(ScheduleKind.AT, start)), now
    )
    await lifecycle.pause(session, admin, campaign.id)
    later = start + timedelta(hours=1)
    assert await run_due(session, now=later, reach=REACH, bot_username="b") == []
    resumed = await lifecycle.resume(session, admin, campaign.id, now=later)
    assert resumed.status is CampaignStatus.SCHEDULED
    assert await run_due(session, now=later, reach=REACH, bot_username="b") == [campaign.id]
    fresh = await lifecycle.get_campaign(session, campaign.id)
    assert fresh.status is CampaignStatus.RUNNING and fresh.next_run_at is None
    assert fresh.launched_at == later
