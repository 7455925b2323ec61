"""The scheduled harvest: every connected library that is due, one failure stopping only its own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import HarvestSource, Item
from bot.services.harvest.sources import connect
from jobs.harvest import harvest_connected
from jobs.schedule import Jobs
from tests.factories import make_library
from tests.harvest.conftest import RECORDS
from tests.harvest.repository import TestRepository


class _Recorder:
    def __init__(self) -> None:
        self.jobs: dict[str, float] = {}

    def every(self, seconds: float, job: Any, *, name: str) -> None:
        self.jobs[name] = seconds


async def test_the_tick_harvests_each_due_library_once(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    repository: TestRepository,
) -> None:
    await make_library(session, code="EAST")
    await make_library(session, code="WEST")
    await session.commit()
    await connect(session, "EAST", repository.url)
    await connect(session, "WEST", "http://127.0.0.1:9/oai")  # nothing listens there

    assert await harvest_connected(sessionmaker, harvest_settings) == 1
    await session.commit()
    assert await session.scalar(select(func.count(Item.id))) == RECORDS
    errors = dict(
        (await session.execute(select(HarvestSource.url, HarvestSource.last_error_kind))).all()
    )
    assert errors == {repository.url: None, "http://127.0.0.1:9/oai": "unreachable"}

    # Neither is due again before the interval has passed.
    repository.requests.clear()
    assert await harvest_connected(sessionmaker, harvest_settings) == 0
    assert repository.requests == []


def test_the_harvest_job_runs_every_interval_unless_turned_off(
    harvest_settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    recorder = _Recorder()
    jobs = Jobs(settings=harvest_settings, worker=None, reporter=None, sessionmaker=sessionmaker)  # type: ignore[arg-type]
    jobs.register(recorder)  # type: ignore[arg-type]
    assert recorder.jobs["harvest"] == harvest_settings.harvest_interval_minutes * 60
    off = harvest_settings.model_copy(update={"harvest_interval_minutes": 0})
    recorder = _Recorder()
    Jobs(settings=off, worker=None, reporter=None, sessionmaker=sessionmaker).register(recorder)  # type: ignore[arg-type]
    assert "harvest" not in recorder.jobs
