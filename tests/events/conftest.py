"""Fixtures for the events tests: the alliance's waitlist rules."""

from __future__ import annotations

import pytest
from aiogram.utils.i18n import I18n

from bot.config import Settings
from bot.i18n import create_i18n
from bot.services.events.registration import WaitlistRules


@pytest.fixture(scope="session")
def i18n() -> I18n:
    return create_i18n("zh")


@pytest.fixture
def rules(settings: Settings) -> WaitlistRules:
    return WaitlistRules.for_alliance(settings)
