"""`bookbridge libraries connect CODE --oai-pmh URL` and `bookbridge harvest`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot.config import Settings

__all__ = ["add_connect_options", "add_harvest_command", "cmd_connect_oai"]

EXIT_OK = 0
EXIT_FAILURE = 1


async def _connect(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import _open_app
    from bot.services.errors import DomainError
    from bot.services.harvest.sources import connect

    if not args.oai_pmh:
        print("bookbridge: say where the catalogue comes from: --oai-pmh URL", file=sys.stderr)
        return EXIT_FAILURE
    app = await _open_app(settings)
    try:
        async with app.sessionmaker() as session:
            try:
                source = await connect(
                    session,
                    args.code,
                    args.oai_pmh,
                    prefix=args.metadata_prefix,
                    set_spec=args.set,
                )
            except DomainError as exc:
                print(f"bookbridge: {exc}", file=sys.stderr)
                return EXIT_FAILURE
            scope = f", set {source.set_spec}" if source.set_spec else ""
            print(
                f"{args.code.upper()}: harvests {source.url} ({source.metadata_prefix}{scope}); "
                "run `bookbridge harvest` to fetch its records"
            )
        return EXIT_OK
    finally:
        await app.close()


def cmd_connect_oai(args: argparse.Namespace, settings: Settings) -> int:
    """Connect a library to its OAI-PMH repository."""
    return asyncio.run(_connect(args, settings))


async def _harvest(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy import select

    from bot.cli import _open_app, _progress_bar
    from bot.models import HarvestSource, Library
    from bot.services.errors import DomainError
    from bot.services.harvest.run import harvest_library

    app = await _open_app(settings)
    failed = False
    try:
        async with app.sessionmaker() as session:
            codes = (
                [args.library]
                if args.library
                else list(
                    await session.scalars(
                        select(Library.code)
                        .join(HarvestSource, HarvestSource.library_id == Library.id)
                        .order_by(Library.code)
                    )
                )
            )
        if not codes:
            print(
                "bookbridge: no library is connected (bookbridge libraries connect CODE "
                "--oai-pmh URL)",
                file=sys.stderr,
            )
            return EXIT_FAILURE
        for code in codes:
            try:
                with _progress_bar(None, "rec", f"harvest {code}") as bar:
                    report = await harvest_library(
                        app.sessionmaker,
                        settings,
                        code,
                        full=args.full,
                        indexer=app.indexer,
                        progress=lambda done: bar.update(done - bar.n),
                    )
            except DomainError as exc:
                print(f"bookbridge: {exc}", file=sys.stderr)
                failed = True
                continue
            for problem in report.imported.problems[:20]:
                print(f"record {problem.record_number}: {problem.reason}", file=sys.stderr)
            if report.error is not None:
                print(
                    f"bookbridge: harvest of {report.library_code} stopped: {report.error}; "
                    "the next harvest resumes there",
                    file=sys.stderr,
                )
                failed = True
            print(report.summary())
        return EXIT_FAILURE if failed else EXIT_OK
    finally:
        await app.close()


def cmd_harvest(args: argparse.Namespace, settings: Settings) -> int:
    """Harvest what changed at the connected libraries' repositories."""
    return asyncio.run(_harvest(args, settings))


def add_connect_options(connect: argparse.ArgumentParser) -> None:
    """The OAI-PMH options of `bookbridge libraries connect CODE`."""
    from bot.services.harvest.formats import PREFIXES

    connect.add_argument("--oai-pmh", metavar="URL", help="the library's OAI-PMH base URL")
    connect.add_argument(
        "--metadata-prefix",
        choices=PREFIXES,
        default="marc21",
        help="the metadataPrefix to harvest (default marc21)",
    )
    connect.add_argument("--set", metavar="SET", help="harvest only this OAI set (setSpec)")


def add_harvest_command(commands: Any) -> None:
    """`bookbridge harvest [--library CODE] [--full]`."""
    harvest = commands.add_parser(
        "harvest", help="fetch what changed at connected libraries' OAI-PMH repositories"
    )
    harvest.add_argument("--library", metavar="CODE", help="only this library")
    harvest.add_argument(
        "--full", action="store_true", help="fetch every record, not only what changed"
    )
    harvest.set_defaults(handler=cmd_harvest)
