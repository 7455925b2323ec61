"""Keyboards shared by several routers: main menu, languages, districts, location."""

from __future__ import annotations

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import menus
from bot.models import District
from bot.services.readers import DistrictPage
from handlers.callbacks import DistrictAction, DistrictChoice, LanguageChoice, Origin

MENU_SEARCH = __(menus.MENU_SEARCH)
MENU_HOLDS = __(menus.MENU_HOLDS)
MENU_EVENTS = __(menus.MENU_EVENTS)
MENU_SETTINGS = __(menus.MENU_SETTINGS)
SKIP = __("Skip")
CANCEL = __("Cancel")


def main_menu() -> ReplyKeyboardMarkup:
    """The reply keyboard every onboarded reader sees."""
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=str(MENU_SEARCH)), KeyboardButton(text=str(MENU_HOLDS))],
            [KeyboardButton(text=str(MENU_EVENTS)), KeyboardButton(text=str(MENU_SETTINGS))],
        ],
        resize_keyboard=True,
        input_field_placeholder=_("Title, author or ISBN"),
    )


def language_keyboard(origin: Origin) -> InlineKeyboardMarkup:
    """中文 / English, each in its own script so everyone can read it."""
    builder = InlineKeyboardBuilder()
    builder.button(text="中文", callback_data=LanguageChoice(code="zh", origin=origin))
    builder.button(text="English", callback_data=LanguageChoice(code="en", origin=origin))
    return builder.as_markup()


def district_label(district: District, language: str) -> str:
    """A district's name in the reader's language."""
    return district.display_name(language)


def _page_button(text: str, page: int, origin: Origin) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text,
        callback_data=DistrictChoice(action=DistrictAction.PAGE, value=page, origin=origin).pack(),
    )


def district_keyboard(page: DistrictPage, origin: Origin, language: str) -> InlineKeyboardMarkup:
    """Districts two per row, with paging and a skip button."""
    builder = InlineKeyboardBuilder()
    for district in page.districts:
        builder.button(
            text=district_label(district, language),
            callback_data=DistrictChoice(
                action=DistrictAction.PICK, value=district.id, origin=origin
            ),
        )
    builder.adjust(2)
    paging: list[InlineKeyboardButton] = []
    if page.page > 0:
        paging.append(_page_button("◀️", page.page - 1, origin))
    if page.pages > 1:
        paging.append(_page_button(f"{page.page + 1}/{page.pages}", page.page, origin))
    if page.page + 1 < page.pages:
        paging.append(_page_button("▶️", page.page + 1, origin))
    if paging:
        builder.row(*paging)
    builder.row(
        InlineKeyboardButton(
            text=_("Skip") if origin is Origin.ONBOARDING else _("No district"),
            callback_data=DistrictChoice(action=DistrictAction.SKIP, value=0, origin=origin).pack(),
        )
    )
    return builder.as_markup()


def location_keyboard(*, skippable: bool) -> ReplyKeyboardMarkup:
    """A request_location button, with Skip (onboarding) or Cancel (settings)."""
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=_("📍 Share my location"), request_location=True)],
            [KeyboardButton(text=str(SKIP) if skippable else str(CANCEL))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
