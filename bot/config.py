"""Settings: one validated object, read from ``BOOKBRIDGE_*`` environment variables and ``.env``."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "BOOKBRIDGE_"
Language = Literal["en", "zh"]


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line naming it."""


class Settings(BaseSettings):
    """Everything Bookbridge can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    bot_token: SecretStr | None = None
    api_base: str | None = Field(
        default=None, description="Bot API server URL; empty means Telegram's own"
    )
    database_url: str = "sqlite+aiosqlite:///./var/bookbridge.db"
    index_dir: Path = Path("var/index")
    # How often each bot process re-indexes works that imports elsewhere changed (0: never).
    index_catch_up_seconds: float = Field(default=15.0, ge=0, le=3600)
    # Catalogue files: what a compressed file may unpack to, the longest field (MARCXML text,
    # an XML tag or comment) and the longest line (a CSV row, a MARCXML record).
    catalogue_max_unpacked_mb: int = Field(default=1024, ge=1, le=1024 * 1024)
    catalogue_max_field_kb: int = Field(default=256, ge=1, le=1024 * 1024)
    catalogue_max_line_kb: int = Field(default=1024, ge=1, le=1024 * 1024)
    redis_url: str | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    default_language: Language = "zh"
    timezone: str = "Asia/Shanghai"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Holds (after Evergreen and Koha).
    max_active_holds: int = Field(default=5, ge=1, le=100)
    hold_shelf_days: int = Field(default=7, ge=1, le=60)
    unfilled_hold_days: int = Field(default=90, ge=1, le=3650)

    # Holds, further rules: a returned copy prefers queued readers whose pickup library owns
    # it; transit takes base days plus a day per so many kilometres; several holds ready
    # within the digest window merge into one notice; reminder before ready-until; warning
    # before an unfilled hold expires; the once-only extension of a ready hold; how often
    # the holds job runs.
    hold_prefer_local_pickup: bool = True
    hold_transit_base_days: int = Field(default=1, ge=0, le=30)
    hold_transit_km_per_day: float = Field(default=20.0, gt=0, le=10_000)
    hold_ready_digest_minutes: int = Field(default=5, ge=0, le=24 * 60)
    hold_reminder_days: int = Field(default=2, ge=0, le=30)
    hold_unfilled_warning_days: int = Field(default=7, ge=0, le=365)
    hold_extension_days: int = Field(default=2, ge=1, le=30)
    hold_tick_s: float = Field(default=300.0, gt=0, le=86400)

    # Events.
    event_reminder_hours: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [24, 1])
    waitlist_offer_within_hours: int = Field(default=24, ge=0, le=24 * 14)
    waitlist_offer_hours: int = Field(default=2, ge=1, le=72)
    # How often the events job looks for due reminders, expired offers and ended events.
    events_tick_s: float = Field(default=30.0, gt=0, le=3600)
    # How often live quizzes are checked for a passed deadline (its leaderboard goes out).
    quiz_tick_s: float = Field(default=1.0, gt=0, le=60)

    # Notifications.
    send_rate_per_s: float = Field(default=25.0, gt=0, le=30)
    quiet_hours_start: time = time(21, 0)
    quiet_hours_end: time = time(8, 0)
    promo_cap_count: int = Field(default=3, ge=0, le=100)
    promo_cap_days: int = Field(default=7, ge=1, le=90)
    send_max_attempts: int = Field(default=5, ge=1, le=50)
    # The outbox worker: request timeout, backoff after transient errors (doubling up to
    # the maximum), claims a dead worker left that return to the queue, batch size, ticks.
    send_timeout_s: float = Field(default=15.0, gt=0, le=120)
    send_backoff_s: float = Field(default=5.0, gt=0, le=3600)
    send_backoff_max_s: float = Field(default=900.0, gt=0, le=86400)
    claim_timeout_s: int = Field(default=120, ge=10, le=3600)
    outbox_batch_size: int = Field(default=100, ge=1, le=1000)
    outbox_poll_s: float = Field(default=1.0, gt=0, le=60)
    broadcast_progress_s: float = Field(default=3.0, gt=0, le=60)
    scheduler_standby_poll_s: float = Field(default=5.0, gt=0, le=300)

    # Per-user throttling: a burst, then this many updates per second.
    throttle_rate: float = Field(default=1.0, gt=0, le=100)
    throttle_burst: int = Field(default=8, ge=1, le=100)

    # Purchase suggestions ("you choose, the library buys"): new or seconded, per reader.
    suggestions_per_month: int = Field(default=5, ge=0, le=100)

    # Reach and campaigns. A district is under-reached when its reach index is below
    # REACH_THRESHOLD_SHARE of the alliance median ("half_median", the default share 0.5),
    # or when it is among the lowest quarter of districts ("bottom_quarter").
    reach_period_days: int = Field(default=90, ge=7, le=730)
    reach_rule: Literal["half_median", "bottom_quarter"] = "half_median"
    reach_threshold_share: float = Field(default=0.5, gt=0, le=1)
    reach_job_hours: float = Field(default=24 * 7, gt=0, le=24 * 31)
    campaign_holdout_share: float = Field(default=0.1, ge=0, le=0.5)
    campaign_conversion_days: int = Field(default=14, ge=1, le=90)
    campaign_job_s: float = Field(default=60.0, gt=0, le=3600)
    # The weekly automatic campaign: events starting within this many days, in or within
    # AUTO_CAMPAIGN_RADIUS_KM of an under-reached district; admins approve it with one tap
    # unless AUTO_CAMPAIGN_LAUNCH is true.
    auto_campaign_hours: float = Field(default=24 * 7, gt=0, le=24 * 31)
    auto_campaign_event_days: int = Field(default=14, ge=1, le=90)
    auto_campaign_radius_km: float = Field(default=5.0, ge=0, le=100)
    auto_campaign_launch: bool = False

    # Scale-out: webhook mode (`bookbridge run --webhook`), Redis, operations endpoints, logs.
    # WEBHOOK_URL is the public base URL Telegram posts to; WEBHOOK_PATH is appended to it and
    # is the path the instance serves on WEBHOOK_HOST:WEBHOOK_PORT.
    webhook_url: str | None = None
    webhook_path: str = "/telegram/webhook"
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8081, ge=0, le=65535)
    webhook_drop_pending_updates: bool = False
    # Updates one instance handles at once (the rest wait, answered already): keep it within
    # the database pool (5 + 10 connections) so no handler times out waiting for a connection.
    webhook_max_concurrent: int = Field(default=12, ge=1, le=1000)
    # `bookbridge worker` serves /healthz and /metrics here (port 0: no server).
    worker_host: str = "127.0.0.1"
    worker_port: int = Field(default=8082, ge=0, le=65535)
    # Keys in Redis start with this (FSM state, event locks, throttling buckets).
    redis_prefix: str = Field(default="bookbridge", min_length=1, max_length=64)
    log_format: Literal["text", "json"] = "text"
    throttle_enabled: bool = True

    # OAI-PMH harvest of connected libraries (`bookbridge libraries connect ... --oai-pmh`):
    # every this many minutes (0: no scheduled harvest), each request waiting this long.
    harvest_interval_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    harvest_timeout_s: float = Field(default=60.0, gt=0, le=600)
    # Library systems (ILS): the whole time a work card waits for live copy statuses, one
    # request's timeout, how long an answer is fresh, and the circuit breaker (this many
    # failures in a row stop the asking for the cool-down).
    ils_deadline_s: float = Field(default=1.5, gt=0, le=30)
    ils_timeout_s: float = Field(default=5.0, gt=0, le=120)
    ils_cache_s: float = Field(default=30.0, ge=0, le=3600)
    ils_breaker_failures: int = Field(default=3, ge=1, le=100)
    ils_breaker_cooldown_s: float = Field(default=30.0, gt=0, le=3600)
    # How often holds are relayed to the libraries' systems and their copies reconciled.
    ils_reconcile_s: float = Field(default=60.0, gt=0, le=86400)
    # Library-card links a reader may try per hour (wrong PINs included).
    ils_card_attempts_per_hour: int = Field(default=5, ge=1, le=100)

    @field_validator("admin_ids", "event_reminder_hours", mode="before")
    @classmethod
    def _comma_separated_ints(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",")]
            if not all(part.lstrip("-").isdigit() for part in parts if part):
                raise ValueError("expected comma-separated whole numbers, such as 42,43")
            return [int(part) for part in parts if part]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if value.startswith(("postgresql://", "postgres://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///PATH or postgresql+asyncpg://...")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.query:
            raise ValueError("expected the public base URL, such as https://bot.example.org")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _webhook_path(cls, value: str) -> str:
        if not value.startswith("/") or any(char.isspace() for char in value):
            raise ValueError("expected a path starting with /, such as /telegram/webhook")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        secret = value.get_secret_value()
        # Telegram's rule for secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -.
        if len(secret) > 256 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in secret):
            raise ValueError("use 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The alliance time zone."""
        return ZoneInfo(self.timezone)

    def require_token(self) -> str:
        """The bot token, or a SettingsError naming the missing setting."""
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise SettingsError(
                f"missing setting {ENV_PREFIX}BOT_TOKEN: the Telegram bot token "
                "(set it in the environment or in .env)"
            )
        return self.bot_token.get_secret_value().strip()

    def require_webhook(self) -> tuple[str, str]:
        """The public webhook URL and secret, or a SettingsError naming what is missing."""
        if self.webhook_url is None:
            raise SettingsError(
                f"missing setting {ENV_PREFIX}WEBHOOK_URL: the public base URL Telegram "
                "posts updates to, such as https://bot.example.org"
            )
        if self.webhook_secret is None:
            raise SettingsError(
                f"missing setting {ENV_PREFIX}WEBHOOK_SECRET: a secret token of 1-256 "
                "characters (A-Z, a-z, 0-9, _ and -) that Telegram sends with every update"
            )
        return self.webhook_url + self.webhook_path, self.webhook_secret.get_secret_value()


def load_settings(**overrides: Any) -> Settings:
    """Read the settings once, turning a validation error into one line naming the setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "?"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"invalid setting {ENV_PREFIX}{name.upper()}: {message}") from exc
