"""Reading life for readers: the reading log (``log``), rankings (``popular``) and
recommendations (``foryou``); ``callbacks`` holds the data of their buttons."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from handlers.deeplinks import DeepLinks
from handlers.filters import Onboarded
from handlers.reading import (
    challenges,
    department,
    foryou,
    list_links,
    list_pick,
    lists,
    log,
    photo,
    popular,
)


def build_router() -> Router:
    """A fresh router with the reading-life handlers, for onboarded readers."""
    router = Router(name=__name__)
    router.message.filter(Onboarded(), F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(Onboarded())
    router.include_routers(
        photo.build_router(),
        log.build_router(),
        popular.build_router(),
        foryou.build_router(),
        lists.build_router(),
        list_pick.build_router(),
        list_links.build_router(),
        challenges.build_router(),
        department.build_router(),
    )
    return router


def register_deep_links(deep_links: DeepLinks) -> None:
    """Route ``/start rl_<id>`` (a campaign's button) to the reading list."""
    list_links.register_deep_links(deep_links)
