"""The real bot polling the sandbox over HTTP, and a client for the sandbox's control API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Application, build_application, create_bot, on_startup
from bot.config import Settings
from sandbox.core import Sandbox
from sandbox.server import server_port, start_server

PLACES = [
    {"name_en": "Central Library", "name_zh": "中心图书馆", "latitude": 37.52, "longitude": 121.39},
]


@dataclass
class Control:
    """The sandbox control API, as tests and tools use it (JSON over HTTP)."""

    http: aiohttp.ClientSession
    base: str

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        async with self.http.request(method, f"{self.base}{path}", **kwargs) as response:
            body = await response.json()
            assert response.status < 400, (path, response.status, body)
            return body

    async def create_user(self, user_id: int, first_name: str, language_code: str) -> None:
        """POST /sandbox/users."""
        await self._json(
            "POST",
            "/sandbox/users",
            json={"id": user_id, "first_name": first_name, "language_code": language_code},
        )

    async def idle(self) -> None:
        """Wait until the bot has fetched every update and gone quiet."""
        await self._json("POST", "/sandbox/wait-idle", json={"timeout": 15})

    async def send(self, user_id: int, **content: Any) -> None:
        """The user sends text, a location, a document or a photo; then wait for the bot."""
        await self._json("POST", f"/sandbox/users/{user_id}/send", json=content)
        await self.idle()

    async def press(self, user_id: int, label: str) -> None:
        """The user taps the inline button with that label on the newest keyboard."""
        await self._json("POST", f"/sandbox/users/{user_id}/press", json={"text": label})
        await self.idle()

    async def messages(self, user_id: int) -> list[dict[str, Any]]:
        """The whole chat, oldest first."""
        body = await self._json("GET", f"/sandbox/users/{user_id}/messages")
        return list(body["messages"])

    async def bot_texts(self, user_id: int) -> list[str]:
        """What the bot has said, in order (edits applied)."""
        return [m["text"] or "" for m in await self.messages(user_id) if m["from"] == "bot"]


@dataclass
class LiveBot:
    """The sandbox served on loopback and the application polling it."""

    url: str
    sandbox: Sandbox
    app: Application
    control: Control


@pytest.fixture
async def live_bot(settings: Settings, engine: AsyncEngine) -> AsyncIterator[LiveBot]:
    """Sandbox server on a free port, the real bot long-polling it through aiohttp."""
    token = settings.require_token()
    sandbox = Sandbox(token)
    runner = await start_server(sandbox, "127.0.0.1", 0, PLACES)
    url = f"http://127.0.0.1:{server_port(runner)}"
    app = build_application(settings, engine=engine)
    bot = create_bot(token, api_base=url)
    await on_startup(app, bot)
    polling = asyncio.create_task(
        # Sequential handling: the next getUpdates then means "done", which wait-idle relies on.
        app.dispatcher.start_polling(
            bot, handle_signals=False, polling_timeout=1, handle_as_tasks=False
        )
    )
    async with aiohttp.ClientSession() as http:
        try:
            yield LiveBot(url=url, sandbox=sandbox, app=app, control=Control(http, url))
        finally:
            with contextlib.suppress(RuntimeError):
                await app.dispatcher.stop_polling()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(polling, 5)
            await app.indexer.close()
            await bot.session.close()
            await runner.cleanup()
            await sandbox.close()
