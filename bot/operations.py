"""Operations: Prometheus metrics, /healthz and /metrics, structured logs with update ids."""

from __future__ import annotations

import contextvars
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import TelegramObject, Update, User
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import case, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.models import Notification, NotificationStatus, Reader
from bot.scheduler import LEADER_LOCK_KEY, SchedulerService
from bot.services.ils.live import LiveAvailability
from bot.services.indexing import CatalogueIndexer

logger = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# The update being handled and its reader, for every log line written while handling it.
current_update_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_update_id", default=None
)
current_user_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_user_id", default=None
)
current_reader_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_reader_id", default=None
)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One process's Prometheus metrics, in a registry of its own (several apps per process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "bookbridge_updates",
            "Telegram updates handled, by type",
            ["type"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "bookbridge_handler_seconds",
            "Time from an update's arrival in the dispatcher to the end of its handling",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "bookbridge_handler_errors",
            "Updates whose handling raised an error",
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "bookbridge_telegram_429",
            "Bot API calls refused with 429 (flood control), by caller",
            ["caller"],
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "bookbridge_outbox_depth",
            "Notifications waiting in the outbox (pending or being sent), due now or later",
            ["due"],
            registry=self.registry,
        )
        self.outbox_sent_rate = Gauge(
            "bookbridge_outbox_sent_per_second",
            "Notifications sent per second over the last minute (all workers)",
            registry=self.registry,
        )
        self.leader = Gauge(
            "bookbridge_scheduler_leader",
            "1 when this process runs the scheduler",
            registry=self.registry,
        )
        # The delivery worker counts its 429s itself (it bypasses request middlewares).
        self.delivery_429: Callable[[], int] | None = None
        self._delivery_429_seen = 0

    def middleware(self) -> UpdateMetricsMiddleware:
        """The outer update middleware that counts, times and labels the logs of updates."""
        return UpdateMetricsMiddleware(self)

    async def refresh(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        scheduler: SchedulerService | None,
    ) -> None:
        """Read the outbox figures from the database (at scrape time)."""
        self.leader.set(1 if scheduler is not None and scheduler.is_leader else 0)
        if self.delivery_429 is not None:
            total = self.delivery_429()
            if total > self._delivery_429_seen:
                self.rate_limited.labels("outbox").inc(total - self._delivery_429_seen)
                self._delivery_429_seen = total
        now = datetime.now(UTC)
        waiting = Notification.status.in_([NotificationStatus.PENDING, NotificationStatus.SENDING])
        due = func.sum(case((Notification.not_before <= now, 1), else_=0))
        async with sessionmaker() as session:
            due_now, total = (await session.execute(select(due, func.count()).where(waiting))).one()
            sent = await session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(
                    Notification.status == NotificationStatus.SENT,
                    Notification.sent_at >= now - timedelta(seconds=60),
                )
            )
        self.outbox_depth.labels("now").set(due_now or 0)
        self.outbox_depth.labels("later").set((total or 0) - (due_now or 0))
        self.outbox_sent_rate.set((sent or 0) / 60)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


class UpdateMetricsMiddleware(BaseMiddleware):
    """Counts and times every update, counts errors, and labels log lines with the update."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        update_token = current_update_id.set(event.update_id if isinstance(event, Update) else None)
        user_token = current_user_id.set(user.id if user is not None else None)
        reader_token = current_reader_id.set(None)
        kind = event.event_type if isinstance(event, Update) else type(event).__name__
        started = time.perf_counter()
        try:
            return await handler(event, data)
        except Exception:
            self.metrics.errors.inc()
            raise
        finally:
            self.metrics.latency.observe(time.perf_counter() - started)
            self.metrics.updates.labels(kind).inc()
            current_reader_id.reset(reader_token)
            current_user_id.reset(user_token)
            current_update_id.reset(update_token)


class ReaderLogContextMiddleware(BaseMiddleware):
    """After the reader is loaded: their id goes on every log line of this update."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        reader: Reader | None = data.get("reader")
        if reader is not None:
            current_reader_id.set(reader.id)
        return await handler(event, data)


