"""`bookbridge libraries connect` (SIP2, feed, manual) and `bookbridge ils status|item`.

Passwords given here are stored for the connector and never printed back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from bot.config import Settings

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def add_connect_options(connect: argparse.ArgumentParser) -> None:
    """The SIP2, feed and manual options of `libraries connect CODE`."""
    connect.add_argument("--sip2", metavar="HOST:PORT", help="the library's SIP2 server")
    connect.add_argument("--sip2-user", metavar="U", help="SIP2 login user (CN)")
    connect.add_argument(
        "--sip2-password", metavar="P", help="SIP2 login password (CO); '-' reads it from stdin"
    )
    connect.add_argument("--sip2-location", metavar="L", default="", help="location code (CP)")
    connect.add_argument(
        "--sip2-institution", metavar="I", default="", help="institution id (AO), if required"
    )
    connect.add_argument("--sip2-tls", action="store_true", help="connect with TLS")
    connect.add_argument(
        "--sip2-encoding", metavar="E", default="utf-8", help="character set (default utf-8)"
    )
    connect.add_argument(
        "--feed", metavar="URL", help="a CSV status file or URL: barcode,status,due date"
    )
    connect.add_argument(
        "--manual", action="store_true", help="librarians' commands only (forgets credentials)"
    )


def add_ils_commands(commands: Any) -> None:
    """The `ils` group (`libraries connect` takes `add_connect_options`)."""
    ils = commands.add_parser("ils", help="check the libraries' own systems")
    actions = ils.add_subparsers(dest="action", metavar="ACTION", required=True)
    status = actions.add_parser("status", help="log in and ask the system's status (one line)")
    status.add_argument("code", metavar="CODE")
    status.set_defaults(handler=cmd_ils_status)
    item = actions.add_parser("item", help="the live status of one copy")
    item.add_argument("code", metavar="CODE")
    item.add_argument("barcode", metavar="BARCODE")
    item.add_argument("--json", action="store_true", help="one JSON object")
    item.set_defaults(handler=cmd_ils_item)


def _fail(message: str) -> int:
    print(f"bookbridge: {message}", file=sys.stderr)
    return EXIT_FAILURE


async def _connect(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import _open_app
    from bot.services.errors import DomainError
    from bot.services.ils.connections import (
        Sip2Settings,
        connect_feed,
        connect_manual,
        connect_sip2,
        parse_address,
    )

    chosen = [name for name in ("sip2", "feed", "manual") if getattr(args, name)]
    if len(chosen) != 1:
        return _fail("give exactly one of --sip2 HOST:PORT, --feed URL or --manual")
    app = await _open_app(settings)
    try:
        async with app.sessionmaker() as session:
            try:
                if args.manual:
                    library = await connect_manual(session, args.code)
                    print(f"{library.code}: manual (librarians' commands); credentials erased")
                    return EXIT_OK
                if args.feed:
                    library = await connect_feed(session, args.code, args.feed)
                    print(f"{library.code}: connected through a status feed")
                    return EXIT_OK
                host, port = parse_address(args.sip2)
                if not args.sip2_user or not args.sip2_password:
                    return _fail("--sip2 needs --sip2-user and --sip2-password")
                password = args.sip2_password
                if password == "-":
                    password = (await asyncio.to_thread(sys.stdin.readline)).rstrip("\r\n")
                sip2 = Sip2Settings(
                    host=host,
                    port=port,
                    user=args.sip2_user,
                    password=password,
                    location=args.sip2_location,
                    institution=args.sip2_institution,
                    tls=args.sip2_tls,
                    encoding=args.sip2_encoding,
                )
                library = await connect_sip2(session, args.code, sip2)
            except DomainError as exc:
                return _fail(str(exc))
        tls = " over TLS" if sip2.tls else ""
        print(
            f"{library.code}: connected through SIP2 at {host}:{port}{tls} as {sip2.user}; "
            f"check it with `bookbridge ils status {library.code}`"
        )
        return EXIT_OK
    finally:
        await app.close()


def cmd_connect(args: argparse.Namespace, settings: Settings) -> int:
    """Store how a library's system is reached."""
    return asyncio.run(_connect(args, settings))


async def _with_connector(args: argparse.Namespace, settings: Settings, *, item: bool) -> int:
    from bot.cli import _open_app
    from bot.services.errors import DomainError
    from bot.services.ils.connections import connection_of
    from bot.services.ils.connectors import build_connector
    from bot.services.ils.sip2 import IlsError

    app = await _open_app(settings)
    try:
        async with app.sessionmaker() as session:
            try:
                library, connection = await connection_of(session, args.code)
            except DomainError as exc:
                return _fail(str(exc))
        connector = build_connector(
            connection, timeout=settings.ils_timeout_s, cache_s=settings.ils_cache_s
        )
        try:
            if not item:
                print(f"{library.code}: {await connector.check()}")
                return EXIT_OK
            state = await connector.copy_state(args.barcode)
        except IlsError as exc:
            return _fail(f"{library.code}: {exc}")
        finally:
            await connector.close()
        if args.json:
            print(json.dumps({"library": library.code, **state.as_json()}, ensure_ascii=False))
        else:
            status = state.status.value if state.status else f"unknown ({state.code})"
            due = f", due {state.due}" if state.due else ""
            title = f" — {state.title}" if state.title else ""
            print(f"{library.code} {state.barcode}: {status}{due}{title}")
        return EXIT_OK
    finally:
        await app.close()


def cmd_ils_status(args: argparse.Namespace, settings: Settings) -> int:
    """Log in to a library's system and print how it is, on one line."""
    return asyncio.run(_with_connector(args, settings, item=False))


def cmd_ils_item(args: argparse.Namespace, settings: Settings) -> int:
    """Print the live status of one copy."""
    return asyncio.run(_with_connector(args, settings, item=True))
