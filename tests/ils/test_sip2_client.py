"""The SIP2 client against pysip2's ACS server over loopback TCP, and against bad servers."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.models import ItemStatus
from bot.services.ils.connectors import Sip2Connector
from bot.services.ils.sip2 import (
    IlsError,
    IlsLoginError,
    IlsProtocolError,
    IlsUnreachableError,
    Sip2Endpoint,
)
from sandbox.library_system import Copy, LibrarySystem
from tests.ils import bad_servers
from tests.ils.bad_servers import BadServer
from tests.ils.conftest import PASSWORD


def _endpoint(port: int, password: str = PASSWORD) -> Sip2Endpoint:
    return Sip2Endpoint(host="127.0.0.1", port=port, user="selfcheck", password=password)


async def test_status_and_item_information(library_system: LibrarySystem) -> None:
    library_system.copies["B1"] = Copy(title="紅樓夢")
    library_system.copies["B2"] = Copy(title="Xi you ji")
    library_system.check_out("B2")
    connector = Sip2Connector(_endpoint(library_system.port), timeout=2)
    try:
        line = await connector.check()
        assert (
            line == f"sip2 127.0.0.1:{library_system.port}: logged in; City Library ILS is online"
        )
        on_shelf = await connector.copy_state("B1")
        assert (on_shelf.status, on_shelf.title, on_shelf.code) == (
            ItemStatus.AVAILABLE,
            "紅樓夢",
            "03",
        )
        out = await connector.copy_state("B2")
        assert (out.status, out.due) == (ItemStatus.ON_LOAN, "20261220    235900")
        unknown = await connector.copy_state("NOPE")
        assert unknown.status is None  # "other": the system says nothing Bookbridge can show
    finally:
        await connector.close()
    # One login: the session was kept open and reused for every request.
    assert library_system.logins == ["selfcheck"]


async def test_requests_in_parallel_share_a_small_pool(library_system: LibrarySystem) -> None:
    for number in range(12):
        library_system.copies[f"P{number}"] = Copy(title=f"Copy {number}")
    library_system.delay = 0.05
    connector = Sip2Connector(_endpoint(library_system.port), timeout=2, pool_size=4)
    try:
        states = await asyncio.gather(*(connector.copy_state(f"P{n}") for n in range(12)))
    finally:
        await connector.close()
    assert [state.barcode for state in states] == [f"P{n}" for n in range(12)]
    assert len(library_system.logins) == 4


async def test_wrong_credentials_are_refused_in_one_line(
    library_system: LibrarySystem, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connector = Sip2Connector(_endpoint(library_system.port, "wrong-pw-123"), timeout=2)
    with pytest.raises(IlsLoginError) as refused:
        await connector.check()
    assert str(refused.value) == (
        f"127.0.0.1:{library_system.port} refused the login (user or password)"
    )
    assert "wrong-pw-123" not in caplog.text


@pytest.mark.parametrize(
    ("behaviour", "error", "message"),
    [
        (bad_servers.garbage, IlsProtocolError, "answered something that is not SIP2"),
        (bad_servers.truncated, IlsProtocolError, "closed the connection in the middle of an"),
        (bad_servers.wrong_checksum, IlsProtocolError, "answered with a wrong checksum"),
        (bad_servers.silent, IlsUnreachableError, "did not answer within 0.5 s"),
        (bad_servers.huge_line, IlsProtocolError, "sent an answer longer than 64 KB"),
    ],
)
async def test_bad_servers_give_one_clear_error(
    behaviour: bad_servers.Behaviour, error: type[IlsError], message: str
) -> None:
    with BadServer(behaviour) as server:
        connector = Sip2Connector(_endpoint(server.port), timeout=0.5)
        with pytest.raises(error) as failed:
            await connector.check()
        await connector.close()
    text = str(failed.value)
    assert message in text
    assert "\n" not in text and len(text) < 200


async def test_nobody_listening() -> None:
    with BadServer(bad_servers.garbage) as server:
        port = server.port
    connector = Sip2Connector(_endpoint(port), timeout=0.5)
    with pytest.raises(IlsUnreachableError, match=f"cannot connect to 127.0.0.1:{port}"):
        await connector.copy_state("B1")


def test_the_password_is_not_in_any_representation() -> None:
    endpoint = _endpoint(1)
    assert PASSWORD not in repr(endpoint)
