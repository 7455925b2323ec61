"""Admin reports on the alliance's books: /lending (and later /settlement, /evaluation)."""

from __future__ import annotations

from aiogram import Router


def build_router() -> Router:
    """The report commands for admins."""
    return Router(name=__name__)
