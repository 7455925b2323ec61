"""Roles (grant, revoke, refusals, command menus) and the reader's settings."""

from __future__ import annotations

from aiogram.types import BotCommandScopeChat, BotCommandScopeDefault
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import on_startup
from bot.models import AuditLog, Reader, Role, RoleGrant
from tests.conftest import ADMIN_TELEGRAM_ID
from tests.factories import make_district, make_library
from tests.harness import BotHarness, inline_labels


async def _grants(sessionmaker: async_sessionmaker[AsyncSession]) -> list[tuple[str, Role]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Reader.username, RoleGrant.role).join(RoleGrant.reader).order_by(RoleGrant.id)
        )
        return [(str(username), role) for username, role in rows.all()]


async def test_admin_grants_and_revokes_roles(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session:
        await make_library(session, code="CENTRAL")
        await session.commit()
    admin = harness.user(ADMIN_TELEGRAM_ID, "Admin", username="boss")
    bob = harness.user(201, "Bob", username="bob")
    await admin.onboard()
    await bob.onboard()

    [refusal] = await bob.send("/grant @boss admin")
    assert refusal.text == (
        "Sorry, /grant is only for alliance admins. Send /help to see what you can do."
    )
    assert await _grants(sessionmaker) == []

    replies = {
        "/grant": "Usage: /grant @username|ID organiser|librarian|admin [LIBRARY_CODE]",
        "/grant @bob wizard": "Unknown role “wizard”. Roles: organiser, librarian, admin.",
        "/grant @ghost organiser": (
            "I don't know @ghost yet: they need to open the bot and press Start first."
        ),
        "/grant bob organiser": "Name the person as @username or by their Telegram id.",
        "/grant @bob librarian": "A librarian belongs to one library: add its code.",
        "/grant @bob librarian NOPE": "No library has the code “NOPE”. Known codes: CENTRAL",
        "/grant @bob organiser": "Done: Bob (@bob, id 201) is now organiser.",
        "/grant 201 librarian central": "Done: Bob (@bob, id 201) is now librarian (CENTRAL).",
    }
    for command, expected in replies.items():
        [reply] = await admin.send(command)
        assert reply.text == expected, command
    [again] = await admin.send("/grant @bob organiser")
    assert again.text == "They already have that role."
    assert await _grants(sessionmaker) == [("bob", Role.ORGANISER), ("bob", Role.LIBRARIAN)]

    # Bob's own command menu now carries what his roles allow; readers' stays plain.
    bob_scope = BotCommandScopeChat(chat_id=201)
    assert harness.sandbox.commands(bob_scope, "en")
    [roles_list] = await admin.send("/roles")
    assert "organiser: Bob (@bob)" in (roles_list.text or "")
    assert "librarian: Bob (@bob) — CENTRAL" in (roles_list.text or "")

    [reply] = await admin.send("/revoke @bob librarian")
    assert reply.text == "Done: Bob (@bob, id 201) is no longer librarian."
    [reply] = await admin.send("/revoke @bob librarian")
    assert reply.text == "They don't have that role."
    assert await _grants(sessionmaker) == [("bob", Role.ORGANISER)]

    async with sessionmaker() as session:
        actions = list(await session.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert actions == ["role.grant", "role.grant", "role.revoke"]


async def test_refusal_is_translated(harness: BotHarness) -> None:
    reader = harness.user(202, "Chen", language_code="zh")
    await reader.onboard("zh")
    [reply] = await reader.send("/roles")
    assert reply.text == "抱歉，/roles 仅限联盟管理员使用。发送 /help 查看您可以使用的功能。"


async def test_startup_publishes_command_menus(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = harness.user(ADMIN_TELEGRAM_ID, "Admin")
    await admin.onboard()
    await on_startup(harness.app, harness.bot)
    default_en = [c.command for c in harness.sandbox.commands(BotCommandScopeDefault(), "en")]
    assert default_en == [
        "start",
        "help",
        "settings",
        "follow",
        "following",
        "mydata",
        "forgetme",
        "holds",
        "card",
        "events",
        "choose",
        "subjects",
        "humanlibrary",
        "contests",
        "volunteer",
        "partners",
        "read",
        "popular",
        "foryou",
        "lists",
        "challenges",
    ]
    default_zh = harness.sandbox.commands(BotCommandScopeDefault(), "zh")
    assert default_zh[0].description == "开始，或显示主菜单"
    admin_scope = BotCommandScopeChat(chat_id=ADMIN_TELEGRAM_ID)
    assert "grant" in [c.command for c in harness.sandbox.commands(admin_scope, "en")]


async def test_help_shows_commands_for_the_role(harness: BotHarness) -> None:
    admin = harness.user(ADMIN_TELEGRAM_ID, "Admin")
    reader = harness.user(203, "Dana")
    await admin.onboard()
    await reader.onboard()
    [admin_help] = await admin.send("/help")
    [reader_help] = await reader.send("/help")
    assert "/grant" in (admin_help.text or "")
    assert "/grant" not in (reader_help.text or "")
    assert "/settings" in (reader_help.text or "")


async def test_settings_change_everything(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session:
        north = await make_district(session, code="N", name="北区", name_en="North")
        await session.commit()
    user = harness.user(204, "Erin")
    await user.onboard()

    [panel] = await user.send("⚙️ Settings")
    assert "Home district: not given" in (panel.text or "")
    assert "Location: not shared" in (panel.text or "")
    assert "Turn off: Reading campaigns" in inline_labels(panel)

    await user.tap("Turn off: Reading campaigns")
    assert "🚫 Reading campaigns" in (user.last_bot_message().text or "")
    assert "Turn on: Reading campaigns" in inline_labels(user.last_bot_message())

    await user.tap("District")
    await user.tap("North")
    assert "Home district: North" in (user.last_bot_message().text or "")

    [prompt] = await user.tap("Share location")
    assert "share your location" in (prompt.text or "")
    await user.share_location(37.45678, 121.3999)
    [panel] = await user.send("/settings")
    assert "Location: saved (about 100 m)" in (panel.text or "")
    await user.tap("Forget location")
    assert "Location: not shared" in (user.last_bot_message().text or "")

    await user.tap("Language")
    [saved] = await user.tap("中文")
    assert saved.text == "语言已保存。"
    assert "语言：中文" in (harness.sandbox.message(204, panel.message_id).text or "")
    assert user.reply_keyboard() == ["🔍 检索", "📚 我的预约", "🎉 活动", "⚙️ 设置"]

    async with sessionmaker() as session:
        reader = await session.scalar(select(Reader).where(Reader.telegram_id == 204))
        assert reader is not None
        assert reader.language == "zh"
        assert reader.district_id == north.id
        assert reader.latitude is None
        assert reader.notify_campaigns is False
        assert reader.notify_events is True


async def test_commands_before_onboarding_lead_to_onboarding(harness: BotHarness) -> None:
    for offset, command in enumerate(("/settings", "/help", "/grant @x admin", "⚙️ Settings")):
        user = harness.user(205 + offset, "Fay")
        [reply] = await user.send(command)
        assert "Let's get you set up first" in (reply.text or ""), command
        assert inline_labels(reply) == ["中文", "English"]


async def test_the_last_admin_grant_cannot_be_revoked(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    boss = harness.user(ADMIN_TELEGRAM_ID, "Admin", username="boss")
    bob = harness.user(211, "Bob", username="bob")
    carol = harness.user(212, "Carol", username="carol")
    for person in (boss, bob, carol):
        await person.onboard()
    [done] = await boss.send("/grant @bob admin")
    assert done.text == "Done: Bob (@bob, id 211) is now admin."
    [refused] = await bob.send("/revoke @bob admin")
    assert refused.text == (
        "Bob is the alliance's only admin: make someone else an admin first "
        "(/grant @username admin), or nobody could grant roles any more."
    )
    assert await _grants(sessionmaker) == [("bob", Role.ADMIN)]
    await bob.send("/grant @carol admin")
    [done] = await bob.send("/revoke @bob admin")
    assert done.text == "Done: Bob (@bob, id 211) is no longer admin."
    [refused] = await boss.send("/revoke @carol admin")
    assert "Carol is the alliance's only admin" in (refused.text or "")
    assert await _grants(sessionmaker) == [("carol", Role.ADMIN)]
