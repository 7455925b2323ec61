"""Onboarding: /start, language, home district, optional location, then the main menu."""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Reader, utcnow
from bot.services import readers
from bot.services.errors import NotFoundError
from bot.services.roles import RoleSet
from handlers.callbacks import DistrictAction, DistrictChoice, LanguageChoice, Origin
from handlers.common import edit_message, location_saved_text
from handlers.deeplinks import DeepLinks
from handlers.help import show_help
from handlers.keyboards import (
    SKIP,
    district_keyboard,
    district_label,
    language_keyboard,
    location_keyboard,
    main_menu,
)


class Onboarding(StatesGroup):
    """The steps of a new reader's first conversation."""

    language = State()
    district = State()
    location = State()


def greeting(reader: Reader) -> str:
    """The first thing a new reader reads."""
    return _(
        "Welcome to Bookbridge, {name}! 📚\n\n"
        "I search the catalogues of every library in the alliance at once, "
        "reserve a copy at the library nearest to you (or have one sent there), "
        "and sign you up for reading events.\n\n"
        "First, which language do you prefer?"
    ).format(name=escape(reader.first_name or ""))


async def start(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    reader: Reader,
    deep_links: DeepLinks,
    **data: Any,
) -> None:
    """Begin onboarding, or open a deep link / the main menu for a known reader."""
    payload = (command.args or "").strip()
    if reader.onboarded_at is None:
        await state.clear()
        await state.set_state(Onboarding.language)
        if payload:
            await state.update_data(pending_link=payload[:64])
        await message.answer(greeting(reader), reply_markup=language_keyboard(Origin.ONBOARDING))
        return
    await state.clear()
    if payload:
        await open_deep_link(
            message, payload, deep_links, {**data, "reader": reader, "state": state}
        )
        return
    await message.answer(
        _("Welcome back, {name}! Type a title, an author or an ISBN to search.").format(
            name=escape(reader.first_name or "")
        ),
        reply_markup=main_menu(),
    )


async def open_deep_link(
    message: Message, payload: str, deep_links: DeepLinks, data: dict[str, Any]
) -> None:
    """Open a deep link, or tell the reader it is not (or no longer) valid."""
    if not await deep_links.dispatch(message, payload, data):
        await message.answer(
            _("That link is not valid or has expired. Here is the main menu instead."),
            reply_markup=main_menu(),
        )


async def onboarding_language(
    query: CallbackQuery,
    callback_data: LanguageChoice,
    session: AsyncSession,
    reader: Reader,
    state: FSMContext,
    i18n: I18n,
) -> None:
    """Language chosen: ask for the home district (or skip it when there are none)."""
    if callback_data.code not in i18n.available_locales:
        await query.answer(_("This button is no longer active."))
        return
    await readers.set_language(session, reader, callback_data.code)
    with i18n.use_locale(callback_data.code):
        await query.answer(
            _("Language: {language}").format(
                language="中文" if callback_data.code == "zh" else "English"
            )
        )
        if reader.onboarded_at is not None:
            await edit_message(query.message, _("Language saved."))
            return
        page = await readers.district_page(session, 0)
        if not page.districts:
            await state.set_state(Onboarding.location)
            await edit_message(query.message, _("Language saved."))
            await _ask_location(query)
            return
        await state.set_state(Onboarding.district)
        await edit_message(
            query.message,
            _("Which district do you live in? It helps us bring books and events closer to you."),
            district_keyboard(page, Origin.ONBOARDING, callback_data.code),
        )


async def onboarding_district(
    query: CallbackQuery,
    callback_data: DistrictChoice,
    session: AsyncSession,
    reader: Reader,
    state: FSMContext,
    i18n: I18n,
) -> None:
    """District paged, picked or skipped."""
    language = i18n.current_locale
    if callback_data.action is DistrictAction.PAGE:
        page = await readers.district_page(session, callback_data.value)
        await query.answer()
        await edit_message(
            query.message,
            _("Which district do you live in? It helps us bring books and events closer to you."),
            district_keyboard(page, Origin.ONBOARDING, language),
        )
        return
    if callback_data.action is DistrictAction.PICK:
        try:
            district = await readers.set_district(session, reader, callback_data.value)
        except NotFoundError:
            await query.answer(_("That district is not in our list any more."), show_alert=True)
            return
        assert district is not None
        summary = _("Home district: {district}").format(
            district=escape(district_label(district, language))
        )
    else:
        summary = _("Home district: not given")
    await query.answer()
    await edit_message(query.message, summary)
    if reader.onboarded_at is not None:
        return
    await state.set_state(Onboarding.location)
    await _ask_location(query)


