"""Knowledge quizzes in chat: ``contests`` (/contests, joining, results, certificates),
``answering`` (server-timed answers), ``wizard`` (/newquiz, typed questions or a CSV file),
``organising`` (/myquizzes: an organiser's quizzes, cancelling one)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from handlers.filters import Onboarded
from handlers.quizzes import answering, contests, organising, wizard


def build_router() -> Router:
    """A fresh router for quizzes (one per dispatcher): onboarded readers only."""
    router = Router(name=__name__)
    router.message.filter(Onboarded(), F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(Onboarded())
    router.include_routers(
        contests.build_router(),
        answering.build_router(),
        wizard.build_router(),
        organising.build_router(),
    )
    return router
