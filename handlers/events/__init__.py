"""Reading events for readers: the Events menu, filters, cards, registration, offers, check-in.

Modules: ``listing`` (the menu and its filters), ``card`` (an event and what a reader does
with it), ``mine`` (the reader's registrations), ``offers`` (timed offers), ``feedback``
(check-in, ratings, comments); ``callbacks`` and ``labels`` are shared by them.
"""

from __future__ import annotations

from aiogram import Router

from bot.services.events.checkin import CHECKIN_LINK
from bot.services.events.discovery import EVENT_LINK
from handlers.deeplinks import DeepLinks
from handlers.events import card, feedback, listing, mine, offers
from handlers.filters import Onboarded


def register_deep_links(deep_links: DeepLinks) -> None:
    """Route ``/start ev_<id>`` to the card and ``/start ci_<token>`` to check-in."""
    deep_links.register(EVENT_LINK, card.open_event_link)
    deep_links.register(CHECKIN_LINK, feedback.check_in_link)


def build_router() -> Router:
    """A fresh router for readers' events (one per dispatcher): onboarded readers only."""
    router = Router(name=__name__)
    router.message.filter(Onboarded())
    router.callback_query.filter(Onboarded())
    router.include_routers(
        listing.build_router(),
        feedback.build_router(),
        card.build_router(),
        mine.build_router(),
        offers.build_router(),
    )
    return router
