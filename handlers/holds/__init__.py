"""Holds for readers: reserving a work (``reserve``), My holds and its actions
(``my_holds``), and the alliance card (``card``); ``display`` is how a hold reads and
``callbacks`` the data of their buttons."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from handlers.filters import Onboarded
from handlers.holds import card, my_holds, reserve


def build_router() -> Router:
    """A fresh router with the holds handlers (one per dispatcher), for onboarded readers."""
    router = Router(name=__name__)
    # The filters apply to every included router: aiogram checks them before their handlers.
    router.message.filter(Onboarded(), F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(Onboarded())
    router.include_routers(reserve.build_router(), my_holds.build_router(), card.build_router())
    return router
