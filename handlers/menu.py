"""The My holds button of the main menu."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import HoldStatus, Reader
from bot.services.holds import active_holds
from handlers.filters import Onboarded
from handlers.keyboards import MENU_HOLDS


def hold_status_label(status: HoldStatus) -> str:
    """A hold's status in words."""
    labels = {
        HoldStatus.QUEUED: _("waiting in the queue"),
        HoldStatus.IN_TRANSIT: _("on its way to your library"),
        HoldStatus.READY: _("ready for pickup"),
        HoldStatus.COLLECTED: _("collected"),
        HoldStatus.CANCELLED: _("cancelled"),
        HoldStatus.EXPIRED: _("expired"),
    }
    return labels[status]


async def my_holds(message: Message, session: AsyncSession, reader: Reader) -> None:
    """The reader's active holds."""
    views = await active_holds(session, reader.id)
    if not views:
        await message.answer(
            _("You have no active holds. Search for a book and tap “Reserve” to place one.")
        )
        return
    lines = [_("📚 Your holds:")]
    for view in views:
        line = f"• {escape(view.hold.work.title)} — {hold_status_label(view.hold.status)}"
        if view.position is not None:
            line += " " + _("(number {position} in the queue)").format(position=view.position)
        lines.append(line)
    await message.answer("\n".join(lines))


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(Onboarded())
    router.message.register(my_holds, F.text == MENU_HOLDS)
    return router
