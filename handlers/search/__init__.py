"""Catalogue search in the chat, a router per flow: typed searches with paging and filters
(``results``), the work card and ``wk_<id>`` links (``card``), more by the author and "did
you mean" (``related``), purchase suggestions (``purchase``) and barcode photos (``barcode``).

Import from the module that defines a name; ``work_link`` and ``status_label`` are
re-exported because other features used them from here before the split.
"""

from aiogram import F, Router
from aiogram.enums import ChatType

from handlers.filters import Onboarded
from handlers.search import barcode, card, purchase, related, results
from handlers.search.card import register_deep_links, work_link
from handlers.search.wording import status_label

__all__ = ["build_router", "register_deep_links", "status_label", "work_link"]


def build_router() -> Router:
    """A fresh router with the search flows (one per dispatcher), for onboarded readers."""
    router = Router(name=__name__)
    # Checked before any flow's handlers: the flows are this router's children.
    router.message.filter(Onboarded(), F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(Onboarded())
    router.include_routers(
        results.build_router(),
        card.build_router(),
        related.build_router(),
        purchase.build_router(),
        barcode.build_router(),
    )
    return router
