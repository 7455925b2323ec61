"""A person on the web chat page onboards by clicking, against the real bot over HTTP."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import Reader
from bot.services.demo import seed_demo
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


# ----------------------------------------------------- the demo alliance on the page

DEMO_READER = 1001
Colour = tuple[float, float, float]


def _rgb(css: str) -> Colour:
    red, green, blue = (float(part) for part in re.findall(r"[\d.]+", css)[:3])
    return red, green, blue


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two computed CSS colours."""

    def luminance(colour: Colour) -> float:
        def channel(value: float) -> float:
            value /= 255
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

        red, green, blue = (channel(value) for value in colour)
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    lighter, darker = sorted((luminance(_rgb(foreground)), luminance(_rgb(background))))
    return (darker + 0.05) / (lighter + 0.05)


async def _looks(button: Locator) -> tuple[str, str, str]:
    looks = await button.evaluate(
        "b => { const s = getComputedStyle(b); return [b.innerText, s.color, s.backgroundColor]; }"
    )
    return looks[0], looks[1], looks[2]


@pytest.fixture
async def demo_alliance(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, language: str
) -> None:
    """The demo alliance in the database; the demo reader speaks `language`."""
    async with sessionmaker() as session:
        await seed_demo(session, today=datetime.now(settings.zone).date(), zone=settings.zone)
    async with sessionmaker() as session:
        await session.execute(
            update(Reader).where(Reader.telegram_id == DEMO_READER).values(language=language)
        )
        await session.commit()


@pytest.fixture
async def demo_page(demo_alliance: None, live_bot: LiveBot, page: Page, language: str) -> Page:
    """The page, in `language`, chatting as the demo reader with the bot over the demo alliance."""
    await live_bot.app.indexer.wait_ready()
    await live_bot.control._json(
        "POST",
        "/sandbox/users",
        json={
            "id": DEMO_READER,
            "first_name": "演示读者",
            "username": "demo_reader",
            "language_code": language,
            "persona": "reader",
        },
    )
    await page.goto(live_bot.url)
    await expect(page.get_by_test_id("user-select")).to_have_value(str(DEMO_READER))
    await expect(page.get_by_test_id("role-badge")).to_have_text("Reader")
    if language == "zh":
        await page.get_by_test_id("lang-toggle").click()
        await expect(page.get_by_test_id("role-badge")).to_have_text("读者")
    return page


def _bot_messages(page: Page) -> Locator:
    return page.locator('[data-testid="message"][data-from="bot"]')


async def _send(page: Page, text: str) -> None:
    await page.get_by_test_id("message-input").fill(text)
    await page.get_by_test_id("send-button").click()


LABELS = {
    "en": {"share": "🔗 Share", "public": "Public libraries"},
    "zh": {"share": "🔗 分享", "public": "公共图书馆"},
}


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_event_deep_link_opens_inside_the_page(demo_page: Page, language: str) -> None:
    page = demo_page
    bot_messages = _bot_messages(page)
    await _send(page, "/events")
    listing = bot_messages.last
    first_event = listing.get_by_test_id("inline-button").filter(has_text=re.compile(r"^1\. "))

    label, colour, background = await _looks(first_event)
    await first_event.hover()
    hovered = await _looks(first_event)
    TEST_OUTPUT.mkdir(exist_ok=True)
    await page.screenshot(path=str(TEST_OUTPUT / f"hover-{language}.png"))
    # The label stays as it was and readable on the hover background.
    assert hovered[0] == label and label.startswith("1. ")
    assert contrast(hovered[1], hovered[2]) >= 4.5, hovered
    assert contrast(colour, background) >= 3, (colour, background)

    await first_event.click()
    card = bot_messages.last
    share = card.get_by_test_id("inline-url-button").filter(has_text=LABELS[language]["share"])
    await expect(share).to_have_attribute("data-telegram-link", "start")
    title = (await card.get_by_test_id("message-text").inner_text()).splitlines()[0]
    await share.click()
    user_messages = page.locator('[data-testid="message"][data-from="user"]')
    await expect(user_messages.last.get_by_test_id("message-text")).to_have_text(
        re.compile(r"^/start ev_\d+$")
    )
    await expect(bot_messages.last.get_by_test_id("message-text")).to_contain_text(title)
    assert page.url == page.url.split("#")[0] and len(page.context.pages) == 1


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_filtered_search_finds_the_public_library_copy(
    demo_page: Page, language: str
) -> None:
    page = demo_page
    bot_messages = _bot_messages(page)
    # The demo shelves Jane Eyre at two public libraries and a university library.
    await _send(page, "Jane Eyre")
    results = bot_messages.last
    title_button = results.get_by_test_id("inline-button").filter(has_text="Jane Eyre")
    await expect(title_button).to_be_visible()
    await (
        results.get_by_test_id("inline-button").filter(has_text=LABELS[language]["public"]).click()
    )
    await expect(
        results.get_by_test_id("inline-button").filter(has_text=f"✓ {LABELS[language]['public']}")
    ).to_be_visible()
    await expect(title_button).to_be_visible()
