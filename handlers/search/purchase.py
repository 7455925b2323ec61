"""You choose, the library buys: suggest for purchase what a search did not find."""

from __future__ import annotations

from html import escape

from aiogram import Bot, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Reader, SuggestionStatus, utcnow
from bot.services import suggestions
from bot.services.errors import NotAllowedError, NotFoundError
from handlers.search.callbacks import SuggestPurchase
from handlers.search.wording import TITLE_CHARS, clip, expired_text


def _thanks(outcome: suggestions.SuggestionOutcome) -> str:
    title = escape(clip(outcome.query, TITLE_CHARS))
    if outcome.created:
        text = _(
            "Thank you! “{title}” is on the alliance's purchase list now. "
            "Librarians go through the suggestions regularly."
        ).format(title=title)
    else:
        text = _(
            "Thank you! Other readers asked for “{title}” too — it now has {votes} votes."
        ).format(title=title, votes=outcome.votes)
    if outcome.status is SuggestionStatus.APPROVED:
        text += "\n" + _("Good news: the library has already decided to buy it.")
    return text


async def suggest_purchase(
    query: CallbackQuery,
    callback_data: SuggestPurchase,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    bot: Bot,
) -> None:
    """Record the suggestion (or a vote for an existing one) and thank the reader."""
    try:
        outcome = await suggestions.suggest_from_search(
            session,
            reader,
            callback_data.search_id,
            now=utcnow(),
            zone=settings.zone,
            monthly_limit=settings.suggestions_per_month,
        )
    except NotFoundError:
        await query.answer(expired_text(), show_alert=True)
        return
    except (NotAllowedError, suggestions.NothingToSuggestError):
        await query.answer(
            _("That search found books, so there is nothing to suggest."), show_alert=True
        )
        return
    except suggestions.SuggestionLimitError as exc:
        await query.answer(
            _(
                "You have made {limit} purchase suggestions this month, as many as we take. "
                "Thank you! You can suggest more next month."
            ).format(limit=exc.limit),
            show_alert=True,
        )
        return
    if not outcome.counted:
        await query.answer(
            _("You have already suggested this. Readers asking for it: {votes}.").format(
                votes=outcome.votes
            ),
            show_alert=True,
        )
        return
    await query.answer(_("Suggestion saved."))
    chat_id = query.message.chat.id if query.message is not None else reader.chat_id
    await bot.send_message(chat_id, _thanks(outcome))


def build_router() -> Router:
    """The "Suggest a purchase" button under a search that found nothing."""
    router = Router(name=__name__)
    router.callback_query.register(suggest_purchase, SuggestPurchase.filter())
    return router
