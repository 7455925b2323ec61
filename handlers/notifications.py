"""Reader controls over what the bot sends on its own: unsubscribe buttons, blocking the bot."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import KICKED, ChatMemberUpdatedFilter
from aiogram.types import CallbackQuery, ChatMemberUpdated
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.rendering import Unsubscribe
from bot.models import Reader, utcnow
from bot.services import readers
from bot.services.outbox import outcomes
from handlers.settings import topic_label


async def unsubscribe(
    query: CallbackQuery, callback_data: Unsubscribe, session: AsyncSession, reader: Reader
) -> None:
    """“Unsubscribe from these” under a promotional message: turn that topic off."""
    topic = callback_data.topic
    if topic not in readers.NOTIFICATION_TOPICS:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    await readers.set_notification(session, reader, topic, False)
    await query.answer(
        _("Done: no more “{topic}” messages. You can turn them on again in /settings.").format(
            topic=topic_label(topic)
        ),
        show_alert=True,
    )


async def bot_blocked(event: ChatMemberUpdated, session: AsyncSession, reader: Reader) -> None:
    """The reader blocked the bot: stop writing to them until they write again."""
    if event.chat.type != "private":
        return
    await outcomes.mark_reader_blocked(
        session, reader.id, now=utcnow(), reason="the reader blocked the bot"
    )


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(unsubscribe, Unsubscribe.filter())
    router.my_chat_member.register(bot_blocked, ChatMemberUpdatedFilter(KICKED))
    return router
