"""The sandbox over HTTP: the Bot API aiogram speaks, a control API for tests, the web chat page."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiogram import types
from aiohttp import BodyPartReader, web

from sandbox.core import (
    ButtonNotFound,
    Sandbox,
    SandboxAPIError,
    SandboxError,
    UnknownMessage,
    UnknownUser,
    UploadedFile,
    UserBlockedBot,
    to_json,
)
from sandbox.formatting import render_html

WEB_DIR = Path(__file__).parent / "web"
SANDBOX_KEY = web.AppKey("sandbox", Sandbox)
PLACES_KEY = web.AppKey("places", list[dict[str, Any]])
MAX_BODY = 60 * 1024 * 1024
MAX_WAIT = 60.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ControlError(Exception):
    """A control API request that cannot be served; becomes a JSON error."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.details = details


def _error(status: int, message: str, **details: Any) -> web.Response:
    return web.json_response({"error": message, **details}, status=status)


@web.middleware
async def _control_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map sandbox errors on /sandbox/ routes to JSON errors with fitting statuses."""
    try:
        return await handler(request)
    except ControlError as error:
        return _error(error.status, str(error), **error.details)
    except ButtonNotFound as error:
        return _error(404, str(error), labels=error.labels)
    except (UnknownUser, UnknownMessage) as error:
        return _error(404, str(error))
    except UserBlockedBot as error:
        return _error(409, str(error))
    except SandboxError as error:
        return _error(400, str(error))


# ---------------------------------------------------------------- helpers


def _sandbox(request: web.Request) -> Sandbox:
    return request.app[SANDBOX_KEY]


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json() if request.can_read_body else {}
    except json.JSONDecodeError:
        raise ControlError(400, "the body must be JSON") from None
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise ControlError(400, f"{name} must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"{name} must be an integer") from None


def _float(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"{name} must be a number") from None


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ControlError(400, f"{name} must be a string")
    return value


def _base64(value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise ControlError(400, f"{name}.content_base64 is required")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ControlError(400, f"{name}.content_base64 is not base64") from None


def _user_id(request: web.Request) -> int:
    return _int(request.match_info["user_id"], "user id")


def user_view(sandbox: Sandbox, user: types.User) -> dict[str, Any]:
    """A user as the control API shows it."""
    return {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "language_code": user.language_code,
        "blocked": sandbox.is_blocked(user.id),
    }


def message_view(sandbox: Sandbox, message: types.Message) -> dict[str, Any]:
    """A chat message as the web page and tests read it."""
    text = message.text if message.text is not None else message.caption
    entities = message.entities if message.text is not None else message.caption_entities
    view: dict[str, Any] = {
        "message_id": message.message_id,
        "from": "bot" if sandbox.is_from_bot(message) else "user",
        "text": text,
        "html": render_html(text, entities) if text is not None else None,
        "edited": message.edit_date is not None,
        "date": round(message.date.timestamp()),
        "version": sandbox.chat_version(message.chat.id),
    }
    markup: Any = message.reply_markup or sandbox.sent_markup(message.chat.id, message.message_id)
    if markup is not None:
        view["reply_markup"] = to_json(markup)
    if message.document is not None:
        document = message.document
        view["document"] = {
            "file_name": document.file_name,
            "mime_type": document.mime_type,
            "file_size": document.file_size,
            "url": f"/sandbox/files/{document.file_id}",
        }
    if message.photo:
        largest = message.photo[-1]
        view["photo"] = {
            "url": f"/sandbox/files/{largest.file_id}",
            "width": largest.width,
            "height": largest.height,
        }
    if message.venue is not None:
        view["venue"] = to_json(message.venue)
    if message.location is not None:
        view["location"] = {
            "latitude": message.location.latitude,
            "longitude": message.location.longitude,
        }
    return view


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
    sandbox = _sandbox(request)
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
    sandbox = _sandbox(request)
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


# -------------------------------------------------------- control API


async def list_users(request: web.Request) -> web.Response:
    """GET /sandbox/users."""
    sandbox = _sandbox(request)
    return web.json_response({"users": [user_view(sandbox, user) for user in sandbox.users()]})


async def create_user(request: web.Request) -> web.Response:
    """POST /sandbox/users {"id", "first_name", "username"?, "last_name"?, "language_code"?}."""
    sandbox = _sandbox(request)
    body = await _json_body(request)
    first_name = body.get("first_name")
    if not isinstance(first_name, str) or not first_name.strip():
        raise ControlError(400, "first_name is required")
    user = sandbox.add_user(
        _int(body.get("id"), "id"),
        first_name.strip(),
        username=_optional_str(body, "username") or None,
        last_name=_optional_str(body, "last_name") or None,
        language_code=_optional_str(body, "language_code") or None,
    )
    return web.json_response(user_view(sandbox, user))


async def user_send(request: web.Request) -> web.Response:
    """POST /sandbox/users/{id}/send with text, location, document or photo."""
    sandbox = _sandbox(request)
    user_id = _user_id(request)
    body = await _json_body(request)
    if isinstance(body.get("text"), str):
        update = sandbox.send_text(user_id, body["text"])
    elif isinstance(body.get("location"), dict):
        location = body["location"]
        update = sandbox.send_location(
            user_id,
            _float(location.get("latitude"), "latitude"),
            _float(location.get("longitude"), "longitude"),
        )
    elif isinstance(body.get("document"), dict):
        document = body["document"]
        filename = document.get("filename")
        if not isinstance(filename, str) or not filename:
            raise ControlError(400, "document.filename is required")
        update = sandbox.send_document(
            user_id,
            filename,
            _base64(document.get("content_base64"), "document"),
            mime_type=_optional_str(document, "mime_type"),
            caption=_optional_str(document, "caption"),
        )
    elif isinstance(body.get("photo"), dict):
        photo = body["photo"]
        update = sandbox.send_photo(
            user_id,
            _base64(photo.get("content_base64"), "photo"),
            caption=_optional_str(photo, "caption"),
        )
    else:
        raise ControlError(400, "send one of text, location, document or photo")
    message = update.message
    assert message is not None
    return web.json_response({"update_id": update.update_id, "message_id": message.message_id})


async def user_press(request: web.Request) -> web.Response:
    """POST /sandbox/users/{id}/press {"message_id"?, "text" | "callback_data", "forge"?}."""
    sandbox = _sandbox(request)
    body = await _json_body(request)
    raw_message_id = body.get("message_id")
    message_id = None if raw_message_id is None else _int(raw_message_id, "message_id")
    callback_data = _optional_str(body, "callback_data")
    if body.get("forge") is True:
        if callback_data is None:
            raise ControlError(400, "a forged press needs callback_data")
        update = sandbox.forge_callback(_user_id(request), callback_data, message_id)
    else:
        update = sandbox.press(
            _user_id(request),
            message_id,
            text=_optional_str(body, "text"),
            callback_data=callback_data,
        )
    query = update.callback_query
    assert query is not None
    return web.json_response({"update_id": update.update_id, "callback_query_id": query.id})


async def user_inline(request: web.Request) -> web.Response:
    """POST /sandbox/users/{id}/inline {"query", "offset"?}: waits for answerInlineQuery."""
    sandbox = _sandbox(request)
    body = await _json_body(request)
    query = body.get("query")
    if not isinstance(query, str):
        raise ControlError(400, "query is required")
    timeout = min(_float(body.get("timeout", 5), "timeout"), MAX_WAIT)
    update = sandbox.inline_query(
        _user_id(request), query, offset=_optional_str(body, "offset") or ""
    )
    inline = update.inline_query
    assert inline is not None
    results = await sandbox.wait_for_inline_answer(inline.id, timeout)
    if results is None:
        raise ControlError(
            504, "the bot did not answer the inline query in time", inline_query_id=inline.id
        )
    return web.json_response(
        {"update_id": update.update_id, "inline_query_id": inline.id, "results": results}
    )


async def user_messages(request: web.Request) -> web.Response:
    """GET /sandbox/users/{id}/messages?after=ID[&wait=S][&version=V]: the chat, oldest first."""
    sandbox = _sandbox(request)
    user_id = _user_id(request)
    after = _int(request.query.get("after", 0), "after")
    wait = min(_float(request.query.get("wait", 0), "wait"), MAX_WAIT)
    raw_version = request.query.get("version")
    version = None if raw_version is None else _int(raw_version, "version")
    baseline = sandbox.chat_version(user_id) if version is None else version

    def ready() -> bool:
        return bool(sandbox.messages(user_id, after)) or sandbox.chat_version(user_id) > baseline

    if wait > 0:
        await sandbox.wait_until(ready, wait)
    since = version if version is not None else (baseline if wait > 0 else None)
    changed, deleted = sandbox.changes(user_id, after, since)
    keyboard = sandbox.reply_keyboard(user_id)
    return web.json_response(
        {
            "messages": [message_view(sandbox, message) for message in changed],
            "deleted": deleted,
            "version": sandbox.chat_version(user_id),
            "reply_keyboard": to_json(keyboard) if keyboard is not None else None,
        }
    )


async def user_block(request: web.Request) -> web.Response:
    """POST /sandbox/users/{id}/block."""
    sandbox = _sandbox(request)
    user_id = _user_id(request)
    sandbox.block(user_id)
    return web.json_response({"id": user_id, "blocked": True})


async def user_unblock(request: web.Request) -> web.Response:
    """POST /sandbox/users/{id}/unblock."""
    sandbox = _sandbox(request)
    user_id = _user_id(request)
    sandbox.unblock(user_id)
    return web.json_response({"id": user_id, "blocked": False})


async def callback_answer(request: web.Request) -> web.Response:
    """GET /sandbox/callback-answers/{id}[?wait=S]: what answerCallbackQuery said, or null."""
    sandbox = _sandbox(request)
    query_id = request.match_info["query_id"]
    wait = min(_float(request.query.get("wait", 0), "wait"), MAX_WAIT)
    answer = await sandbox.wait_for_callback_answer(query_id, wait)
    return web.json_response({"callback_query_id": query_id, "answer": answer})


async def add_fault(request: web.Request) -> web.Response:
    """POST /sandbox/faults {"method", "error_code", "retry_after"?, "description"?, "count"?}."""
    sandbox = _sandbox(request)
    body = await _json_body(request)
    method = body.get("method")
    if not isinstance(method, str) or not method:
        raise ControlError(400, "method is required")
    retry_after = body.get("retry_after")
    sandbox.add_fault(
        method,
        _int(body.get("error_code"), "error_code"),
        retry_after=None if retry_after is None else _int(retry_after, "retry_after"),
        description=_optional_str(body, "description"),
        count=_int(body.get("count", 1), "count"),
    )
    return web.json_response({"ok": True})


async def clear_faults(request: web.Request) -> web.Response:
    """DELETE /sandbox/faults."""
    _sandbox(request).clear_faults()
    return web.json_response({"ok": True})


async def flood_limits(request: web.Request) -> web.Response:
    """POST /sandbox/flood-limits {"enabled": bool}."""
    sandbox = _sandbox(request)
    enabled = (await _json_body(request)).get("enabled")
    if not isinstance(enabled, bool):
        raise ControlError(400, "enabled must be true or false")
    sandbox.flood_limits = enabled
    return web.json_response({"enabled": enabled})


async def wait_idle(request: web.Request) -> web.Response:
    """POST /sandbox/wait-idle {"timeout": S}: returns when the bot has gone quiet."""
    sandbox = _sandbox(request)
    body = await _json_body(request)
    timeout = min(_float(body.get("timeout", 10), "timeout"), MAX_WAIT)
    quiet = _float(body.get("quiet", 0.3), "quiet")
    if not await sandbox.wait_idle(timeout, quiet):
        raise ControlError(
            504,
            "the bot did not go idle in time",
            pending_updates=len(sandbox.pending_updates),
        )
    return web.json_response({"idle": True})


async def list_requests(request: web.Request) -> web.Response:
    """GET /sandbox/requests[?method=sendMessage]: the Bot API calls the bot made."""
    sandbox = _sandbox(request)
    method = request.query.get("method")
    records = [
        {
            "method": record.method,
            "params": record.params,
            "time": record.timestamp,
            "ok": record.ok,
            "outcome": record.outcome,
            "error_code": record.error_code,
            "description": record.description,
        }
        for record in sandbox.requests
        if method is None or record.method.lower() == method.lower()
    ]
    return web.json_response({"requests": records}, dumps=lambda v: json.dumps(v, default=str))


async def clear_requests(request: web.Request) -> web.Response:
    """DELETE /sandbox/requests: forget the request log."""
    _sandbox(request).requests.clear()
    return web.json_response({"ok": True})


async def list_places(request: web.Request) -> web.Response:
    """GET /sandbox/places: preset places for the page's location picker."""
    return web.json_response({"places": request.app[PLACES_KEY]})


