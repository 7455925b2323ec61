"""Admin commands and admin buttons are refused to readers, librarians and organisers."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import PurchaseSuggestion, SuggestionStatus
from handlers.admin import ADMIN_SECTIONS
from handlers.admin_callbacks import AdminMenu, AuditNav, MemberChoice, SuggestionChoice
from tests.admin.conftest import Staff, table_counts
from tests.harness import BotHarness, ChatUser, inline_labels

ADMIN_COMMANDS = ("/admin", "/audit", "/audit @ada", "/stats", "/stats 7d")


def _people(staff: Staff) -> list[ChatUser]:
    return [staff.reader, staff.librarian, staff.organiser]


async def test_admin_sees_every_section(staff: Staff) -> None:
    [menu] = await staff.admin.send("/admin")
    assert menu.text == "🛠 Admin console. What would you like to manage?"
    assert inline_labels(menu) == [
        "👥 Roles",
        "🗺 Districts",
        "🏛 Libraries",
        "📥 Catalogue import",
        "💡 Purchase suggestions",
        "📜 Audit log",
        "📊 Statistics",
        "📍 Reach",
        "📣 Campaigns",
        "➕ New campaign",
        "🔄 Catalogue harvest",
    ]
    assert [section.key for section in ADMIN_SECTIONS][-1] == "harvest"
    replies = await staff.admin.tap("📥 Catalogue import")
    assert "/import LIBRARY_CODE" in (replies[0].text or "")
    assert "Known codes: HOME" in (replies[0].text or "")
    replies = await staff.admin.tap("⬅️ Admin menu")
    assert replies[0].text == "🛠 Admin console. What would you like to manage?"
    replies = await staff.admin.tap("👥 Roles")
    assert "librarian: Lin (@lin) — HOME" in (replies[0].text or "")
    assert "/grant @username|ID" in (replies[1].text or "")
    await staff.admin.tap("⬅️ Admin menu")
    replies = await staff.admin.tap("📣 Campaigns")
    assert replies[0].text == "No campaigns yet. Send /newcampaign to prepare one."
    await staff.admin.send("/admin")
    replies = await staff.admin.tap("➕ New campaign")
    assert (replies[0].text or "").startswith("New campaign. Send the message in Chinese")
    await staff.admin.send("/cancel")
    await staff.admin.send("/admin")
    replies = await staff.admin.tap("📍 Reach")
    assert (replies[0].text or "").startswith("Reach by district, ")


@pytest.mark.parametrize("command", ADMIN_COMMANDS)
async def test_commands_are_refused(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession], command: str
) -> None:
    before = await table_counts(sessionmaker)
    name = command.split()[0].removeprefix("/")
    for person in _people(staff):
        [reply] = await person.send(command)
        assert reply.text == (
            f"Sorry, /{name} is only for alliance admins. Send /help to see what you can do."
        )
        assert reply.reply_markup is None or not inline_labels(reply)
    assert await table_counts(sessionmaker) == before


async def test_forged_admin_buttons_are_refused(
    staff: Staff, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session:
        suggestion = PurchaseSuggestion(match_key="q:wanted", query="Wanted", votes=1)
        session.add(suggestion)
        await session.commit()
        suggestion_id = suggestion.id
    forged = [
        AdminMenu(section="districts").pack(),
        AdminMenu(section="stats").pack(),
        AdminMenu(section="suggestions").pack(),
        MemberChoice(action="add", entity="d").pack(),
        MemberChoice(action="csv", entity="l").pack(),
        MemberChoice(action="import", entity="d").pack(),
        MemberChoice(action="save", entity="l").pack(),
        SuggestionChoice(action="buy", suggestion_id=suggestion_id, library_id=1).pack(),
        SuggestionChoice(action="decline", suggestion_id=suggestion_id).pack(),
        SuggestionChoice(action="csv").pack(),
        AuditNav(page=0).pack(),
    ]
    before = await table_counts(sessionmaker)
    for person in _people(staff):
        for data in forged:
            messages = await person.forge(data)
            assert messages == [], data
            assert person.last_answer is not None
            assert person.last_answer.get("text") == "Sorry, only alliance admins can do this."
            assert person.last_answer.get("show_alert") is True
    assert await table_counts(sessionmaker) == before
    async with sessionmaker() as session:
        status = await session.scalar(
            select(PurchaseSuggestion.status).where(PurchaseSuggestion.id == suggestion_id)
        )
    assert status is SuggestionStatus.OPEN


async def test_every_admin_callback_declares_the_admin_role() -> None:
    from bot.models import Role

    for factory in (AdminMenu, MemberChoice, SuggestionChoice, AuditNav):
        assert factory.required_role is Role.ADMIN


async def test_console_speaks_chinese(harness: BotHarness) -> None:
    from tests.conftest import ADMIN_TELEGRAM_ID

    admin = harness.user(ADMIN_TELEGRAM_ID, "管理员", language_code="zh")
    await admin.onboard("zh")
    [menu] = await admin.send("/admin")
    assert menu.text == "🛠 管理控制台。您想管理什么？"
    assert inline_labels(menu)[:3] == ["👥 角色", "🗺 区", "🏛 图书馆"]
    [reply] = await admin.send("/stats 明天")
    assert (reply.text or "").startswith("无法理解时段“明天”。")
    reader = harness.user(401, "读者", language_code="zh")
    await reader.onboard("zh")
    await reader.forge(AdminMenu(section="roles").pack())
    assert reader.last_answer is not None
    assert reader.last_answer["text"] == "抱歉，只有联盟管理员可以这样做。"
