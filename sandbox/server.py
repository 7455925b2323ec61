"""The sandbox over HTTP: the Bot API aiogram speaks, the control API (sandbox.control) and the
web chat page."""

from __future__ import annotations

import json
import zoneinfo
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from sandbox.control import MAX_BODY, SANDBOX_KEY, control_app
from sandbox.core import Sandbox
from sandbox.errors import SandboxAPIError
from sandbox.files import UploadedFile

WEB_DIR = Path(__file__).parent / "web"

# An open book on the page's blue, small enough to live here rather than as a package file.
FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
    '<rect x="2" y="2" width="60" height="60" rx="14" fill="#517da2"/>'
    '<path d="M12 20l19 4v24l-19-4zM52 20l-19 4v24l19-4z" fill="#fff"/>'
    '<path d="M16 28l11 2M16 33l11 2M16 38l11 2M48 28l-11 2M48 33l-11 2M48 38l-11 2" '
    'stroke="#517da2" stroke-width="2"/></svg>'
)


# ------------------------------------------------------------ Bot API


async def _read_bot_request(
    request: web.Request,
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    params: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if not request.can_read_body:
        return params, files
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise SandboxAPIError(400, "Bad Request: request body must be a JSON object")
        params.update(body)
    elif request.content_type == "multipart/form-data":
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                files[part.name] = UploadedFile(part.filename, bytes(await part.read()))
            else:
                params[part.name] = await part.text()
    else:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(value.filename, value.file.read())
            else:
                params[key] = value
    return params, files


async def bot_api(request: web.Request) -> web.Response:
    """/bot<token>/<method>: one Bot API call, answered with Telegram's JSON."""
    sandbox = request.app[SANDBOX_KEY]
    token = request.match_info["token"]
    method = request.match_info["method"]
    try:
        if token != sandbox.token:
            raise SandboxAPIError(401, "Unauthorized")
        try:
            params, files = await _read_bot_request(request)
        except (ValueError, json.JSONDecodeError):
            raise SandboxAPIError(400, "Bad Request: can't parse request body") from None
        result = await sandbox.call(method, params, files, token=token)
    except SandboxAPIError as error:
        return web.json_response(error.to_response(), status=error.error_code)
    return web.json_response({"ok": True, "result": result})


async def bot_file(request: web.Request) -> web.StreamResponse:
    """/file/bot<token>/<file_path>: download a file getFile pointed to."""
    sandbox = request.app[SANDBOX_KEY]
    if request.match_info["token"] != sandbox.token:
        return web.json_response(
            {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
        )
    stored = sandbox.file_by_path(request.match_info["file_path"])
    if stored is None:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )
    return web.Response(
        body=stored.content, content_type=stored.mime_type or "application/octet-stream"
    )


# ------------------------------------------------------------ the page


async def index(request: web.Request) -> web.FileResponse:
    """The web chat page."""
    return web.FileResponse(WEB_DIR / "index.html")


async def favicon(request: web.Request) -> web.Response:
    """/favicon.ico, which browsers ask for whatever the page says."""
    return web.Response(
        text=FAVICON_SVG,
        content_type="image/svg+xml",
        headers={"Cache-Control": "max-age=86400"},
    )


def _check_places(places: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    checked: list[dict[str, Any]] = []
    for place in places or []:
        missing = {"name_en", "name_zh", "latitude", "longitude"} - place.keys()
        if missing:
            raise ValueError(f"place {place!r} lacks {sorted(missing)}")
        checked.append(
            {
                "name_en": str(place["name_en"]),
                "name_zh": str(place["name_zh"]),
                "latitude": float(place["latitude"]),
                "longitude": float(place["longitude"]),
            }
        )
    return checked


def _check_time_zone(time_zone: str | None) -> str:
    if not time_zone:
        return ""
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{time_zone!r} is not an IANA time zone") from None
    return time_zone


def create_app(
    sandbox: Sandbox,
    *,
    places: list[dict[str, Any]] | None = None,
    time_zone: str | None = None,
) -> web.Application:
    """The aiohttp application serving the Bot API, the control API and the web chat.

    The page shows times in `time_zone` (the bot's, like "Asia/Shanghai"), else in the browser's.
    """
    app = web.Application(client_max_size=MAX_BODY)
    app[SANDBOX_KEY] = sandbox
    app.add_subapp(
        "/sandbox", control_app(sandbox, _check_places(places), _check_time_zone(time_zone))
    )
    app.add_routes(
        [
            web.route("*", "/bot{token}/{method}", bot_api),
            web.get("/file/bot{token}/{file_path:.+}", bot_file),
            web.get("/", index),
            web.get("/favicon.ico", favicon),
            web.static("/static/", WEB_DIR),
        ]
    )

    async def release_long_polls(_: web.Application) -> None:
        await sandbox.close()

    app.on_shutdown.append(release_long_polls)
    return app


async def start_server(
    sandbox: Sandbox,
    host: str = "127.0.0.1",
    port: int = 8080,
    places: list[dict[str, Any]] | None = None,
    *,
    time_zone: str | None = None,
) -> web.AppRunner:
    """Serve the sandbox (port 0 picks a free port: see runner.addresses); cleanup() stops it."""
    app = create_app(sandbox, places=places, time_zone=time_zone)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner


def server_port(runner: web.AppRunner) -> int:
    """The port a runner from start_server listens on."""
    address = runner.addresses[0]
    return int(address[1])
