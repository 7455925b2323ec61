"""The web chat page in headless Chromium, talking to a small aiogram echo bot via the sandbox."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.text_decorations import html_decoration
from playwright.async_api import Page, expect

from sandbox.core import Sandbox
from sandbox.server import server_port, start_server
from tests.conftest import TEST_OUTPUT as OUTPUT
from tests.sandbox.conftest import Polling

pytestmark = pytest.mark.browser


def echo_router() -> Router:
    router = Router()

    @router.message(F.text == "/where")
    async def where(message: Message) -> None:
        await message.answer(
            "Where are you?",
            reply_markup=ReplyKeyboardMarkup(
                keyboard=[[KeyboardButton(text="📍 Send my location", request_location=True)]],
                resize_keyboard=True,
            ),
        )

    @router.message(F.location)
    async def located(message: Message) -> None:
        assert message.location is not None
        await message.answer_venue(
            latitude=message.location.latitude,
            longitude=message.location.longitude,
            title="Nearest library",
            address="1 Library Road",
            reply_markup=ReplyKeyboardRemove(),
        )

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(
            f"Echo: <b>{html_decoration.quote(message.text or '')}</b>",
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Like", callback_data="like")]]
            ),
        )

    @router.callback_query(F.data == "like")
    async def like(query: CallbackQuery) -> None:
        await query.answer("Liked!")
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"{query.message.text} ❤")

    return router


async def test_chat_page_with_echo_bot(
    page: Page, server: str, http_bot: Bot, polling: Polling
) -> None:
    dispatcher = Dispatcher()
    dispatcher.include_router(echo_router())
    await polling(dispatcher, http_bot)

    await page.goto(server)
    await expect(page.get_by_test_id("lang-toggle")).to_have_text("中文")
    await page.get_by_test_id("new-user-toggle").click()
    await page.get_by_test_id("new-user-id").fill("3001")
    await page.get_by_test_id("new-user-name").fill("Mei")
    await page.get_by_test_id("new-user-username").fill("mei_reads")
    await page.get_by_test_id("new-user-language").select_option("zh-hans")
    await page.get_by_test_id("new-user-create").click()
    await expect(page.get_by_test_id("user-select")).to_have_value("3001")

    await page.get_by_test_id("message-input").fill("hello <you>")
    await page.get_by_test_id("send-button").click()
    bot_messages = page.locator('[data-testid="message"][data-from="bot"]')
    await expect(bot_messages.last.get_by_test_id("message-text")).to_have_text("Echo: hello <you>")
    bold = bot_messages.last.locator("b")
    await expect(bold).to_have_text("hello <you>")

    await bot_messages.last.get_by_test_id("inline-button").click()
    await expect(page.get_by_test_id("callback-toast")).to_have_text("Liked!")
    await expect(bot_messages.last.get_by_test_id("message-text")).to_have_text(
        "Echo: hello <you> ❤"
    )
    await expect(bot_messages.last.get_by_test_id("message-edited")).to_be_visible()

    await page.get_by_test_id("message-input").fill("/where")
    await page.get_by_test_id("message-input").press("Enter")
    await page.get_by_test_id("reply-button").click()
    await expect(page.get_by_test_id("location-picker")).to_be_visible()
    await page.get_by_test_id("place-button").first.click()
    await expect(bot_messages.last.get_by_test_id("message-venue")).to_contain_text(
        "Nearest library"
    )
    await expect(page.get_by_test_id("reply-keyboard")).to_be_hidden()
    user_location = page.locator('[data-testid="message"][data-from="user"]').last
    await expect(user_location.get_by_test_id("message-location")).to_contain_text(
        "Central Library"
    )

    await page.get_by_test_id("lang-toggle").click()
    await expect(page.get_by_test_id("send-button")).to_have_text("发送")
    await expect(user_location.get_by_test_id("message-location")).to_contain_text("中心图书馆")

    OUTPUT.mkdir(exist_ok=True)
    await page.screenshot(path=str(OUTPUT / "sandbox-chat.png"), full_page=True)


def links_router() -> Router:
    router = Router()

    @router.message(F.text == "/links")
    async def links(message: Message) -> None:
        await message.answer(
            'Read <a href="https://t.me/bookbridge_bot?start=book_7">the book</a>, or send /help.',
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text="Sign up", url="https://t.me/bookbridge_bot?start=event_3"
                        )
                    ],
                    [InlineKeyboardButton(text="Share", switch_inline_query="tea")],
                ]
            ),
        )

    @router.inline_query()
    async def inline(query: InlineQuery) -> None:
        await query.answer(
            [
                InlineQueryResultArticle(
                    id="tea",
                    title=f"Tea: {query.query}",
                    description="A cup",
                    input_message_content=InputTextMessageContent(
                        message_text=f"Tea for {query.query}"
                    ),
                )
            ],
            cache_time=0,
        )

    return router


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_links_commands_and_inline_mode_stay_in_the_page(
    page: Page, server: str, http_bot: Bot, polling: Polling, language: str
) -> None:
    dispatcher = Dispatcher()
    dispatcher.include_routers(links_router(), echo_router())
    await polling(dispatcher, http_bot)
    await page.goto(server)
    await expect(page.get_by_test_id("user-select")).to_have_value("1001")
    if language == "zh":
        await page.get_by_test_id("lang-toggle").click()
        await expect(page.get_by_test_id("send-button")).to_have_text("发送")
    user_messages = page.locator('[data-testid="message"][data-from="user"]')
    bot_messages = page.locator('[data-testid="message"][data-from="bot"]')

    await page.get_by_test_id("message-input").fill("/links")
    await page.get_by_test_id("send-button").click()
    links = bot_messages.filter(has_text="Read the book")
    await links.get_by_role("link", name="the book").click()
    await expect(user_messages.last).to_contain_text("/start book_7")
    await expect(bot_messages.last).to_contain_text("Echo: /start book_7")
    await links.get_by_test_id("inline-url-button").filter(has_text="Sign up").click()
    await expect(user_messages.last).to_contain_text("/start event_3")
    await expect(bot_messages.last).to_contain_text("Echo: /start event_3")
    await links.locator('[data-command="/help"]').click()
    await expect(bot_messages.last).to_contain_text("Echo: /help")
    assert page.url.rstrip("/") == server and len(page.context.pages) == 1

    await links.get_by_test_id("inline-switch-button").filter(has_text="Share").click()
    await expect(page.get_by_test_id("message-input")).to_have_value("@bookbridge_bot tea")
    await page.get_by_test_id("inline-result").filter(has_text="Tea: tea").click()
    await expect(page.get_by_test_id("inline-results")).to_be_hidden()
    await expect(user_messages.last.get_by_test_id("message-via")).to_contain_text(
        "@bookbridge_bot"
    )
    await expect(user_messages.last).to_contain_text("Tea for tea")

    await page.get_by_test_id("inline-mode-button").click()
    await page.get_by_test_id("message-input").press_sequentially("green")
    await expect(page.get_by_test_id("inline-result")).to_contain_text("Tea: green")


async def test_personas_stand_out_and_times_are_in_the_bots_zone(
    page: Page, sandbox: Sandbox
) -> None:
    sandbox.add_user(1003, "Org", username="demo_organiser", persona="organiser")
    sandbox.add_user(1004, "Lib", persona="librarian")
    sent = sandbox.send_text(1003, "hello").message
    assert sent is not None
    # A zone far from the machine's UTC, so a page showing UTC cannot pass.
    zone = "Pacific/Kiritimati"
    runner = await start_server(sandbox, "127.0.0.1", 0, time_zone=zone)
    try:
        await page.goto(f"http://127.0.0.1:{server_port(runner)}")
        select = page.get_by_test_id("user-select")
        await expect(select.locator("optgroup").first).to_have_attribute("label", "Demo personas")
        personas = select.locator("optgroup").first.locator("option")
        await expect(personas).to_have_text(
            ["🎉 Organiser · Org @demo_organiser (1003)", "📚 Librarian · Lib (1004)"]
        )
        await expect(select.locator("optgroup").nth(1).locator("option")).to_have_count(2)
        await select.select_option("1003")
        await expect(page.get_by_test_id("role-badge")).to_have_text("Organiser")
        shown = sent.date.astimezone(ZoneInfo(zone)).strftime("%H:%M")
        await expect(page.get_by_test_id("message-time")).to_have_text(shown)
        await page.get_by_test_id("lang-toggle").click()
        await expect(page.get_by_test_id("role-badge")).to_have_text("活动组织者")
        await expect(select.locator("optgroup").first).to_have_attribute("label", "演示角色")
        await expect(page.get_by_test_id("message-time")).to_have_text(shown)
    finally:
        await runner.cleanup()
