"""Run the sandbox standalone: `python -m sandbox [--port 8080] [--places places.json]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from sandbox.core import Sandbox
from sandbox.server import server_port, start_server


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--token", default="123456:SANDBOX-TOKEN")
    parser.add_argument("--bot-username", default="bookbridge_bot")
    parser.add_argument(
        "--places", type=Path, help="JSON list of {name_en, name_zh, latitude, longitude}"
    )
    parser.add_argument(
        "--time-zone", help='show times on the page in this zone, like "Asia/Shanghai"'
    )
    parser.add_argument(
        "--no-flood-limits", action="store_true", help="do not emulate Telegram's rate limits"
    )
    return parser.parse_args()


async def _serve(arguments: argparse.Namespace) -> None:
    places: list[dict[str, Any]] | None = None
    if arguments.places is not None:
        places = json.loads(arguments.places.read_text(encoding="utf-8"))
    sandbox = Sandbox(
        arguments.token,
        bot_username=arguments.bot_username,
        flood_limits=not arguments.no_flood_limits,
    )
    runner = await start_server(
        sandbox, arguments.host, arguments.port, places, time_zone=arguments.time_zone
    )
    base = f"http://{arguments.host}:{server_port(runner)}"
    print(f"Sandbox web chat: {base}/", flush=True)
    print(f"Bot API base for aiogram: TelegramAPIServer.from_base({base!r})", flush=True)
    print(f"Bot token: {arguments.token}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    """Entry point of `python -m sandbox`."""
    arguments = _arguments()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(arguments))


if __name__ == "__main__":
    main()
