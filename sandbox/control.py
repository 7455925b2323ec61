"""The control API under /sandbox/: users act, chats are read, faults are injected.

The web page drives the sandbox through it, and so can scripts and tests (see README.md).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox.core import Sandbox
from sandbox.errors import (
    ButtonNotFound,
    SandboxError,
    UnknownMessage,
    UnknownUser,
    UserBlockedBot,
)
from sandbox.links import link_target
from sandbox.serialise import to_json
from sandbox.views import message_view, user_view

SANDBOX_KEY = web.AppKey("sandbox", Sandbox)
PLACES_KEY = web.AppKey("places", list[dict[str, Any]])
TIME_ZONE_KEY = web.AppKey("time_zone", str)
MAX_WAIT = 60.0
MAX_BODY = 60 * 1024 * 1024

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
async def control_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
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


def _required_str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ControlError(400, f"{name} is required")
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


def _wait(request: web.Request, default: float = 0) -> float:
    return min(_float(request.query.get("wait", default), "wait"), MAX_WAIT)


# ------------------------------------------------------------------ users


async def page_settings(request: web.Request) -> web.Response:
    """GET /sandbox/settings: the bot's name and the time zone the page shows times in."""
    bot = _sandbox(request).bot_user
    return web.json_response(
        {
            "bot_username": bot.username,
            "bot_name": bot.first_name,
            "time_zone": request.app[TIME_ZONE_KEY] or None,
        }
    )


async def list_users(request: web.Request) -> web.Response:
    """GET /sandbox/users."""
    sandbox = _sandbox(request)
    return web.json_response({"users": [user_view(sandbox, user) for user in sandbox.users()]})


async def create_user(request: web.Request) -> web.Response:
    """POST /sandbox/users {"id", "first_name", "username"?, "last_name"?, "language_code"?,
    "persona"?}."""
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
        persona=_optional_str(body, "persona") or None,
    )
    return web.json_response(user_view(sandbox, user))


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


# ---------------------------------------------------------- user actions


def _send_content(sandbox: Sandbox, user_id: int, body: dict[str, Any]) -> Any:
    if isinstance(body.get("text"), str):
        return sandbox.send_text(user_id, body["text"])
    if isinstance(body.get("location"), dict):
        location = body["location"]
        return sandbox.send_location(
            user_id,
            _float(location.get("latitude"), "latitude"),
            _float(location.get("longitude"), "longitude"),
        )
    if isinstance(body.get("document"), dict):
        document = body["document"]
        filename = document.get("filename")
        if not isinstance(filename, str) or not filename:
            raise ControlError(400, "document.filename is required")
        return sandbox.send_document(
            user_id,
            filename,
            _base64(document.get("content_base64"), "document"),
            mime_type=_optional_str(document, "mime_type"),
            caption=_optional_str(document, "caption"),
        )
    if isinstance(body.get("photo"), dict):
        photo = body["photo"]
        return sandbox.send_photo(
            user_id,
            _base64(photo.get("content_base64"), "photo"),
            caption=_optional_str(photo, "caption"),
        )
    raise ControlError(400, "send one of text, location, document or photo")


async def user_send(request: web.Request) -> web.Response:
    """POST /sandbox/users/{id}/send with text, location, document or photo."""
    update = _send_content(_sandbox(request), _user_id(request), await _json_body(request))
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


async def user_open_link(request: web.Request) -> web.Response:
    """POST /sandbox/users/{id}/open-link {"url"}: tap a link as in Telegram; a deep link to the
    bot sends "/start PAYLOAD" as the user."""
    sandbox = _sandbox(request)
    user_id = _user_id(request)
    url = _required_str(await _json_body(request), "url")
    target = link_target(url, sandbox.bot_user.username or "")
    answer: dict[str, Any] = {"action": target.kind, "url": url}
    if target.command is not None:
        update = sandbox.send_text(user_id, target.command)
        assert update.message is not None
        answer.update(
            payload=target.payload,
            text=target.command,
            update_id=update.update_id,
            message_id=update.message.message_id,
        )
    elif target.kind == "share":
        sandbox.user(user_id)
        answer.update(share_url=target.share_url, share_text=target.share_text)
    else:
        sandbox.user(user_id)
    return web.json_response(answer)


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


async def user_choose_inline(request: web.Request) -> web.Response:
    """POST /sandbox/users/{id}/inline/choose {"inline_query_id", "result_id"}: send a result."""
    body = await _json_body(request)
    update = _sandbox(request).choose_inline_result(
        _user_id(request),
        _required_str(body, "inline_query_id"),
        _required_str(body, "result_id"),
    )
    assert update.message is not None
    return web.json_response(
        {"update_id": update.update_id, "message_id": update.message.message_id}
    )


# ------------------------------------------------------------ reading


async def user_messages(request: web.Request) -> web.Response:
    """GET /sandbox/users/{id}/messages?after=ID[&wait=S][&version=V]: the chat, oldest first."""
    sandbox = _sandbox(request)
    user_id = _user_id(request)
    after = _int(request.query.get("after", 0), "after")
    wait = _wait(request)
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


async def callback_answer(request: web.Request) -> web.Response:
    """GET /sandbox/callback-answers/{id}[?wait=S]: what answerCallbackQuery said, or null."""
    sandbox = _sandbox(request)
    query_id = request.match_info["query_id"]
    answer = await sandbox.wait_for_callback_answer(query_id, _wait(request))
    return web.json_response({"callback_query_id": query_id, "answer": answer})


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


# ------------------------------------------------------- faults and timing


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


def control_app(sandbox: Sandbox, places: list[dict[str, Any]], time_zone: str) -> web.Application:
    """The /sandbox/ sub-application."""
    control = web.Application(middlewares=[control_errors], client_max_size=MAX_BODY)
    control[SANDBOX_KEY] = sandbox
    control[PLACES_KEY] = places
    control[TIME_ZONE_KEY] = time_zone
    control.add_routes(
        [
            web.get("/settings", page_settings),
            web.get("/users", list_users),
            web.post("/users", create_user),
            web.post("/users/{user_id}/send", user_send),
            web.post("/users/{user_id}/press", user_press),
            web.post("/users/{user_id}/open-link", user_open_link),
            web.post("/users/{user_id}/inline", user_inline),
            web.post("/users/{user_id}/inline/choose", user_choose_inline),
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
    return control
