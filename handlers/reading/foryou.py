"""/foryou: personal recommendations, each saying why; the reading choices in /settings."""

from __future__ import annotations

from enum import StrEnum
from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Reader
from bot.services.reading import preferences as reading_preferences
from bot.services.reading import recommend
from bot.services.reading.recommend import Reason, Recommendation
from handlers.common import edit_message
from handlers.reading.callbacks import bot_username, button, title_for, work_link


class PrefAct(StrEnum):
    SHOW = "s"
    RECOMMENDATIONS = "r"
    DIGEST = "d"


class ReadingPrefs(CallbackData, prefix="rp"):
    """The reading choices: show them, or switch recommendations or the digest."""

    action: PrefAct


def reason_text(item: Recommendation, language: str) -> str:
    """Why the work is recommended."""
    because = escape(title_for(item.because or "", item.because_original, language))
    if item.reason is Reason.RESERVED:
        return _("because you reserved {title}").format(title=because)
    if item.reason is Reason.READ:
        return _("because you read {title}").format(title=because)
    if item.reason is Reason.FOLLOWED:
        return _("because you follow the list {title}").format(title=because)
    if item.reason is Reason.INTEREST:
        return _("popular near you, and about {subject}, which interests you").format(
            subject=escape(item.because or "")
        )
    if item.reason is Reason.DISTRICT:
        return _("popular with readers in your district")
    return _("popular with readers across the alliance")


def foryou_text(found: list[Recommendation], username: str, language: str) -> str:
    lines = [_("<b>✨ For you</b>"), ""]
    if not found:
        lines.append(
            _("Nothing to recommend yet: reserve or mark a few books read, and look again.")
        )
    for number, item in enumerate(found, start=1):
        title = escape(title_for(item.title, item.original_title, language))
        lines.append(f'{number}. <a href="{work_link(username, item.work_id)}">{title}</a>')
        lines.append(f"   <i>{reason_text(item, language)}</i>")
    lines.append("")
    lines.append(_("Personal recommendations can be turned off in /settings."))
    return "\n".join(lines)


async def foryou(
    message: Message, session: AsyncSession, reader: Reader, bot: Bot, i18n: I18n
) -> None:
    """/foryou: up to ten works, each with its reason."""
    try:
        found = await recommend.for_reader(session, reader)
    except recommend.RecommendationsOff:
        await message.answer(
            _("You turned personal recommendations off."),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        button(
                            _("Turn on personal recommendations"),
                            ReadingPrefs(action=PrefAct.RECOMMENDATIONS),
                        )
                    ]
                ]
            ),
        )
        return
    text = foryou_text(found, await bot_username(bot), i18n.current_locale)
    await message.answer(text, disable_web_page_preview=True)


async def _prefs_view(session: AsyncSession, reader: Reader) -> tuple[str, InlineKeyboardMarkup]:
    choices = await reading_preferences.preferences(session, reader.id)
    on, off = "✅", "🚫"
    text = "\n".join(
        [
            _("📚 Reading"),
            "",
            f"{on if choices.recommendations else off} " + _("Personal recommendations (/foryou)"),
            f"{on if choices.weekly_digest else off} " + _("Weekly reading digest"),
        ]
    )
    recommendations = (
        _("Turn off personal recommendations")
        if choices.recommendations
        else _("Turn on personal recommendations")
    )
    digest = (
        _("Turn off the weekly digest") if choices.weekly_digest else _("Turn on the weekly digest")
    )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [button(recommendations, ReadingPrefs(action=PrefAct.RECOMMENDATIONS))],
            [button(digest, ReadingPrefs(action=PrefAct.DIGEST))],
        ]
    )
    return text, markup


async def show_prefs(query: CallbackQuery, session: AsyncSession, reader: Reader) -> None:
    """📚 Reading in /settings: the reading choices."""
    await query.answer()
    text, markup = await _prefs_view(session, reader)
    await edit_message(query.message, text, markup)


async def switch_recommendations(
    query: CallbackQuery, session: AsyncSession, reader: Reader
) -> None:
    """Turn personal recommendations on or off."""
    choices = await reading_preferences.preferences(session, reader.id)
    await reading_preferences.set_preference(
        session, reader.id, recommendations=not choices.recommendations
    )
    await query.answer(_("Saved."))
    text, markup = await _prefs_view(session, reader)
    await edit_message(query.message, text, markup)


async def switch_digest(query: CallbackQuery, session: AsyncSession, reader: Reader) -> None:
    """Turn the weekly digest on or off."""
    choices = await reading_preferences.preferences(session, reader.id)
    await reading_preferences.set_preference(
        session, reader.id, weekly_digest=not choices.weekly_digest
    )
    await query.answer(_("Saved."))
    text, markup = await _prefs_view(session, reader)
    await edit_message(query.message, text, markup)


def build_router() -> Router:
    """/foryou and the reading choices."""
    router = Router(name=__name__)
    router.message.register(foryou, Command("foryou"))
    router.callback_query.register(show_prefs, ReadingPrefs.filter(F.action == PrefAct.SHOW))
    router.callback_query.register(
        switch_recommendations, ReadingPrefs.filter(F.action == PrefAct.RECOMMENDATIONS)
    )
    router.callback_query.register(switch_digest, ReadingPrefs.filter(F.action == PrefAct.DIGEST))
    return router
