"""/choose: "you choose, we pay" — in a partner bookstore, send a book's ISBN or a photo of
its barcode; the paying library's rules answer with a voucher for the day, or why not."""

from __future__ import annotations

import asyncio
import enum
from html import escape

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.geo import haversine_km
from bot.models import Bookstore, ChooseRules, Reader, utcnow
from bot.services.bookstores import choosing
from bot.services.bookstores.choosing import ChooseAnswer
from bot.services.bookstores.refusals import NotABookError, Refusal, UnknownStoreError
from bot.services.holds.access import valid_id
from bot.services.search.barcode import read_isbn_barcode
from handlers.bookstores.wording import money, rules_text, store_html
from handlers.drafts import Draft
from handlers.filters import Onboarded
from handlers.holds.display import library_name_html, work_html
from handlers.organiser_events.manage import qr_png
from handlers.wizard_exit import cancel_hint

MAX_PHOTO_BYTES = 10 * 1024 * 1024
STORE_BUTTONS = 10


class ChooseStates(StatesGroup):
    book = State()


class ChooseDraft(Draft):
    """The bookstore the reader is choosing in."""

    key = "choose"
    command = "choose"

    store_id: int


class ChooseAct(enum.StrEnum):
    STORE = "store"


class ChooseData(CallbackData, prefix="chs"):
    """Pick the bookstore the reader is in."""

    action: ChooseAct
    store_id: int


async def _begin(
    message: Message, state: FSMContext, session: AsyncSession, store: Bookstore, language: str
) -> None:
    rules = await session.get(ChooseRules, store.library_id)
    await ChooseDraft(store_id=store.id).save(state)
    await state.set_state(ChooseStates.book)
    lines = [
        _(
            "📚 <b>You choose, we pay</b> at {store}: {library} buys the books you choose here."
        ).format(
            store=store_html(store, language),
            library=library_name_html(store.library, language),
        )
    ]
    if rules is not None:
        lines.append(_("Its rules: {rules}.").format(rules=rules_text(rules, language)))
    lines += [
        _(
            "Send me the book's ISBN, or a photo of the barcode on its back cover. If the library "
            "pays, you get a voucher for today to show at the till."
        ),
        cancel_hint(),
    ]
    await message.answer("\n".join(lines))


def _stores_keyboard(
    stores: list[Bookstore], reader: Reader, language: str
) -> InlineKeyboardMarkup:
    def distance(store: Bookstore) -> float:
        if reader.latitude is None or reader.longitude is None:
            return 0.0
        return haversine_km(reader.latitude, reader.longitude, store.latitude, store.longitude)

    ordered = sorted(stores, key=lambda store: (distance(store), store.code))[:STORE_BUTTONS]
    rows = [
        [
            InlineKeyboardButton(
                text=f"🏪 {store.display_name(language)}",
                callback_data=ChooseData(action=ChooseAct.STORE, store_id=store.id).pack(),
            )
        ]
        for store in ordered
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def choose_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    reader: Reader,
    i18n: I18n,
) -> None:
    """/choose [STORE_CODE]: the scheme explained, then the store, then the book."""
    language = i18n.current_locale
    if command.args:
        try:
            store = await choosing.store_by_code(session, command.args)
        except UnknownStoreError:
            await message.answer(
                _("No partner bookstore has the code “{code}”. Send /choose to see them.").format(
                    code=escape(command.args.strip()[:32])
                )
            )
            return
        await _begin(message, state, session, store, language)
        return
    stores = await choosing.active_stores(session)
    if not stores:
        await message.answer(_("No partner bookstore takes part in “you choose, we pay” yet."))
        return
    if len(stores) == 1:
        await _begin(message, state, session, stores[0], language)
        return
    await message.answer(
        _(
            "📚 <b>You choose, we pay</b>: in a partner bookstore, choose a book and a member "
            "library buys it and lends it to you. Which bookstore are you in?"
        ),
        reply_markup=_stores_keyboard(stores, reader, language),
    )


