"""Webhook mode: Telegram's updates behind the secret token, plus /healthz and /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.app import Application, build_scheduler, on_startup
from bot.operations import HealthSources, add_operations_routes
from bot.scaling import RecentUpdates
from bot.scheduler import SchedulerService

logger = logging.getLogger(__name__)


SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class UpdateReceiver:
    """POST WEBHOOK_PATH: Telegram's updates, each handled once, in the background.

    Answers 401 (and handles nothing) unless the secret token matches, and 400 with one log
    line for a body that is not an update. An update Telegram delivers again (it does when
    our answer was slow) is acknowledged and skipped. At most ``limit`` updates are handled
    at once; Telegram's delivery never waits on a handler.
    """

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        *,
        secret: str,
        updates: RecentUpdates,
        limit: int,
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.secret = secret
        self.updates = updates
        self.slots = asyncio.Semaphore(limit)
        self.tasks: set[asyncio.Task[None]] = set()

    def register(self, web_app: web.Application, path: str) -> None:
        """Serve POST ``path``; the bot's HTTP session closes with the application."""
        web_app.router.add_post(path, self.receive)
        web_app.on_shutdown.append(self.close)

    async def close(self, _web_app: web.Application) -> None:
        """Close the bot's HTTP session."""
        await self.bot.session.close()

    async def receive(self, request: web.Request) -> web.Response:
        """Check, parse and acknowledge one delivery; handle its update in the background."""
        if not secrets.compare_digest(request.headers.get(SECRET_HEADER, ""), self.secret):
            return web.Response(body="Unauthorized", status=401)
        body = await request.read()
        try:
            # pydantic parses the JSON too, with a nesting limit, and never raises anything else.
            update = Update.model_validate_json(body, context={"bot": self.bot})
        except ValidationError as exc:
            problem = exc.errors()[0]
            logger.warning(
                "webhook: refused a body that is not an update (%s at %s)",
                problem["type"],
                ".".join(str(part) for part in problem["loc"]) or "top level",
            )
            return web.Response(body="Bad Request", status=400)
        if not await self.updates.first_time(update.update_id):
            logger.info("webhook: update %s was delivered again; skipped", update.update_id)
            return web.json_response({})
        task = asyncio.create_task(self._handle(update))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return web.json_response({})

    async def _handle(self, update: Update) -> None:
        async with self.slots:
            try:
                result = await self.dispatcher.feed_update(self.bot, update)
                if isinstance(result, TelegramMethod):
                    await self.dispatcher.silent_call_request(self.bot, result)
            except Exception:
                logger.exception("webhook: update %s failed", update.update_id)


@dataclass
class WebhookServer:
    """One running webhook instance: its HTTP server and (optionally) its scheduler."""

    runner: web.AppRunner
    host: str
    port: int
    scheduler: SchedulerService | None

    @property
    def local_url(self) -> str:
        """Where this instance listens (the load balancer's upstream)."""
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Stop serving, then stop the scheduler; the webhook stays set for the other instances."""
        await self.runner.cleanup()
        if self.scheduler is not None:
            await self.scheduler.stop()


def build_webhook_app(
    app: Application, bot: Bot, secret: str, scheduler: SchedulerService | None
) -> web.Application:
    """The aiohttp application: POST WEBHOOK_PATH for updates, GET /healthz and /metrics."""
    web_app = web.Application()
    UpdateReceiver(
        app.dispatcher,
        bot,
        secret=secret,
        updates=app.updates,
        limit=app.settings.webhook_max_concurrent,
    ).register(web_app, app.settings.webhook_path)
    sources = HealthSources(
        engine=app.engine, redis=app.redis, indexer=app.indexer, scheduler=scheduler, ils=app.ils
    )
    add_operations_routes(web_app, sources, app.metrics, app.sessionmaker)
    return web_app


async def start_webhook(
    app: Application,
    bot: Bot,
    *,
    scheduler: bool,
    host: str | None = None,
    port: int | None = None,
) -> WebhookServer:
    """Serve the webhook, start the scheduler if asked, then call setWebhook."""
    url, secret = app.settings.require_webhook()
    await on_startup(app, bot)
    background = build_scheduler(app, bot) if scheduler else None
    web_app = build_webhook_app(app, bot, secret, background)
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    listen_host = host or app.settings.webhook_host
    site = web.TCPSite(runner, listen_host, app.settings.webhook_port if port is None else port)
    await site.start()
    bound_port = int(runner.addresses[0][1])
    if background is not None:
        background.start()
    await bot.set_webhook(
        url,
        secret_token=secret,
        drop_pending_updates=app.settings.webhook_drop_pending_updates,
        allowed_updates=app.dispatcher.resolve_used_update_types(),
    )
    logger.info("webhook: serving %s on %s:%s", app.settings.webhook_path, listen_host, bound_port)
    return WebhookServer(runner=runner, host=listen_host, port=bound_port, scheduler=background)


async def run_webhook(app: Application, bot: Bot, *, scheduler: bool = True) -> None:
    """`bookbridge run --webhook`: serve until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    server: WebhookServer | None = None
    try:
        server = await start_webhook(app, bot, scheduler=scheduler)
        await stop.wait()
    finally:
        if server is not None:
            await server.stop()
        await bot.session.close()
        await app.close()
