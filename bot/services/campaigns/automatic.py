"""The weekly automatic campaign: events near the under-reached districts, for one-tap approval."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.geo import haversine_km
from bot.models import (
    Campaign,
    CampaignStatus,
    District,
    Event,
    EventStatus,
    Reader,
    Role,
    RoleGrant,
)
from bot.notices.intents import Names, Notice
from bot.services import outbox
from bot.services.campaigns.lifecycle import create_campaign
from bot.services.campaigns.notices import CampaignApproval, CampaignBody, EventLine
from bot.services.campaigns.plans import CampaignPlan, Schedule, ScheduleKind
from bot.services.campaigns.targeting import (
    Audience,
    AudienceKind,
    Reach,
    audience_readers,
    resolve_districts,
)
from bot.services.outbox import Priority

EVENTS_IN_MESSAGE = 5


async def admin_reader_ids(session: AsyncSession, admin_telegram_ids: Sequence[int]) -> list[int]:
    """Readers who are admins: granted the role, or named in the settings."""
    granted = set(
        await session.scalars(select(RoleGrant.reader_id).where(RoleGrant.role == Role.ADMIN))
    )
    if admin_telegram_ids:
        granted |= set(
            await session.scalars(
                select(Reader.id).where(Reader.telegram_id.in_(list(admin_telegram_ids)))
            )
        )
    return sorted(granted)


async def events_near(
    session: AsyncSession,
    district_ids: Sequence[int],
    *,
    now: datetime,
    days: int,
    radius_km: float,
) -> list[Event]:
    """Published events starting within ``days`` in or near the districts, soonest first."""
    if not district_ids:
        return []
    districts = list(await session.scalars(select(District).where(District.id.in_(district_ids))))
    events = list(
        await session.scalars(
            select(Event)
            .where(
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > now,
                Event.starts_at <= now + timedelta(days=days),
            )
            .order_by(Event.starts_at, Event.id)
        )
    )
    chosen = []
    for event in events:
        if event.district_id in district_ids:
            chosen.append(event)
            continue
        if event.latitude is None or event.longitude is None:
            continue
        if any(
            haversine_km(event.latitude, event.longitude, d.latitude, d.longitude) <= radius_km
            for d in districts
        ):
            chosen.append(event)
    return chosen


async def _ask_admins(
    session: AsyncSession,
    campaign: Campaign,
    district_ids: Sequence[int],
    *,
    now: datetime,
    admin_telegram_ids: Sequence[int],
) -> None:
    """Queue the approval request to every admin (in the caller's unit of work)."""
    audience = Audience(AudienceKind.UNDER_REACHED)
    readers = await audience_readers(session, audience, district_ids)
    codes = await session.scalars(select(District.code).where(District.id.in_(district_ids)))
    request = CampaignApproval(
        campaign_id=campaign.id,
        district_codes=tuple(sorted(codes)),
        readers=len(readers),
        events=len(campaign.message.get("events") or ()),
        body=CampaignBody.of(campaign.message),
    )
    await outbox.enqueue_notices(
        session,
        [
            Notice(
                reader_id=admin_id,
                data=request,
                dedup_key=f"campaign-approval:{campaign.id}:{admin_id}",
                priority=Priority.NORMAL,
            )
            for admin_id in await admin_reader_ids(session, admin_telegram_ids)
        ],
        now=now,
    )


async def prepare_automatic(
    session: AsyncSession,
    *,
    now: datetime,
    reach: Reach,
    zone: tzinfo,
    admin_telegram_ids: Sequence[int],
    event_days: int,
    radius_km: float,
    launch: bool,
    bot_username: str,
    holdout_share: float = 0.1,
) -> Campaign | None:
    """This week's campaign for the under-reached districts, from events near them.

    It is sent to every admin for one-tap approval, or launched at once when ``launch``.
    None when no district is under-reached, no event is near one, or this week's exists.
    """
    name = "auto " + now.astimezone(zone).strftime("%G-W%V")
    if await session.scalar(select(Campaign.id).where(Campaign.name == name).limit(1)):
        return None
    audience = Audience(AudienceKind.UNDER_REACHED)
    districts = await resolve_districts(session, audience, now=now, reach=reach)
    events = await events_near(session, districts, now=now, days=event_days, radius_km=radius_km)
    if not districts or not events:
        return None
    shown = events[:EVENTS_IN_MESSAGE]
    plan = CampaignPlan(
        text={},
        events=tuple(
            EventLine(event_id=e.id, title=Names(name=e.title), starts_at=e.starts_at)
            for e in shown
        ),
        audience=audience,
        schedule=Schedule(ScheduleKind.NOW),
        holdout_share=holdout_share,
        event_id=shown[0].id,
        name=name,
    )
    async with write(session):
        campaign = await create_campaign(
            session,
            None,
            plan,
            now=now,
            reach=reach,
            bot_username=bot_username,
            status=CampaignStatus.SCHEDULED if launch else CampaignStatus.DRAFT,
        )
        if not launch:
            await _ask_admins(
                session, campaign, districts, now=now, admin_telegram_ids=admin_telegram_ids
            )
    return campaign