async def _ask_location(query: CallbackQuery) -> None:
    if query.message is None:
        return
    await query.bot.send_message(  # type: ignore[union-attr]
        query.message.chat.id,
        _(
            "Would you like to share your location? I keep it only to about 100 m, "
            "to show the nearest libraries first. You can change this any time in /settings."
        ),
        reply_markup=location_keyboard(skippable=True),
    )


async def onboarding_location(
    message: Message,
    session: AsyncSession,
    reader: Reader,
    state: FSMContext,
    deep_links: DeepLinks,
    **data: Any,
) -> None:
    """Location shared: store it coarsely and finish."""
    assert message.location is not None
    latitude, longitude = message.location.latitude, message.location.longitude
    await readers.set_location(session, reader, latitude, longitude)
    await message.answer(await location_saved_text(session, latitude, longitude))
    await finish_onboarding(message, session, reader, state, deep_links, data)


async def onboarding_skip_location(
    message: Message,
    session: AsyncSession,
    reader: Reader,
    state: FSMContext,
    deep_links: DeepLinks,
    **data: Any,
) -> None:
    """No location: finish anyway."""
    await finish_onboarding(message, session, reader, state, deep_links, data)


async def finish_onboarding(
    message: Message,
    session: AsyncSession,
    reader: Reader,
    state: FSMContext,
    deep_links: DeepLinks,
    data: dict[str, Any],
) -> None:
    """Mark the reader onboarded, show the main menu, then open the link they came with."""
    pending = (await state.get_data()).get("pending_link")
    await state.clear()
    await readers.complete_onboarding(session, reader, utcnow())
    await message.answer(
        _(
            "You're all set! 🎉\n\nType a title, an author or an ISBN to search every library "
            "in the alliance, or use the menu below. /help shows everything I can do."
        ),
        reply_markup=main_menu(),
    )
    if isinstance(pending, str) and pending:
        await open_deep_link(
            message,
            pending,
            deep_links,
            {**data, "reader": reader, "state": state, "session": session},
        )


async def onboarding_location_expected(message: Message) -> None:
    """Anything else while we wait for a location."""
    await message.answer(
        _("Please tap “📍 Share my location”, or “Skip” if you'd rather not."),
        reply_markup=location_keyboard(skippable=True),
    )


async def onboarding_buttons_expected(
    message: Message, session: AsyncSession, state: FSMContext, i18n: I18n
) -> None:
    """Typed text while a choice is pending: repeat the question with its buttons."""
    if await state.get_state() == Onboarding.district.state:
        page = await readers.district_page(session, 0)
        await message.answer(
            _("Please choose your district with the buttons below."),
            reply_markup=district_keyboard(page, Origin.ONBOARDING, i18n.current_locale),
        )
        return
    await message.answer(
        _("Please choose a language with the buttons below."),
        reply_markup=language_keyboard(Origin.ONBOARDING),
    )


async def onboarding_help(
    message: Message, roles: RoleSet, session: AsyncSession, state: FSMContext, i18n: I18n
) -> None:
    """/help in the middle of onboarding: the help, then the question still open."""
    await show_help(message, roles)
    if await state.get_state() == Onboarding.location.state:
        await onboarding_location_expected(message)
    else:
        await onboarding_buttons_expected(message, session, state, i18n)


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.register(start, CommandStart())
    router.message.register(onboarding_help, Command("help"), StateFilter(Onboarding))
    router.callback_query.register(
        onboarding_language, LanguageChoice.filter(F.origin == Origin.ONBOARDING)
    )
    router.callback_query.register(
        onboarding_district, DistrictChoice.filter(F.origin == Origin.ONBOARDING)
    )
    router.message.register(onboarding_location, Onboarding.location, F.location)
    router.message.register(onboarding_skip_location, Onboarding.location, F.text == SKIP)
    router.message.register(onboarding_location_expected, Onboarding.location)
    router.message.register(onboarding_buttons_expected, Onboarding.language)
    router.message.register(onboarding_buttons_expected, Onboarding.district)
    return router
