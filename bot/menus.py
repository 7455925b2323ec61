"""The menus a reader sees: the main-menu buttons' labels, and the command menus in Telegram
(`setMyCommands` for readers, and per chat for role holders)."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import CommandSpec, commands_for
from bot.config import Settings
from bot.i18n import LANGUAGES, N_, create_i18n
from bot.models import Reader, Role
from bot.services.roles import load_roles, readers_with_roles

logger = logging.getLogger(__name__)

# The main menu (the reply keyboard under every onboarded reader's chat), in its order.
MENU_SEARCH = N_("🔍 Search")
MENU_HOLDS = N_("📚 My holds")
MENU_EVENTS = N_("🎉 Events")
MENU_SETTINGS = N_("⚙️ Settings")
MAIN_MENU = (MENU_SEARCH, MENU_HOLDS, MENU_EVENTS, MENU_SETTINGS)


def main_menu_labels(i18n: I18n) -> frozenset[str]:
    """Every main-menu button's label in every language (a keyboard can outlive a language
    change, so any of them may arrive)."""
    return frozenset(
        i18n.gettext(label, locale=language) for label in MAIN_MENU for language in LANGUAGES
    )


def _bot_commands(specs: list[CommandSpec], i18n: I18n, language: str) -> list[BotCommand]:
    return [
        BotCommand(command=spec.name, description=i18n.gettext(spec.description, locale=language))
        for spec in specs
    ]


async def _publish(
    bot: Bot,
    specs: list[CommandSpec],
    i18n: I18n,
    scope: BotCommandScopeDefault | BotCommandScopeChat,
) -> None:
    for language in LANGUAGES:
        await bot.set_my_commands(
            _bot_commands(specs, i18n, language), scope=scope, language_code=language
        )
    await bot.set_my_commands(_bot_commands(specs, i18n, i18n.default_locale), scope=scope)


async def publish_default_commands(bot: Bot, settings: Settings) -> None:
    """The readers' menu, in every language, as the default scope."""
    i18n = create_i18n(settings.default_language)
    await _publish(bot, commands_for(frozenset({Role.READER})), i18n, BotCommandScopeDefault())


async def publish_commands_for(
    bot: Bot, session: AsyncSession, reader: Reader, settings: Settings
) -> None:
    """One role holder's menu in their own chat (a failure is logged, never fatal)."""
    i18n = create_i18n(settings.default_language)
    roles = await load_roles(session, reader, settings.admin_ids)
    scope = BotCommandScopeChat(chat_id=reader.chat_id)
    try:
        if roles.roles == frozenset({Role.READER}):
            for language in LANGUAGES:
                await bot.delete_my_commands(scope=scope, language_code=language)
            await bot.delete_my_commands(scope=scope)
        else:
            await _publish(bot, commands_for(roles.roles), i18n, scope)
    except TelegramAPIError as exc:
        logger.warning("could not set commands for reader_id=%s: %s", reader.id, exc)


async def publish_all_commands(bot: Bot, session: AsyncSession, settings: Settings) -> None:
    """The default menu plus one menu per role holder, at start-up."""
    await publish_default_commands(bot, settings)
    holders = await readers_with_roles(session)
    known = {reader.telegram_id for reader in holders}
    for reader in holders:
        await publish_commands_for(bot, session, reader, settings)
    for admin_id in settings.admin_ids:
        if admin_id not in known:
            admin = await session.scalar(select(Reader).where(Reader.telegram_id == admin_id))
            if admin is not None:
                await publish_commands_for(bot, session, admin, settings)
