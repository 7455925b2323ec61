"""The `bookbridge` command line."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Settings, SettingsError, load_settings
from bot.harvest_cli import add_connect_options, add_harvest_command, cmd_connect_oai
from bot.ils_cli import add_connect_options as add_ils_connect_options
from bot.ils_cli import add_ils_commands
from bot.ils_cli import cmd_connect as cmd_connect_ils
from bot.migrate import SchemaBehindError

if TYPE_CHECKING:
    from bot.app import Application
    from bot.services.catalogue import WorkHit

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

Command = Callable[[argparse.Namespace, Settings], int]


def serve(main: Coroutine[Any, Any, None]) -> None:
    """Run a long-lived server coroutine on uvloop where it is installed (Linux, macOS).

    uvloop's event loop and transports take noticeably less CPU per update than asyncio's own.
    """
    try:
        import uvloop
    except ImportError:  # pragma: no cover - platforms without uvloop
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def _configure_logging(settings: Settings) -> None:
    from bot.operations import configure_logging

    # Text or JSON lines (LOG_FORMAT), each with the update and reader ids, never message text.
    configure_logging(settings.log_level, settings.log_format)
    # Polling logs every update at INFO; that is noise (and update contents stay out of logs).
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot with long polling, or serve a webhook with --webhook."""
    from bot.app import build_application, create_bot, run_polling

    token = settings.require_token()
    api_base = args.api_base or settings.api_base
    if args.webhook:
        from bot.webhook import run_webhook

        settings.require_webhook()
        app = build_application(settings)
        bot = create_bot(token, api_base=api_base, metrics=app.metrics)
        serve(run_webhook(app, bot, scheduler=not args.no_scheduler))
        return EXIT_OK
    app = build_application(settings)
    bot = create_bot(token, api_base=api_base, metrics=app.metrics)
    serve(run_polling(app, bot, scheduler=not args.no_scheduler))
    return EXIT_OK


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Run only the scheduler and the outbox delivery (no polling)."""
    from bot.app import build_application, create_bot, run_worker

    token = settings.require_token()
    app = build_application(settings)
    bot = create_bot(token, api_base=args.api_base or settings.api_base, metrics=app.metrics)
    serve(run_worker(app, bot))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot on the local sandbox with a freshly seeded demo alliance."""
    from bot.demo_app import run_demo

    serve(run_demo(settings, host=args.host, port=args.port, directory=Path(args.dir)))
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Upgrade the database to the newest schema."""
    from bot.migrate import upgrade

    upgrade(settings.database_url, args.revision)
    print(f"database at {args.revision}")
    return EXIT_OK


def cmd_makemigration(args: argparse.Namespace, settings: Settings) -> int:
    """(Developers) autogenerate a migration from the models."""
    from alembic import command

    from bot.migrate import alembic_config

    command.revision(alembic_config(settings.database_url), message=args.message, autogenerate=True)
    return EXIT_OK


# Problems printed on stderr by import-catalogue; the report file has them all.
SHOWN_PROBLEMS = 100


async def _open_app(settings: Settings) -> Application:
    from bot.app import build_application
    from bot.migrate import ensure_at_head

    app = build_application(settings)
    try:
        await ensure_at_head(app.engine)
    except BaseException:
        await app.close()
        raise
    return app


def _write_text(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")


def _progress_bar(total: int | None, unit: str, description: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, desc=description, file=sys.stderr, dynamic_ncols=True)


async def _import_catalogue(args: argparse.Namespace, settings: Settings) -> int:
    from bot.catalogue.reading import count_records
    from bot.catalogue.records import CatalogueFileError, ReadLimits
    from bot.services.catalogue_import.libraries import (
        UnknownLibraryError,
        find_library,
        set_holdings_map,
    )
    from bot.services.catalogue_import.report import report_text
    from bot.services.catalogue_import.run import import_catalogue
    from bot.services.errors import InvalidInputError

    path = Path(args.file)
    app = await _open_app(settings)
    try:
        started = datetime.now(UTC)
        try:
            async with app.sessionmaker() as session:
                await find_library(session, args.library)
                if args.holdings is not None:
                    await set_holdings_map(session, args.library, args.holdings)
            total = await asyncio.to_thread(count_records, path, format=args.format)
            limits = ReadLimits.of(
                unpacked_mb=settings.catalogue_max_unpacked_mb,
                field_kb=settings.catalogue_max_field_kb,
                line_kb=settings.catalogue_max_line_kb,
            )
            with _progress_bar(total, "rec", "import") as bar:
                report = await import_catalogue(
                    app.sessionmaker,
                    args.library,
                    path,
                    file_format=args.format,
                    copies=args.copies,
                    progress=lambda read: bar.update(read - bar.n),
                    read_limits=limits,
                    settings=settings,
                )
        except (UnknownLibraryError, InvalidInputError) as exc:
            print(f"bookbridge: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        except CatalogueFileError as exc:
            print(f"bookbridge: {path.name} was refused: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        stamp = started.strftime("%Y%m%d-%H%M%S")
        report_path = Path(args.report or f"var/reports/import-{report.library_code}-{stamp}.txt")
        await asyncio.to_thread(_write_text, report_path, report_text(report, started_at=started))
        for problem in report.problems[:SHOWN_PROBLEMS]:
            print(f"record {problem.record_number}: {problem.reason}", file=sys.stderr)
        if len(report.problems) > SHOWN_PROBLEMS:
            print(f"... {len(report.problems) - SHOWN_PROBLEMS} more", file=sys.stderr)
        print(report.summary())
        print(f"report: {report_path}")
        # Running instances catch up from the recorded changes on their own; this updates the
        # index in INDEX_DIR here (the same changes, applied once whoever gets there first).
        total = len(report.changed_work_ids)
        with _progress_bar(total, "work", "index") as bar:
            await app.indexer.catch_up(progress=lambda done: bar.update(min(done, total) - bar.n))
            bar.update(total - bar.n)
        return EXIT_OK
    finally:
        await app.close()


def cmd_import_catalogue(args: argparse.Namespace, settings: Settings) -> int:
    """Import a library's catalogue file, then update the search index for what changed."""
    return asyncio.run(_import_catalogue(args, settings))


