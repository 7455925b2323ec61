"""Fixtures for the sandbox tests: a Sandbox, the server on a free loopback port, bots."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from sandbox.core import Sandbox
from sandbox.server import server_port, start_server
from sandbox.session import SandboxSession

TOKEN = "123456:SANDBOX-TOKEN"
PLACES = [
    {"name_en": "Central Library", "name_zh": "中心图书馆", "latitude": 37.52, "longitude": 121.39},
    {
        "name_en": "University Library",
        "name_zh": "大学图书馆",
        "latitude": 37.47,
        "longitude": 121.44,
    },
]


@pytest.fixture
def sandbox() -> Sandbox:
    """A fresh sandbox with two users."""
    sandbox = Sandbox(TOKEN)
    sandbox.add_user(1001, "Li", username="li_reader", language_code="zh-hans")
    sandbox.add_user(1002, "Ann", language_code="en")
    return sandbox


@pytest.fixture
async def server(sandbox: Sandbox) -> AsyncIterator[str]:
    """The sandbox served on a free loopback port; yields the base URL."""
    runner = await start_server(sandbox, "127.0.0.1", 0, PLACES)
    try:
        yield f"http://127.0.0.1:{server_port(runner)}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client for the control API and raw Bot API requests."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def http_bot(server: str) -> AsyncIterator[Bot]:
    """aiogram's real Bot with AiohttpSession pointed at the sandbox server."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(server))
    bot = Bot(TOKEN, session=session)
    try:
        yield bot
    finally:
        await bot.session.close()


@pytest.fixture
def session_bot(sandbox: Sandbox) -> Bot:
    """aiogram's real Bot talking to the sandbox in-process."""
    return Bot(TOKEN, session=SandboxSession(sandbox))


Polling = Callable[[Dispatcher, Bot], Awaitable[None]]


@pytest.fixture
async def polling() -> AsyncIterator[Polling]:
    """Start a dispatcher polling in the background; stopped at the end of the test."""
    running: list[tuple[Dispatcher, asyncio.Task[None]]] = []

    async def start(dispatcher: Dispatcher, bot: Bot) -> None:
        task = asyncio.create_task(
            dispatcher.start_polling(bot, handle_signals=False, polling_timeout=2)
        )
        running.append((dispatcher, task))
        await asyncio.sleep(0)

    yield start
    for dispatcher, task in running:
        with contextlib.suppress(RuntimeError):
            await dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)


async def webhook_receiver(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> tuple[web.AppRunner, str]:
    """A tiny loopback HTTP server for webhook tests; returns the runner and its URL."""
    app = web.Application()
    app.router.add_post("/hook", handler)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{server_port(runner)}/hook"
