"""Router filters: onboarding done, roles."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.models import Reader, Role
from bot.services.roles import RoleSet


class Onboarded(Filter):
    """The reader has finished onboarding."""

    async def __call__(self, event: TelegramObject, reader: Reader | None = None, **_: Any) -> bool:
        return reader is not None and reader.onboarded_at is not None


class HasRole(Filter):
    """The reader holds the role (admins hold every role)."""

    def __init__(self, role: Role) -> None:
        self.role = role

    async def __call__(self, event: TelegramObject, roles: RoleSet | None = None, **_: Any) -> bool:
        return roles is not None and roles.has(self.role)
