"""Webhook instances on the HTTP sandbox: a round-robin proxy, Redis, a worker, chat drivers."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot
from aiogram.types import Message
from aiohttp import web
from pydantic import SecretStr
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Application, build_application, build_scheduler, create_bot
from bot.config import Settings
from bot.scheduler import SchedulerService
from bot.webhook import WebhookServer, start_webhook
from sandbox.core import Sandbox
from sandbox.server import server_port, start_server
from tests.conftest import IN_CI
from tests.e2e.conftest import PLACES

REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET = "scale-test-secret_0123"
WAIT_S = 20.0


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own in the local Redis; its keys are deleted afterwards."""
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        reason = f"Redis at {REDIS_URL} is unreachable ({type(exc).__name__})"
        if IN_CI:
            pytest.fail(f"{reason}; CI must run Redis")
        pytest.skip(reason)
    prefix = f"bbtest-scale-{uuid.uuid4().hex[:10]}"
    try:
        yield prefix
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


class RoundRobinProxy:
    """A tiny load balancer on loopback: each POST goes to the next upstream in turn."""

    def __init__(self) -> None:
        self.upstreams: list[str] = []
        # (upstream index, Telegram user id, HTTP status) per forwarded update, in order.
        self.routed: list[tuple[int, int | None, int]] = []
        self._turn = 0
        self._http: aiohttp.ClientSession | None = None
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        """Serve on a free loopback port."""
        self._http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{server_port(self.runner)}"

    async def forward(self, request: web.Request) -> web.Response:
        """Pass the request on unchanged (secret header included) and the answer back."""
        assert self._http is not None
        if not self.upstreams:
            return web.Response(status=502, text="no upstream")
        index = self._turn % len(self.upstreams)
        self._turn += 1
        body = await request.read()
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() in ("content-type", "x-telegram-bot-api-secret-token")
        }
        async with self._http.request(
            request.method, self.upstreams[index] + request.path_qs, data=body, headers=headers
        ) as response:
            answer = await response.read()
            self.routed.append((index, _sender(body), response.status))
            return web.Response(
                status=response.status,
                body=answer,
                headers={"Content-Type": response.headers.get("Content-Type", "text/plain")},
            )

    def instances_for(self, user_id: int) -> list[int]:
        """Which upstream got each of this user's updates, in order."""
        return [index for index, sender, _ in self.routed if sender == user_id]

    async def close(self) -> None:
        """Stop serving."""
        if self.runner is not None:
            await self.runner.cleanup()
        if self._http is not None:
            await self._http.close()


def _sender(body: bytes) -> int | None:
    try:
        update = json.loads(body)
    except ValueError:
        return None
    for kind in ("message", "callback_query", "inline_query", "my_chat_member"):
        event = update.get(kind) if isinstance(update, dict) else None
        if isinstance(event, dict) and isinstance(event.get("from"), dict):
            return int(event["from"]["id"])
    return None


@dataclass
class Instance:
    """One webhook instance: its application, bot and server."""

    app: Application
    bot: Bot
    server: WebhookServer


@dataclass
class Worker:
    """One `bookbridge worker`: the scheduler with outbox delivery."""

    app: Application
    bot: Bot
    scheduler: SchedulerService


@dataclass
class Cluster:
    """The HTTP sandbox, the proxy in front of N webhook instances, and workers."""

    sandbox: Sandbox
    sandbox_url: str
    proxy: RoundRobinProxy
    settings: Settings
    tmp_path: Path
    engine: AsyncEngine
    instances: list[Instance] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)

    def instance_settings(self, name: str) -> Settings:
        """Settings of one process: its own index folder, everything else shared."""
        return self.settings.model_copy(update={"index_dir": self.tmp_path / f"index-{name}"})

    async def add_instance(self) -> Instance:
        """Start one more webhook instance (no scheduler) and put it behind the proxy."""
        number = len(self.instances)
        app = build_application(self.instance_settings(f"web{number}"))
        bot = create_bot(
            self.settings.require_token(), api_base=self.sandbox_url, metrics=app.metrics
        )
        server = await start_webhook(app, bot, scheduler=False, host="127.0.0.1", port=0)
        self.proxy.upstreams.append(server.local_url)
        instance = Instance(app=app, bot=bot, server=server)
        self.instances.append(instance)
        return instance

    async def add_worker(self) -> Worker:
        """Start a worker process's scheduler and wait until it leads or stands by."""
        app = build_application(self.instance_settings(f"worker{len(self.workers)}"))
        bot = create_bot(
            self.settings.require_token(), api_base=self.sandbox_url, metrics=app.metrics
        )
        scheduler = build_scheduler(app, bot)
        scheduler.start()
        worker = Worker(app=app, bot=bot, scheduler=scheduler)
        self.workers.append(worker)
        return worker

    def reader(self, user_id: int, first_name: str, language_code: str = "en") -> ChatDriver:
        """A user in the sandbox, talking to whichever instance the proxy picks."""
        self.sandbox.add_user(user_id, first_name, language_code=language_code)
        return ChatDriver(self.sandbox, user_id)

    async def close(self) -> None:
        """Stop everything in reverse order."""
        for worker in self.workers:
            await worker.scheduler.stop()
            await worker.bot.session.close()
            await worker.app.close()
        for instance in self.instances:
            await instance.server.stop()
            await instance.bot.session.close()
            await instance.app.close()


