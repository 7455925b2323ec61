"""What the page's taps do, decided by the server: deep links, shares, commands, inline mode,
personas, the time zone and the favicon."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    MessageEntity,
)

from sandbox.core import Sandbox, SandboxError
from sandbox.formatting import detect_entities, parse_html, render_html
from sandbox.links import link_target
from sandbox.server import server_port, start_server
from sandbox.views import message_view

BOT = "bookbridge_bot"


@pytest.mark.parametrize(
    ("url", "kind", "command"),
    [
        ("https://t.me/bookbridge_bot?start=ev_15", "start", "/start ev_15"),
        ("http://t.me/Bookbridge_Bot?start=wk_339", "start", "/start wk_339"),
        ("t.me/bookbridge_bot?start=cp_2", "start", "/start cp_2"),
        ("https://telegram.me/bookbridge_bot?start=ck_a-B_9", "start", "/start ck_a-B_9"),
        ("tg://resolve?domain=bookbridge_bot&start=ev_1", "start", "/start ev_1"),
        ("https://t.me/bookbridge_bot", "chat", None),
        ("https://t.me/bookbridge_bot?start=", "chat", None),
        # Telegram drops a payload with other characters, or over 64 of them.
        ("https://t.me/bookbridge_bot?start=a%20b", "chat", None),
        (f"https://t.me/bookbridge_bot?start={'x' * 65}", "chat", None),
        ("https://t.me/other_bot?start=ev_1", "external", None),
        ("tg://resolve?domain=other_bot&start=ev_1", "external", None),
        ("https://example.org/?start=ev_1", "external", None),
        ("https://t.me.example.org/bookbridge_bot?start=ev_1", "external", None),
        ("mailto:someone@example.org", "external", None),
    ],
)
def test_link_target(url: str, kind: str, command: str | None) -> None:
    target = link_target(url, BOT)
    assert (target.kind, target.command) == (kind, command)


def test_share_link_names_what_is_shared() -> None:
    url = (
        "https://t.me/share/url?url=https%3A%2F%2Ft.me%2Fbookbridge_bot%3Fstart%3Dwk_7"
        "&text=Jane%20Eyre"
    )
    target = link_target(url, BOT)
    assert target.kind == "share"
    assert target.share_url == "https://t.me/bookbridge_bot?start=wk_7"
    assert target.share_text == "Jane Eyre"


def test_commands_in_a_message_are_tappable() -> None:
    found = detect_entities(parse_html("Send /settings or /help@bookbridge_bot, not a/b"))
    rendered = render_html(found.text, found.entities)
    assert (
        '<span class="tg-bot_command" data-command="/settings" role="button" tabindex="0">'
        "/settings</span>"
    ) in rendered
    assert 'data-command="/help@bookbridge_bot"' in rendered
    assert rendered.count("data-command") == 2


async def test_message_view_marks_telegram_links(sandbox: Sandbox, session_bot: Bot) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="Details", url="https://t.me/bookbridge_bot?start=ev_3")],
            [InlineKeyboardButton(text="Web", url="https://example.org/e/3")],
        ]
    )
    sent = await session_bot.send_message(
        1001,
        '<a href="https://t.me/bookbridge_bot?start=ev_3">Sign up</a> or '
        "https://t.me/share/url?url=x or https://example.org",
        parse_mode="HTML",
        reply_markup=markup,
    )
    view = message_view(sandbox, sandbox.message(1001, sent.message_id))
    assert view["links"] == {
        "https://t.me/bookbridge_bot?start=ev_3": "start",
        "https://t.me/share/url?url=x": "share",
    }
    bare = "t.me/bookbridge_bot?start=wk_1"
    sent = await session_bot.send_message(
        1001,
        f"Open {bare}",
        entities=[MessageEntity(type="url", offset=5, length=len(bare))],
    )
    view = message_view(sandbox, sandbox.message(1001, sent.message_id))
    # As the page sees it: the href of a link written without a scheme.
    assert view["links"] == {"http://t.me/bookbridge_bot?start=wk_1": "start"}
    assert 'href="http://t.me/bookbridge_bot?start=wk_1"' in view["html"]


async def _post(
    http: aiohttp.ClientSession, url: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    async with http.post(url, json=body) as response:
        return response.status, await response.json()


async def test_open_link_sends_the_deep_link_as_the_user(
    server: str, http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    url = f"{server}/sandbox/users/1001/open-link"
    status, body = await _post(http, url, {"url": "https://t.me/bookbridge_bot?start=ev_15"})
    assert status == 200
    assert body["action"] == "start" and body["payload"] == "ev_15"
    message = sandbox.message(1001, body["message_id"])
    assert message.text == "/start ev_15"
    assert message.entities is not None and message.entities[0].type == "bot_command"
    update = sandbox.pending_updates[-1]
    assert update.update_id == body["update_id"] and update.message == message

    before = len(sandbox.pending_updates)
    status, body = await _post(
        http, url, {"url": "https://t.me/share/url?url=https%3A%2F%2Fx.org&text=Hi"}
    )
    assert (status, body["action"], body["share_url"], body["share_text"]) == (
        200,
        "share",
        "https://x.org",
        "Hi",
    )
    for other, action in [("https://example.org", "external"), (f"https://t.me/{BOT}", "chat")]:
        status, body = await _post(http, url, {"url": other})
        assert (status, body["action"], body["url"]) == (200, action, other)
    assert len(sandbox.pending_updates) == before
    status, body = await _post(http, f"{server}/sandbox/users/999/open-link", {"url": "x"})
    assert status == 404
    status, body = await _post(http, url, {})
    assert status == 400


async def test_choosing_an_inline_result_sends_it_via_the_bot(
    server: str, http: aiohttp.ClientSession, sandbox: Sandbox, session_bot: Bot
) -> None:
    update = sandbox.inline_query(1002, "tea")
    assert update.inline_query is not None
    query_id = update.inline_query.id
    choose = f"{server}/sandbox/users/1002/inline/choose"
    status, body = await _post(http, choose, {"inline_query_id": query_id, "result_id": "t1"})
    assert status == 400 and "not answered" in body["error"]
    link = "https://t.me/bookbridge_bot?start=wk_1"
    await session_bot.answer_inline_query(
        query_id,
        [
            InlineQueryResultArticle(
                id="t1",
                title="Tea",
                input_message_content=InputTextMessageContent(
                    message_text=f"<b>Tea</b> {link}", parse_mode="HTML"
                ),
                reply_markup=InlineKeyboardMarkup(
                    inline_keyboard=[[InlineKeyboardButton(text="Open", url=link)]]
                ),
            )
        ],
    )
    status, body = await _post(http, choose, {"inline_query_id": query_id, "result_id": "nope"})
    assert status == 400
    status, body = await _post(http, choose, {"inline_query_id": query_id, "result_id": "t1"})
    assert status == 200
    chosen, sent = sandbox.pending_updates[-2:]
    assert chosen.chosen_inline_result is not None
    assert (chosen.chosen_inline_result.result_id, chosen.chosen_inline_result.query) == (
        "t1",
        "tea",
    )
    assert sent.message is not None and sent.message.message_id == body["message_id"]
    assert sent.message.via_bot is not None and sent.message.via_bot.username == BOT
    async with http.get(f"{server}/sandbox/users/1002/messages") as response:
        [view] = (await response.json())["messages"]
    assert view["from"] == "user" and view["via_bot"] == BOT
    assert view["html"].startswith("<b>Tea</b> <a href=")
    assert view["reply_markup"]["inline_keyboard"][0][0]["url"] == link
    assert view["links"] == {link: "start"}


def test_choose_inline_result_refusals(sandbox: Sandbox) -> None:
    update = sandbox.inline_query(1001, "x")
    assert update.inline_query is not None
    with pytest.raises(SandboxError, match="asked no inline query"):
        sandbox.choose_inline_result(1002, update.inline_query.id, "1")
    with pytest.raises(SandboxError, match="asked no inline query"):
        sandbox.choose_inline_result(1001, "unknown", "1")


async def test_photo_results_are_not_sent(sandbox: Sandbox) -> None:
    update = sandbox.inline_query(1001, "x")
    assert update.inline_query is not None
    results = [
        {
            "type": "photo",
            "id": "p",
            "photo_url": "https://example.org/p.jpg",
            "thumbnail_url": "https://example.org/t.jpg",
        }
    ]
    await sandbox.call(
        "answerInlineQuery",
        {"inline_query_id": update.inline_query.id, "results": json.dumps(results)},
    )
    with pytest.raises(SandboxError, match="only inline results with a text message"):
        sandbox.choose_inline_result(1001, update.inline_query.id, "p")


async def test_personas_are_listed_with_users(server: str, http: aiohttp.ClientSession) -> None:
    status, created = await _post(
        http,
        f"{server}/sandbox/users",
        {"id": 1003, "first_name": "Lib", "persona": "librarian"},
    )
    assert (status, created["persona"]) == (200, "librarian")
    async with http.get(f"{server}/sandbox/users") as response:
        users = (await response.json())["users"]
    assert [(user["id"], user["persona"]) for user in users] == [
        (1001, None),
        (1002, None),
        (1003, "librarian"),
    ]


async def test_settings_name_the_bot_and_the_time_zone(
    server: str, http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    async with http.get(f"{server}/sandbox/settings") as response:
        assert await response.json() == {
            "bot_username": BOT,
            "bot_name": "Bookbridge",
            "time_zone": None,
        }
    runner = await start_server(sandbox, "127.0.0.1", 0, time_zone="Asia/Shanghai")
    try:
        zoned = f"http://127.0.0.1:{server_port(runner)}"
        async with http.get(f"{zoned}/sandbox/settings") as response:
            assert (await response.json())["time_zone"] == "Asia/Shanghai"
    finally:
        await runner.cleanup()
    with pytest.raises(ValueError, match="not an IANA time zone"):
        await start_server(sandbox, "127.0.0.1", 0, time_zone="Mars/Olympus")


async def test_favicon_is_served(server: str, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{server}/favicon.ico") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("image/svg+xml")
        assert (await response.text()).startswith("<svg")
    async with http.get(f"{server}/") as response:
        assert 'rel="icon" href="/favicon.ico"' in await response.text()