async def stored_file(request: web.Request) -> web.StreamResponse:
    """GET /sandbox/files/{file_id}: a document or photo for the page."""
    stored = _sandbox(request).file(request.match_info["file_id"])
    if stored is None:
        raise ControlError(404, "no such file")
    response = web.Response(
        body=stored.content, content_type=stored.mime_type or "application/octet-stream"
    )
    if stored.file_name:
        quoted = stored.file_name.replace('"', "")
        response.headers["Content-Disposition"] = f'attachment; filename="{quoted}"'
    return response


# ------------------------------------------------------------ the page


async def index(request: web.Request) -> web.FileResponse:
    """The web chat page."""
    return web.FileResponse(WEB_DIR / "index.html")


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


def create_app(sandbox: Sandbox, *, places: list[dict[str, Any]] | None = None) -> web.Application:
    """The aiohttp application serving the Bot API, the control API and the web chat."""
    app = web.Application(client_max_size=MAX_BODY)
    app[SANDBOX_KEY] = sandbox
    app[PLACES_KEY] = _check_places(places)
    control = web.Application(middlewares=[_control_errors], client_max_size=MAX_BODY)
    control[SANDBOX_KEY] = sandbox
    control[PLACES_KEY] = app[PLACES_KEY]
    control.add_routes(
        [
            web.get("/users", list_users),
            web.post("/users", create_user),
            web.post("/users/{user_id}/send", user_send),
            web.post("/users/{user_id}/press", user_press),
            web.post("/users/{user_id}/inline", user_inline),
            web.get("/users/{user_id}/messages", user_messages),
            web.post("/users/{user_id}/block", user_block),
            web.post("/users/{user_id}/unblock", user_unblock),
            web.get("/callback-answers/{query_id}", callback_answer),
            web.post("/faults", add_fault),
            web.delete("/faults", clear_faults),
            web.post("/flood-limits", flood_limits),
            web.post("/wait-idle", wait_idle),
            web.get("/requests", list_requests),
            web.delete("/requests", clear_requests),
            web.get("/places", list_places),
            web.get("/files/{file_id}", stored_file),
        ]
    )
    app.add_subapp("/sandbox", control)
    app.add_routes(
        [
            web.route("*", "/bot{token}/{method}", bot_api),
            web.get("/file/bot{token}/{file_path:.+}", bot_file),
            web.get("/", index),
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
) -> web.AppRunner:
    """Serve the sandbox (port 0 picks a free port: see runner.addresses); cleanup() stops it."""
    runner = web.AppRunner(create_app(sandbox, places=places), shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner


def server_port(runner: web.AppRunner) -> int:
    """The port a runner from start_server listens on."""
    address = runner.addresses[0]
    return int(address[1])
