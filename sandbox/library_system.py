"""A member library's own system for tests, the benchmark and trials: pysip2's ACS server.

It runs on its own thread and event loop, on a real loopback TCP port, so it can be
stopped and started again while the bot keeps running.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import zlib
from dataclasses import dataclass, field

import anyio
from pysip2 import (
    HOLD,
    ITEM_INFORMATION,
    LOGIN,
    PATRON_INFORMATION,
    HoldRequest,
    HoldResponse,
    ItemInformationRequest,
    ItemInformationResponse,
    LoginRequest,
    LoginResponse,
    PatronInformationRequest,
    PatronInformationResponse,
    RequestContext,
    SIP2Server,
)

# The server logs each connection; kept out of the bot's logs (it runs on its own thread).
SERVER_LOG = logging.getLogger("sandbox.library_system")
SERVER_LOG.addHandler(logging.NullHandler())
SERVER_LOG.propagate = False

AVAILABLE = "03"
CHARGED = "04"
ON_HOLD_SHELF = "08"
MISSING = "13"


@dataclass
class Copy:
    title: str
    status: str = AVAILABLE
    due: str | None = None
    holds: list[str] = field(default_factory=list)  # patron ids, in order


@dataclass
class Patron:
    pin: str
    name: str
    blocked: bool = False
    expired: bool = False


class LibrarySystem:
    """An ILS with copies and patrons, speaking SIP2 through pysip2's server."""

    def __init__(
        self,
        *,
        user: str = "selfcheck",
        password: str = "s3cret-pw",
        institution: str = "CITY",
        delay: float = 0.0,
        every_barcode: bool = False,
    ) -> None:
        self.user = user
        # Answer for barcodes it was not given too (about 3 in 10 charged), for benchmarks.
        self.every_barcode = every_barcode
        self.password = password
        self.institution = institution
        self.delay = delay
        self.copies: dict[str, Copy] = {}
        self.patrons: dict[str, Patron] = {}
        self.logins: list[str] = []  # the user ids that tried to log in
        self.pickups: dict[str, str] = {}  # barcode → pickup location of its last hold
        self.requests = 0
        self.port = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.server = self._build()

    def _build(self) -> SIP2Server:
        server = SIP2Server(
            institution_id=self.institution,
            library_name="City Library ILS",
            login_required=True,
            error_detection="required",
            encoding="utf-8",
            logger=SERVER_LOG,
        )
        server.route(LOGIN)(self._login)
        server.route(ITEM_INFORMATION)(self._item_information)
        server.route(HOLD)(self._hold)
        server.route(PATRON_INFORMATION)(self._patron_information)
        return server

    async def _login(
        self, req: LoginRequest, ctx: RequestContext[LoginRequest, LoginResponse]
    ) -> LoginResponse:
        self.logins.append(req.login_user_id)
        ok = req.login_user_id == self.user and req.login_password == self.password
        return LoginResponse(ok="1" if ok else "0")

    async def _item_information(
        self,
        req: ItemInformationRequest,
        ctx: RequestContext[ItemInformationRequest, ItemInformationResponse],
    ) -> ItemInformationResponse:
        self.requests += 1
        if self.delay:
            await anyio.sleep(self.delay)
        copy = self.copies.get(req.item_identifier)
        if copy is None and self.every_barcode:
            charged = zlib.crc32(req.item_identifier.encode()) % 10 < 3
            copy = Copy(title=req.item_identifier, status=CHARGED if charged else AVAILABLE)
        return ItemInformationResponse(
            circulation_status=copy.status if copy else "01",
            security_marker="00",
            fee_type="01",
            transaction_date=ctx.now_18(),
            due_date=copy.due if copy else None,
            hold_queue_length=str(len(copy.holds)) if copy else None,
            item_identifier=req.item_identifier,
            title_identifier=copy.title if copy else "",
            screen_message=() if copy else ("Item not found",),
        )

    async def _hold(
        self, req: HoldRequest, ctx: RequestContext[HoldRequest, HoldResponse]
    ) -> HoldResponse:
        copy = self.copies.get(req.item_identifier or "")
        patron = self.patrons.get(req.patron_identifier)
        ok = copy is not None and patron is not None and not patron.blocked
        if ok and copy is not None:
            if req.hold_mode == "-":
                if req.patron_identifier in copy.holds:
                    copy.holds.remove(req.patron_identifier)
            elif req.patron_identifier not in copy.holds:
                copy.holds.append(req.patron_identifier)
                self.pickups[req.item_identifier or ""] = req.pickup_location or ""
        return HoldResponse(
            ok="1" if ok else "0",
            available="Y" if copy and copy.status == AVAILABLE else "N",
            transaction_date=ctx.now_18(),
            queue_position=str(len(copy.holds)) if ok and copy else None,
            pickup_location=req.pickup_location,
            institution_id=req.institution_id,
            patron_identifier=req.patron_identifier,
            item_identifier=req.item_identifier,
            screen_message=() if ok else ("Hold not allowed",),
        )

    async def _patron_information(
        self,
        req: PatronInformationRequest,
        ctx: RequestContext[PatronInformationRequest, PatronInformationResponse],
    ) -> PatronInformationResponse:
        patron = self.patrons.get(req.patron_identifier)
        pin_ok = patron is not None and req.patron_password == patron.pin
        denied = patron is not None and (patron.blocked or patron.expired)
        message = ("Card expired",) if patron is not None and patron.expired else ()
        return PatronInformationResponse(
            patron_status=("Y" if denied else " ") + " " * 13,
            language="001",
            transaction_date=ctx.now_18(),
            hold_items_count="0000",
            overdue_items_count="0000",
            charged_items_count="0000",
            fine_items_count="0000",
            recall_items_count="0000",
            unavailable_holds_count="0000",
            institution_id=req.institution_id,
            patron_identifier=req.patron_identifier,
            personal_name=patron.name if patron else "",
            valid_patron="Y" if patron is not None else "N",
            valid_patron_password="Y" if pin_ok else "N",
            screen_message=message,
        )

    # Circulation at the desk, as the library's staff would do it.
    def check_out(self, barcode: str, due: str = "20261220    235900") -> None:
        self.copies[barcode].status = CHARGED
        self.copies[barcode].due = due

    def check_in(self, barcode: str) -> None:
        self.copies[barcode].status = AVAILABLE
        self.copies[barcode].due = None

    # The server's life.
    def start(self) -> int:
        """Serve on loopback (the same port again after a stop); the port."""
        ready = threading.Event()

        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            async with self.server.start(port=self.port) as port:
                self.port = port
                ready.set()
                await self._stop.wait()

        self._thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the library system did not start")
        return self.port

    def stop(self) -> None:
        """Stop serving: new connections are refused, open ones are closed."""
        if self._loop is None or self._stop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        self._loop = self._stop = self._thread = None
        gc.collect()  # the listening socket goes with its loop
