"""Webhook mode: aiogram's aiohttp handler with the secret token, plus /healthz and /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.app import Application, build_scheduler, on_startup
from bot.operations import HealthSources, add_operations_routes
from bot.scheduler import SchedulerService

logger = logging.getLogger(__name__)


class BoundedRequestHandler(SimpleRequestHandler):
    """aiogram's webhook handler, handling at most ``limit`` updates at once in the background."""

    def __init__(self, *args: Any, limit: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slots = asyncio.Semaphore(limit)

    async def _background_feed_update(self, bot: Bot, update: dict[str, Any]) -> None:
        async with self.slots:
            await super()._background_feed_update(bot, update)


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
    # Answers 401 (and handles nothing) unless X-Telegram-Bot-Api-Secret-Token matches;
    # updates are handled in the background so Telegram's delivery never waits on a handler.
    BoundedRequestHandler(
        dispatcher=app.dispatcher,
        bot=bot,
        secret_token=secret,
        handle_in_background=True,
        limit=app.settings.webhook_max_concurrent,
    ).register(web_app, path=app.settings.webhook_path)
    sources = HealthSources(
        engine=app.engine, redis=app.redis, indexer=app.indexer, scheduler=scheduler
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
