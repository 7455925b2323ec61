"""Typed searches and their results: one message per search, redrawn for paging and filters."""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Reader
from bot.services.errors import NotFoundError
from bot.services.indexing import CatalogueIndexer
from bot.services.search.query import (
    MAX_QUERY_CHARS,
    EmptyQueryError,
    KindFilter,
    LanguageFilter,
    SearchFilters,
)
from bot.services.search.ranking import IndexNotReadyError
from bot.services.search.results import (
    PAGE_SIZE,
    PageOutOfRangeError,
    SearchPage,
    search_catalogue,
    search_page,
)
from bot.services.subjects import CLC_CLASSES
from handlers.common import edit_message
from handlers.search.callbacks import DidYouMean, ResultsPage, SuggestPurchase, WorkOpen, button
from handlers.search.wording import (
    availability_icon,
    availability_plain,
    byline,
    clip,
    expired_text,
    not_ready_text,
    origin_note,
    title_html,
    title_plain,
)
from handlers.subjects import subject_filter_button, subject_label

BUTTON_TITLE_CHARS = 48


def _filters_summary(filters: SearchFilters) -> str:
    parts = []
    if filters.available:
        parts.append(_("available now"))
    if filters.language is LanguageFilter.CHINESE:
        parts.append(_("in Chinese"))
    elif filters.language is LanguageFilter.ENGLISH:
        parts.append(_("in English"))
    if filters.kind is KindFilter.UNIVERSITY:
        parts.append(_("at university libraries"))
    elif filters.kind is KindFilter.PUBLIC:
        parts.append(_("at public libraries"))
    if filters.subject in CLC_CLASSES:
        parts.append(subject_label(filters.subject))
    return ", ".join(parts)


def _header(results: SearchPage) -> list[str]:
    query = escape(results.query)
    if results.author:
        header = _("🔍 <b>More by {author}</b>").format(author=query)
    elif results.isbn:
        header = _("🔍 <b>ISBN {isbn}</b>").format(isbn=escape(results.isbn))
    else:
        header = _("🔍 <b>Results for “{query}”</b>").format(query=query)
    lines = [header]
    if results.truncated:
        lines.append(
            _(
                "(Your search was too long ({length} characters), so I searched for its first "
                "{limit} characters only.)"
            ).format(length=results.typed_length, limit=MAX_QUERY_CHARS)
        )
    if results.filters.active:
        lines.append(_("Filters: {filters}").format(filters=_filters_summary(results.filters)))
    return lines


def _count_line(results: SearchPage) -> str:
    if results.more_than_shown:
        count = _("Showing the best {count} matches").format(count=results.total)
    elif results.total == 1:
        count = _("1 work found")
    else:
        count = _("{count} works found").format(count=results.total)
    if results.pages > 1:
        count += " · " + _("page {page} of {pages}").format(
            page=results.page + 1, pages=results.pages
        )
    return count


def results_text(results: SearchPage, language: str) -> str:
    """The results message: header, notes, then each work with its availability."""
    lines = _header(results)
    if not results.works:
        lines.append("")
        lines.append(_zero_hits_text(results))
        return "\n".join(lines)
    lines.append(_count_line(results))
    lines.append("<i>" + origin_note(results.origin, language) + "</i>")
    first = results.page * PAGE_SIZE
    for number, summary in enumerate(results.works, start=first + 1):
        lines.append("")
        lines.append(f"{number}. {title_html(summary.work)}")
        if byline(summary.work):
            lines.append(f"    {escape(byline(summary.work))}")
        lines.append(
            f"    {availability_icon(summary)} {escape(availability_plain(summary, language))}"
        )
    return "\n".join(lines)


def _zero_hits_text(results: SearchPage) -> str:
    query = escape(results.query)
    if results.filters.active:
        return _(
            "Nothing matches “{query}” with these filters. Tap a filter to turn it off."
        ).format(query=query)
    if results.too_common:
        return _(
            "“{query}” is made of words too common to search for on their own: add a word "
            "of the title or the author's name."
        ).format(query=query)
    lines = [_("Nothing found for “{query}”.").format(query=query)]
    if results.suggestion:
        lines.append(
            _("Did you mean “{suggestion}”?").format(suggestion=escape(results.suggestion))
        )
    if results.can_suggest_purchase:
        lines.append(
            _(
                "None of the alliance's libraries has it. You choose, the library buys: "
                "suggest it for purchase and we will pass it on to the librarians."
            )
        )
    elif not results.suggestion:
        lines.append(_("Try fewer words, another spelling, or the ISBN."))
    return "\n".join(lines)


def _toggle(label: str, on: bool) -> str:
    return f"✓ {label}" if on else label


