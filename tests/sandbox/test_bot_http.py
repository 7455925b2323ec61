"""aiogram's real Bot and Dispatcher with AiohttpSession against the sandbox over HTTP."""

from __future__ import annotations

import asyncio
import io

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command
from aiogram.methods import SendMessage
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from sandbox.core import Sandbox
from tests.sandbox.conftest import TOKEN, Polling, webhook_receiver

KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Reserve", callback_data="hold:42")]]
)


async def test_get_me_returns_the_bot_from_the_token(http_bot: Bot) -> None:
    me = await http_bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "bookbridge_bot")


async def test_wrong_token_is_unauthorized(server: str) -> None:
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    bot = Bot("123456:WRONG", session=AiohttpSession(api=TelegramAPIServer.from_base(server)))
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await bot.get_me()
    finally:
        await bot.session.close()


async def test_get_updates_long_polls_until_a_user_writes(http_bot: Bot, sandbox: Sandbox) -> None:
    poll = asyncio.create_task(http_bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()
    sandbox.send_text(1001, "/search tolstoy")
    updates = await asyncio.wait_for(poll, 3)
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None
    assert message.text == "/search tolstoy"
    assert message.entities is not None
    assert message.entities[0].type == "bot_command"
    assert message.entities[0].length == len("/search")
    assert message.from_user is not None
    assert message.from_user.id == 1001
    again = await http_bot.get_updates(offset=updates[0].update_id + 1, timeout=0)
    assert again == []


async def test_get_updates_returns_empty_after_its_timeout(http_bot: Bot) -> None:
    started = asyncio.get_running_loop().time()
    assert await http_bot.get_updates(timeout=1) == []
    assert asyncio.get_running_loop().time() - started >= 0.9


async def test_send_edit_and_answer_callback(http_bot: Bot, sandbox: Sandbox) -> None:
    sent = await http_bot.send_message(
        1001, "<b>War and Peace</b> — 2 copies", parse_mode="HTML", reply_markup=KEYBOARD
    )
    assert sent.text == "War and Peace — 2 copies"
    assert sent.entities is not None
    assert (sent.entities[0].type, sent.entities[0].offset, sent.entities[0].length) == (
        "bold",
        0,
        13,
    )
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump() == KEYBOARD.model_dump()
    update = sandbox.press(1001, text="Reserve")
    query = update.callback_query
    assert query is not None
    assert query.data == "hold:42"
    assert await http_bot.answer_callback_query(query.id, text="Reserved", show_alert=True)
    assert sandbox.callback_answer(query.id) == {
        "text": "Reserved",
        "show_alert": True,
        "url": None,
        "cache_time": None,
    }
    edited = await http_bot.edit_message_text(
        text="Reserved: War and Peace", chat_id=1001, message_id=sent.message_id
    )
    assert isinstance(edited, Message)
    assert edited.edit_date is not None
    assert edited.reply_markup is None
    stored = sandbox.messages(1001)[-1]
    assert stored.text == "Reserved: War and Peace"
    assert stored.edit_date is not None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await http_bot.edit_message_text(
            text="Reserved: War and Peace", chat_id=1001, message_id=sent.message_id
        )


async def test_document_upload_get_file_and_download(http_bot: Bot) -> None:
    content = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    sent = await http_bot.send_document(
        1001, BufferedInputFile(content, "event.ics"), caption="Your event"
    )
    assert sent.document is not None
    assert sent.document.file_name == "event.ics"
    assert sent.document.mime_type == "text/calendar"
    assert sent.document.file_size == len(content)
    file = await http_bot.get_file(sent.document.file_id)
    assert file.file_path is not None
    buffer = io.BytesIO()
    await http_bot.download_file(file.file_path, buffer)
    assert buffer.getvalue() == content


async def test_user_document_can_be_downloaded_by_the_bot(http_bot: Bot, sandbox: Sandbox) -> None:
    update = sandbox.send_document(1001, "books.mrc", b"00000nam  2200000   4500")
    assert update.message is not None
    assert update.message.document is not None
    downloaded = await http_bot.download(update.message.document.file_id)
    assert downloaded is not None
    assert downloaded.read() == b"00000nam  2200000   4500"


async def test_commands_round_trip(http_bot: Bot) -> None:
    commands = [BotCommand(command="search", description="Find a book")]
    assert await http_bot.set_my_commands(commands, language_code="en")
    fetched = await http_bot.get_my_commands(language_code="en")
    assert [command.model_dump() for command in fetched] == [c.model_dump() for c in commands]
    assert await http_bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await http_bot.set_my_commands([BotCommand(command="Search", description="x")])


async def test_refusals_become_aiogram_exceptions(http_bot: Bot, sandbox: Sandbox) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await http_bot.send_message(999, "hello")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await http_bot.send_message(
            1001,
            "x",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]]
            ),
        )
    sandbox.block(1001)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await http_bot.send_message(1001, "hello")
    sandbox.add_fault("sendMessage", 502)
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await http_bot.send_message(1002, "hello")


