"""A SIP2 client (the self-check side) on asyncio streams, framed by pysip2's codec.

Every request carries a sequence number and a checksum (``AY``/``AZ``); an answer whose
checksum does not verify is asked for again once (``97``), then refused. Nothing here
logs a password, a PIN or a frame.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from pysip2 import (
    ACSStatusResponse,
    HoldRequest,
    HoldResponse,
    ItemInformationRequest,
    ItemInformationResponse,
    LoginRequest,
    LoginResponse,
    PatronInformationRequest,
    PatronInformationResponse,
    RequestACSResend,
    RequestSCResend,
    SCStatusRequest,
    SIP2ChecksumError,
    SIP2Error,
    SIPMessage,
    decode_message,
    encode_message,
)

# The longest answer taken: SIP2 fields are at most 255 bytes, a long patron answer fits.
MAX_FRAME_BYTES = 64 * 1024
BLANK_TIMEZONE = "    "
AnswerT = TypeVar("AnswerT", bound=SIPMessage)


class IlsError(Exception):
    """The library system could not answer; the message is one line for people."""


class IlsUnreachableError(IlsError):
    """No connection: refused, unknown host, timed out, or closed."""


class IlsProtocolError(IlsError):
    """The library system answered something that is not the SIP2 answer expected."""


class IlsLoginError(IlsError):
    """The library system refused the login (user, password or location)."""


@dataclass(frozen=True)
class Sip2Endpoint:
    """Where and how to reach one library's SIP2 server (the password is never shown)."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    location: str = ""
    institution: str = ""
    tls: bool = False
    encoding: str = "utf-8"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def transaction_date(now: datetime | None = None) -> str:
    """SIP2's 18-character date: YYYYMMDD, a blank zone (local time), HHMMSS."""
    now = now or datetime.now()
    return now.strftime("%Y%m%d") + BLANK_TIMEZONE + now.strftime("%H%M%S")


