"""App assembly: the dispatcher with its middlewares and routers, the bot, polling."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher, Router, methods
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.methods.base import Response, TelegramMethod
from aiogram.utils.i18n import I18n
from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db import create_engine, create_sessionmaker
from bot.i18n import create_i18n
from bot.menus import publish_all_commands
from bot.middlewares import (
    DbSessionMiddleware,
    ReaderLocaleMiddleware,
    ReaderMiddleware,
    ThrottlingMiddleware,
)
from bot.migrate import ensure_at_head
from bot.operations import (
    HealthSources,
    Metrics,
    RateLimitCounter,
    ReaderLogContextMiddleware,
    add_operations_routes,
)
from bot.retry import RetryAfterMiddleware
from bot.scaling import RecentUpdates, Throttle, build_shared_state, memory_throttle
from bot.scheduler import SchedulerService
from bot.services.ils.live import LiveAvailability
from bot.services.indexing import CatalogueIndexer
from handlers import admin as admin_console
from handlers import audit as audit_viewer
from handlers import bookstores as partner_bookstores
from handlers import broadcasts as broadcast_wizard
from handlers import campaigns as campaign_console
from handlers import (
    catalogue_admin,
    errors,
    fallback,
    help,
    organiser_events,
    refusals,
    roles,
    settings,
    start,
    wizard_exit,
)
from handlers import events as reading_events
from handlers import follow as library_follows
from handlers import harvest as harvest_console
from handlers import holds as reader_holds
from handlers import humanlibrary as human_library
from handlers import inline as inline_search
from handlers import librarian as librarian_desk
from handlers import members_admin as member_console
from handlers import notifications as notification_controls
from handlers import partners as partner_pages
from handlers import privacy as reader_privacy
from handlers import quizzes as knowledge_quizzes
from handlers import reach as reach_view
from handlers import reading as reading_life
from handlers import search as catalogue_search
from handlers import stats as statistics_console
from handlers import subjects as subject_browser
from handlers import submissions as submission_contests
from handlers import suggestions_review as suggestion_console
from handlers import volunteers as volunteering
from handlers.deeplinks import DeepLinks
from handlers.ils import cards as library_cards
from jobs.schedule import build_jobs
from search.aio import AsyncCatalogueIndex
from search.index import CatalogueIndex

logger = logging.getLogger(__name__)


def feature_routers() -> list[Router]:
    """Every router, in the one place their order is decided: catch-alls last."""
    return [
        errors.build_router(),
        # A main-menu button or a command leaves any open form first, then does its job.
        wizard_exit.build_router(),
        # Privacy rights work in any state, wizards and onboarding included.
        reader_privacy.build_router(),
        start.build_router(),
        roles.build_router(),
        catalogue_admin.build_router(),
        organiser_events.build_router(),
        admin_console.build_router(),
        member_console.build_router(),
        suggestion_console.build_router(),
        audit_viewer.build_router(),
        statistics_console.build_router(),
        settings.build_router(),
        help.build_router(),
        reader_holds.build_router(),
        library_cards.build_router(),
        reading_life.build_router(),
        librarian_desk.build_router(),
        partner_bookstores.build_router(),
        reading_events.build_router(),
        human_library.build_router(),
        knowledge_quizzes.build_router(),
        volunteering.build_router(),
        submission_contests.build_router(),
        partner_pages.build_router(),
        broadcast_wizard.build_router(),
        reach_view.build_router(),
        campaign_console.build_router(),
        harvest_console.build_router(),
        library_follows.build_router(),
        notification_controls.build_router(),
        subject_browser.build_router(),
        catalogue_search.build_router(),
        inline_search.build_router(),
        refusals.build_router(),
        fallback.build_router(),
    ]


@dataclass
class Application:
    """Everything a running bot holds: settings, database, translations, dispatcher."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    i18n: I18n
    dispatcher: Dispatcher
    indexer: CatalogueIndexer
    deep_links: DeepLinks = field(default_factory=DeepLinks)
    metrics: Metrics = field(default_factory=Metrics)
    redis: Redis | None = None
    # The update ids received lately (a webhook update Telegram delivers again is skipped).
    updates: RecentUpdates = field(default_factory=lambda: RecentUpdates(None, ""))
    # Connections to the member libraries' own systems (SIP2, feeds) and their breakers.
    ils: LiveAvailability = field(default_factory=LiveAvailability)

    async def close(self) -> None:
        """Release the index, the shared state (Redis) and the database."""
        await self.ils.close()
        await self.indexer.close()
        await self.dispatcher.storage.close()
        await self.dispatcher.fsm.events_isolation.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()


