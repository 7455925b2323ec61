"""Fixtures for the events tests: the notices helper, an organiser, events in the future."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram.utils.i18n import I18n

from bot.config import Settings
from bot.i18n import create_i18n
from bot.services.events import Notices


@pytest.fixture(scope="session")
def i18n() -> I18n:
    return create_i18n("zh")


@pytest.fixture
def notices(i18n: I18n, settings: Settings) -> Notices:
    return Notices(
        translator=i18n,
        zone=settings.zone,
        offer_within=timedelta(hours=settings.waitlist_offer_within_hours),
        offer_for=timedelta(hours=settings.waitlist_offer_hours),
    )
