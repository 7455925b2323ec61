"""Typed notice intents: what happened, for whom, about what; never how it reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.models import NotificationClass, display_name
from bot.services.errors import InvalidInputError

# The key of an intent's kind in a stored ``Notification.payload``; rows without it are
# messages rendered when they were queued (the outbox's older shape, still delivered).
NOTICE_KEY = "notice"
DATA_KEY = "data"


class NoticeData(BaseModel):
    """The data one kind of notice shows; subclasses register a ``kind`` with ``notice_kind``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ClassVar[str]


class Names(BaseModel):
    """A name as the data has it: the original (often Chinese) and its English variant."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    name_en: str | None = None

    def in_language(self, language: str) -> str:
        """The name to show a reader of the language."""
        return display_name(self.name, self.name_en, language)


_KINDS: dict[str, type[NoticeData]] = {}
_Data = TypeVar("_Data", bound=type[NoticeData])


def notice_kind(kind: str) -> Callable[[_Data], _Data]:
    """Register a ``NoticeData`` class under its kind (at most 40 characters, unique)."""

    def register(cls: _Data) -> _Data:
        if not kind or len(kind) > 40:
            raise ValueError(f"a notice kind must be 1-40 characters: {kind!r}")
        if _KINDS.setdefault(kind, cls) is not cls:
            raise ValueError(f"notice kind {kind!r} is registered twice")
        cls.kind = kind
        return cls

    return register


def known_kinds() -> Mapping[str, type[NoticeData]]:
    """Every registered kind (those whose modules have been imported)."""
    return dict(_KINDS)


@dataclass(frozen=True)
class Notice:
    """One notice for one reader, as a service queues it (``outbox.enqueue_notices``)."""

    reader_id: int
    data: NoticeData
    dedup_key: str
    message_class: NotificationClass = NotificationClass.TRANSACTIONAL
    topic: str | None = None
    priority: int = 100
    not_before: datetime | None = None
    expires_at: datetime | None = None
    campaign_id: int | None = None
    broadcast_id: int | None = None

    @property
    def kind(self) -> str:
        """The kind the data was registered under."""
        return self.data.kind

    def payload(self) -> dict[str, Any]:
        """The JSON the outbox stores for it."""
        return payload_of(self.data)


def payload_of(data: NoticeData) -> dict[str, Any]:
    """The stored form of an intent's data (also used to redraw a pending notice)."""
    return {NOTICE_KEY: data.kind, DATA_KEY: data.model_dump(mode="json")}


def read_notice(payload: Mapping[str, Any]) -> NoticeData | None:
    """The intent a stored payload holds; None for a message rendered when it was queued."""
    kind = payload.get(NOTICE_KEY)
    if kind is None:
        return None
    cls = _KINDS.get(str(kind))
    if cls is None:
        raise InvalidInputError(f"unknown notice kind {kind!r}")
    try:
        return cls.model_validate(payload.get(DATA_KEY, {}))
    except ValidationError as exc:
        raise InvalidInputError(f"malformed {kind} notice: {exc.error_count()} error(s)") from exc


class DigestChallenge(BaseModel):
    """A challenge in the weekly digest: its title and the reader's progress."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: Names
    done: int
    goal: int


@notice_kind("reading.digest")
class WeeklyDigest(NoticeData):
    """The weekly reading digest: new arrivals near the reader, a pick, challenge progress."""

    arrivals: tuple[Names, ...] = ()
    pick: Names | None = None
    pick_work_id: int | None = None
    because: Names | None = None
    challenges: tuple[DigestChallenge, ...] = ()
    streak_weeks: int = 0


@notice_kind("reading.badge")
class BadgeEarned(NoticeData):
    """A reader earned a badge (``bot.services.reading.badges.Badge``'s value)."""

    badge: str
