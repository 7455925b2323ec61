"""Typed callback data of the admin console; every class needs the admin role."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from aiogram.filters.callback_data import CallbackData

from bot.models import Role


class AdminMenu(CallbackData, prefix="adm"):
    """A section of the /admin menu (``menu`` shows the menu itself)."""

    required_role: ClassVar[Role] = Role.ADMIN

    section: str


class MemberEntity(StrEnum):
    """What a member console button is about."""

    DISTRICTS = "d"
    LIBRARIES = "l"


class MemberAction(StrEnum):
    """The buttons of the districts and libraries console."""

    LIST = "list"
    ADD = "add"
    EDIT = "edit"
    UPLOAD = "csv"
    DOWNLOAD = "export"
    IMPORT = "import"
    CANCEL = "cancel"
    SAVE = "save"
    KEEP = "keep"
    SKIP = "skip"
    KIND = "kind"
    DISTRICT = "dist"
    PICKUP = "pickup"


class MemberChoice(CallbackData, prefix="amb"):
    """Districts and libraries: list, add, edit, upload, download, wizard buttons."""

    required_role: ClassVar[Role] = Role.ADMIN

    action: MemberAction
    entity: MemberEntity
    value: str = ""
    page: int = 0


class SuggestionChoice(CallbackData, prefix="asg"):
    """Purchase suggestion review: list, open, approve at a library, decline, buying lists."""

    required_role: ClassVar[Role] = Role.ADMIN

    action: str
    suggestion_id: int = 0
    library_id: int = 0
    page: int = 0


class AuditNav(CallbackData, prefix="aud"):
    """A page of /audit, keeping its filters (an actor's reader id, an action)."""

    required_role: ClassVar[Role] = Role.ADMIN

    page: int
    actor: int = 0
    action: str = ""


class RoleChange(StrEnum):
    """Give a role, or take it away."""

    GRANT = "g"
    REVOKE = "r"


class RoleTarget(CallbackData, prefix="arl"):
    """The reader an admin meant by a @username several readers share (ids, never names)."""

    required_role: ClassVar[Role] = Role.ADMIN

    change: RoleChange
    reader: int
    role: Role
    library: int = 0


ADMIN_PREFIXES = (
    AdminMenu.__prefix__,
    MemberChoice.__prefix__,
    SuggestionChoice.__prefix__,
    AuditNav.__prefix__,
    RoleTarget.__prefix__,
)
