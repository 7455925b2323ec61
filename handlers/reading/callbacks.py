"""Callback data of the reading-life screens, and the rows other features' screens carry."""

from __future__ import annotations

from enum import StrEnum
from html import escape

from aiogram import Bot
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import DbInt, ReadingList, display_name, utcnow
from bot.services.reading import log, recommend


class ReadAct(StrEnum):
    MARK = "m"  # value: a work id (from its card)
    HOLD = "h"  # value: a collected hold id (from My holds or /read)
    RATE = "r"  # value: a work id; rating 1-5
    NOTE = "n"  # value: a work id: the next message is the note


class ListAct(StrEnum):
    OPEN = "o"  # value: page
    FOLLOW = "f"
    UNFOLLOW = "u"
    MANAGE = "m"
    UP = "up"  # value: the place to move up
    REMOVE = "rm"  # value: the place to remove
    PUBLISH = "p"
    UNPUBLISH = "h"
    CREATE = "c"  # the list of the /newlist draft
    PICK = "pk"  # value: a work id (from its card): choose one of one's lists
    ADD = "a"  # value: a work id, added to list_id
    SEND = "s"  # the list as a new message (from an event's card)


class ListData(CallbackData, prefix="rl"):
    """A reading-list button."""

    action: ListAct
    list_id: DbInt
    value: DbInt = 0


def list_title(found: ReadingList, language: str) -> str:
    return display_name(found.title, found.title_en, language)


class ReadingData(CallbackData, prefix="rd"):
    """A reading-log button."""

    action: ReadAct
    value: DbInt
    rating: int = 0


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    """An inline button carrying callback data."""
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def work_link(username: str, work_id: int) -> str:
    """The deep link that opens a work's card (as the search feature's cards link)."""
    return f"https://t.me/{username}?start=wk_{work_id}"


async def bot_username(bot: Bot) -> str:
    """The bot's @username without the @."""
    me = await bot.me()
    return me.username or ""


def title_for(title: str, original_title: str | None, language: str) -> str:
    """A work's title as the reader reads it: the original script for Chinese readers."""
    original = (original_title or "").strip()
    return display_name(original or title, title, language)


def mark_read_row(work_id: int) -> list[InlineKeyboardButton]:
    """The work card's "I have read this" button."""
    return [button(_("📗 I have read it"), ReadingData(action=ReadAct.MARK, value=work_id))]


def collected_rows(
    collected: list[tuple[int, str]],
) -> list[list[InlineKeyboardButton]]:
    """One "Mark read" button per recently collected hold: (hold id, title)."""
    return [
        [
            button(
                _("📗 Read: {title}").format(title=title[:40]),
                ReadingData(action=ReadAct.HOLD, value=hold_id),
            )
        ]
        for hold_id, title in collected
    ]


async def collected_read_rows(
    session: AsyncSession, reader_id: int, language: str
) -> list[list[InlineKeyboardButton]]:
    """My holds' "Mark read" rows: the reader's recently collected books not yet logged."""
    collected = await log.collected_unread(session, reader_id, utcnow())
    return collected_rows(
        [(item.hold_id, title_for(item.title, item.original_title, language)) for item in collected]
    )


async def also_reserved_block(
    session: AsyncSession, work_id: int, language: str, username: str
) -> str:
    """The work card's "readers who reserved this also reserved" lines ("" when none); a
    reader who follows a list counts as reserving its books, so the heading says "chose"."""
    found = await recommend.also_reserved(session, work_id)
    if not found:
        return ""
    lines = ["", _("<b>Readers who chose this also chose</b>")]
    for work in found:
        title = escape(clip(title_for(work.title, work.original_title, language), 60))
        lines.append(f'• <a href="{work_link(username, work.work_id)}">{title}</a>')
    return "\n".join(lines)


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
