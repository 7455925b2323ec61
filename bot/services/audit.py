"""The audit log: who did what, for every admin, librarian and organiser action."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import AuditLog, Reader


def record(
    session: AsyncSession,
    actor: Reader | None,
    action: str,
    *,
    target_type: str | None = None,
    target_id: int | None = None,
    **details: Any,
) -> AuditLog:
    """Add an audit entry to the caller's unit of work (its ``write`` block commits it)."""
    entry = AuditLog(
        actor_id=actor.id if actor else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )
    session.add(entry)
    return entry
