"""/settings: language, home district, location and notification opt-ins."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import District, Partner, Reader
from bot.services import directory, readers
from bot.services.errors import NotFoundError
from bot.services.reading import teams
from handlers.callbacks import (
    DistrictAction,
    DistrictChoice,
    LanguageChoice,
    Origin,
    SettingsAction,
    SettingsChoice,
)
from handlers.common import edit_message, location_saved_text, remove_buttons
from handlers.filters import Onboarded
from handlers.keyboards import (
    CANCEL,
    MENU_SETTINGS,
    district_keyboard,
    district_label,
    language_keyboard,
    location_keyboard,
    main_menu,
)
from handlers.reading.department import DepartmentData, DeptAct
from handlers.reading.foryou import PrefAct, ReadingPrefs


class SettingsStates(StatesGroup):
    """Waiting for a location shared from settings."""

    location = State()


def topic_label(topic: str) -> str:
    """A notification topic's name."""
    labels = {
        "events": _("Event news"),
        "announcements": _("Library announcements"),
        "campaigns": _("Reading campaigns"),
    }
    return labels[topic]


def settings_text(
    reader: Reader, district: District | None, language: str, department: Partner | None = None
) -> str:
    """The settings summary."""
    lines = [
        _("⚙️ Your settings"),
        "",
        _("Language: {language}").format(language="中文" if language == "zh" else "English"),
        _("Home district: {district}").format(
            district=escape(district_label(district, language)) if district else _("not given")
        ),
        _("College or department: {name}").format(
            name=escape(department.display(language)) if department else _("not given")
        ),
        _("Location: {state}").format(
            state=_("saved (about 100 m)") if reader.latitude is not None else _("not shared")
        ),
        _("Alliance card: {number}").format(number=reader.card_number),
        "",
        _("Messages I may send you (hold and event notices always arrive):"),
    ]
    for topic, enabled in readers.notification_settings(reader).items():
        lines.append(f"{'✅' if enabled else '🚫'} {topic_label(topic)}")
    return "\n".join(lines)


