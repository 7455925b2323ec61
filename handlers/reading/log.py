"""/read: the reading log. Mark a work read from its card, a collected hold, or by ISBN;
rate it 1-5 and add a short note."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Reader, utcnow
from bot.services.errors import DomainError, NotFoundError
from bot.services.reading import log, progress
from handlers.common import edit_message
from handlers.drafts import Draft
from handlers.reading.callbacks import (
    ReadAct,
    ReadingData,
    button,
    collected_rows,
    title_for,
)
from handlers.reading.completion import send_certificates


class ReadingNote(StatesGroup):
    """Waiting for the note on a work just marked read."""

    note = State()


class NoteDraft(Draft):
    """The work the note is for."""

    key = "reading_note"
    command = "/read"

    work_id: int


def refusal(error: DomainError) -> str:
    """What a refused read says."""
    if isinstance(error, log.RatingOutOfRange):
        return _("A rating is a whole number from 1 to 5.")
    if isinstance(error, log.NoteTooLong):
        return _("A note can be at most {limit} characters.").format(limit=log.NOTE_CHARS)
    if isinstance(error, log.NotAnIsbn):
        return _(
            "That is not a valid ISBN. Send /read ISBN, optionally followed by a rating "
            "from 1 to 5 and a short note, e.g. /read 9787020002207 5 Moving."
        )
    if isinstance(error, log.UnknownIsbn):
        return _(
            "No book in the alliance's catalogue has the ISBN {isbn}; nothing was logged. "
            "Search for the book and mark it read from its card."
        ).format(isbn=error.isbn)
    if isinstance(error, NotFoundError):
        return _("That book or hold is no longer there.")
    return _("That cannot be logged.")


def stars(rating: int | None) -> str:
    """A rating as stars."""
    return "★" * rating + "☆" * (log.MAX_RATING - rating) if rating else ""


def logged_text(entry: log.ReadEntry, language: str) -> str:
    """What the reader sees after marking a work read."""
    title = escape(title_for(entry.title, entry.original_title, language))
    head = (
        _("📗 Logged as read: <b>{title}</b>")
        if entry.created
        else _("📗 Updated in your reading log: <b>{title}</b>")
    ).format(title=title)
    lines = [head]
    if entry.rating:
        lines.append(_("Your rating: {stars}").format(stars=stars(entry.rating)))
    if entry.note:
        lines.append(_("Your note: {note}").format(note=escape(entry.note)))
    if not entry.rating:
        lines.append(_("How would you rate it?"))
    return "\n".join(lines)


def logged_keyboard(work_id: int) -> InlineKeyboardMarkup:
    """Rating stars and the note button."""
    rates = [
        button(
            "⭐" * n if n < 3 else f"{n}⭐",
            ReadingData(action=ReadAct.RATE, value=work_id, rating=n),
        )
        for n in range(log.MIN_RATING, log.MAX_RATING + 1)
    ]
    note = button(_("📝 Add a note"), ReadingData(action=ReadAct.NOTE, value=work_id))
    return InlineKeyboardMarkup(inline_keyboard=[rates, [note]])


def parse_read_arguments(args: str) -> tuple[str, int | None, str | None]:
    """``ISBN [RATING] [NOTE]``: the ISBN text, the rating if a number follows, the note.

    A number after the ISBN is the rating (checked by the service, so 7 is refused, not
    taken as a note); the ISBN may be written with hyphens but not with spaces.
    """
    parts = args.split(maxsplit=2)
    isbn = parts[0]
    rest = parts[1:]
    rating = None
    if rest and rest[0].lstrip("+-").isdigit():
        rating = int(rest[0][:6])
        rest = rest[1:]
    note = " ".join(rest).strip() or None
    return isbn, rating, note


async def overview(
    session: AsyncSession, reader: Reader, language: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """/read alone: the reader's latest reads and recently collected books to mark."""
    now = utcnow()
    reads = await log.recent_reads(session, reader.id)
    total = await log.read_count(session, reader.id)
    collected = await log.collected_unread(session, reader.id, now)
    lines = [_("📚 Books in your reading log: {count}").format(count=total)]
    for entry in reads:
        line = "• " + escape(title_for(entry.title, entry.original_title, language))
        if entry.rating:
            line += " " + stars(entry.rating)
        lines.append(line)
    if collected:
        lines.append("")
        lines.append(_("Collected lately; finished one? Tap it:"))
    lines.append("")
    lines.append(
        _(
            "Mark a book read from its card (📗), or send /read ISBN with an optional "
            "rating from 1 to 5 and a short note."
        )
    )
    lines.append(_("Or send a photo of the book's barcode with the caption /read."))
    rows = collected_rows(
        [(item.hold_id, title_for(item.title, item.original_title, language)) for item in collected]
    )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def read_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """/read [ISBN [RATING] [NOTE]]."""
    language = i18n.current_locale
    if not (command.args or "").strip():
        text, markup = await overview(session, reader, language)
        await message.answer(text, reply_markup=markup)
        return
    isbn, rating, note = parse_read_arguments(command.args or "")
    try:
        logged = await progress.read_isbn(
            session, reader, isbn, now=utcnow(), zone=settings.zone, rating=rating, note=note
        )
    except DomainError as exc:
        await message.answer(refusal(exc))
        return
    entry = logged.entry
    await message.answer(logged_text(entry, language), reply_markup=logged_keyboard(entry.work_id))
    await send_certificates(message, reader, logged.completed, language)


