"""A person on the web chat page onboards by clicking, against the real bot over HTTP."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Reader
from tests.conftest import TEST_OUTPUT
from tests.e2e.conftest import LiveBot
from tests.factories import make_district

pytestmark = pytest.mark.browser


async def test_reader_onboards_on_the_page(
    page: Page, live_bot: LiveBot, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session:
        await make_district(session, code="ZS", name="芝山区", name_en="Zhishan")
        await session.commit()

    await page.goto(live_bot.url)
    await page.wait_for_load_state("networkidle")
    if not await page.get_by_test_id("new-user-form").is_visible():
        await page.get_by_test_id("new-user-toggle").click()
    await page.get_by_test_id("new-user-id").fill("8001")
    await page.get_by_test_id("new-user-name").fill("Ann")
    await page.get_by_test_id("new-user-language").select_option("en")
    await page.get_by_test_id("new-user-create").click()
    await expect(page.get_by_test_id("user-select")).to_have_value("8001")

    await page.get_by_test_id("message-input").fill("/start")
    await page.get_by_test_id("send-button").click()
    bot_messages = page.locator('[data-testid="message"][data-from="bot"]')
    await expect(bot_messages.last.get_by_test_id("message-text")).to_contain_text(
        "Welcome to Bookbridge, Ann!"
    )

    await bot_messages.last.get_by_test_id("inline-button").filter(has_text="English").click()
    await expect(bot_messages.last.get_by_test_id("message-text")).to_contain_text(
        "Which district do you live in?"
    )
    await bot_messages.last.get_by_test_id("inline-button").filter(has_text="Zhishan").click()
    await expect(bot_messages.last.get_by_test_id("message-text")).to_contain_text(
        "share your location"
    )

    await page.get_by_test_id("reply-button").filter(has_text="Share my location").click()
    await expect(page.get_by_test_id("location-picker")).to_be_visible()
    await page.get_by_test_id("place-button").first.click()
    await expect(bot_messages.last.get_by_test_id("message-text")).to_contain_text(
        "You're all set!"
    )
    await expect(page.get_by_test_id("reply-keyboard")).to_contain_text("🔍 Search")

    TEST_OUTPUT.mkdir(exist_ok=True)
    await page.screenshot(path=str(TEST_OUTPUT / "onboarding.png"), full_page=True)

    async with sessionmaker() as session:
        reader = await session.scalar(select(Reader).where(Reader.telegram_id == 8001))
        assert reader is not None
        assert reader.onboarded_at is not None and reader.language == "en"
        assert (reader.latitude, reader.longitude) == (37.52, 121.39)