async def test_unknown_method_is_not_found(http_bot: Bot, server: str) -> None:
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{server}/bot{TOKEN}/sendTelepathy", data={"a": "1"})
        assert response.status == 404
        assert await response.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found",
        }


async def test_unknown_method_through_aiogram_raises_not_found(http_bot: Bot) -> None:
    class SendTelepathy(SendMessage):
        __api_method__ = "sendTelepathy"

    with pytest.raises(TelegramNotFound):
        await http_bot(SendTelepathy(chat_id=1001, text="hi"))


async def test_flood_limits_raise_retry_after(http_bot: Bot, sandbox: Sandbox) -> None:
    sandbox.flood_limits = True
    for number in range(3):
        await http_bot.send_message(1001, f"burst {number}")
    with pytest.raises(TelegramRetryAfter) as refused:
        await http_bot.send_message(1001, "one too many")
    assert refused.value.retry_after >= 1
    assert "Too Many Requests: retry after" in refused.value.message
    await http_bot.send_message(1002, "another chat still has its burst")
    sandbox.flood_limits = False
    await http_bot.send_message(1001, "limits off")


async def test_injected_429_carries_retry_after(http_bot: Bot, sandbox: Sandbox) -> None:
    sandbox.add_fault("sendMessage", 429, retry_after=7, count=2)
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as refused:
            await http_bot.send_message(1001, "x")
        assert refused.value.retry_after == 7
    sent = await http_bot.send_message(1001, "third time lucky")
    assert sent.text == "third time lucky"


async def test_polling_echo_bot(http_bot: Bot, sandbox: Sandbox, polling: Polling) -> None:
    router = Router()

    @router.message(Command("start"))
    async def start(message: Message) -> None:
        await message.answer("Welcome", reply_markup=KEYBOARD)

    @router.callback_query(F.data.startswith("hold:"))
    async def hold(query: CallbackQuery) -> None:
        await query.answer("Held")
        assert isinstance(query.message, Message)
        await query.message.edit_text("Held for you")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    await polling(dispatcher, http_bot)
    sandbox.send_text(1001, "/start")
    assert await sandbox.wait_idle(timeout=5)
    reply = sandbox.messages(1001)[-1]
    assert reply.text == "Welcome"
    assert reply.reply_markup is not None
    assert reply.reply_markup.model_dump() == KEYBOARD.model_dump()
    query_id = sandbox.press(1001, text="Reserve").callback_query.id  # type: ignore[union-attr]
    # Wait for what the handler does, not for a quiet moment: under load it can pause longer.
    assert await sandbox.wait_for_callback_answer(query_id, timeout=10) == {
        "text": "Held",
        "show_alert": False,
        "url": None,
        "cache_time": None,
    }
    assert await sandbox.wait_until(lambda: sandbox.messages(1001)[-1].text == "Held for you", 10)