async def mark_from_card(
    query: CallbackQuery,
    callback_data: ReadingData,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """📗 on a work card: log it read, then offer a rating."""
    try:
        logged = await progress.read_work(
            session,
            reader,
            callback_data.value,
            source=log.ReadSource.CARD,
            now=utcnow(),
            zone=settings.zone,
        )
    except DomainError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await _logged_reply(query, reader, logged, i18n.current_locale)


async def _logged_reply(
    query: CallbackQuery, reader: Reader, logged: progress.Logged, language: str
) -> None:
    """The entry with its rating buttons, then any certificate earned."""
    await query.answer(_("Logged as read."))
    if isinstance(query.message, Message):
        await query.message.answer(
            logged_text(logged.entry, language), reply_markup=logged_keyboard(logged.entry.work_id)
        )
    await send_certificates(query.message, reader, logged.completed, language)


async def mark_collected(
    query: CallbackQuery,
    callback_data: ReadingData,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """📗 Read: a collected hold (My holds, /read): log its work read."""
    try:
        logged = await progress.read_collected(
            session, reader, callback_data.value, now=utcnow(), zone=settings.zone
        )
    except DomainError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await _logged_reply(query, reader, logged, i18n.current_locale)


async def rate(
    query: CallbackQuery,
    callback_data: ReadingData,
    session: AsyncSession,
    reader: Reader,
    i18n: I18n,
) -> None:
    """A star button: store the rating (1-5; anything else is refused)."""
    try:
        entry = await log.mark_read(
            session,
            reader,
            callback_data.value,
            source=log.ReadSource.CARD,
            now=utcnow(),
            rating=log.check_rating(callback_data.rating),
        )
    except DomainError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer(_("Rating saved."))
    await edit_message(
        query.message, logged_text(entry, i18n.current_locale), logged_keyboard(entry.work_id)
    )


async def ask_note(query: CallbackQuery, callback_data: ReadingData, state: FSMContext) -> None:
    """📝 Add a note: the next message is the note."""
    await query.answer()
    await state.set_state(ReadingNote.note)
    await NoteDraft(work_id=callback_data.value).save(state)
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Send your note (at most {limit} characters). /cancel leaves this form.").format(
                limit=log.NOTE_CHARS
            )
        )


async def note_given(
    message: Message, session: AsyncSession, reader: Reader, state: FSMContext, i18n: I18n
) -> None:
    """The note: stored on the reading-log entry."""
    draft = await NoteDraft.load(state)
    try:
        entry = await log.mark_read(
            session,
            reader,
            draft.work_id,
            source=log.ReadSource.CARD,
            now=utcnow(),
            note=message.text or "",
        )
    except DomainError as exc:
        await message.answer(refusal(exc))
        return
    await NoteDraft.discard(state)
    await state.clear()
    await message.answer(
        logged_text(entry, i18n.current_locale), reply_markup=logged_keyboard(entry.work_id)
    )


async def note_cancelled(message: Message, state: FSMContext) -> None:
    """/cancel while a note is awaited."""
    await NoteDraft.discard(state)
    await state.clear()
    await message.answer(_("No note was added."))


def build_router() -> Router:
    """/read and the reading-log buttons."""
    router = Router(name=__name__)
    router.message.register(note_cancelled, StateFilter(ReadingNote.note), Command("cancel"))
    router.message.register(note_given, StateFilter(ReadingNote.note), F.text)
    router.message.register(read_command, Command("read"))
    router.callback_query.register(mark_from_card, ReadingData.filter(F.action == ReadAct.MARK))
    router.callback_query.register(mark_collected, ReadingData.filter(F.action == ReadAct.HOLD))
    router.callback_query.register(rate, ReadingData.filter(F.action == ReadAct.RATE))
    router.callback_query.register(ask_note, ReadingData.filter(F.action == ReadAct.NOTE))
    return router
