"""Essay, poetry and photo contests in chat: ``entries`` (a contest's card in /contests,
submitting, results, consent), ``judging`` (/judging for the panel), ``organiser``
(/newcontest, /judge, /contestscores, /publishresults)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from handlers.filters import Onboarded
from handlers.submissions.entries import build_router as entries_router
from handlers.submissions.judging import build_router as judging_router
from handlers.submissions.organiser import build_router as organiser_router


def build_router() -> Router:
    """A fresh router for submission contests: onboarded readers only."""
    router = Router(name=__name__)
    router.message.filter(Onboarded(), F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(Onboarded())
    router.include_routers(entries_router(), judging_router(), organiser_router())
    return router