async def test_webhook_push_with_secret_header(http_bot: Bot, sandbox: Sandbox) -> None:
    received: list[tuple[str | None, dict[str, object]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.json_response({})

    runner, url = await webhook_receiver(hook)
    try:
        assert await http_bot.set_webhook(url, secret_token="s3cret")
        info = await http_bot.get_webhook_info()
        assert info.url == url
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await http_bot.get_updates()
        update = sandbox.send_text(1001, "hello webhook")
        assert await sandbox.wait_idle(timeout=5)
        assert len(received) == 1
        secret, body = received[0]
        assert secret == "s3cret"
        assert body["update_id"] == update.update_id
        assert body["message"]["text"] == "hello webhook"  # type: ignore[index]
        assert body["message"]["from"]["id"] == 1001  # type: ignore[index]
        assert await http_bot.delete_webhook()
        assert await http_bot.get_updates() == []
    finally:
        await runner.cleanup()


async def test_webhook_is_retried_until_it_succeeds(http_bot: Bot, sandbox: Sandbox) -> None:
    attempts: list[int] = []

    async def hook(request: web.Request) -> web.Response:
        attempts.append((await request.json())["update_id"])
        if len(attempts) < 3:
            return web.Response(status=500)
        return web.json_response({})

    runner, url = await webhook_receiver(hook)
    try:
        await http_bot.set_webhook(url)
        update = sandbox.send_text(1001, "retry me")
        assert await sandbox.wait_idle(timeout=5)
        assert attempts == [update.update_id] * 3
        info = await http_bot.get_webhook_info()
        assert (
            info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        )
        assert info.pending_update_count == 0
    finally:
        await runner.cleanup()


async def test_webhook_reply_method_is_executed(http_bot: Bot, sandbox: Sandbox) -> None:
    router = Router()

    @router.message()
    async def echo(message: Message) -> SendMessage:
        return message.answer(f"echo: {message.text}")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    app = web.Application()
    SimpleRequestHandler(dispatcher, http_bot, secret_token="tok").register(app, path="/hook")
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await http_bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="tok")
        sandbox.send_text(1002, "ping")
        assert await sandbox.wait_idle(timeout=5)
        assert sandbox.messages(1002)[-1].text == "echo: ping"
        replies = [r for r in sandbox.requests if r.method == "sendMessage"]
        assert replies[-1].ok
        assert replies[-1].params["chat_id"] == 1002
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("form", "description"),
    [
        ({"text": "no chat"}, "Bad Request: chat_id is empty"),
        ({"chat_id": "1001"}, "Bad Request: message text is empty"),
        ({"chat_id": "1001", "text": "x", "disable_notification": "perhaps"}, None),
        ({"chat_id": "1001", "text": "x", "reply_markup": "{not json"}, None),
    ],
)
async def test_raw_requests_aiogram_rejects_are_rejected(
    server: str, form: dict[str, str], description: str | None
) -> None:
    with pytest.raises(ValidationError):
        SendMessage.model_validate(form)
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{server}/bot{TOKEN}/sendMessage", data=form)
        body = await response.json()
    assert response.status == 400
    assert body["ok"] is False
    assert body["error_code"] == 400
    assert body["description"].startswith("Bad Request: ")
    if description is not None:
        assert body["description"] == description


async def test_json_body_and_query_string_are_accepted(server: str, sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"{server}/bot{TOKEN}/sendMessage",
            json={
                "chat_id": 1001,
                "text": "json body",
                "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
            },
        )
        assert response.status == 200
        assert (await response.json())["result"]["text"] == "json body"
        response = await session.get(f"{server}/bot{TOKEN}/getMe")
        assert (await response.json())["result"]["username"] == "bookbridge_bot"
    assert sandbox.messages(1001)[-1].reply_markup is not None