class RateLimitCounter(BaseRequestMiddleware):
    """Counts 429 answers to interactive Bot API calls (inside the retry middleware)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter:
            self.metrics.rate_limited.labels("interactive").inc()
            raise


# --------------------------------------------------------------------------- logs


class LogContextFilter(logging.Filter):
    """Puts the current update id, Telegram user id and reader id on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.update_id = current_update_id.get()
        record.user_id = current_user_id.get()
        record.reader_id = current_reader_id.get()
        return True


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the update's ids."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("update_id", "user_id", "reader_id"):
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_LOG_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [update=%(update_id)s reader=%(reader_id)s]: %(message)s"
)


def configure_logging(level: str, log_format: str) -> None:
    """Root logging: text or JSON lines, each labelled with the update and reader ids."""
    handler = logging.StreamHandler()
    handler.addFilter(LogContextFilter())
    handler.setFormatter(
        JsonLogFormatter() if log_format == "json" else logging.Formatter(TEXT_LOG_FORMAT)
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)


# --------------------------------------------------------------------------- health


@dataclass
class HealthSources:
    """What /healthz checks in one process."""

    engine: AsyncEngine
    redis: Redis | None
    indexer: CatalogueIndexer | None
    scheduler: SchedulerService | None
    # A worker's job is the scheduler: it is unhealthy when the cluster has no leader.
    scheduler_required: bool = False
    # The libraries' systems: reported per library; one being down leaves the process healthy.
    ils: LiveAvailability | None = None


async def _leader_present(engine: AsyncEngine) -> bool | None:
    """Whether any process holds the scheduler lock (None: the database cannot tell)."""
    if engine.dialect.name != "postgresql":
        return None
    async with engine.connect() as connection:
        held = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = 0 AND objid = :key AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"key": LEADER_LOCK_KEY},
        )
    return bool(held)


async def health_report(sources: HealthSources) -> tuple[bool, dict[str, Any]]:
    """Check the database, Redis, the index and the scheduler; (healthy, JSON-ready report)."""
    checks: dict[str, Any] = {}
    healthy = True
    try:
        async with sources.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = {"ok": True, "dialect": sources.engine.dialect.name}
    except (SQLAlchemyError, OSError) as exc:
        healthy = False
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    if sources.redis is None:
        checks["redis"] = {"ok": True, "configured": False}
    else:
        try:
            await sources.redis.ping()
            checks["redis"] = {"ok": True, "configured": True}
        except (RedisError, OSError) as exc:
            healthy = False
            checks["redis"] = {"ok": False, "configured": True, "error": type(exc).__name__}
    if sources.indexer is not None:
        status = sources.indexer.status
        checks["index"] = {"ok": status.ready, "building": status.building}
        healthy = healthy and status.ready
    leader_here = sources.scheduler is not None and sources.scheduler.is_leader
    present: bool | None
    try:
        present = True if leader_here else await _leader_present(sources.engine)
    except (SQLAlchemyError, OSError):
        present = None
    scheduler_ok = present is not False if sources.scheduler_required else True
    checks["scheduler"] = {
        "ok": scheduler_ok,
        "runs_here": sources.scheduler is not None,
        "leader_here": leader_here,
        "leader_present": present,
    }
    healthy = healthy and scheduler_ok
    if sources.ils is not None:
        checks["ils"] = {"ok": True, "libraries": sources.ils.health()}
    return healthy, {"status": "ok" if healthy else "unavailable", "checks": checks}


def add_operations_routes(
    web_app: web.Application,
    sources: HealthSources,
    metrics: Metrics,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Serve GET /healthz (200 or 503, JSON) and GET /metrics (Prometheus text)."""

    async def healthz(request: web.Request) -> web.Response:
        healthy, report = await health_report(sources)
        return web.json_response(report, status=200 if healthy else 503)

    async def metrics_page(request: web.Request) -> web.Response:
        try:
            await metrics.refresh(sessionmaker, sources.scheduler)
        except SQLAlchemyError as exc:
            logger.warning("metrics: the outbox figures are unavailable (%s)", type(exc).__name__)
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics_page)
