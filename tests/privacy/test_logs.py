"""Logs carry no message text: distinctive text sent every way is in no log record."""

from __future__ import annotations

import logging
import traceback

import pytest

from tests.conftest import HarnessFactory
from tests.harness import BotHarness
from tests.search_chat.conftest import build_catalogue

SECRET = "Zqxv7Marmalade"


def _everything_logged(records: list[logging.LogRecord]) -> str:
    parts = []
    for record in records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info and record.exc_info[1] is not None:
            parts.append("".join(traceback.format_exception(record.exc_info[1])))
        if record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(record.stack_info)
    return "\n".join(parts)


async def test_no_message_text_reaches_any_log(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    await build_catalogue(harness)
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    user = harness.user(4545, "Mei")
    await user.send(f"hello {SECRET}")  # before onboarding
    await user.onboard()
    await user.send(SECRET)  # a catalogue search, logged for unmet demand
    await user.send(f"dream {SECRET}")
    await user.send(f"{SECRET} " * 80)  # too long
    await user.send(f"/{SECRET}")  # an unknown command
    await user.send(f"/settings {SECRET}")
    await user.send(f"/follow {SECRET}")
    await user.send(f"/grant @{SECRET} admin")  # refused
    await user.forge(f"wk:{SECRET}")
    await user.forge(f"{SECRET}:1")
    await user.inline(SECRET)
    await user.send_document(f"{SECRET}.csv", SECRET.encode(), caption=SECRET)
    await user.send("/mydata")
    assert caplog.records, "nothing was logged at all: the capture is broken"
    logged = _everything_logged(caplog.records)
    assert SECRET.lower() not in logged.lower()


async def test_a_failure_log_names_no_forged_callback_text(
    harness_factory: HarnessFactory,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from handlers import fallback

    async def failing(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a handler failed")

    # Every unknown button reaches the catch-all; make it fail to see what the error log says.
    monkeypatch.setattr(fallback, "stale_button", failing)
    harness = await harness_factory()
    user = harness.user(4646, "Mei")
    await user.onboard()
    caplog.set_level(logging.DEBUG)
    await user.forge(f"{SECRET} with spaces")
    await user.forge(f"{SECRET}:1")
    await user.forge(f"set:{SECRET}")
    failures = [r.getMessage() for r in caplog.records if r.name == "handlers.errors"]
    assert len(failures) == 3
    # A known prefix is still named, so the log says which feature failed.
    assert [text.rsplit("event=", 1)[1] for text in failures] == [
        "callback_query:?len=26",
        "callback_query:?len=16",
        "callback_query:set",
    ]
    assert SECRET.lower() not in _everything_logged(caplog.records).lower()
