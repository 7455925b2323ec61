"""Launching a campaign: fix its recipients with the holdout, then queue each wave."""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import Campaign, CampaignRecipient, CampaignStatus, NotificationClass
from bot.notices.intents import Names, Notice
from bot.services import outbox
from bot.services.campaigns.notices import TOPIC, CampaignBody, CampaignMessage
from bot.services.campaigns.plans import ScheduleKind
from bot.services.campaigns.targeting import (
    Audience,
    Reach,
    audience_readers,
    holdout_size,
    resolve_districts,
)
from bot.services.outbox import Priority
from bot.services.reading.list_links import LinkTarget, linked_list

WEEK = timedelta(days=7)


async def launch(
    session: AsyncSession,
    campaign: Campaign,
    *,
    now: datetime,
    reach: Reach,
    bot_username: str,
    rng: random.Random | None = None,
) -> None:
    """Fix the recipients with the holdout, and queue the first wave (in the caller's unit)."""
    audience = Audience.from_json(campaign.targeting)
    districts = await resolve_districts(session, audience, now=now, reach=reach)
    readers = await audience_readers(session, audience, districts)
    rng = rng or random.Random(secrets.randbits(64))
    held = set(
        rng.sample([r for r, _d in readers], holdout_size(len(readers), campaign.holdout_share))
    )
    rows = [
        {
            "campaign_id": campaign.id,
            "reader_id": reader_id,
            "district_id": district_id,
            "holdout": reader_id in held,
            "assigned_at": now,
        }
        for reader_id, district_id in readers
    ]
    for start in range(0, len(rows), outbox.INSERT_CHUNK):
        await session.execute(insert(CampaignRecipient), rows[start : start + outbox.INSERT_CHUNK])
    campaign.targeting = {**campaign.targeting, "resolved_district_ids": list(districts)}
    campaign.status = CampaignStatus.RUNNING
    campaign.launched_at = now
    await session.flush()
    await send_wave(session, campaign, now=now, bot_username=bot_username)


async def send_wave(
    session: AsyncSession, campaign: Campaign, *, now: datetime, bot_username: str
) -> int:
    """Queue the next wave for the treated recipients; set when the one after is due."""
    wave = campaign.waves + 1
    treated = list(
        await session.scalars(
            select(CampaignRecipient.reader_id)
            .where(
                CampaignRecipient.campaign_id == campaign.id,
                CampaignRecipient.holdout.is_(False),
            )
            .order_by(CampaignRecipient.reader_id)
        )
    )
    reading_list = await linked_list(session, LinkTarget.CAMPAIGN, campaign.id)
    message = CampaignMessage(
        campaign_id=campaign.id,
        bot_username=bot_username,
        body=CampaignBody.of(campaign.message),
        reading_list_id=reading_list.id if reading_list is not None else None,
        reading_list=(
            Names(name=reading_list.title, name_en=reading_list.title_en)
            if reading_list is not None
            else None
        ),
    )
    queued = await outbox.enqueue_notices(
        session,
        (
            Notice(
                reader_id=reader_id,
                data=message,
                dedup_key=f"campaign:{campaign.id}:{wave}:{reader_id}",
                message_class=NotificationClass.PROMOTIONAL,
                topic=TOPIC,
                priority=Priority.BULK,
                campaign_id=campaign.id,
            )
            for reader_id in treated
        ),
        now=now,
    )
    campaign.waves = wave
    weekly = campaign.schedule.get("kind") == ScheduleKind.WEEKLY.value
    base = campaign.next_run_at or now
    campaign.next_run_at = base + WEEK if weekly else None
    while weekly and campaign.next_run_at is not None and campaign.next_run_at <= now:
        campaign.next_run_at += WEEK
    return queued


def _due(campaign: Campaign | None, now: datetime) -> bool:
    return (
        campaign is not None
        and campaign.next_run_at is not None
        and campaign.next_run_at <= now
        and campaign.status in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING)
    )


async def run_due(
    session: AsyncSession, *, now: datetime, reach: Reach, bot_username: str
) -> list[int]:
    """Launch scheduled campaigns that are due and send due weekly waves; their ids."""
    due = list(
        await session.scalars(
            select(Campaign.id)
            .where(
                Campaign.status.in_([CampaignStatus.SCHEDULED, CampaignStatus.RUNNING]),
                Campaign.next_run_at.is_not(None),
                Campaign.next_run_at <= now,
            )
            .order_by(Campaign.next_run_at, Campaign.id)
        )
    )
    done: list[int] = []
    for campaign_id in due:
        async with write(session):
            campaign = await session.get(
                Campaign, campaign_id, with_for_update=True, populate_existing=True
            )
            if campaign is None or not _due(campaign, now):
                continue
            if campaign.status is CampaignStatus.SCHEDULED:
                await launch(session, campaign, now=now, reach=reach, bot_username=bot_username)
            else:
                await send_wave(session, campaign, now=now, bot_username=bot_username)
        done.append(campaign_id)
    return done
