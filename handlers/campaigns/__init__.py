"""Campaigns for admins: the /newcampaign wizard, the /campaigns console, the weekly
campaign's approval, and the ``cmp_`` deep link readers open."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import or_f
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from bot.models import Role
from bot.notices.campaigns import CampaignControl
from bot.services.campaigns.notices import DEEP_LINK_PREFIX
from handlers.campaigns import approval, audience, console, launch, wizard
from handlers.campaigns.console import CampaignList
from handlers.campaigns.deep_link import open_campaign_link
from handlers.campaigns.draft import CampaignStep, stale
from handlers.deeplinks import DeepLinks
from handlers.filters import HasRole, Onboarded


async def refuse_button(query: CallbackQuery) -> None:
    """A campaign button pressed by someone who is not an admin (forged or outdated)."""
    await query.answer(_("Sorry, only alliance admins can manage campaigns."), show_alert=True)


def _leftovers() -> Router:
    """Buttons no step took: an admin's from another step, or anyone else's."""
    router = Router(name=f"{__name__}.leftovers")
    router.callback_query.register(stale, CampaignStep.filter(), HasRole(Role.ADMIN))
    router.callback_query.register(
        refuse_button, or_f(CampaignStep.filter(), CampaignControl.filter(), CampaignList.filter())
    )
    return router


def register_deep_links(deep_links: DeepLinks) -> None:
    """Route ``/start cmp_<id>`` to the campaign's page."""
    deep_links.register(DEEP_LINK_PREFIX, open_campaign_link)


def build_router() -> Router:
    """A fresh router with the campaign flows (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(Onboarded())
    router.callback_query.filter(Onboarded())
    router.include_routers(
        wizard.build_router(),
        audience.build_router(),
        launch.build_router(),
        console.build_router(),
        approval.build_router(),
        _leftovers(),
    )
    return router
