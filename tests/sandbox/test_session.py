"""aiogram's real Bot through SandboxSession: the same behaviour as over HTTP, in-process."""

from __future__ import annotations

import asyncio
import io
from urllib.parse import parse_qsl

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command
from aiogram.methods import SendMessage
from aiogram.types import (
    BufferedInputFile,
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
from aiohttp import ClientResponseError

from sandbox.core import Sandbox
from sandbox.session import SandboxSession
from tests.sandbox.conftest import TOKEN, Polling

PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8ffff3f0005fe02fea7d6a4a90000000049454e44ae426082"
)


async def test_build_request_matches_aiohttp_form_fields(session_bot: Bot) -> None:
    method = SendMessage(
        chat_id=1001,
        text="hi",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="A", callback_data="a")]]
        ),
        disable_notification=True,
    )
    session = session_bot.session
    assert isinstance(session, SandboxSession)
    fields, uploads = await session.build_request(session_bot, method)
    encoded = AiohttpSession().build_form_data(session_bot, method)().decode()
    assert fields == dict(parse_qsl(encoded, keep_blank_values=True))
    assert fields["chat_id"] == "1001"
    assert fields["disable_notification"] == "true"
    assert uploads == {}


async def test_messages_and_errors_in_process(session_bot: Bot, sandbox: Sandbox) -> None:
    me = await session_bot.get_me()
    assert me.username == "bookbridge_bot"
    sent = await session_bot.send_message(1001, "Hello <i>reader</i>", parse_mode="HTML")
    assert sent.text == "Hello reader"
    assert sent.from_user is not None
    assert sent.from_user.id == me.id
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await session_bot.send_message(1001, "字" * 4097)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await session_bot.send_message(1001, "<b>open", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await session_bot.edit_message_text(text="x", chat_id=1001, message_id=999)
    sandbox.block(1002)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await session_bot.send_message(1002, "hi")
    sandbox.add_fault("getMe", 500)
    with pytest.raises(TelegramServerError, match="Internal Server Error"):
        await session_bot.get_me()
    wrong = Bot("123456:WRONG", session=SandboxSession(sandbox))
    with pytest.raises(TelegramUnauthorizedError):
        await wrong.get_me()


async def test_flood_limits_in_process(session_bot: Bot, sandbox: Sandbox) -> None:
    sandbox.flood_limits = True
    for _ in range(3):
        await session_bot.send_message(1001, "ok")
    with pytest.raises(TelegramRetryAfter) as refused:
        await session_bot.send_message(1001, "too fast")
    assert refused.value.retry_after == 1
    assert sandbox.requests[-1].outcome == "error"
    assert sandbox.requests[-1].error_code == 429


async def test_upload_photo_and_download(session_bot: Bot, sandbox: Sandbox) -> None:
    sent = await session_bot.send_photo(1001, BufferedInputFile(PNG_1X1, "cover.png"))
    assert sent.photo is not None
    assert (sent.photo[-1].width, sent.photo[-1].height) == (1, 1)
    downloaded = await session_bot.download(sent.photo[-1].file_id)
    assert downloaded is not None
    assert downloaded.read() == PNG_1X1
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await session_bot.send_photo(1001, BufferedInputFile(b"not an image", "x.png"))
    reused = await session_bot.send_photo(1002, sent.photo[-1].file_id)
    assert reused.photo is not None
    assert reused.photo[-1].file_id == sent.photo[-1].file_id


async def test_download_of_unknown_path_fails(session_bot: Bot) -> None:
    with pytest.raises(ClientResponseError) as failed:
        await session_bot.download_file("documents/none.txt", io.BytesIO())
    assert failed.value.status == 404


async def test_reply_keyboard_location_and_venue(session_bot: Bot, sandbox: Sandbox) -> None:
    keyboard = ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text="📍 Near me", request_location=True)],
            [KeyboardButton(text="My holds")],
        ],
        resize_keyboard=True,
    )
    asked = await session_bot.send_message(1001, "Where are you?", reply_markup=keyboard)
    assert asked.reply_markup is None  # Telegram returns only inline keyboards in Message
    shown = sandbox.reply_keyboard(1001)
    assert shown is not None
    assert shown.keyboard[0][0].request_location
    with pytest.raises(ValueError, match="send_location"):
        sandbox.send_text(1001, "📍 Near me")
    plain = sandbox.send_text(1001, "My holds")
    assert plain.message is not None
    assert plain.message.text == "My holds"
    shared = sandbox.send_location(1001, 37.52, 121.39)
    assert shared.message is not None
    assert shared.message.location is not None
    venue = await session_bot.send_venue(
        1001,
        latitude=37.52,
        longitude=121.39,
        title="Central Library",
        address="1 Library Rd",
        reply_markup=ReplyKeyboardRemove(),
    )
    assert venue.venue is not None
    assert venue.venue.title == "Central Library"
    assert sandbox.reply_keyboard(1001) is None
    location = await session_bot.send_location(1001, latitude=37.47, longitude=121.44)
    assert location.location is not None
    assert location.location.latitude == pytest.approx(37.47)


async def test_inline_query_answer(session_bot: Bot, sandbox: Sandbox, polling: Polling) -> None:
    router = Router()

    @router.inline_query()
    async def search(query: InlineQuery) -> None:
        await query.answer(
            [
                InlineQueryResultArticle(
                    id="w1",
                    title=f"Result for {query.query}",
                    input_message_content=InputTextMessageContent(message_text="War and Peace"),
                )
            ],
            cache_time=1,
        )

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    await polling(dispatcher, session_bot)
    update = sandbox.inline_query(1001, "tolstoy")
    assert update.inline_query is not None
    results = await sandbox.wait_for_inline_answer(update.inline_query.id, 5)
    assert results == [
        {
            "type": "article",
            "id": "w1",
            "title": "Result for tolstoy",
            "input_message_content": {"message_text": "War and Peace"},
        }
    ]


async def test_dispatcher_through_session(
    session_bot: Bot, sandbox: Sandbox, polling: Polling
) -> None:
    router = Router()

    @router.message(Command("start"))
    async def start(message: Message) -> None:
        await message.answer(
            "Pick one",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Join", callback_data="join:7")]]
            ),
        )

    @router.callback_query(F.data == "join:7")
    async def join(query: CallbackQuery) -> None:
        await query.answer("Joined", show_alert=True)
        assert isinstance(query.message, Message)
        await query.message.edit_reply_markup(reply_markup=None)

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    await polling(dispatcher, session_bot)
    sandbox.send_text(1001, "/start")
    assert await sandbox.wait_idle(timeout=5, quiet=0.1)
    update = sandbox.press(1001, callback_data="join:7")
    assert update.callback_query is not None
    answer = await sandbox.wait_for_callback_answer(update.callback_query.id, 5)
    assert answer is not None
    assert answer["text"] == "Joined"
    assert answer["show_alert"]
    assert await sandbox.wait_idle(timeout=5, quiet=0.1)
    last = sandbox.messages(1001)[-1]
    assert last.reply_markup is None
    assert last.edit_date is not None


async def test_second_long_poll_terminates_the_first(session_bot: Bot) -> None:
    first = asyncio.create_task(session_bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(session_bot.get_updates(timeout=0))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first
    assert await second == []


async def test_request_timeout_becomes_network_error(sandbox: Sandbox) -> None:
    from aiogram.exceptions import TelegramNetworkError

    bot = Bot(TOKEN, session=SandboxSession(sandbox, timeout=0.2))
    with pytest.raises(TelegramNetworkError, match="Request timeout error"):
        await bot.get_updates(timeout=2)
