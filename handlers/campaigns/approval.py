"""The weekly campaign's approval: an admin taps Launch under the request or the card."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Reader, Role, utcnow
from bot.notices.campaigns import CampaignControl, ControlAction
from bot.services.campaigns import lifecycle
from bot.services.campaigns.targeting import Reach
from handlers.campaigns.console import apply
from handlers.campaigns.launch import bot_username
from handlers.filters import HasRole


async def approve(
    query: CallbackQuery,
    callback_data: CampaignControl,
    session: AsyncSession,
    settings: Settings,
    reader: Reader,
    i18n: I18n,
    bot: Bot,
) -> None:
    """Launch a prepared campaign now (once: a second tap, by anyone, is refused)."""
    campaign_id = callback_data.campaign_id
    change = lifecycle.approve(
        session,
        reader,
        campaign_id,
        now=utcnow(),
        reach=Reach.of(settings),
        bot_username=await bot_username(bot),
    )
    await apply(query, campaign_id, change, _("Launched."), session, settings, i18n)


def build_router() -> Router:
    """The Launch button of a prepared campaign (admins only)."""
    router = Router(name=__name__)
    router.callback_query.filter(HasRole(Role.ADMIN))
    router.callback_query.register(
        approve, CampaignControl.filter(F.action == ControlAction.APPROVE)
    )
    return router