def build_dispatcher(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    i18n: I18n,
    deep_links: DeepLinks,
    indexer: CatalogueIndexer,
    *,
    storage: BaseStorage | None = None,
    events_isolation: BaseEventIsolation | None = None,
    throttle: Throttle | None = None,
    metrics: Metrics | None = None,
    ils: LiveAvailability | None = None,
) -> Dispatcher:
    """The dispatcher: middlewares in order, then every feature router."""
    metrics = metrics or Metrics()
    dispatcher = Dispatcher(
        storage=storage or MemoryStorage(),
        events_isolation=events_isolation,
        metrics=metrics,
        settings=settings,
        i18n=i18n,
        deep_links=deep_links,
        sessionmaker=sessionmaker,
        indexer=indexer,
        ils=ils or LiveAvailability.from_settings(settings),
    )
    dispatcher.update.outer_middleware(metrics.middleware())
    if settings.throttle_enabled:
        throttle = throttle or memory_throttle(settings.throttle_rate, settings.throttle_burst)
        dispatcher.update.outer_middleware(ThrottlingMiddleware(i18n, throttle))
    dispatcher.update.outer_middleware(DbSessionMiddleware(sessionmaker))
    dispatcher.update.outer_middleware(ReaderMiddleware(settings))
    dispatcher.update.outer_middleware(ReaderLogContextMiddleware())
    dispatcher.update.outer_middleware(ReaderLocaleMiddleware(i18n))
    dispatcher.include_routers(*feature_routers())
    return dispatcher


def build_application(
    settings: Settings, *, engine: AsyncEngine | None = None, storage: BaseStorage | None = None
) -> Application:
    """Wire settings, database and dispatcher together (nothing is started yet)."""
    engine = engine or create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    i18n = create_i18n(settings.default_language)
    deep_links = DeepLinks()
    catalogue_search.register_deep_links(deep_links)
    library_follows.register_deep_links(deep_links)
    reading_events.register_deep_links(deep_links)
    campaign_console.register_deep_links(deep_links)
    volunteering.register_deep_links(deep_links)
    reading_life.register_deep_links(deep_links)
    indexer = CatalogueIndexer(
        AsyncCatalogueIndex(CatalogueIndex(settings.index_dir)), sessionmaker
    )
    # With REDIS_URL: FSM state, per-reader locks, throttling and the updates received so
    # far shared by every instance.
    shared = build_shared_state(settings)
    metrics = Metrics()
    ils = LiveAvailability.from_settings(settings)
    metrics.registry.register(ils)
    dispatcher = build_dispatcher(
        settings,
        sessionmaker,
        i18n,
        deep_links,
        indexer,
        storage=storage or shared.storage,
        events_isolation=shared.events_isolation,
        throttle=shared.throttle,
        metrics=metrics,
        ils=ils,
    )
    return Application(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker,
        i18n=i18n,
        dispatcher=dispatcher,
        indexer=indexer,
        deep_links=deep_links,
        metrics=metrics,
        redis=shared.redis,
        updates=shared.updates,
        ils=ils,
    )


# aiogram builds ``Response[<result type>]`` for every answer it parses; pydantic keeps such
# generic models only weakly, so after each garbage collection the next answers built them
# again (about a millisecond each). Built once here and held, they are always found.
_RESPONSE_MODELS: list[type[Response[Any]]] = []


