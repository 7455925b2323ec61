"""Live copy statuses from the libraries' systems: a short cache, a deadline, a breaker each.

One ``LiveAvailability`` lives per process (the dispatcher holds it). It asks every
connected library of a card at once, nearest first, waits at most the deadline, and keeps
every answer as the copy's last known status so a slow or stopped system still shows
something, with its age.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from bot.config import Settings
from bot.models import IlsConnection
from bot.services.ils.connectors import Connector, CopyState, build_connector
from bot.services.ils.sip2 import IlsError, IlsUnreachableError

T = TypeVar("T")

# Last known statuses kept per process (the oldest are forgotten first).
CACHE_COPIES = 100_000
# Of a card's deadline, what is kept for reading the database and sending the card.
RENDER_MARGIN_S = 0.15


class BreakerState(enum.StrEnum):
    CLOSED = "closed"  # asking
    OPEN = "open"  # not asking until the cool-down ends
    HALF_OPEN = "half_open"  # one trial request is out


@dataclass
class LibraryLink:
    """One connected library's connector and how it has been answering."""

    code: str
    fingerprint: tuple[object, ...]
    connector: Connector
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0  # in a row
    opened_at: float = 0.0
    requests: int = 0
    errors: int = 0
    last_latency_s: float | None = None
    last_error: str | None = None

    @property
    def up(self) -> bool:
        return self.state is BreakerState.CLOSED and self.failures == 0


@dataclass(frozen=True)
class LiveCopy:
    """A copy's status from its library's system: fresh, or the last known one (with its age)."""

    state: CopyState
    fresh: bool


@dataclass(frozen=True)
class LiveRequest:
    """The copies of one connected library a card shows (nearest libraries come first)."""

    code: str
    connection: IlsConnection
    barcodes: Sequence[str]


