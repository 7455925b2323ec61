"""The human library in chat: ``shelves`` (browse, book, give back, wait, the schedule),
``organiser`` (/livingbook adds a living book to an event), ``feedback`` (ratings)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from handlers.filters import Onboarded
from handlers.humanlibrary import feedback, organiser, shelves


def build_router() -> Router:
    """A fresh router for the human library (one per dispatcher): onboarded readers only."""
    router = Router(name=__name__)
    router.message.filter(Onboarded(), F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(Onboarded())
    router.include_routers(
        shelves.build_router(), organiser.build_router(), feedback.build_router()
    )
    return router
