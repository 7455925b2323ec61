"""A main-menu button or a command leaves an open form, says so, and then does its job.

Issue 16, defect 3: the main menu stays under every wizard, and "🎉 Events" tapped during
/newevent became the event's title; a search typed into the district wizard was refused
as a district code.
"""

from __future__ import annotations

import importlib
import pkgutil

from aiogram.fsm.state import StatesGroup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import handlers
from bot.models import District, Event, Reader, Role, RoleGrant
from handlers.wizard_exit import LEFT_FORM, NOT_FORMS
from tests.admin.conftest import Staff, table_counts
from tests.harness import BotHarness, ChatUser, texts

SEARCH_PROMPT = (
    "Type a title, an author or an ISBN, in Chinese or English, and I will search "
    "every library in the alliance."
)


async def _count(sessionmaker: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_search_button_leaves_the_district_wizard(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = staff.admin
    before = await table_counts(sessionmaker)
    await admin.send("/admin")
    await admin.tap("🗺 Districts")
    [prompt] = await admin.tap("➕ Add")
    assert (prompt.text or "").endswith("\n/cancel leaves this form.")
    assert admin.reply_keyboard() == ["🔍 Search", "📚 My holds", "🎉 Events", "⚙️ Settings"]

    replies = await admin.send("🔍 Search")
    assert texts(replies) == ["You left the district form.", SEARCH_PROMPT]
    # The form is gone: what comes next is a search, not a district code.
    replies = await admin.send("Jane Eyre")
    assert not any("code" in text for text in texts(replies))
    assert await table_counts(sessionmaker) == before


async def test_a_command_leaves_the_library_wizard_then_runs(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = staff.admin
    await admin.send("/admin")
    await admin.tap("🏛 Libraries")
    await admin.tap("➕ Add")
    await admin.send("NEWLIB")
    replies = await admin.send("/roles")
    assert texts(replies)[0] == "You left the library form."
    assert texts(replies)[1].startswith("Roles:")
    # A typed value after it is no answer to the form any more.
    replies = await admin.send("新馆")
    assert "Send the English name" not in " ".join(texts(replies))
    async with sessionmaker() as session:
        assert await session.scalar(select(District.id).where(District.code == "NEWLIB")) is None


async def _organiser(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession], language: str
) -> ChatUser:
    user = harness.user(73101, "Olga", language_code=language)
    await user.onboard(language)
    async with sessionmaker() as session:
        reader = await session.scalar(select(Reader).where(Reader.telegram_id == 73101))
        assert reader is not None
        session.add(RoleGrant(reader_id=reader.id, role=Role.ORGANISER))
        await session.commit()
    return user


async def test_the_events_button_leaves_newevent_and_shows_the_events(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    organiser = await _organiser(harness, sessionmaker, "en")
    events_page = texts(await organiser.send("🎉 Events"))

    await organiser.send("/newevent")
    replies = await organiser.send("🎉 Events")
    assert texts(replies) == ["You left the new event form.", *events_page]
    # The button did not become the title: the next text is not asked for a description.
    replies = await organiser.send("Classics night")
    assert not any("Describe the event" in text for text in texts(replies))
    assert await _count(sessionmaker, Event) == 0


async def test_the_chinese_menu_leaves_newevent_too(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    organiser = await _organiser(harness, sessionmaker, "zh")
    settings_page = texts(await organiser.send("⚙️ 设置"))

    await organiser.send("/newevent")
    replies = await organiser.send("⚙️ 设置")
    assert texts(replies) == ["您已退出新建活动表单。", *settings_page]
    await organiser.send("/newevent")
    replies = await organiser.send("/help")
    assert texts(replies)[0] == "您已退出新建活动表单。"
    assert "/newevent" in texts(replies)[1]
    assert await _count(sessionmaker, Event) == 0


async def test_cancel_ends_a_form_that_has_no_cancel_of_its_own(staff: Staff) -> None:
    admin = staff.admin
    [nothing] = await admin.send("/cancel")
    assert nothing.text == "There is nothing to cancel."
    await admin.send("/newcampaign")
    [cancelled] = await admin.send("/cancel")
    assert cancelled.text == "Cancelled. Nothing was changed."
    # The campaign wizard is closed: a text is a search again, not the campaign's message.
    replies = await admin.send("Books and events")
    assert not any("English" in text for text in texts(replies))


def test_every_form_says_what_was_left() -> None:
    for module in pkgutil.walk_packages(handlers.__path__, "handlers."):
        importlib.import_module(module.name)
    groups = [
        group for group in _subclasses(StatesGroup) if group.__module__.startswith("handlers.")
    ]
    assert groups
    for group in groups:
        named = group.__name__ in LEFT_FORM or group.__name__ in NOT_FORMS
        named = named or all(state.state in LEFT_FORM for state in group.__states__)
        assert named, f"{group.__module__}.{group.__name__} has no 'You left the … form.'"


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found
