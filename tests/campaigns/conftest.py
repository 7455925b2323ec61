"""Fixtures for reach and campaigns: the outbox's fake clock, sandbox, bot and workers."""

from __future__ import annotations

from tests.outbox.conftest import bot, fake_time, make_worker, sandbox

__all__ = ["bot", "fake_time", "make_worker", "sandbox"]
