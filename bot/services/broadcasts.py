"""Broadcasts: who may address which readers, and queueing an announcement through the outbox.

Who may address whom:
* an organiser bound to libraries (``/grant @x organiser LIB``) addresses the followers of
  those libraries;
* an organiser without a library binding addresses nobody: followers chose a library, so
  only someone speaking for that library may write to them (an admin can bind the grant);
* an admin addresses the followers of any library, the readers of chosen districts, or
  everyone, and may mark a broadcast urgent.

Broadcasts are promotional (topic ``announcements``: quiet hours, frequency cap, opt-out,
an unsubscribe button) unless an admin marks one urgent, which makes it transactional.
Either way a broadcast goes at most once: a send that may have arrived (a timeout) is not
repeated, and the report counts it as unknown (see ``bot.services.outbox``).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import (
    Broadcast,
    BroadcastAudience,
    BroadcastStatus,
    District,
    Library,
    LibraryFollow,
    NotificationClass,
    Reader,
    Role,
)
from bot.services import audit
from bot.services.errors import DomainError, InvalidInputError, NotAllowedError
from bot.services.outbox import outcomes, queueing
from bot.services.outbox.messages import Button, OutboxMessage
from bot.services.outbox.outcomes import OutcomeCounts
from bot.services.outbox.queueing import Outgoing, Priority
from bot.services.roles import RoleSet

TOPIC = "announcements"
KIND = "broadcast"
TEXT_LIMIT = 4096
PLAIN_TEXT_LIMIT = 3500
URL_LIMIT = 500
LABEL_LIMIT = 40


class AlreadySentError(DomainError):
    """This draft was confirmed before (a double tap): it is not sent twice."""


@dataclass(frozen=True)
class Audience:
    """Followers of libraries, readers of districts (by id), or everyone."""

    kind: BroadcastAudience
    ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Rights:
    """The audiences one person may address."""

    libraries: frozenset[int] | None
    districts: bool = False
    everyone: bool = False
    urgent: bool = False

    @property
    def can_broadcast(self) -> bool:
        """Whether there is anyone this person may address."""
        return self.libraries is None or bool(self.libraries) or self.districts or self.everyone

    def may_address_library(self, library_id: int) -> bool:
        """Whether this person may write to the followers of the library."""
        return self.libraries is None or library_id in self.libraries


def rights_for(roles: RoleSet) -> Rights:
    """What an admin, an organiser (bound to libraries or not) or a reader may address."""
    if roles.is_admin:
        return Rights(libraries=None, districts=True, everyone=True, urgent=True)
    if Role.ORGANISER in roles.roles:
        return Rights(libraries=roles.organiser_for)
    return Rights(libraries=frozenset())


def check_audience(rights: Rights, audience: Audience) -> None:
    """Refuse an audience this person may not address (callback data can be forged)."""
    if audience.kind is BroadcastAudience.FOLLOWERS:
        if not audience.ids or not all(rights.may_address_library(i) for i in audience.ids):
            raise NotAllowedError("library")
    elif audience.kind is BroadcastAudience.DISTRICTS:
        if not rights.districts or not audience.ids:
            raise NotAllowedError("districts")
    elif not rights.everyone or audience.ids:
        raise NotAllowedError("everyone")


async def addressable_libraries(session: AsyncSession, rights: Rights) -> list[Library]:
    """The libraries whose followers this person may address, by code."""
    query = select(Library).order_by(Library.code)
    if rights.libraries is not None:
        query = query.where(Library.id.in_(sorted(rights.libraries)))
    return list(await session.scalars(query))


async def all_districts(session: AsyncSession) -> list[District]:
    """Every district, by code."""
    return list(await session.scalars(select(District).order_by(District.code)))


def _recipients(audience: Audience) -> Select[int]:
    query = select(Reader.id).where(Reader.onboarded_at.is_not(None))
    if audience.kind is BroadcastAudience.FOLLOWERS:
        query = query.where(
            Reader.id.in_(
                select(LibraryFollow.reader_id).where(
                    LibraryFollow.library_id.in_(list(audience.ids))
                )
            )
        )
    elif audience.kind is BroadcastAudience.DISTRICTS:
        query = query.where(Reader.district_id.in_(list(audience.ids)))
    return query


async def count_recipients(session: AsyncSession, audience: Audience) -> int:
    """How many readers the audience has now."""
    subquery = _recipients(audience).subquery()
    return await session.scalar(select(func.count()).select_from(subquery)) or 0


def parse_button(text: str) -> tuple[str | None, str]:
    """``https://...`` or ``Label https://...``: the optional label and the link."""
    parts = text.strip().rsplit(maxsplit=1)
    if not parts:
        raise InvalidInputError("empty")
    url = parts[-1]
    label = parts[0].strip() if len(parts) == 2 else None
    split = urlsplit(url)
    if split.scheme not in ("http", "https") or not split.netloc or len(url) > URL_LIMIT:
        raise InvalidInputError("url")
    if label is not None and len(label) > LABEL_LIMIT:
        raise InvalidInputError("label")
    return label, url


