"""Small helpers shared by routers."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup, MaybeInaccessibleMessageUnion, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import directory


async def edit_message(
    message: MaybeInaccessibleMessageUnion | None,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Edit a bot message in place; an identical edit (a double tap) is not an error."""
    if not isinstance(message, Message):
        return
    try:
        await message.edit_text(text, reply_markup=reply_markup)
    except TelegramBadRequest as exc:
        if "message is not modified" not in exc.message:
            raise


async def replace_buttons(
    message: MaybeInaccessibleMessageUnion | None, reply_markup: InlineKeyboardMarkup | None
) -> None:
    """Change a bot message's inline buttons (None takes them off); a double tap is no error."""
    if not isinstance(message, Message):
        return
    try:
        await message.edit_reply_markup(reply_markup=reply_markup)
    except TelegramBadRequest as exc:
        if "message is not modified" not in exc.message:
            raise


async def remove_buttons(message: MaybeInaccessibleMessageUnion | None) -> None:
    """Take the inline buttons off a bot message; already gone (a double tap) is not an error."""
    await replace_buttons(message, None)


def distance_text(kilometres: float) -> str:
    """1.2 km, 350 m."""
    if kilometres < 1:
        return _("{distance} m").format(distance=max(10, round(kilometres * 100) * 10))
    if kilometres < 100:
        return _("{distance} km").format(distance=f"{kilometres:.1f}")
    return _("{distance} km").format(distance=f"{kilometres:.0f}")


def sentences(*parts: str) -> str:
    """Translated sentences one after another: a space after Latin punctuation, none after
    Chinese full-width punctuation (。！？：), as each language writes them."""
    text = ""
    for part in parts:
        if text and not text.endswith(("。", "！", "？", "：")):
            text += " "
        text += part
    return text


def rate_text(value: float) -> str:
    """A rate per 10,000 people, as precise as it needs to be to tell small ones apart:
    120, 4.5, 0.42, 0.031 (two significant digits below 1), 0."""
    if value >= 10:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.1f}"
    if value <= 0:
        return "0"
    return f"{value:.2g}"


# A shared location further than this from every member library is probably not where the
# reader lives (a trip, or a wrong pin): say so, since "nearest first" then means little.
FAR_FROM_ALLIANCE_KM = 100.0


async def location_saved_text(session: AsyncSession, latitude: float, longitude: float) -> str:
    """The thanks for a shared location, with a word when it is far from every library."""
    text = _("Thanks! I saved your location, rounded to about 100 m.")
    nearest = await directory.nearest_library_km(session, latitude, longitude)
    if nearest is not None and nearest > FAR_FROM_ALLIANCE_KM:
        text += "\n" + _(
            "The nearest library of the alliance is {distance} away. If you are travelling, "
            "share your location again once you are home (/settings)."
        ).format(distance=distance_text(nearest))
    return text
