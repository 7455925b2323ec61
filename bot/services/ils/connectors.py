"""One interface for every kind of library system: SIP2, a published status feed, or none."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp

from bot.models import IlsConnection, IlsKind, ItemStatus
from bot.services.ils.sip2 import (
    IlsError,
    IlsProtocolError,
    IlsUnreachableError,
    Sip2Endpoint,
    Sip2Session,
)

# SIP2 circulation status (Item Information, field 1) → the catalogue's copy status.
# 01 other and 02 on order say nothing Bookbridge can show: the stored status stands.
CIRCULATION_STATUS = {
    "03": ItemStatus.AVAILABLE,
    "04": ItemStatus.ON_LOAN,
    "05": ItemStatus.ON_LOAN,
    "06": ItemStatus.IN_TRANSIT,  # in process
    "07": ItemStatus.ON_LOAN,  # recalled
    "08": ItemStatus.HELD,  # waiting on the hold shelf
    "09": ItemStatus.IN_TRANSIT,  # waiting to be re-shelved
    "10": ItemStatus.IN_TRANSIT,
    "11": ItemStatus.MISSING,  # claimed returned
    "12": ItemStatus.MISSING,  # lost
    "13": ItemStatus.MISSING,
}
FEED_MAX_BYTES = 10 * 1024 * 1024
SIP2_POOL_SIZE = 4


@dataclass(frozen=True)
class CopyState:
    """What a library's system says about one copy, and when it said it."""

    barcode: str
    status: ItemStatus | None
    due: str | None
    checked_at: datetime
    title: str = ""
    code: str = ""  # the system's own status code (SIP2 circulation status)

    def as_json(self) -> dict[str, str | None]:
        return {
            "barcode": self.barcode,
            "status": self.status.value if self.status else None,
            "due": self.due,
            "title": self.title or None,
            "system_status": self.code or None,
            "checked_at": self.checked_at.isoformat(timespec="seconds"),
        }


@dataclass(frozen=True)
class HoldAnswer:
    """What a library's system said to a hold: taken or not, and its own words."""

    ok: bool
    queue_position: str | None
    message: str


@dataclass(frozen=True)
class PatronAnswer:
    """What a library's system says of a card and PIN (the PIN itself is not kept)."""

    known: bool
    pin_ok: bool
    blocked: bool
    expired: bool
    name: str
    message: str


# SIP2 patron status flags that stop a card from borrowing or holding: charge privileges
# denied, hold privileges denied, card reported lost.
BLOCKING_FLAGS = (0, 3, 4)


class Connector(Protocol):
    """A library's system as Bookbridge sees it."""

    kind: IlsKind
    live: bool  # whether it can tell a copy's status now

    async def check(self) -> str:
        """Log in and ask how the system is; one line (IlsError when it cannot)."""

    async def copy_state(self, barcode: str) -> CopyState:
        """The copy's status now (IlsError when the system cannot say)."""

    async def place_hold(
        self, patron: str, barcode: str, pickup: str, *, cancel: bool = False
    ) -> HoldAnswer:
        """Place (or withdraw) a hold on the copy for the patron (IlsError when it cannot be
        asked)."""

    async def patron(self, card: str, pin: str) -> PatronAnswer:
        """Check a card and its PIN (IlsError when it cannot be asked)."""

    async def close(self) -> None:
        """Release connections."""


class NoCirculation:
    """Systems Bookbridge only reads: no holds, no cards."""

    async def place_hold(
        self, patron: str, barcode: str, pickup: str, *, cancel: bool = False
    ) -> HoldAnswer:
        raise IlsError("this library's system takes no holds from Bookbridge")

    async def patron(self, card: str, pin: str) -> PatronAnswer:
        raise IlsError("this library's system cannot check cards for Bookbridge")


class ManualConnector(NoCirculation):
    """Today's way: librarians tell the bot what happens to copies."""

    kind = IlsKind.MANUAL
    live = False

    async def check(self) -> str:
        return "manual: librarians report what happens to copies (/checkin, /missing ...)"

    async def copy_state(self, barcode: str) -> CopyState:
        raise IlsError("this library has no connected system (manual)")

    async def close(self) -> None:
        return None


