"""Partner bookstores in chat: /choose (readers), /redeem (store staff), admin reports."""

from __future__ import annotations

from aiogram import Router

from handlers.bookstores import admin, choose, evaluation, redeem, reports, settlement


def build_router() -> Router:
    """A fresh router with every bookstore handler (one per dispatcher)."""
    router = Router(name=__name__)
    router.include_routers(
        admin.build_router(),
        reports.build_router(),
        settlement.build_router(),
        evaluation.build_router(),
        redeem.build_router(),
        choose.build_router(),
    )
    return router
