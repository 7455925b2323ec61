"""The `bookbridge` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.config import Settings, SettingsError, load_settings
from bot.migrate import SchemaBehindError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

Command = Callable[[argparse.Namespace, Settings], int]


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Polling logs every update at INFO; that is noise (and update contents stay out of logs).
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot with long polling."""
    from bot.app import build_application, create_bot, run_polling

    token = settings.require_token()
    api_base = args.api_base or settings.api_base
    app = build_application(settings)
    bot = create_bot(token, api_base=api_base)
    asyncio.run(run_polling(app, bot))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot on the local sandbox with a freshly seeded demo alliance."""
    from bot.demo_app import run_demo

    asyncio.run(run_demo(settings, host=args.host, port=args.port, directory=Path(args.dir)))
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
    run.set_defaults(handler=cmd_run)

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
