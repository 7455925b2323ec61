"""`bookbridge libraries connect` and `bookbridge ils status|item` against a library system."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.db import create_engine, create_sessionmaker
from bot.models import IlsConnection, IlsKind
from sandbox.library_system import Copy, LibrarySystem
from tests.factories import make_district, make_library
from tests.ils import bad_servers
from tests.ils.bad_servers import BadServer
from tests.ils.conftest import PASSWORD


async def _add_library(database_url: str) -> None:
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        await make_library(session, await make_district(session), code="CITY")
        await session.commit()
    await engine.dispose()


async def _connections(database_url: str) -> list[tuple[IlsKind, str, int, str, str]]:
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        rows = await session.scalars(select(IlsConnection))
        found = [(r.kind, r.host, r.port, r.username, r.password) for r in rows]
    await engine.dispose()
    return found


def _said(err: str) -> str:
    """What the command said on stderr, without the (DEBUG) log lines."""
    assert "Traceback" not in err
    return "".join(line + "\n" for line in err.splitlines() if not line[:4].isdigit())


def _connect(port: int, password: str = PASSWORD) -> list[str]:
    return [
        "libraries",
        "connect",
        "city",
        "--sip2",
        f"127.0.0.1:{port}",
        "--sip2-user",
        "selfcheck",
        "--sip2-password",
        password,
        "--sip2-location",
        "DESK1",
    ]


def test_connect_check_and_read_a_copy(
    cli_env: Path,
    database_url: str,
    library_system: LibrarySystem,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    asyncio.run(_add_library(database_url))
    library_system.copies["C1"] = Copy(title="紅樓夢")
    port = library_system.port

    assert main(_connect(port)) == 0
    out = capsys.readouterr().out
    assert out == (
        f"CITY: connected through SIP2 at 127.0.0.1:{port} as selfcheck; "
        "check it with `bookbridge ils status CITY`\n"
    )
    assert main(["ils", "status", "CITY"]) == 0
    assert capsys.readouterr().out == (
        f"CITY: sip2 127.0.0.1:{port}: logged in; City Library ILS is online\n"
    )
    assert main(["ils", "item", "CITY", "C1"]) == 0
    assert capsys.readouterr().out == "CITY C1: available — 紅樓夢\n"
    library_system.check_out("C1")
    assert main(["ils", "item", "CITY", "C1", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["status"] == "on_loan" and answer["due"] == "20261220    235900"
    assert answer["library"] == "CITY" and answer["system_status"] == "04"
    # Stored for the connector, never shown back nor logged.
    assert PASSWORD not in json.dumps(answer) and PASSWORD not in caplog.text
    [(kind, host, stored_port, user, password)] = asyncio.run(_connections(database_url))
    assert (kind, host, stored_port, user, password) == (
        IlsKind.SIP2,
        "127.0.0.1",
        port,
        "selfcheck",
        PASSWORD,
    )

    # Back to the librarians' commands: the credentials are erased.
    assert main(["libraries", "connect", "CITY", "--manual"]) == 0
    assert "credentials erased" in capsys.readouterr().out
    [(kind, host, _port, user, password)] = asyncio.run(_connections(database_url))
    assert (kind, host, user, password) == (IlsKind.MANUAL, "", "", "")
    assert main(["ils", "item", "CITY", "C1"]) == 1
    assert _said(capsys.readouterr().err) == (
        "bookbridge: CITY: this library has no connected system (manual)\n"
    )


def test_connect_refuses_bad_arguments_and_stores_nothing(
    cli_env: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_add_library(database_url))
    cases = [
        (["libraries", "connect", "CITY"], "one of --sip2 HOST:PORT, --feed URL or --manual"),
        (_connect(6001)[:5], "--sip2 needs --sip2-user and --sip2-password"),
        (
            [
                "libraries",
                "connect",
                "CITY",
                "--sip2",
                "host",
                "--sip2-user",
                "u",
                "--sip2-password",
                "p",
            ],
            "'host' is not HOST:PORT",
        ),
        ([*_connect(6001)[:2], "NOPE", *_connect(6001)[3:]], "no library has the code 'NOPE'"),
        (_connect(6001, "pa|ss"), "the SIP2 password must be at most 255 characters"),
        ([*_connect(6001), "--sip2-encoding", "klingon"], "unknown character encoding"),
    ]
    for argv, message in cases:
        assert main(argv) == 1, argv
        err = _said(capsys.readouterr().err)
        assert message in err and err.count("\n") == 1, err
        assert "pa|ss" not in err
    assert asyncio.run(_connections(database_url)) == []


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        (bad_servers.garbage, "answered something that is not SIP2"),
        (bad_servers.truncated, "closed the connection in the middle of an answer"),
        (bad_servers.wrong_checksum, "answered with a wrong checksum"),
        (bad_servers.silent, "did not answer within 1 s"),
        (bad_servers.huge_line, "sent an answer longer than 64 KB"),
        (None, "refused the login (user or password)"),
    ],
)
def test_a_bad_system_gives_one_line_and_writes_nothing(
    cli_env: Path,
    database_url: str,
    library_system: LibrarySystem,
    capsys: pytest.CaptureFixture[str],
    behaviour: bad_servers.Behaviour | None,
    message: str,
) -> None:
    asyncio.run(_add_library(database_url))
    if behaviour is None:  # wrong credentials, at the real server
        assert main(_connect(library_system.port, "not-the-password")) == 0
        capsys.readouterr()
        stored = asyncio.run(_connections(database_url))
        for command in (["ils", "status", "CITY"], ["ils", "item", "CITY", "C1"]):
            assert main(command) == 1
            out, logged = capsys.readouterr()
            assert PASSWORD not in logged
            err = _said(logged)
            assert out == "" and err.startswith("bookbridge: CITY: ") and message in err
            assert err.count("\n") == 1
        assert asyncio.run(_connections(database_url)) == stored
        return
    with BadServer(behaviour) as server:
        assert main(_connect(server.port)) == 0
        capsys.readouterr()
        stored = asyncio.run(_connections(database_url))
        for command in (["ils", "status", "CITY"], ["ils", "item", "CITY", "C1", "--json"]):
            assert main(command) == 1
            out, logged = capsys.readouterr()
            assert PASSWORD not in logged
            err = _said(logged)
            assert out == "" and err.startswith("bookbridge: CITY: ") and message in err, err
            assert err.count("\n") == 1
    assert asyncio.run(_connections(database_url)) == stored


def test_a_status_feed_library(
    cli_env: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_add_library(database_url))
    feed = cli_env / "status.csv"
    feed.write_text(
        "barcode,status,due\nF1,available,\nF2,on loan,2026-12-20\nF3,lost,\n", encoding="utf-8"
    )
    assert main(["libraries", "connect", "CITY", "--feed", str(feed)]) == 0
    assert capsys.readouterr().out == "CITY: connected through a status feed\n"
    assert main(["ils", "status", "CITY"]) == 0
    assert capsys.readouterr().out == "CITY: feed: 3 copies listed\n"
    assert main(["ils", "item", "CITY", "F2"]) == 0
    assert capsys.readouterr().out == "CITY F2: on_loan, due 2026-12-20\n"
    assert main(["ils", "item", "CITY", "F3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "missing"
    assert main(["ils", "item", "CITY", "NOPE"]) == 1
    assert _said(capsys.readouterr().err) == "bookbridge: CITY: the feed does not list this copy\n"
    feed.unlink()
    assert main(["ils", "status", "CITY"]) == 1
    assert "the feed could not be read" in _said(capsys.readouterr().err)