def _hold_response_models() -> None:
    if _RESPONSE_MODELS:
        return
    for value in vars(methods).values():
        if (
            isinstance(value, type)
            and issubclass(value, TelegramMethod)
            and value is not TelegramMethod
        ):
            returning = getattr(value, "__returning__", None)
            if returning is not None:
                _RESPONSE_MODELS.append(Response[returning])  # type: ignore[valid-type]


def create_bot(
    token: str,
    *,
    api_base: str | None = None,
    session: BaseSession | None = None,
    metrics: Metrics | None = None,
) -> Bot:
    """A Bot with HTML parse mode, talking to Telegram, a local Bot API server or a sandbox."""
    _hold_response_models()
    if session is None:
        session = (
            AiohttpSession(api=TelegramAPIServer.from_base(api_base.rstrip("/")))
            if api_base
            else AiohttpSession()
        )
    session.middleware(RetryAfterMiddleware())
    if metrics is not None:
        # Inside the retry middleware: every 429 is counted, retried or not.
        session.middleware(RateLimitCounter(metrics))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


async def on_startup(app: Application, bot: Bot) -> None:
    """Refuse a database behind head, then register the command menus."""
    await ensure_at_head(app.engine)
    await app.indexer.ensure_ready()
    # Imports made elsewhere (another instance, the command line) reach this index too.
    app.indexer.follow(app.settings.index_catch_up_seconds)
    async with app.sessionmaker() as session:
        await publish_all_commands(bot, session, app.settings)
    me = await bot.get_me()
    logger.info("bot @%s is up", me.username)


def build_scheduler(app: Application, bot: Bot) -> SchedulerService:
    """The scheduler with every job (delivery included); it leads or stands by once started."""
    jobs = build_jobs(app.settings, app.sessionmaker, bot, app.i18n)
    app.metrics.delivery_429 = lambda: jobs.worker.rate_limited_total
    return SchedulerService(
        app.engine,
        jobs.register,
        zone=app.settings.zone,
        standby_poll_s=app.settings.scheduler_standby_poll_s,
        on_stop=jobs.stop,
    )


async def run_polling(app: Application, bot: Bot, *, scheduler: bool = True) -> None:
    """Long polling until stopped, with the scheduler in the same process unless disabled."""
    await on_startup(app, bot)
    background = build_scheduler(app, bot) if scheduler else None
    if background is not None:
        background.start()
    try:
        await app.dispatcher.start_polling(bot, handle_signals=True, close_bot_session=False)
    finally:
        if background is not None:
            await background.stop()
        await bot.session.close()
        await app.close()


async def start_worker_server(
    app: Application, scheduler: SchedulerService
) -> web.AppRunner | None:
    """The worker's /healthz and /metrics on WORKER_HOST:WORKER_PORT (port 0: none)."""
    if not app.settings.worker_port:
        return None
    web_app = web.Application()
    sources = HealthSources(
        engine=app.engine,
        redis=app.redis,
        indexer=None,
        scheduler=scheduler,
        scheduler_required=True,
        ils=app.ils,
    )
    add_operations_routes(web_app, sources, app.metrics, app.sessionmaker)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, app.settings.worker_host, app.settings.worker_port).start()
    logger.info(
        "worker: /healthz and /metrics on %s:%s", app.settings.worker_host, app.settings.worker_port
    )
    return runner


async def run_worker(app: Application, bot: Bot) -> None:
    """`bookbridge worker`: only the scheduler and delivery, until SIGINT or SIGTERM."""
    await ensure_at_head(app.engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    background = build_scheduler(app, bot)
    background.start()
    operations = await start_worker_server(app, background)
    logger.info("worker is up")
    try:
        await stop.wait()
    finally:
        if operations is not None:
            await operations.cleanup()
        await background.stop()
        await bot.session.close()
        await app.close()
