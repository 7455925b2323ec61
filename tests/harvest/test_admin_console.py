"""/admin → Catalogue harvest, in English and Chinese; only admins see it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.services.harvest.run import harvest_library
from bot.services.harvest.sources import connect
from tests.conftest import ADMIN_TELEGRAM_ID
from tests.factories import make_library
from tests.harness import BotHarness, texts
from tests.harvest.conftest import RECORDS
from tests.harvest.repository import TestRepository


async def _two_sources(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    repository: TestRepository,
) -> None:
    await make_library(session, code="EAST", name="东区图书馆", name_en="East Library")
    await make_library(session, code="WEST", name="西区图书馆", name_en="West Library")
    await session.commit()
    await connect(session, "EAST", repository.url)
    await connect(session, "WEST", "http://127.0.0.1:9/oai", set_spec="books")
    await harvest_library(sessionmaker, settings, "EAST")
    await harvest_library(sessionmaker, settings, "WEST")


async def test_the_console_shows_each_library_s_last_harvest_counts_and_error(
    harness: BotHarness,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    repository: TestRepository,
) -> None:
    await _two_sources(session, sessionmaker, harvest_settings, repository)
    admin = harness.user(ADMIN_TELEGRAM_ID, "Ada", username="ada")
    await admin.onboard()
    await admin.send("/admin")
    [shown] = texts(await admin.tap("🔄 Catalogue harvest"))
    assert "Catalogue harvest (OAI-PMH)" in shown
    east, west = shown.split("WEST")
    assert "EAST East Library" in east and repository.url in east
    assert "Last complete harvest:" in east
    assert f"Last run: {RECORDS} records, 0 deleted, 0 skipped" in east
    assert "Last error" not in east
    assert "West Library" in west and "set books" in west
    assert "Not harvested completely yet." in west
    assert "⚠️ Last error" in west and "the repository could not be reached" in west
    assert "Every library is harvested every 60 minutes." in shown


async def test_the_console_in_chinese(
    harness: BotHarness,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    repository: TestRepository,
) -> None:
    await _two_sources(session, sessionmaker, harvest_settings, repository)
    admin = harness.user(ADMIN_TELEGRAM_ID, "Ada", username="ada")
    await admin.onboard("zh")
    await admin.send("/admin")
    [shown] = texts(await admin.tap("🔄 目录收割"))
    assert "目录收割（OAI-PMH）" in shown
    assert "EAST 东区图书馆" in shown and "上次完整收割" in shown
    assert f"上次运行：{RECORDS} 条记录" in shown
    assert "⚠️ 上次错误" in shown and "无法连接到该数据仓储" in shown


async def test_no_source_and_no_admin(harness: BotHarness) -> None:
    admin = harness.user(ADMIN_TELEGRAM_ID, "Ada", username="ada")
    await admin.onboard()
    await admin.send("/admin")
    [shown] = texts(await admin.tap("🔄 Catalogue harvest"))
    assert "No library is connected" in shown
    reader = harness.user(4242, "Rui", username="rui")
    await reader.onboard()
    assert await reader.forge("adm:harvest") == []
    assert reader.last_answer is not None
    assert "only alliance admins" in str(reader.last_answer.get("text"))
