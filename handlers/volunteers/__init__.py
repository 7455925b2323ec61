"""Volunteers in chat: ``service`` (/volunteer: shifts, sign-up, hours, certificate; the QR
check-in and check-out links), ``organiser`` (/newshift, /volunteerhours)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from bot.services.volunteers.attendance import IN_LINK, OUT_LINK
from handlers.deeplinks import DeepLinks
from handlers.filters import Onboarded
from handlers.volunteers import organiser, service


def register_deep_links(deep_links: DeepLinks) -> None:
    """Route ``/start vin_<token>`` to check-in and ``/start vout_<token>`` to check-out."""
    deep_links.register(IN_LINK, service.check_in_link)
    deep_links.register(OUT_LINK, service.check_out_link)


def build_router() -> Router:
    """A fresh router for volunteers (one per dispatcher): onboarded readers only."""
    router = Router(name=__name__)
    router.message.filter(Onboarded(), F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(Onboarded())
    router.include_routers(service.build_router(), organiser.build_router())
    return router
