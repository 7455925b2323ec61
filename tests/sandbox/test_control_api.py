"""The control API (/sandbox/...) over real HTTP on a loopback port."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from sandbox.core import Sandbox
from tests.sandbox.conftest import PLACES
from tests.sandbox.test_session import PNG_1X1

KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[
        [InlineKeyboardButton(text="Reserve", callback_data="hold:1")],
        [InlineKeyboardButton(text="Catalogue", url="https://example.org/w/1")],
    ]
)


async def _json(
    http: aiohttp.ClientSession, verb: str, url: str, body: Any = None
) -> tuple[int, Any]:
    async with http.request(verb, url, json=body) as response:
        return response.status, await response.json()


async def test_create_and_list_users(server: str, http: aiohttp.ClientSession) -> None:
    status, created = await _json(
        http,
        "POST",
        f"{server}/sandbox/users",
        {"id": 2001, "first_name": "Wang", "username": "wang", "language_code": "zh-hans"},
    )
    assert status == 200
    assert created == {
        "id": 2001,
        "first_name": "Wang",
        "last_name": None,
        "username": "wang",
        "language_code": "zh-hans",
        "blocked": False,
        "persona": None,
    }
    status, again = await _json(
        http, "POST", f"{server}/sandbox/users", {"id": 2001, "first_name": "Wang Wei"}
    )
    assert status == 200
    assert again["first_name"] == "Wang Wei"
    status, listed = await _json(http, "GET", f"{server}/sandbox/users")
    assert [user["id"] for user in listed["users"]] == [1001, 1002, 2001]
    status, refused = await _json(http, "POST", f"{server}/sandbox/users", {"id": "x"})
    assert status == 400
    assert "error" in refused


async def test_send_every_kind_of_message(
    server: str, http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    base = f"{server}/sandbox/users/1001/send"
    status, sent = await _json(http, "POST", base, {"text": "/start"})
    assert status == 200
    assert sent == {"update_id": 1, "message_id": 1}
    status, sent = await _json(
        http, "POST", base, {"location": {"latitude": 37.5, "longitude": 121.4}}
    )
    assert sent["message_id"] == 2
    marc = base64.b64encode(b"00000nam a2200000 4500").decode()
    status, sent = await _json(
        http, "POST", base, {"document": {"filename": "x.mrc", "content_base64": marc}}
    )
    assert status == 200
    photo = base64.b64encode(PNG_1X1).decode()
    status, sent = await _json(http, "POST", base, {"photo": {"content_base64": photo}})
    assert status == 200
    messages = sandbox.messages(1001)
    assert messages[0].text == "/start"
    assert messages[1].location is not None
    assert messages[1].location.latitude == 37.5
    assert messages[2].document is not None
    assert messages[2].document.file_name == "x.mrc"
    assert messages[3].photo is not None
    assert messages[3].photo[0].width == 1
    assert [update.update_id for update in sandbox.pending_updates] == [1, 2, 3, 4]
    status, refused = await _json(http, "POST", base, {"sticker": {}})
    assert status == 400
    status, refused = await _json(http, "POST", f"{server}/sandbox/users/9/send", {"text": "x"})
    assert status == 404
    status, refused = await _json(http, "POST", base, {"photo": {"content_base64": marc}})
    assert status == 400
    assert "image" in refused["error"]


async def test_press_by_label_data_and_unknown_label(
    server: str, http: aiohttp.ClientSession, sandbox: Sandbox, session_bot: Bot
) -> None:
    sent = await session_bot.send_message(1001, "War and Peace", reply_markup=KEYBOARD)
    url = f"{server}/sandbox/users/1001/press"
    status, pressed = await _json(
        http, "POST", url, {"message_id": sent.message_id, "text": "Reserve"}
    )
    assert status == 200
    update = sandbox.pending_updates[-1]
    assert update.callback_query is not None
    assert update.callback_query.data == "hold:1"
    assert pressed == {"update_id": update.update_id, "callback_query_id": update.callback_query.id}
    status, pressed = await _json(http, "POST", url, {"callback_data": "hold:1"})
    assert status == 200
    status, forged = await _json(http, "POST", url, {"callback_data": "hold:999", "forge": True})
    assert status == 200
    forged_query = sandbox.pending_updates[-1].callback_query
    assert forged_query is not None
    assert forged == {"update_id": pressed["update_id"] + 1, "callback_query_id": forged_query.id}
    assert forged_query.data == "hold:999"
    status, refused = await _json(http, "POST", url, {"text": "Cancel"})
    assert status == 404
    assert refused["labels"] == ["Reserve", "Catalogue"]
    status, refused = await _json(http, "POST", url, {"text": "Catalogue"})
    assert status == 400
    assert "url" in refused["error"]


async def test_callback_answer_endpoint(
    server: str, http: aiohttp.ClientSession, sandbox: Sandbox, session_bot: Bot
) -> None:
    await session_bot.send_message(1001, "Pick", reply_markup=KEYBOARD)
    query_id = sandbox.press(1001, text="Reserve").callback_query.id  # type: ignore[union-attr]
    status, body = await _json(http, "GET", f"{server}/sandbox/callback-answers/{query_id}")
    assert status == 200
    assert body == {"callback_query_id": query_id, "answer": None}

    async def answer_later() -> None:
        await asyncio.sleep(0.1)
        await session_bot.answer_callback_query(query_id, text="Done")

    task = asyncio.create_task(answer_later())
    _status, body = await _json(http, "GET", f"{server}/sandbox/callback-answers/{query_id}?wait=3")
    await task
    assert body["answer"]["text"] == "Done"


async def test_inline_waits_for_the_bot_answer(
    server: str, http: aiohttp.ClientSession, session_bot: Bot
) -> None:
    async def bot_answers() -> None:
        updates = await session_bot.get_updates(timeout=3)
        query = updates[0].inline_query
        assert query is not None
        await session_bot.answer_inline_query(
            query.id,
            [
                InlineQueryResultArticle(
                    id="1",
                    title=f"Found {query.query}",
                    input_message_content=InputTextMessageContent(message_text="ok"),
                )
            ],
        )

    task = asyncio.create_task(bot_answers())
    status, body = await _json(
        http, "POST", f"{server}/sandbox/users/1001/inline", {"query": "红楼梦"}
    )
    await task
    assert status == 200
    assert body["results"][0]["title"] == "Found 红楼梦"
    status, body = await _json(
        http, "POST", f"{server}/sandbox/users/1001/inline", {"query": "x", "timeout": 0.2}
    )
    assert status == 504


async def test_messages_view_and_long_poll(
    server: str, http: aiohttp.ClientSession, sandbox: Sandbox, session_bot: Bot
) -> None:
    sandbox.send_text(1001, "hello")
    url = f"{server}/sandbox/users/1001/messages"
    status, body = await _json(http, "GET", url)
    assert [m["text"] for m in body["messages"]] == ["hello"]
    assert body["messages"][0]["from"] == "user"
    version = body["version"]

    async def bot_replies() -> None:
        await asyncio.sleep(0.2)
        await session_bot.send_message(
            1001,
            "<b>Hi</b> &lt;script&gt;",
            parse_mode="HTML",
            reply_markup=KEYBOARD,
        )

    task = asyncio.create_task(bot_replies())
    status, body = await _json(http, "GET", f"{url}?after=1&wait=5&version={version}")
    await task
    [reply] = body["messages"]
    assert reply["from"] == "bot"
    assert reply["text"] == "Hi <script>"
    assert reply["html"] == "<b>Hi</b> &lt;script&gt;"
    assert reply["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Reserve",
        "callback_data": "hold:1",
    }
    assert reply["reply_markup"]["inline_keyboard"][1][0]["url"] == "https://example.org/w/1"
    assert reply["edited"] is False
    version = body["version"]

    async def bot_edits() -> None:
        await asyncio.sleep(0.2)
        await session_bot.edit_message_text(text="Bye", chat_id=1001, message_id=2)

    task = asyncio.create_task(bot_edits())
    status, body = await _json(http, "GET", f"{url}?after=2&wait=5&version={version}")
    await task
    assert status == 200
    [edited] = body["messages"]
    assert (edited["message_id"], edited["text"], edited["edited"]) == (2, "Bye", True)
    assert body["version"] > version
    await session_bot.delete_message(1001, 1)
    _status, body = await _json(http, "GET", f"{url}?after=2&version={body['version']}")
    assert body["deleted"] == [1]


async def test_messages_show_files_places_and_keyboards(
    server: str, http: aiohttp.ClientSession, sandbox: Sandbox, session_bot: Bot
) -> None:
    from aiogram.types import BufferedInputFile

    await session_bot.send_document(1001, BufferedInputFile(b"a,b\n1,2\n", "holds.csv"))
    await session_bot.send_venue(1001, 37.52, 121.39, "Central Library", "1 Library Rd")
    await session_bot.send_message(
        1001,
        "Share your location",
        reply_markup=ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="📍 Send location", request_location=True)]]
        ),
    )
    status, body = await _json(http, "GET", f"{server}/sandbox/users/1001/messages")
    document, venue, ask = body["messages"]
    assert document["document"]["file_name"] == "holds.csv"
    assert document["document"]["mime_type"] == "text/csv"
    async with http.get(f"{server}{document['document']['url']}") as response:
        assert await response.read() == b"a,b\n1,2\n"
        assert 'filename="holds.csv"' in response.headers["Content-Disposition"]
    assert venue["venue"]["title"] == "Central Library"
    assert venue["location"] == {"latitude": 37.52, "longitude": 121.39}
    assert ask["reply_markup"]["keyboard"][0][0] == {
        "text": "📍 Send location",
        "request_location": True,
    }
    assert body["reply_keyboard"]["keyboard"][0][0]["request_location"] is True
    status, places = await _json(http, "GET", f"{server}/sandbox/places")
    assert places == {"places": PLACES}
    status, _missing = await _json(http, "GET", f"{server}/sandbox/files/nope")
    assert status == 404


async def test_block_and_unblock(
    server: str, http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    status, body = await _json(http, "POST", f"{server}/sandbox/users/1001/block")
    assert body == {"id": 1001, "blocked": True}
    assert sandbox.is_blocked(1001)
    status, _refused = await _json(
        http, "POST", f"{server}/sandbox/users/1001/send", {"text": "hi"}
    )
    assert status == 409
    status, body = await _json(http, "POST", f"{server}/sandbox/users/1001/unblock")
    assert body == {"id": 1001, "blocked": False}
    changes = [u.my_chat_member for u in sandbox.pending_updates if u.my_chat_member]
    assert [c.new_chat_member.status for c in changes] == ["kicked", "member"]


async def test_faults_inject_and_clear(
    server: str, http: aiohttp.ClientSession, session_bot: Bot
) -> None:
    status, body = await _json(
        http,
        "POST",
        f"{server}/sandbox/faults",
        {"method": "sendMessage", "error_code": 429, "retry_after": 3, "count": 10},
    )
    assert (status, body) == (200, {"ok": True})
    with pytest.raises(TelegramRetryAfter) as refused:
        await session_bot.send_message(1001, "x")
    assert refused.value.retry_after == 3
    status, _body = await _json(http, "DELETE", f"{server}/sandbox/faults")
    assert status == 200
    assert (await session_bot.send_message(1001, "x")).text == "x"


async def test_flood_limits_switch(
    server: str, http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    status, body = await _json(http, "POST", f"{server}/sandbox/flood-limits", {"enabled": True})
    assert (body, sandbox.flood_limits) == ({"enabled": True}, True)
    status, body = await _json(http, "POST", f"{server}/sandbox/flood-limits", {"enabled": False})
    assert (body, sandbox.flood_limits) == ({"enabled": False}, False)
    status, body = await _json(http, "POST", f"{server}/sandbox/flood-limits", {"enabled": 1})
    assert status == 400


async def test_wait_idle(
    server: str, http: aiohttp.ClientSession, sandbox: Sandbox, session_bot: Bot
) -> None:
    url = f"{server}/sandbox/wait-idle"
    status, body = await _json(http, "POST", url, {"timeout": 2})
    assert (status, body) == (200, {"idle": True})
    sandbox.send_text(1001, "nobody is polling")
    status, body = await _json(http, "POST", url, {"timeout": 0.3})
    assert status == 504
    assert body["pending_updates"] == 1

    async def bot_works() -> None:
        [update] = await session_bot.get_updates()
        await asyncio.sleep(0.1)
        await session_bot.send_message(1001, "done")
        # Idle means confirmed: the next poll's offset says the bot has finished with it.
        await session_bot.get_updates(offset=update.update_id + 1, timeout=0)

    task = asyncio.create_task(bot_works())
    status, body = await _json(http, "POST", url, {"timeout": 5})
    await task
    assert status == 200
    assert sandbox.messages(1001)[-1].text == "done"


async def test_request_log(server: str, http: aiohttp.ClientSession, session_bot: Bot) -> None:
    await session_bot.send_message(1001, "one")
    await session_bot.get_me()
    with pytest.raises(Exception, match="chat not found"):
        await session_bot.send_message(4242, "two")
    status, body = await _json(http, "GET", f"{server}/sandbox/requests?method=sendMessage")
    assert [r["ok"] for r in body["requests"]] == [True, False]
    assert body["requests"][0]["params"] == {"chat_id": 1001, "text": "one"}
    assert body["requests"][1]["description"] == "Bad Request: chat not found"
    assert body["requests"][1]["error_code"] == 400
    status, body = await _json(http, "GET", f"{server}/sandbox/requests")
    assert status == 200
    assert [r["method"] for r in body["requests"]] == ["sendMessage", "getMe", "sendMessage"]
    await _json(http, "DELETE", f"{server}/sandbox/requests")
    _, body = await _json(http, "GET", f"{server}/sandbox/requests")
    assert body["requests"] == []


async def test_page_and_static_files_are_served(server: str, http: aiohttp.ClientSession) -> None:
    for path, kind in [
        ("/", "text/html"),
        ("/static/app.js", "javascript"),
        ("/static/style.css", "text/css"),
    ]:
        async with http.get(f"{server}{path}") as response:
            assert response.status == 200
            assert kind in response.headers["Content-Type"]
            assert len(await response.read()) > 500
