"""The Events button of the main menu (My holds lives in handlers.holds)."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import utcnow
from bot.services.events import upcoming_events
from handlers.filters import Onboarded
from handlers.keyboards import MENU_EVENTS


async def events(message: Message, session: AsyncSession, settings: Settings) -> None:
    """The next upcoming events."""
    upcoming = await upcoming_events(session, utcnow(), limit=10)
    if not upcoming:
        await message.answer(_("No upcoming events right now. Check back soon!"))
        return
    lines = [_("🎉 Upcoming events:")]
    for event in upcoming:
        starts = event.starts_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
        lines.append(f"• {starts} {escape(event.title)}")
    await message.answer("\n".join(lines))


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(Onboarded())
    router.message.register(events, F.text == MENU_EVENTS)
    return router
