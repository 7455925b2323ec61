"""Check-in by the event's link, and attendees' ratings with an optional comment."""

from __future__ import annotations

from html import escape
from typing import Any, ClassVar

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Reader, utcnow
from bot.notices.events import SKIP_RATING, RateEvent
from bot.services.errors import DomainError, InvalidInputError, NotAllowedError, NotFoundError
from bot.services.events.checkin import check_in, comment, rate
from bot.services.events.errors import CheckInError
from handlers.common import edit_message
from handlers.drafts import Draft


class FeedbackComment(StatesGroup):
    """Waiting for the optional comment after a rating."""

    comment = State()


class FeedbackDraft(Draft):
    """The event a comment is about."""

    key: ClassVar[str] = "event_feedback"
    command: ClassVar[str] = "/events"

    event_id: int


async def check_in_link(message: Message, argument: str, data: dict[str, Any]) -> None:
    """Deep link ``ci_<token>``: check the reader in during the event."""
    session, reader, i18n = data["session"], data["reader"], data["i18n"]
    assert isinstance(session, AsyncSession) and isinstance(reader, Reader)
    assert isinstance(i18n, I18n)
    language = i18n.current_locale
    try:
        event = await check_in(session, reader, argument, now=utcnow())
    except NotFoundError:
        await message.answer(_("This check-in link is not valid."))
        return
    except CheckInError as error:
        title = escape(error.event.display_title(language))
        replies = {
            "already": _("You are already checked in to {title}."),
            "not_registered": _(
                "You are not registered for {title}, so you cannot check in. "
                "Please speak to the organiser."
            ),
            "too_early": _("Check-in for {title} opens 30 minutes before the start."),
            "over": _("{title} is over; check-in has closed."),
        }
        await message.answer(replies[error.reason].format(title=title))
        return
    await message.answer(
        _("✅ Welcome! You are checked in to {title}.").format(
            title=escape(event.display_title(language))
        )
    )


async def rate_event(
    query: CallbackQuery,
    callback_data: RateEvent,
    session: AsyncSession,
    reader: Reader,
    state: FSMContext,
    i18n: I18n,
) -> None:
    """A rating from the feedback prompt; then the optional comment."""
    try:
        event = await rate(
            session, reader, callback_data.event_id, callback_data.rating, now=utcnow()
        )
    except (NotAllowedError, InvalidInputError):
        await query.answer(_("Only attendees can rate this event."), show_alert=True)
        return
    await query.answer(_("Thank you!"))
    await state.set_state(FeedbackComment.comment)
    await FeedbackDraft(event_id=event.id).save(state)
    skip = RateEvent(event_id=event.id, rating=SKIP_RATING).pack()
    await edit_message(
        query.message,
        _(
            "You gave {title} {rating}⭐. Thank you! If you like, send a comment now "
            "(up to 1000 characters), or tap Skip."
        ).format(
            title=escape(event.display_title(i18n.current_locale)), rating=callback_data.rating
        ),
        InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=_("Skip"), callback_data=skip)]]
        ),
    )


async def skip_comment(query: CallbackQuery, state: FSMContext) -> None:
    """Skip the comment after a rating."""
    await state.clear()
    await query.answer(_("Thank you!"))
    await edit_message(query.message, _("Thank you for your feedback!"))


async def feedback_comment(
    message: Message, session: AsyncSession, reader: Reader, state: FSMContext
) -> None:
    """The optional comment after a rating."""
    draft = await FeedbackDraft.load(state)
    try:
        await comment(session, reader, draft.event_id, message.text or "")
    except InvalidInputError:
        await message.answer(
            _("A comment must be 1 to 1000 characters. Send it again, or tap Skip.")
        )
        return
    except DomainError:
        pass  # the rating is gone (the reader asked to be forgotten): nothing to add to
    await state.clear()
    await message.answer(_("Thank you for your feedback!"))


def build_router() -> Router:
    """A fresh router with check-in's and feedback's handlers."""
    router = Router(name=__name__)
    router.message.register(
        feedback_comment, StateFilter(FeedbackComment.comment), F.text, ~F.text.startswith("/")
    )
    router.callback_query.register(skip_comment, RateEvent.filter(F.rating == SKIP_RATING))
    router.callback_query.register(rate_event, RateEvent.filter(F.rating != SKIP_RATING))
    return router
