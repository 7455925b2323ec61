"""A photo outside a dialog: read the ISBN barcode on it and search for that."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Reader
from bot.services.indexing import CatalogueIndexer
from bot.services.search.barcode import BarcodeReading, read_isbn_barcode
from bot.services.search.ranking import IndexNotReadyError
from bot.services.search.results import search_catalogue
from handlers.search.results import answer_results
from handlers.search.wording import not_ready_text

MAX_PHOTO_BYTES = 10 * 1024 * 1024


async def photo_reading(message: Message, bot: Bot) -> BarcodeReading | None:
    """What the photo shows, or None (after saying so) when it is too large to fetch."""
    assert message.photo
    photo = message.photo[-1]
    if photo.file_size is not None and photo.file_size > MAX_PHOTO_BYTES:
        await message.answer(_("That photo is too large for me. Please send a smaller one."))
        return None
    try:
        downloaded = await bot.download(photo.file_id)
    except TelegramBadRequest:
        downloaded = None
    if downloaded is None:
        return BarcodeReading(found=False)
    return await read_isbn_barcode(downloaded.read())


async def search_photo(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    reader: Reader,
    indexer: CatalogueIndexer,
    i18n: I18n,
) -> None:
    """Search for the ISBN on the photographed barcode."""
    reading = await photo_reading(message, bot)
    if reading is None:
        return
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
        results = await search_catalogue(session, indexer, reader, reading.isbn)
    except IndexNotReadyError:
        await message.answer(not_ready_text())
        return
    await answer_results(message, results, i18n.current_locale)


def build_router() -> Router:
    """Photos of barcodes."""
    router = Router(name=__name__)
    router.message.register(search_photo, StateFilter(None), F.photo)
    return router
