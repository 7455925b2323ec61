"""Shared fixtures: a migrated database per test (SQLite, or PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from playwright.async_api import Page, async_playwright
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db import create_engine, create_sessionmaker
from bot.migrate import upgrade
from tests.harness import BotHarness

REPO_ROOT = Path(__file__).resolve().parents[1]
# BOOKBRIDGE_SHARED_DATA points elsewhere when the checkout is not beside ../shared.
SHARED_DATA = Path(os.environ.get("BOOKBRIDGE_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data")
POSTGRES_URL = os.environ.get("BOOKBRIDGE_TEST_DATABASE_URL", "").strip()
IN_CI = os.environ.get("CI", "").lower() == "true"
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
CHROMIUM = Path("/usr/bin/chromium")
TEST_OUTPUT = REPO_ROOT / "test-output"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data; skips the test when it is absent (fails in CI)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is missing; CI must have ../shared/data beside the checkout")
        pytest.skip(f"{path} is absent: this test needs the shared MARC/CSV data")
    return path


def _pg_admin_dsn(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_execute(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(_pg_admin_dsn(url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


class DatabaseFactory:
    """Hands out fresh migrated databases, cloned from a template migrated once per worker."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir
        self.counter = itertools.count(1)
        self.postgres = bool(POSTGRES_URL)
        if self.postgres:
            self.template = f"bbt_tpl_{WORKER}_{os.getpid()}"
            asyncio.run(
                _pg_execute(
                    POSTGRES_URL,
                    f"DROP DATABASE IF EXISTS {self.template}",
                    f"CREATE DATABASE {self.template}",
                )
            )
            upgrade(str(make_url(POSTGRES_URL).set(database=self.template)))
        else:
            self.template_file = tmp_dir / "template.sqlite"
            upgrade(f"sqlite+aiosqlite:///{self.template_file}")

    def new(self) -> str:
        """A fresh database URL at the newest migration."""
        number = next(self.counter)
        if self.postgres:
            name = f"bbt_{WORKER}_{os.getpid()}_{number}"
            asyncio.run(
                _pg_execute(
                    POSTGRES_URL,
                    f"DROP DATABASE IF EXISTS {name}",
                    f"CREATE DATABASE {name} TEMPLATE {self.template}",
                )
            )
            return str(make_url(POSTGRES_URL).set(database=name).render_as_string(False))
        path = self.tmp_dir / f"db{number}.sqlite"
        shutil.copyfile(self.template_file, path)
        return f"sqlite+aiosqlite:///{path}"

    def drop(self, url: str) -> None:
        """Remove a database handed out by new()."""
        if self.postgres:
            name = make_url(url).database
            asyncio.run(_pg_execute(POSTGRES_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        else:
            Path(make_url(url).database or "").unlink(missing_ok=True)

    def close(self) -> None:
        """Drop the template."""
        if self.postgres:
            asyncio.run(
                _pg_execute(POSTGRES_URL, f"DROP DATABASE IF EXISTS {self.template} WITH (FORCE)")
            )


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.close()


@pytest.fixture
def database_url(database_factory: DatabaseFactory) -> Iterator[str]:
    url = database_factory.new()
    yield url
    database_factory.drop(url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


ADMIN_TELEGRAM_ID = 9001


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings isolated from the environment and any .env file."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token="123456:TEST-TOKEN",
        database_url=database_url,
        index_dir=tmp_path / "index",
        admin_ids=[ADMIN_TELEGRAM_ID],
        default_language="zh",
        throttle_burst=100,
    )


HarnessFactory = Callable[..., Awaitable[BotHarness]]


@pytest.fixture
async def harness_factory(settings: Settings, engine: AsyncEngine) -> AsyncIterator[HarnessFactory]:
    """Build harnesses (the real dispatcher on an in-process sandbox) with changed settings."""
    from bot.app import build_application, create_bot
    from sandbox.core import Sandbox
    from sandbox.session import SandboxSession

    built: list[BotHarness] = []

    async def build(**overrides: object) -> BotHarness:
        changed = settings.model_copy(update=overrides)
        app = build_application(changed, engine=engine)
        sandbox = Sandbox(token=changed.require_token(), queue_updates=False)
        bot = create_bot(changed.require_token(), session=SandboxSession(sandbox))
        built.append(BotHarness(app=app, sandbox=sandbox, bot=bot))
        return built[-1]

    yield build
    for harness in built:
        await harness.app.indexer.close()
        await harness.bot.session.close()
        await harness.sandbox.close()


@pytest.fixture
async def harness(harness_factory: HarnessFactory) -> BotHarness:
    """The real dispatcher wired to an in-process sandbox over a fresh database."""
    return await harness_factory()


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium; the test is skipped without it, except in CI where it fails."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture
async def page(chromium: Path) -> AsyncIterator[Page]:
    """A fresh Chromium page, phone-sized, English locale."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = await browser.new_context(locale="en-US", viewport={"width": 420, "height": 800})
        page = await context.new_page()
        page.set_default_timeout(10_000)
        try:
            yield page
        finally:
            await browser.close()
