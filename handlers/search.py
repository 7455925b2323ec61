"""Catalogue search in the chat: results by work, paging, filters, the work card, more by the
author, "did you mean", purchase suggestions, barcode photos and ``wk_<id>`` links."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import ItemStatus, LibraryKind, Reader, SuggestionStatus, utcnow
from bot.services import search, suggestions
from bot.services.errors import NotAllowedError, NotFoundError
from bot.services.indexing import CatalogueIndexer
from bot.services.members import describe_opening_hours
from bot.services.search import (
    EmptyQueryError,
    IndexNotReadyError,
    KindFilter,
    LanguageFilter,
    LibraryHoldings,
    LibraryPlace,
    OriginKind,
    PageOutOfRangeError,
    ReaderOrigin,
    SearchFilters,
    SearchPage,
    WorkCard,
    WorkFacts,
    WorkSummary,
)
from handlers.common import distance_text, edit_message
from handlers.deeplinks import DeepLinks
from handlers.filters import Onboarded
from handlers.hold_buttons import reserve_rows
from handlers.keyboards import main_menu

WORK_LINK_PREFIX = "wk"
MAX_PHOTO_BYTES = 10 * 1024 * 1024
CARD_LIBRARIES = 10
# Telegram takes 4,096 characters; the card stops adding libraries well before that.
CARD_BUDGET = 3500
LIBRARY_NAME_CHARS = 60
PLACE_CHARS = 100
TITLE_CHARS = 100
BUTTON_TITLE_CHARS = 48
SUMMARY_CHARS = 300


# --- callback data ----------------------------------------------------------------------


class ResultsPage(CallbackData, prefix="sr"):
    """A page of one of the reader's logged searches, with its filters."""

    search_id: int
    page: int
    available: bool = False
    language: LanguageFilter = LanguageFilter.ANY
    kind: KindFilter = KindFilter.ANY
    author: bool = False

    @property
    def filters(self) -> SearchFilters:
        return SearchFilters(available=self.available, language=self.language, kind=self.kind)

    @classmethod
    def of(cls, results: SearchPage, *, page: int, filters: SearchFilters) -> ResultsPage:
        """A button target for another page or other filters of the same search."""
        return cls(
            search_id=results.search_id,
            page=page,
            available=filters.available,
            language=filters.language,
            kind=filters.kind,
            author=results.author,
        )


class WorkOpen(CallbackData, prefix="wk"):
    """Open a work's card; the rest says which results page "Back" returns to (0: none)."""

    work_id: int
    search_id: int = 0
    page: int = 0
    available: bool = False
    language: LanguageFilter = LanguageFilter.ANY
    kind: KindFilter = KindFilter.ANY
    author: bool = False

    def back(self) -> ResultsPage | None:
        """Where "Back to results" goes, if the card was opened from results."""
        if not self.search_id:
            return None
        return ResultsPage(
            search_id=self.search_id,
            page=self.page,
            available=self.available,
            language=self.language,
            kind=self.kind,
            author=self.author,
        )


class AuthorWorks(CallbackData, prefix="au"):
    """More by the first author of a work."""

    work_id: int


class DidYouMean(CallbackData, prefix="dy"):
    """Search for the index's correction of a logged search."""

    search_id: int


class SuggestPurchase(CallbackData, prefix="ps"):
    """Suggest for purchase what a logged search did not find."""

    search_id: int


# --- text -------------------------------------------------------------------------------


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _has_original(work: WorkFacts) -> bool:
    return bool(work.original_title) and (work.original_title or "").strip() != work.title.strip()


def title_plain(work: WorkFacts, limit: int = TITLE_CHARS) -> str:
    """Original-script title with the romanised one, as plain text."""
    if _has_original(work):
        return clip(f"{work.original_title} · {work.title}", limit)
    return clip(work.title, limit)


def title_html(work: WorkFacts) -> str:
    """Original-script title in bold with the romanised one beside it."""
    if _has_original(work):
        return (
            f"<b>{escape(clip(work.original_title or '', TITLE_CHARS))}</b> · "
            f"{escape(clip(work.title, TITLE_CHARS))}"
        )
    return f"<b>{escape(clip(work.title, TITLE_CHARS))}</b>"


