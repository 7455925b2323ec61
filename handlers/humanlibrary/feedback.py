"""Ratings of a conversation, from the prompt the outbox sends after it."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Reader, utcnow
from bot.notices.humanlibrary import RateConversation
from bot.services.errors import DomainError, InvalidInputError
from bot.services.humanlibrary.errors import AlreadyRatedError, NotOverError
from bot.services.humanlibrary.feedback import rate_conversation
from handlers.common import remove_buttons
from handlers.humanlibrary.shelves import refusal_text


async def rate(
    query: CallbackQuery, callback_data: RateConversation, session: AsyncSession, reader: Reader
) -> None:
    """Store the rating once; the buttons go away."""
    try:
        await rate_conversation(
            session, reader, callback_data.slot_id, callback_data.rating, now=utcnow()
        )
    except AlreadyRatedError:
        await query.answer(_("You have already rated this conversation."), show_alert=True)
        await remove_buttons(query.message)
        return
    except NotOverError:
        await query.answer(_("You can rate the conversation once it is over."), show_alert=True)
        return
    except InvalidInputError:
        await query.answer(_("Ratings go from 1 to 5 stars."), show_alert=True)
        return
    except DomainError as error:
        await query.answer(refusal_text(error), show_alert=True)
        return
    await query.answer(_("Thank you for your feedback!"))
    await remove_buttons(query.message)


def build_router() -> Router:
    """A fresh router with the rating buttons."""
    router = Router(name=__name__)
    router.callback_query.register(rate, RateConversation.filter())
    return router
