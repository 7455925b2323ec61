"""Searches started from a button: more by a work's author, and the "did you mean" spelling."""

from __future__ import annotations

from collections.abc import Awaitable

from aiogram import Bot, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Reader
from bot.services.errors import NotFoundError
from bot.services.indexing import CatalogueIndexer
from bot.services.search.ranking import IndexNotReadyError
from bot.services.search.results import SearchPage, search_author, search_suggestion
from handlers.search.callbacks import AuthorWorks, DidYouMean
from handlers.search.results import results_keyboard, results_text
from handlers.search.wording import expired_text, gone_text, not_ready_text


async def _send_results(
    query: CallbackQuery,
    bot: Bot,
    reader: Reader,
    i18n: I18n,
    pending: Awaitable[SearchPage],
    *,
    gone: str,
) -> None:
    """Run a search started from a button and send its results as a new message."""
    try:
        results = await pending
    except NotFoundError:
        await query.answer(gone, show_alert=True)
        return
    except IndexNotReadyError:
        await query.answer(not_ready_text(), show_alert=True)
        return
    await query.answer()
    chat_id = query.message.chat.id if query.message is not None else reader.chat_id
    await bot.send_message(
        chat_id, results_text(results, i18n.current_locale), reply_markup=results_keyboard(results)
    )


async def more_by_author(
    query: CallbackQuery,
    callback_data: AuthorWorks,
    session: AsyncSession,
    reader: Reader,
    indexer: CatalogueIndexer,
    bot: Bot,
    i18n: I18n,
) -> None:
    """More by this author: a new results message."""
    await _send_results(
        query,
        bot,
        reader,
        i18n,
        search_author(session, indexer, reader, callback_data.work_id),
        gone=gone_text(),
    )


async def did_you_mean(
    query: CallbackQuery,
    callback_data: DidYouMean,
    session: AsyncSession,
    reader: Reader,
    indexer: CatalogueIndexer,
    bot: Bot,
    i18n: I18n,
) -> None:
    """Search for the suggested spelling: a new results message."""
    await _send_results(
        query,
        bot,
        reader,
        i18n,
        search_suggestion(session, indexer, reader, callback_data.search_id),
        gone=expired_text(),
    )


def build_router() -> Router:
    """More by this author, and "did you mean"."""
    router = Router(name=__name__)
    router.callback_query.register(more_by_author, AuthorWorks.filter())
    router.callback_query.register(did_you_mean, DidYouMean.filter())
    return router