def settings_keyboard(reader: Reader) -> InlineKeyboardMarkup:
    """Buttons to change each setting."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Language"), callback_data=SettingsChoice(action=SettingsAction.LANGUAGE))
    builder.button(text=_("District"), callback_data=SettingsChoice(action=SettingsAction.DISTRICT))
    builder.button(
        text=_("Share location"), callback_data=SettingsChoice(action=SettingsAction.LOCATION)
    )
    if reader.latitude is not None:
        builder.button(
            text=_("Forget location"),
            callback_data=SettingsChoice(action=SettingsAction.FORGET_LOCATION),
        )
    for topic, enabled in readers.notification_settings(reader).items():
        builder.button(
            text=(_("Turn off: {topic}") if enabled else _("Turn on: {topic}")).format(
                topic=topic_label(topic)
            ),
            callback_data=SettingsChoice(action=SettingsAction.TOGGLE, topic=topic),
        )
    builder.button(text=_("📚 Reading"), callback_data=ReadingPrefs(action=PrefAct.SHOW))
    builder.button(text=_("🎓 Department"), callback_data=DepartmentData(action=DeptAct.SHOW))
    builder.button(text=_("Done"), callback_data=SettingsChoice(action=SettingsAction.CLOSE))
    builder.adjust(2, 2, 1, 1, 1, 1, 1)
    return builder.as_markup()


async def _render(
    session: AsyncSession, reader: Reader, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    district = await directory.district(session, reader.district_id)
    department = await teams.department_of(session, reader)
    return settings_text(reader, district, language, department), settings_keyboard(reader)


async def show_settings(
    message: Message, session: AsyncSession, reader: Reader, state: FSMContext, i18n: I18n
) -> None:
    """Show the settings with buttons."""
    await state.clear()
    text, markup = await _render(session, reader, i18n.current_locale)
    await message.answer(text, reply_markup=markup)


async def _refresh(
    query: CallbackQuery, session: AsyncSession, reader: Reader, language: str
) -> None:
    text, markup = await _render(session, reader, language)
    await edit_message(query.message, text, markup)


async def settings_button(
    query: CallbackQuery,
    callback_data: SettingsChoice,
    session: AsyncSession,
    reader: Reader,
    state: FSMContext,
    i18n: I18n,
) -> None:
    """One of the settings buttons."""
    message = query.message if isinstance(query.message, Message) else None
    action = callback_data.action
    if action is SettingsAction.LANGUAGE and message:
        await query.answer()
        await edit_message(
            message, _("Which language do you prefer?"), language_keyboard(Origin.SETTINGS)
        )
    elif action is SettingsAction.DISTRICT and message:
        await query.answer()
        page = await readers.district_page(session, 0)
        await edit_message(
            message,
            _("Which district do you live in?"),
            district_keyboard(page, Origin.SETTINGS, i18n.current_locale),
        )
    elif action is SettingsAction.LOCATION and message:
        await query.answer()
        await state.set_state(SettingsStates.location)
        await message.answer(
            _("Tap the button below to share your location (kept to about 100 m)."),
            reply_markup=location_keyboard(skippable=False),
        )
    elif action is SettingsAction.FORGET_LOCATION:
        await readers.set_location(session, reader, None, None)
        await query.answer(_("Your location is forgotten."))
        await _refresh(query, session, reader, i18n.current_locale)
    elif action is SettingsAction.TOGGLE and callback_data.topic in readers.NOTIFICATION_TOPICS:
        enabled = not readers.notification_settings(reader)[callback_data.topic]
        await readers.set_notification(session, reader, callback_data.topic, enabled)
        await query.answer(_("Saved."))
        await _refresh(query, session, reader, i18n.current_locale)
    elif action is SettingsAction.CLOSE and message:
        await query.answer(_("Saved."))
        await remove_buttons(message)
    else:
        await query.answer(_("This button is no longer active."))


async def settings_language(
    query: CallbackQuery,
    callback_data: LanguageChoice,
    session: AsyncSession,
    reader: Reader,
    i18n: I18n,
) -> None:
    """Language changed from settings: answer and redraw in the new language."""
    if callback_data.code not in i18n.available_locales:
        await query.answer(_("This button is no longer active."))
        return
    await readers.set_language(session, reader, callback_data.code)
    with i18n.use_locale(callback_data.code):
        await query.answer(_("Saved."))
        await _refresh(query, session, reader, callback_data.code)
        if query.message is not None:
            # The reply keyboard is in the old language until we send a new one.
            await query.bot.send_message(  # type: ignore[union-attr]
                query.message.chat.id, _("Language saved."), reply_markup=main_menu()
            )


async def settings_district(
    query: CallbackQuery,
    callback_data: DistrictChoice,
    session: AsyncSession,
    reader: Reader,
    i18n: I18n,
) -> None:
    """District paged, picked or cleared from settings."""
    if callback_data.action is DistrictAction.PAGE:
        page = await readers.district_page(session, callback_data.value)
        await query.answer()
        await edit_message(
            query.message,
            _("Which district do you live in?"),
            district_keyboard(page, Origin.SETTINGS, i18n.current_locale),
        )
        return
    try:
        await readers.set_district(
            session,
            reader,
            callback_data.value if callback_data.action is DistrictAction.PICK else None,
        )
    except NotFoundError:
        await query.answer(_("That district is not in our list any more."), show_alert=True)
        return
    await query.answer(_("Saved."))
    await _refresh(query, session, reader, i18n.current_locale)


async def settings_location_cancel(message: Message, state: FSMContext) -> None:
    """No location after all."""
    await state.clear()
    await message.answer(_("Nothing changed."), reply_markup=main_menu())


async def location_shared(
    message: Message, session: AsyncSession, reader: Reader, state: FSMContext
) -> None:
    """A location shared outside any other dialog updates the reader's coarse location."""
    assert message.location is not None
    await state.clear()
    latitude, longitude = message.location.latitude, message.location.longitude
    await readers.set_location(session, reader, latitude, longitude)
    await message.answer(
        await location_saved_text(session, latitude, longitude), reply_markup=main_menu()
    )


async def settings_location_expected(message: Message) -> None:
    """Anything else while we wait for a location."""
    await message.answer(
        _("Please tap “📍 Share my location”, or “Cancel”."),
        reply_markup=location_keyboard(skippable=False),
    )


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(Onboarded())
    router.callback_query.filter(Onboarded())
    router.message.register(show_settings, Command("settings"))
    router.message.register(show_settings, F.text == MENU_SETTINGS)
    router.callback_query.register(settings_button, SettingsChoice.filter())
    router.callback_query.register(
        settings_language, LanguageChoice.filter(F.origin == Origin.SETTINGS)
    )
    router.callback_query.register(
        settings_district, DistrictChoice.filter(F.origin == Origin.SETTINGS)
    )
    router.message.register(
        settings_location_cancel, StateFilter(SettingsStates.location), F.text == CANCEL
    )
    router.message.register(location_shared, F.location)
    router.message.register(settings_location_expected, StateFilter(SettingsStates.location))
    return router
