"""The weekly automatic campaign: events near under-reached districts, approved in one tap."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.delivery import DeliveryWorker, Pacer
from bot.models import Campaign, CampaignStatus, Notification, Role, utcnow
from bot.notices.campaigns import CampaignControl, ControlAction
from jobs.campaigns import prepare_weekly_campaign, run_campaigns
from tests.campaigns.city import seed_city
from tests.conftest import ADMIN_TELEGRAM_ID
from tests.factories import make_event, make_reader
from tests.harness import BotHarness
from tests.outbox.conftest import FakeTime, drain_until_settled, next_local


async def _seed(session: AsyncSession) -> None:
    now = utcnow()
    city = await seed_city(session, now)
    d, a = city.districts["D"], city.districts["A"]
    await make_event(
        session,
        title="Harbour stories",
        starts_at=now + timedelta(days=3),
        district_id=d.id,
        latitude=d.latitude,
        longitude=d.longitude,
    )
    # Near D (about 1 km away) but filed under no district: still counts as near.
    await make_event(
        session,
        title="Poetry by the pier",
        starts_at=now + timedelta(days=5),
        latitude=d.latitude + 0.01,
        longitude=d.longitude,
    )
    # In A, far from D, and one in D a month away: neither is used.
    await make_event(
        session,
        title="Central lecture",
        starts_at=now + timedelta(days=2),
        district_id=a.id,
        latitude=a.latitude,
        longitude=a.longitude,
    )
    await make_event(
        session, title="Far future", starts_at=now + timedelta(days=30), district_id=d.id
    )
    await make_reader(session, roles=(Role.ADMIN,), telegram_id=880_001, chat_id=880_001)
    await session.commit()


async def test_admins_get_the_prepared_campaign_and_launch_it_with_one_tap(
    harness: BotHarness,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    admin = harness.user(ADMIN_TELEGRAM_ID, "Admin")
    await admin.onboard("en")
    harness.sandbox.add_user(880_001, "Second admin")
    await _seed(session)
    app = harness.app
    campaign = await prepare_weekly_campaign(app.sessionmaker, settings, harness.bot, app.i18n)
    assert campaign is not None and campaign.status is CampaignStatus.DRAFT
    assert await prepare_weekly_campaign(app.sessionmaker, settings, harness.bot, app.i18n) is None
    clock = FakeTime(next_local(time(10, 0)))
    worker = DeliveryWorker(
        app.sessionmaker,
        harness.bot,
        app.i18n,
        settings,
        pacer=Pacer(None, timekeeper=clock),
        timekeeper=clock,
    )
    await drain_until_settled(worker, clock, sessionmaker)
    approval = admin.last_bot_message().text or ""
    approval_message_id = admin.last_bot_message().message_id
    assert "under-reached districts (DD) is ready: 20 readers, 2 events" in approval
    assert "Harbour stories" in approval and "Poetry by the pier" in approval
    assert "Central lecture" not in approval and "Far future" not in approval
    assert [m for m in harness.sandbox.messages(880_001) if harness.sandbox.is_from_bot(m)]
    async with sessionmaker() as other:
        assert (
            await other.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.campaign_id == campaign.id)
            )
            == 0
        )  # nothing goes to readers before an admin approves
    # In /campaigns, the waiting campaign's card shows what readers would get.
    await admin.send("/campaigns")
    [card] = [m for m in admin.chat() if (m.text or "").startswith(f"#{campaign.id} ")][-1:]
    assert "waiting for approval" in (card.text or "")
    assert "Readers would get:" in (card.text or "")
    assert "Harbour stories" in (card.text or "")
    await admin.tap("🚀 Launch", message_id=approval_message_id)
    assert admin.last_answer is not None and admin.last_answer["text"] == "Launched."
    [launched] = [m for m in admin.chat() if m.message_id == approval_message_id]
    assert "— running" in (launched.text or "")
    await admin.forge(
        CampaignControl(action=ControlAction.APPROVE, campaign_id=campaign.id).pack()
    )  # a second tap (another admin): not twice
    assert admin.last_answer is not None and "not possible now" in admin.last_answer["text"]
    async with sessionmaker() as other:
        fresh = await other.get(Campaign, campaign.id)
        assert fresh is not None and fresh.status is CampaignStatus.RUNNING
        rows = await other.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.campaign_id == campaign.id)
        )
    assert rows == 18
    # The campaign tick refreshes the stored metrics.
    await run_campaigns(app.sessionmaker, settings, harness.bot, app.i18n)
    async with sessionmaker() as other:
        fresh = await other.get(Campaign, campaign.id)
        assert fresh is not None and fresh.metrics["targeted"] == 20
        assert fresh.metrics["held_out"] == 2 and fresh.metrics["queued"] == 18


async def test_the_setting_launches_the_automatic_campaign_without_approval(
    harness: BotHarness,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await _seed(session)
    app = harness.app
    launching = settings.model_copy(update={"auto_campaign_launch": True})
    campaign = await prepare_weekly_campaign(app.sessionmaker, launching, harness.bot, app.i18n)
    assert campaign is not None and campaign.status is CampaignStatus.RUNNING
    async with sessionmaker() as other:
        kinds = list(await other.scalars(select(Notification.kind)))
    assert kinds.count("campaign") == 18 and "campaign.approval" not in kinds
