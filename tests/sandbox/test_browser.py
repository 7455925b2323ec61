"""The web chat page in headless Chromium, talking to a small aiogram echo bot via the sandbox."""

from __future__ import annotations

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.text_decorations import html_decoration
from playwright.async_api import Page, expect

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
