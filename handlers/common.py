"""Small helpers shared by routers."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup, MaybeInaccessibleMessageUnion, Message
from aiogram.utils.i18n import gettext as _


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
    Chinese full-width punctuation (。！？), as each language writes them."""
    text = ""
    for part in parts:
        if text and not text.endswith(("。", "！", "？", "：")):
            text += " "
        text += part
    return text


def rate_text(value: float) -> str:
    """A rate per 10,000 people, as precise as it needs to be to tell small ones apart:
    120, 12.5, 0.42, 0.031 (two significant digits below 1), 0."""
    if value >= 10:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.1f}"
    if value <= 0:
        return "0"
    return f"{value:.2g}"
