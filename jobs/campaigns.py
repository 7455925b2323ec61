"""Campaign ticks: launch due campaigns and weekly waves, refresh metrics, prepare automation."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import Campaign, utcnow
from bot.services.campaigns.automatic import prepare_automatic
from bot.services.campaigns.metrics import refresh_metrics
from bot.services.campaigns.sending import run_due
from bot.services.campaigns.targeting import Reach

logger = logging.getLogger(__name__)


async def _username(bot: Bot) -> str:
    me = await bot.me()
    return me.username or ""


async def run_campaigns(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, bot: Bot, i18n: I18n
) -> list[int]:
    """Tick: launch what is due, send due weekly waves, then refresh every campaign's metrics."""
    now = utcnow()
    async with sessionmaker() as session:
        due = await run_due(
            session, now=now, reach=Reach.of(settings), bot_username=await _username(bot)
        )
        await refresh_metrics(session, now=now, conversion_days=settings.campaign_conversion_days)
    if due:
        logger.info("campaigns launched or sent a wave: %s", due)
    return due


async def prepare_weekly_campaign(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, bot: Bot, i18n: I18n
) -> Campaign | None:
    """Tick: this week's campaign for the under-reached districts, for approval or launched."""
    async with sessionmaker() as session:
        campaign = await prepare_automatic(
            session,
            now=utcnow(),
            reach=Reach.of(settings),
            zone=settings.zone,
            admin_telegram_ids=settings.admin_ids,
            event_days=settings.auto_campaign_event_days,
            radius_km=settings.auto_campaign_radius_km,
            launch=settings.auto_campaign_launch,
            bot_username=await _username(bot),
            holdout_share=settings.campaign_holdout_share,
        )
    if campaign is not None:
        logger.info("automatic campaign #%s prepared (%s)", campaign.id, campaign.status)
    return campaign
