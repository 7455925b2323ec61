"""/humanlibrary: living books by event, a book's card, booking and giving back, the waitlist."""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import LivingBookSlot, Reader, utcnow
from bot.notices.humanlibrary import slot_filename
from bot.services.errors import DomainError, NotFoundError
from bot.services.events.calendar import calendar_file
from bot.services.events.times import span_text
from bot.services.humanlibrary import booking, shelves
from bot.services.humanlibrary.errors import (
    AlreadyBookedError,
    AlreadyWaitingError,
    NotYourSlotError,
    SlotOverError,
    SlotsFreeError,
    SlotTakenError,
)
from bot.services.humanlibrary.notices import slot_calendar
from handlers.common import edit_message
from handlers.humanlibrary.callbacks import HumanLibraryData, ShelfAction

SLOT_BUTTONS = 12


def _button(text: str, action: ShelfAction, item: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=HumanLibraryData(action=action, item=item).pack()
    )


def refusal_text(error: DomainError) -> str:
    """Why a human library action was refused, in the reader's language."""
    if isinstance(error, SlotTakenError):
        return _("Sorry, someone booked that slot a moment before you. Pick another one.")
    if isinstance(error, SlotOverError):
        return _("That conversation has started or is over; it can no longer be changed.")
    if isinstance(error, AlreadyBookedError):
        return _("You already have a conversation with this living book (one each).")
    if isinstance(error, AlreadyWaitingError):
        return _("You are already on this living book's waitlist.")
    if isinstance(error, SlotsFreeError):
        return _("This living book still has free slots: book one instead.")
    if isinstance(error, NotYourSlotError):
        return _("That slot is not yours, so nothing was changed.")
    if isinstance(error, NotFoundError):
        return _("That living book or slot no longer exists.")
    return _("That did not work; nothing was changed.")