def authors_plain(work: WorkFacts) -> str:
    """The first author or two, in the original script with the romanised name."""
    names = list(work.original_authors or work.authors)
    if not names:
        return ""
    first = names[0]
    if work.original_authors and work.authors and work.authors[0] != first:
        first = f"{first} ({work.authors[0]})"
    text = ", ".join([first, *names[1:2]]) + (", …" if len(names) > 2 else "")
    return clip(text, TITLE_CHARS)


def byline(work: WorkFacts) -> str:
    """Author · year, as plain text."""
    parts = [authors_plain(work), str(work.year) if work.year else ""]
    return " · ".join(part for part in parts if part)


def library_name(place: LibraryPlace, language: str) -> str:
    """A library's name in the reader's language (plain text)."""
    if language == "en" and place.name_en:
        return clip(place.name_en, LIBRARY_NAME_CHARS)
    return clip(place.name, LIBRARY_NAME_CHARS)


def kind_label(kind: LibraryKind) -> str:
    """A kind of library in words."""
    labels = {
        LibraryKind.UNIVERSITY: _("university library"),
        LibraryKind.PUBLIC: _("public library"),
        LibraryKind.SCHOOL: _("school library"),
        LibraryKind.PARTNER: _("partner venue"),
    }
    return labels[kind]


def status_label(status: ItemStatus) -> str:
    """A copy's status in words."""
    labels = {
        ItemStatus.AVAILABLE: _("available"),
        ItemStatus.ON_LOAN: _("on loan"),
        ItemStatus.HELD: _("held for a reader"),
        ItemStatus.IN_TRANSIT: _("in transit"),
        ItemStatus.MISSING: _("missing"),
    }
    return labels[status]


def availability_plain(summary: WorkSummary, language: str) -> str:
    """Where copies are on the shelf, the nearest first (plain text)."""
    if summary.copies == 0:
        return _("No library in the alliance has a copy yet")
    nearest = summary.nearest_available
    if nearest is None:
        if summary.copies == 1:
            return _("The only copy is out at the moment")
        return _("All {count} copies are out at the moment").format(count=summary.copies)
    name = library_name(nearest, language)
    if summary.available_libraries == 1:
        if nearest.distance_km is None:
            return _("On the shelf at {library}").format(library=name)
        return _("On the shelf at 1 library — {distance}, {library}").format(
            distance=distance_text(nearest.distance_km), library=name
        )
    if nearest.distance_km is None:
        return _("On the shelf at {count} libraries, including {library}").format(
            count=summary.available_libraries, library=name
        )
    return _("On the shelf at {count} libraries — nearest {distance}, {library}").format(
        count=summary.available_libraries,
        distance=distance_text(nearest.distance_km),
        library=name,
    )


def availability_icon(summary: WorkSummary) -> str:
    """✅ on the shelf somewhere, ⏳ all copies out, ▫️ no copies."""
    if summary.available_libraries:
        return "✅"
    return "⏳" if summary.copies else "▫️"


def origin_note(origin: ReaderOrigin, language: str) -> str:
    """Where distances are measured from."""
    if origin.kind is OriginKind.LOCATION:
        return _("Distances are from the location you shared.")
    if origin.kind is OriginKind.DISTRICT:
        district = (origin.district_name_en if language == "en" else None) or origin.district_name
        return _(
            "Distances are from the centre of {district}; share your location in /settings "
            "for better ones."
        ).format(district=escape(district or ""))
    return _("Share your location or choose your district in /settings to see distances.")


def not_ready_text() -> str:
    """The index is being (re)built."""
    return _("The catalogue is being prepared. Please try again in a minute.")


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
    return ", ".join(parts)


def results_text(results: SearchPage, language: str) -> str:
    """The results message: header, notes, then each work with its availability."""
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
            ).format(length=results.typed_length, limit=search.MAX_QUERY_CHARS)
        )
    if results.filters.active:
        lines.append(_("Filters: {filters}").format(filters=_filters_summary(results.filters)))
    if not results.works:
        lines.append("")
        lines.append(_zero_hits_text(results))
        return "\n".join(lines)
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
    lines.append(count)
    lines.append("<i>" + origin_note(results.origin, language) + "</i>")
    first = results.page * search.PAGE_SIZE
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


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _toggle(label: str, on: bool) -> str:
    return f"✓ {label}" if on else label