def _filter_rows(results: SearchPage) -> list[list[InlineKeyboardButton]]:
    current = results.filters

    def target(**changes: Any) -> ResultsPage:
        values = {
            "available": current.available,
            "language": current.language,
            "kind": current.kind,
            "subject": current.subject,
            **changes,
        }
        return ResultsPage.of(results, page=0, filters=SearchFilters(**values))

    def language(choice: LanguageFilter) -> LanguageFilter:
        return LanguageFilter.ANY if current.language is choice else choice

    def kind(choice: KindFilter) -> KindFilter:
        return KindFilter.ANY if current.kind is choice else choice

    return [
        [
            button(
                _toggle(_("Available now"), current.available),
                target(available=not current.available),
            )
        ],
        [
            button(
                _toggle(_("Chinese"), current.language is LanguageFilter.CHINESE),
                target(language=language(LanguageFilter.CHINESE)),
            ),
            button(
                _toggle(_("English"), current.language is LanguageFilter.ENGLISH),
                target(language=language(LanguageFilter.ENGLISH)),
            ),
        ],
        [
            button(
                _toggle(_("University libraries"), current.kind is KindFilter.UNIVERSITY),
                target(kind=kind(KindFilter.UNIVERSITY)),
            ),
            button(
                _toggle(_("Public libraries"), current.kind is KindFilter.PUBLIC),
                target(kind=kind(KindFilter.PUBLIC)),
            ),
        ],
        [subject_filter_button(results)],
    ]


def _work_rows(results: SearchPage) -> list[list[InlineKeyboardButton]]:
    first = results.page * PAGE_SIZE
    return [
        [
            button(
                f"{number}. {title_plain(summary.work, BUTTON_TITLE_CHARS)}",
                WorkOpen(
                    work_id=summary.work.work_id,
                    search_id=results.search_id,
                    page=results.page,
                    available=results.filters.available,
                    language=results.filters.language,
                    kind=results.filters.kind,
                    author=results.author,
                    subject=results.filters.subject,
                ),
            )
        ]
        for number, summary in enumerate(results.works, start=first + 1)
    ]


def _paging_row(results: SearchPage) -> list[InlineKeyboardButton]:
    def to(page: int) -> ResultsPage:
        return ResultsPage.of(results, page=page, filters=results.filters)

    paging = []
    if results.page > 0:
        paging.append(button("◀️", to(results.page - 1)))
    paging.append(button(f"{results.page + 1}/{results.pages}", to(results.page)))
    if results.page + 1 < results.pages:
        paging.append(button("▶️", to(results.page + 1)))
    return paging


def results_keyboard(results: SearchPage) -> InlineKeyboardMarkup | None:
    """A button per work, paging, filters; on zero hits "did you mean" and "suggest"."""
    rows = _work_rows(results)
    if results.pages > 1:
        rows.append(_paging_row(results))
    if results.works or results.filters.active:
        rows.extend(_filter_rows(results))
    if results.suggestion:
        rows.append(
            [
                button(
                    _("🔎 Search “{suggestion}”").format(suggestion=clip(results.suggestion, 40)),
                    DidYouMean(search_id=results.search_id),
                )
            ]
        )
    if results.can_suggest_purchase:
        rows.append(
            [button(_("🛒 Suggest a purchase"), SuggestPurchase(search_id=results.search_id))]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def answer_results(message: Message, results: SearchPage, language: str) -> None:
    """Send the results as a new message in the chat."""
    await message.answer(results_text(results, language), reply_markup=results_keyboard(results))


async def search_text(
    message: Message,
    session: AsyncSession,
    reader: Reader,
    indexer: CatalogueIndexer,
    i18n: I18n,
) -> None:
    """Any text outside a dialog is a search."""
    try:
        results = await search_catalogue(session, indexer, reader, message.text or "")
    except IndexNotReadyError:
        await message.answer(not_ready_text())
        return
    except EmptyQueryError:
        await message.answer(
            _(
                "There is nothing I can search for in that. "
                "Please type a title, an author or an ISBN."
            )
        )
        return
    await answer_results(message, results, i18n.current_locale)


async def results_page(
    query: CallbackQuery,
    callback_data: ResultsPage,
    session: AsyncSession,
    reader: Reader,
    indexer: CatalogueIndexer,
    i18n: I18n,
) -> None:
    """Paging and filters: redraw the results in place."""
    try:
        results = await search_page(
            session,
            indexer,
            reader,
            callback_data.search_id,
            page=callback_data.page,
            filters=callback_data.filters,
            author=callback_data.author,
        )
    except NotFoundError:
        await query.answer(expired_text(), show_alert=True)
        return
    except PageOutOfRangeError:
        await query.answer(
            _("That page of results doesn't exist any more. Please search again."),
            show_alert=True,
        )
        return
    except IndexNotReadyError:
        await query.answer(not_ready_text(), show_alert=True)
        return
    await query.answer()
    await edit_message(
        query.message, results_text(results, i18n.current_locale), results_keyboard(results)
    )


def build_router() -> Router:
    """Typed searches, and paging and filters of their results."""
    router = Router(name=__name__)
    # A book card the reader sent from inline mode into this chat comes back to us: not a search.
    router.message.register(
        search_text, StateFilter(None), F.text, ~F.text.startswith("/"), ~F.via_bot
    )
    router.callback_query.register(results_page, ResultsPage.filter())
    return router
