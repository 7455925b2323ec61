"""`bookbridge demo`: the bot on the local sandbox, over a fresh demo alliance, no token needed."""

from __future__ import annotations

import asyncio
import logging
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select

from bot.app import build_application, create_bot, run_polling
from bot.config import Settings
from bot.migrate import upgrade
from bot.models import Library, Reader, Role
from bot.services.demo import DEMO_ACCOUNTS, seed_demo
from sandbox.core import Sandbox
from sandbox.server import start_server

logger = logging.getLogger(__name__)

DEMO_TOKEN = "424242:BOOKBRIDGE-DEMO"


def demo_settings(settings: Settings, directory: Path) -> Settings:
    """The operator's settings, pointed at the demo database, index and sandbox token."""
    return settings.model_copy(
        update={
            "database_url": f"sqlite+aiosqlite:///{directory / 'bookbridge.db'}",
            "index_dir": directory / "index",
            "bot_token": SecretStr(DEMO_TOKEN),
        }
    )


def _recreate(directory: Path) -> None:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)


async def prepare_demo(settings: Settings, directory: Path) -> Settings:
    """A fresh migrated database under ``directory`` seeded with the demo alliance."""
    await asyncio.to_thread(_recreate, directory)
    configured = demo_settings(settings, directory)
    await asyncio.to_thread(upgrade, configured.database_url)
    app = build_application(configured)
    try:
        async with app.sessionmaker() as session:
            summary = await seed_demo(
                session, today=datetime.now(configured.zone).date(), zone=configured.zone
            )
        logger.info("demo alliance seeded: %s", summary)
    finally:
        await app.close()
    return configured


async def sandbox_people_and_places(
    settings: Settings,
) -> tuple[list[Reader], list[dict[str, Any]]]:
    """The demo's sandbox accounts and the libraries as preset places for the location picker."""
    app = build_application(settings)
    try:
        async with app.sessionmaker() as session:
            readers = list(await session.scalars(select(Reader).order_by(Reader.telegram_id)))
            libraries = list(await session.scalars(select(Library).order_by(Library.code)))
    finally:
        await app.close()
    places = [
        {
            "name_zh": library.name,
            "name_en": library.name_en or library.name,
            "latitude": library.latitude,
            "longitude": library.longitude,
        }
        for library in libraries
    ]
    return readers, places


async def run_demo(settings: Settings, *, host: str, port: int, directory: Path) -> None:
    """Seed, start the sandbox, then run the bot against it until interrupted."""
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    configured = await prepare_demo(settings, directory)
    people, places = await sandbox_people_and_places(configured)
    sandbox = Sandbox(token=DEMO_TOKEN, flood_limits=True)
    personas = {account.telegram_id: account.role or Role.READER for account in DEMO_ACCOUNTS}
    for reader in people:
        sandbox.add_user(
            reader.telegram_id,
            reader.first_name,
            username=reader.username,
            language_code=reader.language,
            persona=personas.get(reader.telegram_id),
        )
    runner = await start_server(
        sandbox, host=host, port=port, places=places, time_zone=configured.timezone
    )
    url = f"http://{host}:{port}/"
    print(f"Bookbridge demo is running: open {url} (Ctrl-C stops it)", flush=True)
    app = build_application(configured)
    bot = create_bot(DEMO_TOKEN, api_base=url.rstrip("/"))
    try:
        await run_polling(app, bot)
    finally:
        await runner.cleanup()
        await sandbox.close()