async def store_tapped(
    callback: CallbackQuery,
    callback_data: ChooseData,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    """The reader picked the bookstore they are in."""
    store = None
    if valid_id(callback_data.store_id):
        try:
            store = await choosing.store_by_id(session, callback_data.store_id)
        except UnknownStoreError:
            store = None
    if store is None or not isinstance(callback.message, Message):
        await callback.answer(_("That bookstore no longer takes part."), show_alert=True)
        return
    await callback.answer()
    await _begin(callback.message, state, session, store, i18n.current_locale)


def _nearest_line(answer: ChooseAnswer, language: str) -> str:
    nearest = answer.nearest
    if nearest is None:
        return ""
    where = _("{library}, {km} km from here").format(
        library=library_name_html(nearest.library, language), km=f"{nearest.distance_km:.1f}"
    )
    if nearest.on_shelf:
        return _("The nearest copy is on the shelf at {where}.").format(where=where)
    return _("The nearest copy is at {where} (out at the moment: you can reserve it).").format(
        where=where
    )


def _refusal_text(answer: ChooseAnswer, language: str) -> str:
    rules = answer.rules
    reasons = {
        Refusal.NO_SCHEME: _("this bookstore's library has not set its rules yet."),
        Refusal.CARD: _(
            "your alliance card is not in good standing (a book bought for you is overdue)."
        ),
        Refusal.ENOUGH_COPIES: _("the alliance already holds {copies} copies of this book.").format(
            copies=answer.copies
        ),
        Refusal.QUOTA: _("you have used your {quota} books for this month.").format(
            quota=rules.reader_quota if rules else 0
        ),
        Refusal.BUDGET: _("the library has spent this month's budget for chosen books."),
    }
    assert answer.refusal is not None
    book = work_html(answer.work) if answer.work else f"ISBN {answer.isbn}"
    lines = [
        _("❌ Not this time: {library} cannot pay for {book}, because {reason}").format(
            library=library_name_html(answer.store.library, language),
            book=book,
            reason=reasons[answer.refusal],
        )
    ]
    nearest = _nearest_line(answer, language)
    if nearest:
        lines.append(nearest)
    if answer.work is not None:
        lines.append(_("Its card: /start wk_{id}").format(id=answer.work.id))
    return "\n".join(lines)


def _yes_text(answer: ChooseAnswer, settings: Settings, language: str) -> str:
    voucher, rules = answer.voucher, answer.rules
    assert voucher is not None and rules is not None
    book = work_html(answer.work) if answer.work else f"ISBN {answer.isbn}"
    until = voucher.valid_until.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
    return "\n".join(
        [
            _("✅ Yes! {library} pays for {book} at {store}, up to {cap}.").format(
                library=library_name_html(answer.store.library, language),
                book=book,
                store=store_html(answer.store, language),
                cap=money(rules.price_cap, language),
            ),
            _(
                "Show this QR code or the code {code} at the till. It is valid once, until {until}."
            ).format(code=f"<code>{voucher.code}</code>", until=until),
            _("Books chosen this month: {used} of {quota}.").format(
                used=answer.used, quota=rules.reader_quota
            ),
        ]
    )


async def _answer_book(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    language: str,
    isbn: str,
) -> None:
    draft = await ChooseDraft.load(state)
    try:
        store = await choosing.store_by_id(session, draft.store_id)
    except UnknownStoreError:
        await state.clear()
        await message.answer(_("That bookstore no longer takes part."))
        return
    answer = await choosing.choose(session, reader, store, isbn, now=utcnow(), zone=settings.zone)
    if answer.voucher is None:
        await message.answer(_refusal_text(answer, language))
        return
    png = await asyncio.to_thread(qr_png, answer.voucher.code)
    await message.answer_photo(
        BufferedInputFile(png, filename=f"voucher-{answer.voucher.code}.png"),
        caption=_yes_text(answer, settings, language),
    )


async def book_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """A typed ISBN."""
    try:
        isbn = choosing.book_isbn(message.text or "")
    except NotABookError as exc:
        await message.answer(
            _(
                "“{text}” is not a book's ISBN. Type the 13 digits under the barcode (978… or "
                "979…), or send a photo of the barcode."
            ).format(text=escape(exc.text))
        )
        return
    await _answer_book(message, state, session, reader, settings, i18n.current_locale, isbn)


async def book_photo(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """A photo of the barcode on the back cover."""
    assert message.photo
    photo = message.photo[-1]
    if photo.file_size is not None and photo.file_size > MAX_PHOTO_BYTES:
        await message.answer(_("That photo is too large for me. Please send a smaller one."))
        return
    try:
        downloaded = await bot.download(photo.file_id)
    except TelegramBadRequest:
        downloaded = None
    reading = await read_isbn_barcode(downloaded.read()) if downloaded is not None else None
    if reading is None or not reading.found:
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
    await _answer_book(message, state, session, reader, settings, i18n.current_locale, reading.isbn)


async def cancel(message: Message, state: FSMContext) -> None:
    """/cancel: stop choosing."""
    await ChooseDraft.discard(state)
    await state.clear()
    await message.answer(_("You left “you choose, we pay”. Send /choose to start again."))


async def other_message(message: Message) -> None:
    """Anything else while choosing: say what is expected."""
    await message.answer(
        _("Send the book's ISBN or a photo of its barcode.") + "\n" + cancel_hint()
    )


def build_router() -> Router:
    """/choose and the messages that answer it."""
    router = Router(name=__name__)
    router.message.filter(Onboarded(), F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(Onboarded())
    router.message.register(choose_command, Command("choose"))
    router.callback_query.register(store_tapped, ChooseData.filter(F.action == ChooseAct.STORE))
    router.message.register(cancel, ChooseStates.book, Command("cancel"))
    router.message.register(book_photo, ChooseStates.book, F.photo)
    router.message.register(book_text, ChooseStates.book, F.text, ~F.text.startswith("/"))
    router.message.register(other_message, ChooseStates.book)
    return router
