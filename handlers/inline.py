"""Inline mode: ``@bot query`` in any chat offers book cards that open the work in the bot."""

from __future__ import annotations

from html import escape

from aiogram import Bot, Router
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultUnion,
    InputTextMessageContent,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Reader
from bot.services.indexing import CatalogueIndexer
from bot.services.search.holdings import WorkSummary
from bot.services.search.ranking import IndexNotReadyError
from bot.services.search.results import search_inline
from handlers.search.card import work_link
from handlers.search.wording import (
    availability_plain,
    byline,
    clip,
    title_html,
    title_plain,
)

# Results hold the asker's distances and language, so Telegram caches them per user.
CACHE_SECONDS = 300
NOT_READY_CACHE_SECONDS = 10


def book_article(
    summary: WorkSummary, bot_username: str, language: str
) -> InlineQueryResultArticle:
    """One book card: what the asker sees in the list, and what the chat receives."""
    work = summary.work
    link = work_link(bot_username, work.work_id)
    lines = [f"📖 {title_html(work)}"]
    if byline(work):
        lines.append(escape(byline(work)))
    lines.append(_("Find it in the alliance's libraries: {link}").format(link=link))
    description = " · ".join(
        part for part in (byline(work), availability_plain(summary, language)) if part
    )
    return InlineQueryResultArticle(
        id=f"wk{work.work_id}",
        title=title_plain(work),
        description=clip(description, 200),
        input_message_content=InputTextMessageContent(message_text="\n".join(lines)),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=_("📖 Open in Bookbridge"), url=link)]]
        ),
    )


async def inline_search(
    inline_query: InlineQuery,
    session: AsyncSession,
    reader: Reader,
    indexer: CatalogueIndexer,
    bot: Bot,
    i18n: I18n,
) -> None:
    """Search as the reader types; an empty query gets no results."""
    try:
        works = await search_inline(session, indexer, reader, inline_query.query)
    except IndexNotReadyError:
        await inline_query.answer([], cache_time=NOT_READY_CACHE_SECONDS, is_personal=True)
        return
    me = await bot.me()
    articles: list[InlineQueryResultUnion] = [
        book_article(summary, me.username or "", i18n.current_locale) for summary in works
    ]
    await inline_query.answer(articles, cache_time=CACHE_SECONDS, is_personal=True)


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.inline_query.register(inline_search)
    return router