async def _shelves_view(
    session: AsyncSession, reader: Reader, settings: Settings, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    now = utcnow()
    found = await shelves.shelves(session, now=now)
    builder = InlineKeyboardBuilder()
    lines = [_("📚 <b>Human library</b>: borrow a person, not a book, for a conversation.")]
    if not found:
        lines.append(_("No living books are on the shelves right now."))
    for shelf in found:
        event = shelf.event
        lines.append("")
        lines.append(f"🎪 <b>{escape(event.display_title(language))}</b>")
        lines.append("🕒 " + span_text(event.starts_at, event.ends_at, settings.zone))
        for item in shelf.books:
            label = _("📖 {name} — {topic} ({free} free)").format(
                name=item.book.name, topic=item.book.topic, free=item.free
            )
            builder.row(_button(label[:60], ShelfAction.OPEN, item.book.id))
    mine = await shelves.my_conversations(session, reader, now=now)
    if mine:
        lines += ["", _("🎟 Your conversations:")]
        for slot in mine:
            lines.append(
                f"• {span_text(slot.starts_at, slot.ends_at, settings.zone)} "
                f"{escape(slot.book.name)} — {escape(slot.book.topic)}"
            )
    if await shelves.is_living_book(session, reader):
        builder.row(_button(_("🗓 My schedule as a living book"), ShelfAction.SCHEDULE))
    return "\n".join(lines), builder.as_markup()


async def show_shelves(
    message: Message, session: AsyncSession, reader: Reader, settings: Settings, i18n: I18n
) -> None:
    """/humanlibrary: the living books of events to come."""
    text, markup = await _shelves_view(session, reader, settings, i18n.current_locale)
    await message.answer(text, reply_markup=markup)


async def back_to_shelves(
    query: CallbackQuery, session: AsyncSession, reader: Reader, settings: Settings, i18n: I18n
) -> None:
    """The list again, in place."""
    text, markup = await _shelves_view(session, reader, settings, i18n.current_locale)
    await query.answer()
    await edit_message(query.message, text, markup)


async def _card_view(
    session: AsyncSession, reader: Reader, book_id: int, settings: Settings, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    card = await shelves.book_card(session, book_id, reader, now=utcnow())
    book, event = card.book, card.book.event
    zone = settings.zone
    lines = [
        f"📖 <b>{escape(book.name)}</b>",
        _("Topic: {topic}").format(topic=escape(book.topic)),
        f"🎪 {escape(event.display_title(language))}",
        "🕒 " + span_text(event.starts_at, event.ends_at, zone),
        _("⏱ Conversations of {minutes} minutes, one reader each.").format(
            minutes=book.slot_minutes
        ),
    ]
    if book.blurb:
        lines += ["", escape(book.blurb)]
    lines.append("")
    builder = InlineKeyboardBuilder()
    if card.my_slot is not None:
        lines.append(
            _("✅ Your conversation: {when}").format(
                when=span_text(card.my_slot.starts_at, card.my_slot.ends_at, zone)
            )
        )
        builder.row(_button(_("↩️ Give back my slot"), ShelfAction.GIVE_BACK, card.my_slot.id))
    elif card.waitlist_rank is not None:
        lines.append(_("⏳ You are number {rank} on the waitlist.").format(rank=card.waitlist_rank))
        builder.row(_button(_("Leave the waitlist"), ShelfAction.LEAVE, book.id))
    elif card.free_slots:
        lines.append(_("Pick a free slot:"))
        builder.row(
            *(
                _button(f"{slot.starts_at.astimezone(zone):%H:%M}", ShelfAction.TAKE, slot.id)
                for slot in card.free_slots[:SLOT_BUTTONS]
            ),
            width=4,
        )
    else:
        lines.append(_("Every slot is booked; {count} waiting.").format(count=card.waiting))
        builder.row(_button(_("⏳ Join the waitlist"), ShelfAction.WAIT, book.id))
    builder.row(_button(_("◀️ Human library"), ShelfAction.SHELVES))
    return "\n".join(lines), builder.as_markup()


async def open_book(
    query: CallbackQuery,
    callback_data: HumanLibraryData,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """A living book's card."""
    try:
        text, markup = await _card_view(
            session, reader, callback_data.item, settings, i18n.current_locale
        )
    except NotFoundError as error:
        await query.answer(refusal_text(error), show_alert=True)
        return
    await query.answer()
    await edit_message(query.message, text, markup)


async def _redraw(
    query: CallbackQuery,
    session: AsyncSession,
    reader: Reader,
    book_id: int,
    settings: Settings,
    language: str,
) -> None:
    text, markup = await _card_view(session, reader, book_id, settings, language)
    await edit_message(query.message, text, markup)


async def _send_calendar(
    bot: Bot, chat_id: int, slot: LivingBookSlot, settings: Settings, language: str
) -> None:
    content = calendar_file(slot_calendar(slot), settings.zone, language=language)
    await bot.send_document(
        chat_id,
        BufferedInputFile(content, filename=slot_filename(slot.id)),
        caption=_("✅ Booked: {name}, {when}. Add it to your calendar.").format(
            name=slot.book.name, when=span_text(slot.starts_at, slot.ends_at, settings.zone)
        ),
    )


async def take(
    query: CallbackQuery,
    callback_data: HumanLibraryData,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
) -> None:
    """Book the slot: one reader wins it; the calendar file follows."""
    try:
        slot = await booking.take_slot(session, reader, callback_data.item, now=utcnow())
    except DomainError as error:
        await query.answer(refusal_text(error), show_alert=True)
        return
    await query.answer(_("Booked!"))
    await _redraw(query, session, reader, slot.book_id, settings, i18n.current_locale)
    await _send_calendar(bot, reader.chat_id, slot, settings, i18n.current_locale)


async def give_back(
    query: CallbackQuery,
    callback_data: HumanLibraryData,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Give the slot back (only the reader who holds it can)."""
    try:
        freed = await shelves.loaded_slot(session, callback_data.item)
        await booking.cancel_slot(session, reader, callback_data.item, now=utcnow())
    except DomainError as error:
        await query.answer(refusal_text(error), show_alert=True)
        return
    await query.answer(_("Your slot is given back."))
    await _redraw(query, session, reader, freed.book_id, settings, i18n.current_locale)


async def wait(
    query: CallbackQuery,
    callback_data: HumanLibraryData,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Join the living book's waitlist."""
    try:
        waiting = await booking.join_waitlist(session, reader, callback_data.item, now=utcnow())
    except DomainError as error:
        await query.answer(refusal_text(error), show_alert=True)
        return
    await query.answer(
        _("You are number {rank} on the waitlist. A freed slot comes to you by itself.").format(
            rank=waiting.rank
        ),
        show_alert=True,
    )
    await _redraw(query, session, reader, callback_data.item, settings, i18n.current_locale)


async def leave(
    query: CallbackQuery,
    callback_data: HumanLibraryData,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Leave the waitlist."""
    await booking.leave_waitlist(session, reader, callback_data.item)
    await query.answer(_("You left the waitlist."))
    try:
        await _redraw(query, session, reader, callback_data.item, settings, i18n.current_locale)
    except NotFoundError:
        return


async def my_schedule(
    query: CallbackQuery, session: AsyncSession, reader: Reader, settings: Settings
) -> None:
    """A living book's own conversations to come, with who booked each."""
    slots = await shelves.schedule(session, reader, now=utcnow())
    lines = [_("🗓 <b>Your schedule as a living book</b>")]
    for slot in slots:
        who = escape(slot.reader.first_name or "—") if slot.reader else _("free")
        lines.append(
            f"• {span_text(slot.starts_at, slot.ends_at, settings.zone)} "
            f"{escape(slot.book.name)}: {who}"
        )
    if not slots:
        lines.append(_("No conversations to come."))
    await query.answer()
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[_button(_("◀️ Human library"), ShelfAction.SHELVES)]]
    )
    await edit_message(query.message, "\n".join(lines), markup)


def build_router() -> Router:
    """A fresh router with the reader's side of the human library."""
    router = Router(name=__name__)
    router.message.register(show_shelves, Command("humanlibrary"))
    on = HumanLibraryData.filter
    router.callback_query.register(back_to_shelves, on(F.action == ShelfAction.SHELVES))
    router.callback_query.register(open_book, on(F.action == ShelfAction.OPEN))
    router.callback_query.register(take, on(F.action == ShelfAction.TAKE))
    router.callback_query.register(give_back, on(F.action == ShelfAction.GIVE_BACK))
    router.callback_query.register(wait, on(F.action == ShelfAction.WAIT))
    router.callback_query.register(leave, on(F.action == ShelfAction.LEAVE))
    router.callback_query.register(my_schedule, on(F.action == ShelfAction.SCHEDULE))
    return router
