"""Typed callback data shared by the reader-facing routers (short prefixes, under 64 bytes)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# Integers in callback data fit the database's INTEGER columns: a forged larger value is
# refused by the filter (the button counts as stale) instead of failing on PostgreSQL.
DbInt = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


class Origin(StrEnum):
    """Where a choice was offered: during onboarding or in settings."""

    ONBOARDING = "o"
    SETTINGS = "s"


class LanguageChoice(CallbackData, prefix="lang"):
    """The reader picked a language."""

    code: str
    origin: Origin


class DistrictAction(StrEnum):
    PAGE = "page"
    PICK = "pick"
    SKIP = "skip"


class DistrictChoice(CallbackData, prefix="dist"):
    """The reader paged the district list, picked a district or skipped."""

    action: DistrictAction
    value: DbInt
    origin: Origin


class SettingsAction(StrEnum):
    LANGUAGE = "lang"
    DISTRICT = "dist"
    LOCATION = "loc"
    FORGET_LOCATION = "forget"
    TOGGLE = "toggle"
    CLOSE = "close"


class SettingsChoice(CallbackData, prefix="set"):
    """A button in the settings message."""

    action: SettingsAction
    topic: str = ""
