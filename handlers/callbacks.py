"""Typed callback data shared by the reader-facing routers (short prefixes, under 64 bytes)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.models import DbInt


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
