"""Bot API objects as Telegram writes them in JSON."""

from __future__ import annotations

from typing import Any

from aiogram.client.default import Default
from pydantic import BaseModel


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _drop_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_drop_nulls(item) for item in value]
    return value


def to_json(value: Any) -> Any:
    """A Bot API object as Telegram serialises it (aliases like "from", no nulls)."""
    if isinstance(value, BaseModel):
        placeholders = False

        def omit(_: Any) -> None:
            nonlocal placeholders
            placeholders = True

        # Unresolved aiogram Default(...) placeholders have no JSON form; Telegram omits them.
        # They dump as null, so only then is the tree walked again to drop those nulls.
        dumped = value.model_dump(mode="json", exclude_none=True, by_alias=True, fallback=omit)
        return _drop_nulls(dumped) if placeholders else dumped
    if isinstance(value, list):
        return [to_json(item) for item in value]
    return value


def same(left: Any, right: Any) -> bool:
    """Whether two Bot API objects serialise alike (how Telegram decides "not modified")."""
    return bool(to_json(left) == to_json(right))


def unset(value: Any) -> Any:
    """None for an aiogram Default(...) placeholder the bot left unresolved."""
    return None if isinstance(value, Default) else value
