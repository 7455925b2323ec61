"""Webhook mode: the secret token, /healthz and /metrics, the worker's endpoints, the CLI."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import build_application, build_scheduler, create_bot, start_worker_server
from bot.config import Settings, SettingsError, load_settings
from bot.models import Reader, utcnow
from bot.scaling import RecentUpdates
from bot.services import outbox
from bot.services.outbox import OutboxMessage
from bot.webhook import build_webhook_app
from sandbox.core import Sandbox
from sandbox.session import SandboxSession
from tests.factories import make_reader
from tests.scale.conftest import SECRET, ChatDriver, Cluster, request_count, text_of

EVE = 4242


def _update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    person = {"id": user_id, "is_bot": False, "first_name": "Eve", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Eve"},
            "from": person,
            "text": text,
        },
    }


async def _readers(sessionmaker: async_sessionmaker[AsyncSession], telegram_id: int) -> int:
    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(Reader).where(Reader.telegram_id == telegram_id)
        )
    return count or 0


async def test_requests_without_the_right_secret_get_401_and_are_not_processed(
    lone_cluster: Cluster, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    instance = await lone_cluster.add_instance()
    sandbox = lone_cluster.sandbox
    hook = sandbox.webhook
    assert hook is not None
    assert hook.url == lone_cluster.proxy.url + "/telegram/webhook"
    assert hook.secret_token == SECRET
    sandbox.add_user(EVE, "Eve", language_code="en")
    endpoint = instance.server.local_url + "/telegram/webhook"
    async with aiohttp.ClientSession() as http:
        for number, headers in enumerate(
            (
                {},
                {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"},
                {"X-Telegram-Bot-Api-Secret-Token": ""},
            ),
            start=1,
        ):
            async with http.post(
                endpoint, json=_update(number, EVE, "/start"), headers=headers
            ) as r:
                assert r.status == 401
        assert await sandbox.wait_idle(5, quiet=0.5)
        assert await _readers(sessionmaker, EVE) == 0
        assert request_count(sandbox, "sendMessage", EVE) == 0
        assert b'bookbridge_updates_total{type="message"}' not in instance.app.metrics.render()

        # The same request with the secret is handled: Eve meets the bot.
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with http.post(endpoint, json=_update(9, EVE, "/start"), headers=headers) as r:
            assert r.status == 200
    assert await sandbox.wait_until(lambda: request_count(sandbox, "sendMessage", EVE) == 1, 10)
    assert await _readers(sessionmaker, EVE) == 1

    # And what Telegram (the sandbox) delivers through the proxy carries the secret.
    reader = ChatDriver(sandbox, EVE)
    reader.new_bot_messages()
    # Eve is still choosing her language: the help, then the language question again.
    help_text, prompt = await reader.send("/help")
    assert "/mydata" in text_of(help_text)
    assert "language" in text_of(prompt)
    assert {status for _, _, status in lone_cluster.proxy.routed} == {200}


async def test_healthz_and_metrics_on_the_webhook_server(
    lone_cluster: Cluster, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    instance = await lone_cluster.add_instance()
    await instance.app.indexer.wait_ready()
    sandbox = lone_cluster.sandbox
    reader = lone_cluster.reader(EVE, "Eve")
    await reader.send("/start")
    # One interactive 429: the reply waits it out, and the metric counts it.
    sandbox.add_fault("sendMessage", 429, retry_after=1)
    await reader.tap("English")
    # The reply waits out the 429 after the tap's answer: wait for both updates to finish.
    assert await sandbox.wait_until(
        lambda: b"bookbridge_handler_seconds_count 2.0" in instance.app.metrics.render(), 10
    )
    async with sessionmaker() as session:
        someone = await make_reader(session)
        for number in range(3):
            await outbox.enqueue(
                session,
                reader_id=someone.id,
                kind="test",
                message=OutboxMessage(text={"en": f"notice {number}"}),
                dedup_key=f"scale-metrics-{number}",
                not_before=utcnow() + timedelta(hours=number),
            )
        await session.commit()

    async with aiohttp.ClientSession() as http:
        async with http.get(instance.server.local_url + "/healthz") as response:
            assert response.status == 200
            health = await response.json()
        async with http.get(instance.server.local_url + "/metrics") as response:
            assert response.status == 200
            assert response.content_type == "text/plain"
            metrics = await response.text()
    assert health["status"] == "ok"
    checks = health["checks"]
    assert checks["database"] == {"ok": True, "dialect": instance.app.engine.dialect.name}
    assert checks["redis"] == {"ok": True, "configured": False}
    assert checks["index"] == {"ok": True, "building": False}
    assert checks["scheduler"]["runs_here"] is False
    assert checks["scheduler"]["ok"] is True

    lines = metrics.splitlines()
    assert 'bookbridge_updates_total{type="message"} 1.0' in lines
    assert 'bookbridge_updates_total{type="callback_query"} 1.0' in lines
    assert "bookbridge_handler_seconds_count 2.0" in lines
    assert "bookbridge_handler_errors_total 0.0" in lines
    assert 'bookbridge_telegram_429_total{caller="interactive"} 1.0' in lines
    assert 'bookbridge_outbox_depth{due="now"} 1.0' in lines
    assert 'bookbridge_outbox_depth{due="later"} 2.0' in lines
    assert "bookbridge_outbox_sent_per_second 0.0" in lines
    assert "bookbridge_scheduler_leader 0.0" in lines


async def test_healthz_is_503_when_redis_is_unreachable(settings: Settings) -> None:
    broken = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    app = build_application(broken)
    sandbox = Sandbox(broken.require_token(), queue_updates=False)
    bot = create_bot(broken.require_token(), session=SandboxSession(sandbox))
    try:
        await app.indexer.ensure_ready()
        await app.indexer.wait_ready()
        web_app = build_webhook_app(app, bot, SECRET, None)
        async with TestClient(TestServer(web_app)) as client:
            response = await client.get("/healthz")
            assert response.status == 503
            report = await response.json()
    finally:
        await bot.session.close()
        await app.close()
        await sandbox.close()
    assert report["status"] == "unavailable"
    assert report["checks"]["redis"] == {
        "ok": False,
        "configured": True,
        "error": "ConnectionError",
    }
    assert report["checks"]["database"]["ok"] is True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_worker_serves_healthz_and_metrics(settings: Settings) -> None:
    port = _free_port()
    worker_settings = settings.model_copy(update={"worker_port": port})
    app = build_application(worker_settings)
    sandbox = Sandbox(settings.require_token(), queue_updates=False)
    bot = create_bot(settings.require_token(), session=SandboxSession(sandbox))
    scheduler = build_scheduler(app, bot)
    scheduler.start()
    runner = await start_worker_server(app, scheduler)
    assert runner is not None
    try:
        await scheduler.leading.wait()
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
                health = await response.json()
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                metrics = (await response.text()).splitlines()
    finally:
        await runner.cleanup()
        await scheduler.stop()
        await bot.session.close()
        await app.close()
        await sandbox.close()
    assert health["status"] == "ok"
    assert "index" not in health["checks"]
    assert health["checks"]["scheduler"]["leader_here"] is True
    assert health["checks"]["scheduler"]["leader_present"] is True
    assert "bookbridge_scheduler_leader 1.0" in metrics
    assert 'bookbridge_telegram_429_total{caller="outbox"} 0.0' not in metrics
    assert any(line.startswith("bookbridge_outbox_depth") for line in metrics)


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BOOKBRIDGE_")}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=clean,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_webhook_mode_needs_its_settings(tmp_path: Path) -> None:
    token = {"BOOKBRIDGE_BOT_TOKEN": "123456:TEST-TOKEN"}
    result = _cli("run", "--webhook", env=token, cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("bookbridge: missing setting BOOKBRIDGE_WEBHOOK_URL:")

    with_url = {**token, "BOOKBRIDGE_WEBHOOK_URL": "https://bot.example.org"}
    result = _cli("run", "--webhook", env=with_url, cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("bookbridge: missing setting BOOKBRIDGE_WEBHOOK_SECRET:")

    result = _cli(
        "run",
        "--webhook",
        env={**with_url, "BOOKBRIDGE_WEBHOOK_SECRET": "has spaces"},
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "bookbridge: invalid setting BOOKBRIDGE_WEBHOOK_SECRET: "
        "use 1-256 characters of A-Z, a-z, 0-9, _ and -"
    )


def test_bad_webhook_settings_are_named() -> None:
    for name, value in (
        ("webhook_url", "bot.example.org"),
        ("webhook_url", "ftp://bot.example.org"),
        ("webhook_secret", "x" * 257),
        ("webhook_path", "telegram"),
        ("webhook_port", "70000"),
        ("worker_port", "-1"),
        ("log_format", "xml"),
        ("redis_prefix", ""),
    ):
        with pytest.raises(SettingsError) as refused:
            load_settings(_env_file=None, **{name: value})
        assert str(refused.value).startswith(f"invalid setting BOOKBRIDGE_{name.upper()}:")


def test_webhook_settings_compose_the_public_url(settings: Settings) -> None:
    configured = settings.model_copy(
        update={
            "webhook_url": "https://bot.example.org/tg",
            "webhook_secret": SecretStr("s3cret_-"),
            "webhook_path": "/hook",
        }
    )
    assert configured.require_webhook() == ("https://bot.example.org/tg/hook", "s3cret_-")
    assert Settings(_env_file=None, webhook_url="https://bot.example.org/").webhook_url == (  # type: ignore[call-arg]
        "https://bot.example.org"
    )


async def test_bodies_that_are_not_updates_get_400_and_one_log_line(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = build_application(settings)
    sandbox = Sandbox(settings.require_token(), queue_updates=False)
    bot = create_bot(settings.require_token(), session=SandboxSession(sandbox))
    bodies = [
        b"{not json",
        b"[" * 100_000,  # deeply nested
        b'{"update_id": 1, "message": ' * 5_000 + b"1" + b"}" * 5_000,
        b"[]",
        b'{"foo": 1}',
        b'{"update_id": "seven"}',
        '{"update_id": 2, "message": {"text": "私人的话"}}'.encode(),
    ]
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    try:
        web_app = build_webhook_app(app, bot, SECRET, None)
        async with TestClient(TestServer(web_app)) as client:
            with caplog.at_level(logging.INFO):
                statuses = []
                for body in bodies:
                    response = await client.post("/telegram/webhook", data=body, headers=headers)
                    statuses.append(response.status)
                await asyncio.sleep(0.1)
                gc.collect()  # an unretrieved task exception would be logged now
                await asyncio.sleep(0)
    finally:
        await bot.session.close()
        await app.close()
        await sandbox.close()
    assert statuses == [400] * len(bodies)
    refused = [r for r in caplog.records if r.name == "bot.webhook"]
    assert len(refused) == len(bodies)
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in refused)
    assert all(len(r.getMessage().splitlines()) == 1 for r in refused)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "私人的话" not in caplog.text
    assert sandbox.requests == []


async def test_an_update_delivered_twice_is_handled_once(
    lone_cluster: Cluster, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    instance = await lone_cluster.add_instance()
    sandbox = lone_cluster.sandbox
    sandbox.add_user(EVE, "Eve", language_code="en")
    endpoint = instance.server.local_url + "/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession() as http:
        # Telegram sends an update again when our answer to it was late.
        for _ in range(2):
            async with http.post(endpoint, json=_update(31, EVE, "/start"), headers=headers) as r:
                assert r.status == 200
        assert await sandbox.wait_idle(5, quiet=0.5)
        assert request_count(sandbox, "sendMessage", EVE) == 1
        # The next update is handled as usual.
        async with http.post(endpoint, json=_update(32, EVE, "/help"), headers=headers) as r:
            assert r.status == 200
    assert await sandbox.wait_until(lambda: request_count(sandbox, "sendMessage", EVE) >= 2, 10)
    assert await _readers(sessionmaker, EVE) == 1


async def test_an_update_delivered_again_to_another_instance_is_handled_once(
    cluster: Cluster,
) -> None:
    instances = [await cluster.add_instance(), await cluster.add_instance()]
    sandbox = cluster.sandbox
    sandbox.add_user(EVE, "Eve", language_code="en")
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession() as http:
        for instance in instances:
            endpoint = instance.server.local_url + "/telegram/webhook"
            async with http.post(endpoint, json=_update(41, EVE, "/start"), headers=headers) as r:
                assert r.status == 200
    assert await sandbox.wait_idle(5, quiet=0.5)
    assert request_count(sandbox, "sendMessage", EVE) == 1


def test_recent_updates_in_memory_are_bounded() -> None:
    recent = RecentUpdates(None, "test", size=3)

    async def deliver(*update_ids: int) -> list[bool]:
        return [await recent.first_time(update_id) for update_id in update_ids]

    assert asyncio.run(deliver(1, 2, 1, 3, 4, 2, 1)) == [True, True, False, True, True, False, True]
    assert len(recent.seen) == 3