class Sip2Session:
    """One logged-in SIP2 connection; one request at a time (callers hold ``lock``)."""

    def __init__(self, endpoint: Sip2Endpoint, timeout: float) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self.lock = asyncio.Lock()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._sequence = 0
        # A session whose exchange was cut off mid-frame cannot be trusted again.
        self.broken = False

    @property
    def open(self) -> bool:
        return self._writer is not None and not self.broken

    async def connect(self) -> None:
        """Open the TCP (or TLS) connection and log in."""
        endpoint = self.endpoint
        context = ssl.create_default_context() if endpoint.tls else None
        try:
            async with asyncio.timeout(self.timeout):
                self._reader, self._writer = await asyncio.open_connection(
                    endpoint.host, endpoint.port, ssl=context, limit=MAX_FRAME_BYTES
                )
        except TimeoutError:
            raise IlsUnreachableError(f"{endpoint.address} did not accept a connection") from None
        except (OSError, ssl.SSLError) as exc:
            reason = exc.strerror or type(exc).__name__ if isinstance(exc, OSError) else "TLS"
            raise IlsUnreachableError(f"cannot connect to {endpoint.address}: {reason}") from None
        self.broken = False
        answer = await self.exchange(
            LoginRequest(
                uid_algorithm="0",
                pwd_algorithm="0",
                login_user_id=endpoint.user,
                login_password=endpoint.password,
                location_code=endpoint.location or None,
            ),
            LoginResponse,
        )
        if answer.ok != "1":
            await self.close()
            raise IlsLoginError(f"{endpoint.address} refused the login (user or password)")

    async def close(self) -> None:
        """Close the connection (quietly: the other side may be gone)."""
        writer, self._writer, self._reader = self._writer, None, None
        if writer is None:
            return
        writer.close()
        try:
            async with asyncio.timeout(1):
                await writer.wait_closed()
        except (OSError, TimeoutError, ssl.SSLError):
            pass

    def _next_sequence(self) -> int:
        self._sequence = (self._sequence + 1) % 10
        return self._sequence

    async def _read_frame(self) -> bytes:
        assert self._reader is not None
        try:
            return await self._reader.readuntil(b"\r")
        except asyncio.LimitOverrunError:
            raise IlsProtocolError(
                f"{self.endpoint.address} sent an answer longer than {MAX_FRAME_BYTES // 1024} KB"
            ) from None
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise IlsProtocolError(
                    f"{self.endpoint.address} closed the connection in the middle of an answer"
                ) from None
            raise IlsUnreachableError(f"{self.endpoint.address} closed the connection") from None

    def _decode(self, frame: bytes) -> tuple[SIPMessage, int | None]:
        try:
            decoded = decode_message(frame, encoding=self.endpoint.encoding)
        except SIP2ChecksumError:
            raise
        except (SIP2Error, UnicodeDecodeError, LookupError) as exc:
            raise IlsProtocolError(
                f"{self.endpoint.address} answered something that is not SIP2 ({exc})"
            ) from None
        return decoded.message, decoded.sequence_number

    async def _send(self, frame: bytes) -> None:
        assert self._writer is not None
        self._writer.write(frame)
        await self._writer.drain()

    async def _answer(self, sequence: int) -> SIPMessage:
        """Read the answer to ``sequence``, asking once for a resend of a damaged one."""
        for attempt in range(2):
            frame = await self._read_frame()
            try:
                message, answered = self._decode(frame)
            except SIP2ChecksumError:
                if attempt:
                    break
                await self._send(encode_message(RequestACSResend(), checksum=True))
                continue
            if isinstance(message, RequestSCResend):
                raise IlsProtocolError(f"{self.endpoint.address} could not read our request")
            if answered is not None and answered != sequence:
                raise IlsProtocolError(f"{self.endpoint.address} answered another request")
            return message
        raise IlsProtocolError(f"{self.endpoint.address} answered with a wrong checksum")

    async def exchange(self, request: SIPMessage, expected: type[AnswerT]) -> AnswerT:
        """Send one request and return its answer of type ``expected``."""
        if self._writer is None:
            raise IlsUnreachableError(f"{self.endpoint.address}: not connected")
        sequence = self._next_sequence()
        try:
            frame = encode_message(
                request, sequence_number=sequence, checksum=True, encoding=self.endpoint.encoding
            )
        except (SIP2Error, UnicodeEncodeError) as exc:
            raise IlsProtocolError(f"cannot write this request in SIP2: {exc}") from None
        self.broken = True  # until the answer is read in full
        try:
            async with asyncio.timeout(self.timeout):
                await self._send(frame)
                message = await self._answer(sequence)
        except TimeoutError:
            await self.close()
            raise IlsUnreachableError(
                f"{self.endpoint.address} did not answer within {self.timeout:g} s"
            ) from None
        except (OSError, ssl.SSLError):
            await self.close()
            raise IlsUnreachableError(f"{self.endpoint.address} dropped the connection") from None
        except IlsError:
            await self.close()
            raise
        if not isinstance(message, expected):
            await self.close()
            raise IlsProtocolError(
                f"{self.endpoint.address} answered {type(message).__name__} "
                f"instead of {expected.__name__}"
            )
        self.broken = False
        return message

    async def status(self) -> ACSStatusResponse:
        """SC Status (99) → ACS Status (98)."""
        return await self.exchange(
            SCStatusRequest(status_code="0", max_print_width="080", protocol_version="2.00"),
            ACSStatusResponse,
        )

    async def item_information(self, barcode: str) -> ItemInformationResponse:
        """Item Information (17) → (18)."""
        return await self.exchange(
            ItemInformationRequest(
                transaction_date=transaction_date(),
                institution_id=self.endpoint.institution,
                item_identifier=barcode,
                terminal_password=self.endpoint.password,
            ),
            ItemInformationResponse,
        )

    async def hold(
        self, *, patron: str, barcode: str, pickup: str, cancel: bool = False
    ) -> HoldResponse:
        """Hold (15) → (16): place (``+``) or cancel (``-``) a hold on a copy."""
        return await self.exchange(
            HoldRequest(
                hold_mode="-" if cancel else "+",
                transaction_date=transaction_date(),
                pickup_location=pickup or None,
                institution_id=self.endpoint.institution,
                patron_identifier=patron,
                item_identifier=barcode,
                terminal_password=self.endpoint.password,
            ),
            HoldResponse,
        )

    async def patron_information(self, card: str, pin: str) -> PatronInformationResponse:
        """Patron Information (63) → (64), with the PIN checked by the library system."""
        return await self.exchange(
            PatronInformationRequest(
                language="001",
                transaction_date=transaction_date(),
                summary=" " * 10,
                institution_id=self.endpoint.institution,
                patron_identifier=card,
                terminal_password=self.endpoint.password,
                patron_password=pin,
            ),
            PatronInformationResponse,
        )
