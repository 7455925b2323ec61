"""/read by a barcode photo: a photo captioned /read [RATING] [NOTE] logs the book whose
ISBN barcode it shows (decoded as the catalogue search decodes barcode photos)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Reader, utcnow
from bot.services.errors import DomainError
from bot.services.reading import progress
from handlers.reading.completion import send_certificates
from handlers.reading.log import logged_keyboard, logged_text, parse_read_arguments, refusal
from handlers.search.barcode import photo_reading


async def read_photo(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """A barcode photo captioned /read [RATING] [NOTE]."""
    reading = await photo_reading(message, bot)
    if reading is None:
        return
    if reading.isbn is None:
        await message.answer(
            _(
                "I couldn't read a book's ISBN barcode in that photo (the one on the back "
                "cover starting with 978 or 979). Try a sharper photo, or send /read ISBN."
            )
        )
        return
    _isbn, rating, note = parse_read_arguments(f"{reading.isbn} {command.args or ''}")
    try:
        logged = await progress.read_isbn(
            session,
            reader,
            reading.isbn,
            now=utcnow(),
            zone=settings.zone,
            rating=rating,
            note=note,
        )
    except DomainError as exc:
        await message.answer(refusal(exc))
        return
    language = i18n.current_locale
    entry = logged.entry
    await message.answer(logged_text(entry, language), reply_markup=logged_keyboard(entry.work_id))
    await send_certificates(message, reader, logged.completed, language)


def build_router() -> Router:
    """Photos captioned /read."""
    router = Router(name=__name__)
    router.message.register(read_photo, Command("read"), F.photo)
    return router