def _filter_rows(results: SearchPage) -> list[list[InlineKeyboardButton]]:
    current = results.filters

    def target(**changes: Any) -> ResultsPage:
        values = {
            "available": current.available,
            "language": current.language,
            "kind": current.kind,
            **changes,
        }
        return ResultsPage.of(results, page=0, filters=SearchFilters(**values))

    def language(choice: LanguageFilter) -> LanguageFilter:
        return LanguageFilter.ANY if current.language is choice else choice

    def kind(choice: KindFilter) -> KindFilter:
        return KindFilter.ANY if current.kind is choice else choice

    return [
        [
            _button(
                _toggle(_("Available now"), current.available),
                target(available=not current.available),
            )
        ],
        [
            _button(
                _toggle(_("Chinese"), current.language is LanguageFilter.CHINESE),
                target(language=language(LanguageFilter.CHINESE)),
            ),
            _button(
                _toggle(_("English"), current.language is LanguageFilter.ENGLISH),
                target(language=language(LanguageFilter.ENGLISH)),
            ),
        ],
        [
            _button(
                _toggle(_("University libraries"), current.kind is KindFilter.UNIVERSITY),
                target(kind=kind(KindFilter.UNIVERSITY)),
            ),
            _button(
                _toggle(_("Public libraries"), current.kind is KindFilter.PUBLIC),
                target(kind=kind(KindFilter.PUBLIC)),
            ),
        ],
    ]