@dataclass(eq=False)
class LiveAvailability:
    """The process's links to library systems, their breakers and the copies' last statuses."""

    deadline_s: float = 1.5
    timeout_s: float = 5.0
    cache_s: float = 30.0
    breaker_failures: int = 3
    breaker_cooldown_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    # Library-card link attempts per reader in the last hour (see services.ils.cards).
    card_attempts_per_hour: int = 5
    card_attempts: dict[int, deque[float]] = field(default_factory=dict)
    links: dict[int, LibraryLink] = field(default_factory=dict)
    _known: OrderedDict[tuple[int, str], tuple[float, CopyState]] = field(
        default_factory=OrderedDict
    )
    _closing: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveAvailability:
        return cls(
            deadline_s=settings.ils_deadline_s,
            timeout_s=settings.ils_timeout_s,
            cache_s=settings.ils_cache_s,
            breaker_failures=settings.ils_breaker_failures,
            breaker_cooldown_s=settings.ils_breaker_cooldown_s,
            card_attempts_per_hour=settings.ils_card_attempts_per_hour,
        )

    def link(self, code: str, connection: IlsConnection) -> LibraryLink:
        """The library's link, rebuilt when its stored connection changed."""
        fingerprint = (
            connection.kind,
            connection.host,
            connection.port,
            connection.username,
            connection.password,
            connection.location,
            connection.institution,
            connection.use_tls,
            connection.encoding,
            connection.feed_url,
        )
        current = self.links.get(connection.library_id)
        if current is None or current.fingerprint != fingerprint:
            if current is not None:
                # Closed in the background: the old connector may be mid-request.
                closing = asyncio.get_running_loop().create_task(current.connector.close())
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
            current = LibraryLink(
                code=code,
                fingerprint=fingerprint,
                connector=build_connector(connection, timeout=self.timeout_s, cache_s=self.cache_s),
            )
            self.links[connection.library_id] = current
        return current

    def _may_ask(self, link: LibraryLink) -> bool:
        if link.state is BreakerState.CLOSED:
            return True
        cooled = self.clock() - link.opened_at >= self.breaker_cooldown_s
        if link.state is BreakerState.OPEN and cooled:
            link.state = BreakerState.HALF_OPEN
            return True
        return False

    def _succeeded(self, link: LibraryLink, latency: float) -> None:
        link.requests += 1
        link.last_latency_s = latency
        link.failures = 0
        link.state = BreakerState.CLOSED

    def _failed(self, link: LibraryLink, reason: str) -> None:
        link.requests += 1
        link.errors += 1
        link.failures += 1
        link.last_error = reason
        if link.state is BreakerState.HALF_OPEN or link.failures >= self.breaker_failures:
            link.state = BreakerState.OPEN
            link.opened_at = self.clock()

    def _remember(self, library_id: int, state: CopyState) -> None:
        key = (library_id, state.barcode)
        self._known[key] = (self.clock(), state)
        self._known.move_to_end(key)
        while len(self._known) > CACHE_COPIES:
            self._known.popitem(last=False)

    def known(self, library_id: int, barcode: str) -> tuple[float, CopyState] | None:
        """The last status a library's system gave for a copy, with when (clock time)."""
        return self._known.get((library_id, barcode))

    async def _ask(self, library_id: int, link: LibraryLink, barcode: str) -> None:
        started = self.clock()
        try:
            state = await link.connector.copy_state(barcode)
        except IlsError as exc:
            self._failed(link, str(exc))
            return
        except asyncio.CancelledError:
            self._failed(link, f"no answer within the {self.deadline_s:g} s deadline")
            raise
        self._succeeded(link, self.clock() - started)
        self._remember(library_id, state)

    async def copies(
        self, requests: Sequence[LiveRequest], *, started: float | None = None
    ) -> dict[tuple[int, str], LiveCopy]:
        """Each copy's status: fresh from the cache or the system within the deadline (counted
        from ``started``, the card's start), else the last known one; copies never answered
        for are left out."""
        now = self.clock()
        budget = self.deadline_s - RENDER_MARGIN_S - (0.0 if started is None else now - started)
        tasks: list[asyncio.Task[None]] = []
        for request in requests:
            link = self.link(request.code, request.connection)
            library_id = request.connection.library_id
            stale = [
                barcode
                for barcode in request.barcodes
                if (seen := self.known(library_id, barcode)) is None
                or now - seen[0] >= self.cache_s
            ]
            if stale and self._may_ask(link):
                tasks.extend(
                    asyncio.create_task(self._ask(library_id, link, barcode)) for barcode in stale
                )
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=max(budget, 0.01))
            for task in pending:
                # Cancelled, not awaited: closing their connections must not hold the card.
                task.cancel()
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        answers: dict[tuple[int, str], LiveCopy] = {}
        asked_at, now = now, self.clock()
        for request in requests:
            library_id = request.connection.library_id
            for barcode in request.barcodes:
                seen = self.known(library_id, barcode)
                if seen is not None:
                    # Answered during this call, or recently enough.
                    fresh = seen[0] >= asked_at or now - seen[0] < self.cache_s
                    answers[library_id, barcode] = LiveCopy(state=seen[1], fresh=fresh)
        return answers

    async def ask(
        self,
        code: str,
        connection: IlsConnection,
        call: Callable[[Connector], Awaitable[T]],
        *,
        within_s: float,
    ) -> T:
        """One request (a hold, a card check) through the library's link and its breaker."""
        link = self.link(code, connection)
        if not self._may_ask(link):
            raise IlsUnreachableError(f"{code}: not asked, its system failed too often lately")
        started = self.clock()
        try:
            async with asyncio.timeout(within_s):
                result = await call(link.connector)
        except TimeoutError:
            self._failed(link, f"no answer within {within_s:g} s")
            raise IlsUnreachableError(f"{code}: no answer within {within_s:g} s") from None
        except IlsError as exc:
            self._failed(link, str(exc))
            raise
        self._succeeded(link, self.clock() - started)
        return result

    def health(self) -> dict[str, dict[str, object]]:
        """Per connected library: up or down, the breaker, latency and errors (for /healthz)."""
        return {
            link.code: {
                "up": link.up,
                "kind": link.connector.kind.value,
                "breaker": link.state.value,
                "latency_ms": None
                if link.last_latency_s is None
                else round(link.last_latency_s * 1000, 1),
                "requests": link.requests,
                "errors": link.errors,
                "last_error": link.last_error,
            }
            for link in self.links.values()
        }

    def collect(self) -> Iterator[Metric]:
        """Prometheus metrics per library (registered as a collector)."""
        up = GaugeMetricFamily(
            "bookbridge_ils_up", "1 while a library's system answers", labels=["library"]
        )
        latency = GaugeMetricFamily(
            "bookbridge_ils_latency_seconds",
            "The last answer's time from a library's system",
            labels=["library"],
        )
        requests = CounterMetricFamily(
            "bookbridge_ils_requests", "Requests to a library's system", labels=["library"]
        )
        errors = CounterMetricFamily(
            "bookbridge_ils_errors", "Failed requests to a library's system", labels=["library"]
        )
        for link in self.links.values():
            up.add_metric([link.code], 1 if link.up else 0)
            if link.last_latency_s is not None:
                latency.add_metric([link.code], link.last_latency_s)
            requests.add_metric([link.code], link.requests)
            errors.add_metric([link.code], link.errors)
        yield from (up, latency, requests, errors)

    async def close(self) -> None:
        """Close every connection to the libraries' systems."""
        links, self.links = list(self.links.values()), {}
        for link in links:
            await link.connector.close()
