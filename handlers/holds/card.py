"""/card: the reader's alliance card, as text and as a barcode the desk can scan."""

from __future__ import annotations

import asyncio
import io
from html import escape

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Reader
from handlers.ils.cards import link_keyboard


def card_image(card_number: str) -> bytes:
    """The card number as a Code 128 barcode (PNG), as scanners at member libraries read it."""
    from barcode import Code128
    from barcode.writer import ImageWriter

    output = io.BytesIO()
    Code128(card_number, writer=ImageWriter()).write(
        output, options={"module_height": 12.0, "font_size": 8, "text_distance": 4.0}
    )
    return output.getvalue()


async def alliance_card(message: Message, reader: Reader, session: AsyncSession) -> None:
    """/card: the alliance card number as text and as a barcode image."""
    caption = _(
        "🪪 Your alliance card: <code>{number}</code>\n"
        "Show this barcode at the desk of any member library."
    ).format(number=escape(reader.card_number))
    # Drawing the image takes milliseconds of CPU: off the event loop.
    image = await asyncio.to_thread(card_image, reader.card_number)
    await message.answer_photo(
        BufferedInputFile(image, filename="card.png"),
        caption=caption,
        # Where member libraries are connected: link the reader's own card there.
        reply_markup=await link_keyboard(session),
    )


def build_router() -> Router:
    """The /card handler (the filters are on the holds router that includes it)."""
    router = Router(name=__name__)
    router.message.register(alliance_card, Command("card"))
    return router