def check_text(html_text: str, plain_length: int) -> None:
    """A broadcast text must fit one Telegram message."""
    if not html_text.strip() or plain_length > PLAIN_TEXT_LIMIT or len(html_text) > TEXT_LIMIT:
        raise InvalidInputError("text")


@dataclass(frozen=True)
class Draft:
    """A broadcast as the wizard collected it; ``draft_key`` makes confirming idempotent."""

    audience: Audience
    text: Mapping[str, str]
    button_url: str | None = None
    button_label: Mapping[str, str] | str | None = None
    urgent: bool = False
    draft_key: str = ""

    def message(self) -> OutboxMessage:
        """What every recipient gets."""
        buttons: tuple[tuple[Button, ...], ...] = ()
        if self.button_url:
            buttons = ((Button(label=self.button_label or "🔗", url=self.button_url),),)
        return OutboxMessage(text={k: v for k, v in self.text.items() if v}, buttons=buttons)


def new_draft_key() -> str:
    """A random key for a new draft."""
    return secrets.token_hex(8)


async def create_broadcast(
    session: AsyncSession, author: Reader, rights: Rights, draft: Draft, *, now: datetime
) -> Broadcast:
    """Check the audience, then queue one message per recipient and commit."""
    check_audience(rights, draft.audience)
    if draft.urgent and not rights.urgent:
        raise NotAllowedError("urgent")
    if not draft.draft_key:
        raise InvalidInputError("draft_key")
    if await session.scalar(select(Broadcast.id).where(Broadcast.draft_key == draft.draft_key)):
        raise AlreadySentError(draft.draft_key)
    try:
        async with write(session):
            broadcast = await _queue(session, author, draft, now=now)
    except IntegrityError:
        # The same draft confirmed twice at once: the second one loses the unique key race.
        raise AlreadySentError(draft.draft_key) from None
    return broadcast


async def _queue(
    session: AsyncSession, author: Reader, draft: Draft, *, now: datetime
) -> Broadcast:
    message = draft.message()
    broadcast = Broadcast(
        author_id=author.id,
        draft_key=draft.draft_key,
        audience=draft.audience.kind,
        target_ids=list(draft.audience.ids),
        text=dict(message.text),
        button_url=draft.button_url,
        urgent=draft.urgent,
        status=BroadcastStatus.SENDING,
    )
    session.add(broadcast)
    await session.flush()
    reader_ids = list(await session.scalars(_recipients(draft.audience).order_by(Reader.id)))
    message_class = (
        NotificationClass.TRANSACTIONAL if draft.urgent else NotificationClass.PROMOTIONAL
    )
    await queueing.enqueue_many(
        session,
        (
            Outgoing(
                reader_id=reader_id,
                kind=KIND,
                message=message,
                dedup_key=f"broadcast:{broadcast.id}:{reader_id}",
                message_class=message_class,
                topic=TOPIC,
                priority=Priority.NORMAL if draft.urgent else Priority.BULK,
                broadcast_id=broadcast.id,
            )
            for reader_id in reader_ids
        ),
        now=now,
    )
    broadcast.recipients = len(reader_ids)
    audit.record(
        session,
        author,
        "broadcast.send",
        target_type="broadcast",
        target_id=broadcast.id,
        audience=draft.audience.kind.value,
        ids=list(draft.audience.ids),
        recipients=len(reader_ids),
        urgent=draft.urgent,
    )
    return broadcast


async def attach_status_message(
    session: AsyncSession, broadcast: Broadcast, *, chat_id: int, message_id: int, language: str
) -> None:
    """Remember the author's status message, which the progress job edits."""
    async with write(session):
        broadcast.status_chat_id = chat_id
        broadcast.status_message_id = message_id
        broadcast.status_language = language


async def active_broadcasts(session: AsyncSession) -> list[Broadcast]:
    """Broadcasts still being delivered, oldest first."""
    rows = await session.scalars(
        select(Broadcast).where(Broadcast.status == BroadcastStatus.SENDING).order_by(Broadcast.id)
    )
    return list(rows)


async def progress(session: AsyncSession, broadcast: Broadcast) -> OutcomeCounts:
    """Where the broadcast's messages stand (rows of readers who blocked the bot are settled)."""
    await outcomes.skip_broadcast_rows_of_blocked_readers(session, broadcast_id=broadcast.id)
    return await outcomes.outcome_counts(session, broadcast_id=broadcast.id)


def snapshot(counts: OutcomeCounts) -> dict[str, int]:
    """The counts as stored in ``Broadcast.reported``."""
    return {
        "queued": counts.queued,
        "sent": counts.sent,
        "failed": counts.failed,
        "blocked": counts.blocked,
        "skipped": counts.skipped,
        "unknown": counts.unknown,
    }


async def record_report(
    session: AsyncSession, broadcast: Broadcast, counts: OutcomeCounts, *, now: datetime
) -> None:
    """Store what the author was shown; a broadcast with nothing queued is done."""
    async with write(session):
        broadcast.reported = snapshot(counts)
        if counts.finished:
            broadcast.status = BroadcastStatus.DONE
            broadcast.finished_at = now
