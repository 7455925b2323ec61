"""Buttons the organisers' forms share: Cancel, a step's choices, the venue picker."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import directory
from handlers.events.labels import page_buttons
from handlers.organiser_events.callbacks import WizardPick, WizardStep

VENUE_PAGE = 10
ANOTHER_PLACE = "place"


def cancel_button() -> InlineKeyboardButton:
    """✖️ Cancel: leave the wizard or an edit, storing nothing."""
    return InlineKeyboardButton(
        text=_("✖️ Cancel"), callback_data=WizardPick(step=WizardStep.CANCEL).pack()
    )


def cancel_markup() -> InlineKeyboardMarkup:
    """A keyboard with only ✖️ Cancel."""
    return InlineKeyboardMarkup(inline_keyboard=[[cancel_button()]])


def choices(step: WizardStep, options: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """The options of a step, two per row, and ✖️ Cancel."""
    builder = InlineKeyboardBuilder()
    for value, label in options:
        builder.button(text=label, callback_data=WizardPick(step=step, value=value))
    builder.adjust(2)
    builder.row(cancel_button())
    return builder.as_markup()


def format_hint() -> str:
    """How to type a date and time."""
    return _("Use the form YYYY-MM-DD HH:MM, for example 2027-03-14 19:00.")


async def venue_keyboard(
    session: AsyncSession, language: str, *, page: int
) -> InlineKeyboardMarkup:
    """A page of member libraries, ◀️ ▶️, another place, and ✖️ Cancel."""
    libraries, page, pages = await directory.library_page(session, page, VENUE_PAGE)
    builder = InlineKeyboardBuilder()
    for library in libraries:
        builder.button(
            text=library.display_name(language),
            callback_data=WizardPick(step=WizardStep.VENUE, value=str(library.id)),
        )
    builder.adjust(2)
    more = page + 1 < pages
    paging = page_buttons(
        page, more, lambda to: WizardPick(step=WizardStep.VENUES, value=str(to)).pack()
    )
    if paging:
        builder.row(*paging)
    builder.row(
        InlineKeyboardButton(
            text=_("📍 Another place"),
            callback_data=WizardPick(step=WizardStep.VENUE, value=ANOTHER_PLACE).pack(),
        )
    )
    builder.row(cancel_button())
    return builder.as_markup()
