"""Reading the audit log: newest first, paged, filtered by actor or action."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import AuditLog, Reader
from bot.services.errors import InvalidInputError

__all__ = ["AuditEntry", "AuditPage", "audit_page", "check_action_filter"]

ACTION_FILTER_LIMIT = 32
_ACTION = re.compile(r"[a-z][a-z_]*(\.[a-z_]*)?")


@dataclass(frozen=True)
class AuditEntry:
    """One audit entry with its actor's name."""

    id: int
    created_at: datetime
    action: str
    actor_name: str | None
    actor_username: str | None
    actor_telegram_id: int | None
    target_type: str | None
    target_id: int | None
    details: dict[str, Any]


@dataclass(frozen=True)
class AuditPage:
    """A page of the audit log and where it sits."""

    entries: list[AuditEntry]
    page: int
    pages: int
    total: int


def check_action_filter(text: str) -> str:
    """An action (``role.grant``) or an area (``role`` or ``role.``) to filter by."""
    action = text.strip().lower()
    if len(action) > ACTION_FILTER_LIMIT or not _ACTION.fullmatch(action):
        raise InvalidInputError("action filter")
    return action


async def audit_page(
    session: AsyncSession,
    *,
    page: int,
    page_size: int,
    actor_id: int | None = None,
    action: str | None = None,
) -> AuditPage:
    """Entries newest first; ``action`` without a dot matches the whole area (``role``)."""
    conditions = []
    if actor_id is not None:
        conditions.append(AuditLog.actor_id == actor_id)
    if action:
        if "." in action and not action.endswith("."):
            conditions.append(AuditLog.action == action)
        else:
            area = action.rstrip(".")
            conditions.append((AuditLog.action == area) | AuditLog.action.startswith(area + "."))
    total = int(await session.scalar(select(func.count(AuditLog.id)).where(*conditions)) or 0)
    pages = max(1, -(-total // page_size))
    page = min(max(page, 0), pages - 1)
    rows = await session.execute(
        select(AuditLog, Reader)
        .outerjoin(Reader, Reader.id == AuditLog.actor_id)
        .where(*conditions)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .offset(page * page_size)
        .limit(page_size)
    )
    entries = [
        AuditEntry(
            id=entry.id,
            created_at=entry.created_at,
            action=entry.action,
            actor_name=actor.first_name if actor else None,
            actor_username=actor.username if actor else None,
            actor_telegram_id=actor.telegram_id if actor else None,
            target_type=entry.target_type,
            target_id=entry.target_id,
            details=dict(entry.details or {}),
        )
        for entry, actor in rows.all()
    ]
    return AuditPage(entries=entries, page=page, pages=pages, total=total)