@dataclass
class ChatDriver:
    """One user of the HTTP sandbox: types and taps, then waits for the bot's answer."""

    sandbox: Sandbox
    user_id: int
    seen: int = 0

    def _bot_messages(self) -> list[Message]:
        return [
            m
            for m in self.sandbox.messages(self.user_id, after=self.seen)
            if self.sandbox.is_from_bot(m)
        ]

    def new_bot_messages(self) -> list[Message]:
        """Bot messages since the last call (edits applied)."""
        fresh = self.sandbox.messages(self.user_id, after=self.seen)
        if fresh:
            self.seen = fresh[-1].message_id
        return [m for m in fresh if self.sandbox.is_from_bot(m)]

    async def send(self, text: str, *, replies: int = 1) -> list[Message]:
        """Send text and wait for at least ``replies`` new bot messages."""
        self.new_bot_messages()
        self.sandbox.send_text(self.user_id, text)
        arrived = await self.sandbox.wait_until(
            lambda: len(self._bot_messages()) >= replies, WAIT_S
        )
        assert arrived, f"no reply to {text!r}"
        assert await self.sandbox.wait_idle(WAIT_S, quiet=0.3)
        return self.new_bot_messages()

    async def tap(self, label: str) -> list[Message]:
        """Tap the inline button with this label on the newest keyboard; wait for its answer."""
        self.new_bot_messages()
        update = self.sandbox.press(self.user_id, text=label)
        assert update.callback_query is not None
        answer = await self.sandbox.wait_for_callback_answer(update.callback_query.id, WAIT_S)
        assert answer is not None, f"no answer to the tap on {label!r}"
        assert await self.sandbox.wait_idle(WAIT_S, quiet=0.3)
        return self.new_bot_messages()

    def last_bot_message(self) -> Message:
        """The newest message from the bot (edits applied)."""
        mine = [m for m in self.sandbox.messages(self.user_id) if self.sandbox.is_from_bot(m)]
        assert mine, "the bot has not said anything"
        return mine[-1]

    async def onboard(self) -> None:
        """Language English, skip the district, skip the location."""
        await self.send("/start")
        await self.tap("English")
        labels = _labels(self.last_bot_message())
        if "Skip" in labels:
            await self.tap("Skip")
        await self.send("Skip")


def _labels(message: Message) -> list[str]:
    markup = message.reply_markup
    if markup is None or not hasattr(markup, "inline_keyboard"):
        return []
    return [button.text for row in markup.inline_keyboard for button in row]


def text_of(message: Message) -> str:
    """A message's text or caption."""
    return message.text or message.caption or ""


@contextlib.asynccontextmanager
async def running_cluster(
    settings: Settings, engine: AsyncEngine, tmp_path: Path, redis_prefix: str | None
) -> AsyncIterator[Cluster]:
    """The HTTP sandbox and a proxy; instances and workers added to it are stopped at the end."""
    token = settings.require_token()
    sandbox = Sandbox(token)
    runner = await start_server(sandbox, "127.0.0.1", 0, PLACES)
    sandbox_url = f"http://127.0.0.1:{server_port(runner)}"
    proxy = RoundRobinProxy()
    await proxy.start()
    shared = settings.model_copy(
        update={
            "redis_url": REDIS_URL if redis_prefix else None,
            "redis_prefix": redis_prefix or settings.redis_prefix,
            "webhook_url": proxy.url,
            "webhook_secret": SecretStr(SECRET),
            "outbox_poll_s": 0.2,
            "broadcast_progress_s": 0.5,
            "scheduler_standby_poll_s": 0.5,
            # Promotional messages must not wait for the morning, whenever the test runs.
            "quiet_hours_start": time(0, 0),
            "quiet_hours_end": time(0, 0),
        }
    )
    group = Cluster(
        sandbox=sandbox,
        sandbox_url=sandbox_url,
        proxy=proxy,
        settings=shared,
        tmp_path=tmp_path,
        engine=engine,
    )
    try:
        yield group
    finally:
        try:
            await group.close()
        finally:
            await proxy.close()
            await runner.cleanup()
            await sandbox.close()


@pytest.fixture
async def cluster(
    settings: Settings, engine: AsyncEngine, tmp_path: Path, redis_prefix: str
) -> AsyncIterator[Cluster]:
    """Instances sharing the test database and Redis, behind the proxy, on the HTTP sandbox."""
    async with running_cluster(settings, engine, tmp_path, redis_prefix) as group:
        yield group


@pytest.fixture
async def lone_cluster(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[Cluster]:
    """The same without Redis (one instance keeps its state in memory)."""
    async with running_cluster(settings, engine, tmp_path, None) as group:
        yield group


def request_count(sandbox: Sandbox, method: str, chat_id: int) -> int:
    """How many successful calls of a Bot API method targeted this chat."""
    return sum(
        1
        for record in sandbox.requests
        if record.method == method
        and record.ok
        and str(record.params.get("chat_id")) == str(chat_id)
    )