async def _reindex(settings: Settings) -> int:
    from sqlalchemy import func, select

    from bot.models import Work

    app = await _open_app(settings)
    try:
        async with app.sessionmaker() as session:
            total = await session.scalar(select(func.count(Work.id))) or 0
        with _progress_bar(total, "work", "reindex") as bar:
            count = await app.indexer.rebuild(progress=lambda done: bar.update(done - bar.n))
        print(f"indexed {count} works into {settings.index_dir}")
        return EXIT_OK
    finally:
        await app.close()


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the search index from the database."""
    return asyncio.run(_reindex(settings))


def _hit_line(rank: int, hit: WorkHit) -> str:
    title = hit.title + (f" = {hit.original_title}" if hit.original_title else "")
    details = [", ".join(hit.authors[:3]), str(hit.year or ""), " ".join(hit.isbns[:2])]
    extra = " — ".join(part for part in details if part)
    return f"{rank:3d}. [{hit.work_id}] {title}" + (f" — {extra}" if extra else "")


async def _search(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.catalogue import search_works
    from search.index import IndexNotFoundError

    app = await _open_app(settings)
    try:
        single = args.query != "-"
        while True:
            line = args.query if single else await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return EXIT_OK
            query = line.strip()
            if query:
                try:
                    async with app.sessionmaker() as session:
                        hits = await search_works(
                            app.indexer.index, session, query, limit=args.limit
                        )
                except IndexNotFoundError:
                    print(
                        f"bookbridge: no search index in {settings.index_dir}: "
                        "run `bookbridge reindex`",
                        file=sys.stderr,
                    )
                    return EXIT_FAILURE
                if args.json:
                    hit_list = [dataclasses.asdict(hit) for hit in hits]
                    print(json.dumps({"query": query, "hits": hit_list}, ensure_ascii=False))
                else:
                    print(f"{query}: {len(hits)} hit(s)")
                    print("\n".join(_hit_line(rank, hit) for rank, hit in enumerate(hits, 1)))
                sys.stdout.flush()
            if single:
                return EXIT_OK
    finally:
        await app.close()


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    """Search the catalogue index and print the top works."""
    return asyncio.run(_search(args, settings))


async def _import_members(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db import create_engine, create_sessionmaker
    from bot.migrate import ensure_at_head
    from bot.services import members

    path = Path(args.file)
    try:
        csv_text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"bookbridge: cannot read {path} as UTF-8 text: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    engine = create_engine(settings.database_url)
    try:
        await ensure_at_head(engine)
        async with create_sessionmaker(engine)() as session:
            if args.entity == "districts":
                report = await members.import_districts(session, csv_text)
            else:
                report = await members.import_libraries(session, csv_text)
    finally:
        await engine.dispose()
    if not report.ok:
        print(report.describe(), file=sys.stderr)
        return EXIT_FAILURE
    print(report.describe())
    return EXIT_OK


def cmd_import_members(args: argparse.Namespace, settings: Settings) -> int:
    """Create or update districts or libraries from a CSV file, all or nothing."""
    return asyncio.run(_import_members(args, settings))


def cmd_connect(args: argparse.Namespace, settings: Settings) -> int:
    """`libraries connect`: where the catalogue is harvested from, the library's own system
    for live statuses and holds, or both at once."""
    own_system = bool(args.sip2 or args.feed or args.manual)
    if not args.oai_pmh and not own_system:
        print(
            "bookbridge: give --oai-pmh URL (the catalogue) and/or one of --sip2 HOST:PORT, "
            "--feed URL or --manual (the library's own system)",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    outcome = cmd_connect_oai(args, settings) if args.oai_pmh else EXIT_OK
    if own_system and outcome == EXIT_OK:
        outcome = cmd_connect_ils(args, settings)
    return outcome


def _add_catalogue_commands(commands: Any) -> None:
    """Member data, catalogue import, reindex and search."""
    for entity in ("districts", "libraries"):
        group = commands.add_parser(entity, help=f"manage {entity} (import from CSV)")
        actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
        member_import = actions.add_parser(
            "import", help=f"create or update {entity} from a CSV file (all or nothing)"
        )
        member_import.add_argument("file", metavar="FILE.csv")
        member_import.set_defaults(handler=cmd_import_members, entity=entity)
        if entity == "libraries":
            connect = actions.add_parser(
                "connect",
                help="connect a library's catalogue (OAI-PMH) or its own system (SIP2, feed)",
            )
            connect.add_argument("code", metavar="CODE", help="member library code")
            add_connect_options(connect)
            add_ils_connect_options(connect)
            connect.set_defaults(handler=cmd_connect)
    add_ils_commands(commands)

    catalogue = commands.add_parser(
        "import-catalogue",
        help="import a library's MARC 21, CNMARC/UNIMARC, MARCXML or CSV catalogue file",
    )
    catalogue.add_argument("--library", required=True, metavar="CODE", help="member library code")
    catalogue.add_argument("file", metavar="FILE", help="catalogue file (.xz and .gz are read too)")
    catalogue.add_argument(
        "--format",
        choices=("auto", "marc", "marcxml", "csv", "cnmarc", "unimarc"),
        default="auto",
        help="file format (default: detected from the content, record by record for MARC 21 "
        "and CNMARC/UNIMARC); cnmarc and unimarc read every record as UNIMARC, ISO 2709 or XML",
    )
    catalogue.add_argument(
        "--copies",
        type=int,
        default=1,
        metavar="N",
        help="copies per record that has no holdings (default 1; 0: bibliographic data only)",
    )
    catalogue.add_argument(
        "--holdings",
        metavar="SPEC",
        help="the library's own CNMARC holdings field, kept for later imports, e.g. "
        "'906 library=a barcode=f call=kd status=s due=n' ('none' clears it)",
    )
    catalogue.add_argument(
        "--report",
        metavar="PATH",
        help="problems report (default var/reports/import-CODE-TIMESTAMP.txt)",
    )
    catalogue.set_defaults(handler=cmd_import_catalogue)

    reindex = commands.add_parser("reindex", help="rebuild the search index from the database")
    reindex.set_defaults(handler=cmd_reindex)

    search = commands.add_parser("search", help="search the catalogue and print the top works")
    search.add_argument("--json", action="store_true", help="one JSON line per query")
    search.add_argument("--limit", type=int, default=10, metavar="N", help="works per query")
    search.add_argument(
        "query", metavar="QUERY", help="what to search for; '-': one per stdin line"
    )
    search.set_defaults(handler=cmd_search)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="bookbridge",
        description="Bookbridge: the reading alliance's Telegram bot. "
        "Settings come from BOOKBRIDGE_* environment variables and .env.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser("run", help="run the bot (long polling; needs BOOKBRIDGE_BOT_TOKEN)")
    run.add_argument(
        "--api-base", help="Bot API server URL (default: Telegram, or BOOKBRIDGE_API_BASE)"
    )
    run.add_argument(
        "--no-scheduler",
        action="store_true",
        help="do not run the scheduler and outbox delivery here (run `bookbridge worker`)",
    )
    run.add_argument(
        "--webhook",
        action="store_true",
        help="serve a webhook (BOOKBRIDGE_WEBHOOK_*) with /healthz and /metrics instead of polling",
    )
    run.set_defaults(handler=cmd_run)

    worker = commands.add_parser(
        "worker",
        help="run only the scheduler and outbox delivery (one leads, others stand by)",
    )
    worker.add_argument(
        "--api-base", help="Bot API server URL (default: Telegram, or BOOKBRIDGE_API_BASE)"
    )
    worker.set_defaults(handler=cmd_worker)

    demo = commands.add_parser(
        "demo", help="run against the local sandbox with demo data (no token needed)"
    )
    demo.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=8080, help="port of the web chat (default 8080)")
    demo.add_argument("--dir", default="var/demo", help="demo data folder, recreated each run")
    demo.set_defaults(handler=cmd_demo)

    migrate = commands.add_parser("migrate", help="upgrade the database schema")
    migrate.add_argument(
        "revision", nargs="?", default="head", help="target revision (default: head)"
    )
    migrate.set_defaults(handler=cmd_migrate)

    revision = commands.add_parser("makemigration", help="(developers) autogenerate a migration")
    revision.add_argument("message", help="what the migration changes")
    revision.set_defaults(handler=cmd_makemigration)
    _add_catalogue_commands(commands)
    add_harvest_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, load settings, run the command; exit 2 on a bad setting."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        _configure_logging(settings)
        handler: Command = args.handler
        return handler(args, settings)
    except SettingsError as exc:
        print(f"bookbridge: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SchemaBehindError as exc:
        print(f"bookbridge: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
