"""Challenge completion after a read: the certificate, drawn off the event loop."""

from __future__ import annotations

import asyncio
from html import escape

from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _

from bot.models import Challenge, Reader, display_name, utcnow
from bot.services.reading.certificate import certificate_png


def challenge_title(challenge: Challenge, language: str) -> str:
    """A challenge's title in the reader's language."""
    return display_name(challenge.title, challenge.title_en, language)


async def send_certificate(
    target: Message, reader: Reader, challenge: Challenge, language: str
) -> None:
    """The certificate PNG (Chinese and English), drawn off the event loop."""
    completed = utcnow().date()
    image = await asyncio.to_thread(
        lambda: certificate_png(
            name=reader.first_name,
            title=challenge.title,
            title_en=challenge.title_en,
            goal=challenge.goal,
            completed_on=completed,
        )
    )
    await target.answer_photo(
        BufferedInputFile(image, filename="certificate.png"),
        caption=_("🏅 Challenge completed: {title}! Here is your certificate.").format(
            title=escape(challenge_title(challenge, language))
        ),
    )


async def send_certificates(
    target: object, reader: Reader, done: list[Challenge], language: str
) -> None:
    """A certificate for each challenge completed just now (by a read, or on joining)."""
    if not isinstance(target, Message):
        return
    for challenge in done:
        await send_certificate(target, reader, challenge, language)