class Sip2Connector:
    """SIP2: a few logged-in sessions kept open, one request per session at a time."""

    kind = IlsKind.SIP2
    live = True

    def __init__(self, endpoint: Sip2Endpoint, *, timeout: float, pool_size: int = SIP2_POOL_SIZE):
        self.endpoint = endpoint
        self.timeout = timeout
        self._slots = asyncio.Semaphore(pool_size)
        self._idle: list[Sip2Session] = []

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Sip2Session]:
        """A logged-in session for one exchange (a new one when none is idle)."""
        async with self._slots:
            session = self._idle.pop() if self._idle else Sip2Session(self.endpoint, self.timeout)
            try:
                if not session.open:
                    await session.close()
                    await session.connect()
                yield session
            finally:
                if session.open:
                    self._idle.append(session)
                else:
                    await session.close()

    async def check(self) -> str:
        async with self.session() as session:
            status = await session.status()
        online = "online" if status.online_status == "Y" else "offline"
        name = status.library_name or status.institution_id or self.endpoint.address
        return f"sip2 {self.endpoint.address}: logged in; {name} is {online}"

    async def copy_state(self, barcode: str) -> CopyState:
        async with self.session() as session:
            answer = await session.item_information(barcode)
        if answer.item_identifier != barcode:
            raise IlsProtocolError(f"{self.endpoint.address} answered for another copy")
        return CopyState(
            barcode=barcode,
            status=CIRCULATION_STATUS.get(answer.circulation_status),
            due=answer.due_date or None,
            checked_at=datetime.now(UTC),
            title=answer.title_identifier,
            code=answer.circulation_status,
        )

    async def place_hold(
        self, patron: str, barcode: str, pickup: str, *, cancel: bool = False
    ) -> HoldAnswer:
        async with self.session() as session:
            answer = await session.hold(
                patron=patron, barcode=barcode, pickup=pickup, cancel=cancel
            )
        return HoldAnswer(
            ok=answer.ok == "1",
            queue_position=answer.queue_position,
            message=" ".join(answer.screen_message),
        )

    async def patron(self, card: str, pin: str) -> PatronAnswer:
        async with self.session() as session:
            answer = await session.patron_information(card, pin)
        message = " ".join(answer.screen_message)
        flags = answer.patron_status
        return PatronAnswer(
            known=answer.valid_patron != "N" and answer.patron_identifier == card,
            pin_ok=answer.valid_patron_password == "Y",
            blocked=any(flags[index] == "Y" for index in BLOCKING_FLAGS),
            expired="expired" in message.casefold(),
            name=answer.personal_name,
            message=message,
        )

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for session in idle:
            await session.close()


FEED_STATUS_WORDS = {status.value: status for status in ItemStatus} | {
    "on loan": ItemStatus.ON_LOAN,
    "in transit": ItemStatus.IN_TRANSIT,
    "checked out": ItemStatus.ON_LOAN,
    "charged": ItemStatus.ON_LOAN,
    "lost": ItemStatus.MISSING,
}


class FeedConnector(NoCirculation):
    """A status file the library's system publishes (CSV: barcode,status,due date)."""

    kind = IlsKind.FEED
    live = True

    def __init__(self, url: str, *, timeout: float, cache_s: float) -> None:
        self.url = url
        self.timeout = timeout
        self.cache_s = cache_s
        self._rows: dict[str, tuple[str, str]] = {}
        self._read_at: float | None = None
        self._read_when = datetime.now(UTC)
        self._lock = asyncio.Lock()

    async def _fetch(self) -> bytes:
        parts = urlsplit(self.url)
        if parts.scheme in ("http", "https"):
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            try:
                async with (
                    aiohttp.ClientSession(timeout=timeout) as client,
                    client.get(self.url) as response,
                ):
                    if response.status != 200:
                        raise IlsUnreachableError(f"the feed answered HTTP {response.status}")
                    body = await response.content.read(FEED_MAX_BYTES + 1)
            except (aiohttp.ClientError, TimeoutError):
                raise IlsUnreachableError("the feed could not be read") from None
        else:
            path = Path(parts.path if parts.scheme == "file" else self.url)
            try:
                body = await asyncio.to_thread(_read_head, path)
            except OSError as exc:
                raise IlsUnreachableError(f"the feed could not be read: {exc.strerror}") from None
        if len(body) > FEED_MAX_BYTES:
            raise IlsProtocolError("the feed is larger than 10 MB")
        return body

    async def _load(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._read_at is not None and now - self._read_at < self.cache_s:
                return
            body = await self._fetch()
            try:
                text = body.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise IlsProtocolError("the feed is not UTF-8 text") from None
            rows: dict[str, tuple[str, str]] = {}
            for row in csv.reader(io.StringIO(text)):
                if len(row) >= 2 and row[0].strip() and row[0].strip() != "barcode":
                    rows[row[0].strip()] = (row[1].strip(), row[2].strip() if len(row) > 2 else "")
            self._rows, self._read_at, self._read_when = rows, now, datetime.now(UTC)

    async def check(self) -> str:
        await self._load()
        return f"feed: {len(self._rows)} copies listed"

    async def copy_state(self, barcode: str) -> CopyState:
        await self._load()
        if barcode not in self._rows:
            raise IlsError("the feed does not list this copy")
        word, due = self._rows[barcode]
        return CopyState(
            barcode=barcode,
            status=FEED_STATUS_WORDS.get(word.lower()),
            due=due or None,
            checked_at=self._read_when,
            code=word,
        )

    async def close(self) -> None:
        return None


def _read_head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(FEED_MAX_BYTES + 1)


def endpoint_of(connection: IlsConnection) -> Sip2Endpoint:
    """The SIP2 endpoint a stored connection names."""
    return Sip2Endpoint(
        host=connection.host,
        port=connection.port,
        user=connection.username,
        password=connection.password,
        location=connection.location,
        institution=connection.institution,
        tls=connection.use_tls,
        encoding=connection.encoding,
    )


def build_connector(
    connection: IlsConnection | None, *, timeout: float, cache_s: float
) -> Connector:
    """The connector for a stored connection (manual when there is none)."""
    if connection is None or connection.kind is IlsKind.MANUAL:
        return ManualConnector()
    if connection.kind is IlsKind.FEED:
        return FeedConnector(connection.feed_url, timeout=timeout, cache_s=cache_s)
    return Sip2Connector(endpoint_of(connection), timeout=timeout)