def results_keyboard(results: SearchPage) -> InlineKeyboardMarkup | None:
    """A button per work, paging, filters; on zero hits "did you mean" and "suggest"."""
    rows: list[list[InlineKeyboardButton]] = []
    first = results.page * search.PAGE_SIZE
    for number, summary in enumerate(results.works, start=first + 1):
        rows.append(
            [
                _button(
                    f"{number}. {title_plain(summary.work, BUTTON_TITLE_CHARS)}",
                    WorkOpen(
                        work_id=summary.work.work_id,
                        search_id=results.search_id,
                        page=results.page,
                        available=results.filters.available,
                        language=results.filters.language,
                        kind=results.filters.kind,
                        author=results.author,
                    ),
                )
            ]
        )
    if results.pages > 1:
        paging = []

        def to(page: int) -> ResultsPage:
            return ResultsPage.of(results, page=page, filters=results.filters)

        if results.page > 0:
            paging.append(_button("◀️", to(results.page - 1)))
        paging.append(_button(f"{results.page + 1}/{results.pages}", to(results.page)))
        if results.page + 1 < results.pages:
            paging.append(_button("▶️", to(results.page + 1)))
        rows.append(paging)
    if results.works or results.filters.active:
        rows.extend(_filter_rows(results))
    if results.suggestion:
        rows.append(
            [
                _button(
                    _("🔎 Search “{suggestion}”").format(suggestion=clip(results.suggestion, 40)),
                    DidYouMean(search_id=results.search_id),
                )
            ]
        )
    if results.can_suggest_purchase:
        rows.append(
            [_button(_("🛒 Suggest a purchase"), SuggestPurchase(search_id=results.search_id))]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def _holding_lines(holding: LibraryHoldings, language: str) -> list[str]:
    place = holding.library
    head = f"• <b>{escape(library_name(place, language))}</b>"
    if place.distance_km is not None:
        head += f" — {distance_text(place.distance_km)}"
    head += f" · {kind_label(place.kind)}"
    statuses = ", ".join(
        status_label(status) if count == 1 else f"{status_label(status)} ×{count}"
        for status, count in holding.statuses
    )
    icon = "✅" if holding.available else "⏳"
    detail = f"   {icon} {statuses}"
    if holding.call_numbers:
        detail += " · " + _("call number {call_number}").format(
            call_number=escape(clip(", ".join(holding.call_numbers), 80))
        )
    lines = [head, detail]
    hours = describe_opening_hours(place.opening_hours or "", language)
    address = place.display_address(language)
    where = [escape(clip(part, PLACE_CHARS)) for part in (address, hours) if part]
    if place.address and place.opening_hours:
        lines.append(f"   📍 {where[0]} · 🕘 {where[1]}")
    elif place.address:
        lines.append(f"   📍 {where[0]}")
    elif place.opening_hours:
        lines.append(f"   🕘 {where[0]}")
    return lines


def card_text(card: WorkCard, language: str) -> str:
    """The work card: facts, then each holding library, nearest first."""
    work = card.work
    lines = [f"📖 {title_html(work)}"]
    facts = [authors_plain(work), str(work.year) if work.year else "", work.publisher or ""]
    facts_line = " · ".join(clip(fact, TITLE_CHARS) for fact in facts if fact)
    if facts_line:
        lines.append(escape(facts_line))
    if card.isbns:
        lines.append("ISBN " + escape(", ".join(card.isbns[:3])))
    if card.summary:
        lines.append(f"<i>{escape(clip(card.summary, SUMMARY_CHARS))}</i>")
    lines.append("")
    if not card.holdings:
        lines.append(_("No library in the alliance has a copy yet."))
        return "\n".join(lines)
    lines.append(_("<b>Where to find it</b>"))
    lines.append("<i>" + origin_note(card.origin, language) + "</i>")
    shown = 0
    for holding in card.holdings[:CARD_LIBRARIES]:
        more = _holding_lines(holding, language)
        if shown and len("\n".join(lines + more)) > CARD_BUDGET:
            break
        lines.extend(more)
        shown += 1
    hidden = len(card.holdings) - shown
    if hidden > 0:
        lines.append(_("…and {count} more libraries.").format(count=hidden))
    return "\n".join(lines)


def work_link(bot_username: str, work_id: int) -> str:
    """The deep link that opens a work's card in the bot."""
    return f"https://t.me/{bot_username}?start={WORK_LINK_PREFIX}_{work_id}"


def work_card_keyboard(
    card: WorkCard,
    *,
    bot_username: str,
    back: ResultsPage | None = None,
    extra_rows: Sequence[Sequence[InlineKeyboardButton]] = (),
) -> InlineKeyboardMarkup:
    """The card's buttons: ``extra_rows`` first (the holds feature's Reserve row goes there),
    then More by this author, Share, and Back to results."""
    rows = [list(row) for row in extra_rows]
    work_id = card.work.work_id
    if card.author:
        rows.append([_button(_("👤 More by this author"), AuthorWorks(work_id=work_id))])
    link = work_link(bot_username, work_id)
    share_url = (
        f"https://t.me/share/url?url={quote(link, safe='')}"
        f"&text={quote(title_plain(card.work), safe='')}"
    )
    rows.append(
        [
            InlineKeyboardButton(
                text=_("📤 Share"), switch_inline_query=f"{WORK_LINK_PREFIX}_{work_id}"
            ),
            InlineKeyboardButton(text=_("🔗 Send the link"), url=share_url),
        ]
    )
    if back is not None:
        rows.append([_button(_("⬅️ Back to results"), back)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def _bot_username(bot: Bot) -> str:
    me = await bot.me()
    return me.username or ""


# --- handlers ---------------------------------------------------------------------------


async def _send(
    query: CallbackQuery, bot: Bot, reader: Reader, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    chat_id = query.message.chat.id if query.message is not None else reader.chat_id
    await bot.send_message(chat_id, text, reply_markup=markup)


async def _answer_results(message: Message, results: SearchPage, language: str) -> None:
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
        results = await search.search_catalogue(session, indexer, reader, message.text or "")
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
    await _answer_results(message, results, i18n.current_locale)


async def search_photo(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    reader: Reader,
    indexer: CatalogueIndexer,
    i18n: I18n,
) -> None:
    """A photo outside a dialog: read the ISBN barcode on it and search for that."""
    assert message.photo
    photo = message.photo[-1]
    if photo.file_size is not None and photo.file_size > MAX_PHOTO_BYTES:
        await message.answer(_("That photo is too large for me. Please send a smaller one."))
        return
    try:
        downloaded = await bot.download(photo.file_id)
    except TelegramBadRequest:
        downloaded = None
    reading = (
        await search.read_isbn_barcode(downloaded.read())
        if downloaded is not None
        else search.BarcodeReading(found=False)
    )
    if not reading.found:
        await message.answer(
            _(
                "I couldn't find a barcode in that photo. Hold the phone closer so the barcode "
                "is sharp and fills the picture — or type the ISBN."
            )
        )
        return
    if reading.isbn is None:
        await message.answer(
            _(
                "That barcode is not a book's ISBN. Look for the one on the back cover that "
                "starts with 978 or 979, or type the ISBN."
            )
        )
        return
    try:
        results = await search.search_catalogue(session, indexer, reader, reading.isbn)
    except IndexNotReadyError:
        await message.answer(not_ready_text())
        return
    await _answer_results(message, results, i18n.current_locale)


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
        results = await search.search_page(
            session,
            indexer,
            reader,
            callback_data.search_id,
            page=callback_data.page,
            filters=callback_data.filters,
            author=callback_data.author,
        )
    except NotFoundError:
        await query.answer(_("This search has expired. Please type it again."), show_alert=True)
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


def _gone() -> str:
    return _("Sorry, that book is not in the catalogue any more.")


async def open_work(
    query: CallbackQuery,
    callback_data: WorkOpen,
    session: AsyncSession,
    reader: Reader,
    bot: Bot,
    i18n: I18n,
) -> None:
    """A result tapped: show the work's card in place of the results."""
    try:
        card = await search.work_card(session, reader, callback_data.work_id)
    except NotFoundError:
        await query.answer(_gone(), show_alert=True)
        return
    await query.answer()
    await edit_message(
        query.message,
        card_text(card, i18n.current_locale),
        work_card_keyboard(
            card,
            bot_username=await _bot_username(bot),
            back=callback_data.back(),
            extra_rows=reserve_rows(card.work.work_id),
        ),
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
        search.search_author(session, indexer, reader, callback_data.work_id),
        gone=_gone(),
    )


async def _send_results(
    query: CallbackQuery,
    bot: Bot,
    reader: Reader,
    i18n: I18n,
    pending: Awaitable[search.SearchPage],
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
    await _send(
        query, bot, reader, results_text(results, i18n.current_locale), results_keyboard(results)
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
        search.search_suggestion(session, indexer, reader, callback_data.search_id),
        gone=_("This search has expired. Please type it again."),
    )


async def suggest_purchase(
    query: CallbackQuery,
    callback_data: SuggestPurchase,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    bot: Bot,
) -> None:
    """You choose, the library buys: record the suggestion (or a vote for an existing one)."""
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
        await query.answer(_("This search has expired. Please type it again."), show_alert=True)
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
    await _send(query, bot, reader, text, None)


async def open_work_link(message: Message, argument: str, data: dict[str, Any]) -> None:
    """Deep link ``wk_<id>``: send the work's card."""
    session = data["session"]
    reader = data["reader"]
    i18n = data["i18n"]
    assert isinstance(session, AsyncSession) and isinstance(reader, Reader)
    assert isinstance(i18n, I18n) and message.bot is not None
    try:
        card = await search.work_card(session, reader, int(argument) if argument.isdigit() else 0)
    except NotFoundError:
        await message.answer(_gone(), reply_markup=main_menu())
        return
    await message.answer(
        card_text(card, i18n.current_locale),
        reply_markup=work_card_keyboard(
            card,
            bot_username=await _bot_username(message.bot),
            extra_rows=reserve_rows(card.work.work_id),
        ),
    )


def register_deep_links(deep_links: DeepLinks) -> None:
    """Route ``/start wk_<id>`` to the work card."""
    deep_links.register(WORK_LINK_PREFIX, open_work_link)


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(Onboarded(), F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(Onboarded())
    # A book card the reader sent from inline mode into this chat comes back to us: not a search.
    router.message.register(
        search_text, StateFilter(None), F.text, ~F.text.startswith("/"), ~F.via_bot
    )
    router.message.register(search_photo, StateFilter(None), F.photo)
    router.callback_query.register(results_page, ResultsPage.filter())
    router.callback_query.register(open_work, WorkOpen.filter())
    router.callback_query.register(more_by_author, AuthorWorks.filter())
    router.callback_query.register(did_you_mean, DidYouMean.filter())
    router.callback_query.register(suggest_purchase, SuggestPurchase.filter())
    return router
