"""In-memory Telegram for one bot: users, private chats, messages, updates, files and faults."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hashlib
import inspect
import itertools
import json
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import UnionType
from typing import Annotated, Any, Literal, NamedTuple, Union, get_args, get_origin

import aiohttp
from aiogram import methods, types
from aiogram.client.default import Default
from aiogram.methods.base import TelegramMethod
from pydantic import BaseModel, ValidationError

from sandbox.formatting import (
    EntityParseError,
    FormattedText,
    detect_entities,
    parse_html,
    strip_text,
    utf16_len,
)
from sandbox.media import guess_mime_type, image_content_type, image_size

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
UPLOAD_LIMIT = 50 * 1024 * 1024
DOWNLOAD_LIMIT = 20 * 1024 * 1024
WEBHOOK_TIMEOUT = 30.0
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
UPDATE_TYPES = [name for name in types.Update.model_fields if name != "update_id"]
# Telegram leaves these out unless a bot asks for them by name.
DEFAULT_ALLOWED_UPDATES = [
    name
    for name in UPDATE_TYPES
    if name not in {"chat_member", "message_reaction", "message_reaction_count"}
]
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
REPLY_BUTTON_ACTIONS = (
    "request_location",
    "request_contact",
    "request_poll",
    "request_users",
    "request_chat",
    "request_managed_bot",
    "web_app",
)

MethodModel = type[TelegramMethod[Any]]
ChatMarkup = types.ReplyKeyboardMarkup | types.ReplyKeyboardRemove | types.ForceReply


def _method_registry() -> dict[str, MethodModel]:
    registry: dict[str, MethodModel] = {}
    for name in methods.__all__:
        candidate = getattr(methods, name)
        if (
            inspect.isclass(candidate)
            and issubclass(candidate, TelegramMethod)
            and not inspect.isabstract(candidate)
        ):
            registry[str(candidate.__api_method__).lower()] = candidate
    return registry


METHODS = _method_registry()


class SandboxError(Exception):
    """A user action the sandbox cannot perform (unknown user, no such button, ...)."""


class UnknownUser(SandboxError, LookupError):
    """No user with that id was added to the sandbox."""


class UnknownMessage(SandboxError, LookupError):
    """No message with that id in the chat."""


class ButtonNotFound(SandboxError, LookupError):
    """No inline button with that label or data; labels lists the buttons on the message."""

    def __init__(self, message: str, labels: list[str]) -> None:
        super().__init__(message)
        self.labels = labels


class ButtonNotPressable(SandboxError, ValueError):
    """The button exists but pressing it sends no update the bot would see (url, location...)."""


class UserBlockedBot(SandboxError):
    """The user has blocked the bot and must unblock it before talking to it again."""


class SandboxAPIError(Exception):
    """A Bot API refusal: Telegram's error code, description and optional retry_after."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None):
        super().__init__(f"{error_code}: {description}")
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_response(self) -> dict[str, Any]:
        """The JSON body Telegram answers with."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad_request(reason: str) -> SandboxAPIError:
    return SandboxAPIError(400, f"Bad Request: {reason}")


class UploadedFile(NamedTuple):
    """A file part of a multipart Bot API request."""

    filename: str
    content: bytes


@dataclass
class StoredFile:
    """A file Telegram keeps: uploaded by the bot or sent by a user."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None

    @property
    def file_size(self) -> int:
        """Size in bytes."""
        return len(self.content)


@dataclass
class RecordedRequest:
    """One Bot API call from the bot, as the sandbox received and answered it."""

    method: str
    params: dict[str, Any]
    timestamp: float
    outcome: Literal["pending", "ok", "error"] = "pending"
    error_code: int | None = None
    description: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.outcome == "ok"


@dataclass
class Fault:
    """An injected failure for the next `remaining` calls of `method` ("*" matches any)."""

    method: str
    error_code: int
    retry_after: int | None
    description: str
    remaining: int


@dataclass
class Webhook:
    """The webhook set by setWebhook and its delivery state."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: datetime.datetime | None = None
    last_error_message: str | None = None


@dataclass
class _Chat:
    user_id: int
    chat_instance: str
    messages: dict[int, types.Message] = field(default_factory=dict)
    next_message_id: int = 1
    version: int = 0
    stamps: dict[int, int] = field(default_factory=dict)
    deleted: dict[int, int] = field(default_factory=dict)
    sent_markups: dict[int, ChatMarkup] = field(default_factory=dict)
    reply_keyboard: types.ReplyKeyboardMarkup | None = None


class _FloodGate:
    """Token buckets: about 30 messages/s in all and 1/s per chat after a small burst."""

    def __init__(self, global_rate: float = 30.0, chat_rate: float = 1.0, chat_burst: int = 3):
        self.global_rate = global_rate
        self.chat_rate = chat_rate
        self.chat_burst = chat_burst
        self.global_bucket = (global_rate, time.monotonic())
        self.chat_buckets: dict[int, tuple[float, float]] = {}

    @staticmethod
    def _refill(bucket: tuple[float, float], rate: float, cap: float, now: float) -> float:
        tokens, updated = bucket
        return min(cap, tokens + (now - updated) * rate)

    def take(self, chat_id: int) -> int | None:
        """Consume one send; the seconds to wait if refused."""
        now = time.monotonic()
        total = self._refill(self.global_bucket, self.global_rate, self.global_rate, now)
        bucket = self.chat_buckets.get(chat_id, (float(self.chat_burst), now))
        chat = self._refill(bucket, self.chat_rate, float(self.chat_burst), now)
        if total < 1:
            self.global_bucket = (total, now)
            return max(1, math.ceil((1 - total) / self.global_rate))
        if chat < 1:
            self.chat_buckets[chat_id] = (chat, now)
            return max(1, math.ceil((1 - chat) / self.chat_rate))
        self.global_bucket = (total - 1, now)
        self.chat_buckets[chat_id] = (chat - 1, now)
        return None


def _leaf_types(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Union or origin is UnionType:
        return [leaf for arg in get_args(annotation) for leaf in _leaf_types(arg)]
    if origin is Annotated:
        return _leaf_types(get_args(annotation)[0])
    if origin is Literal:
        return [type(arg) for arg in get_args(annotation)]
    return [annotation]


def _wants_json(annotation: Any) -> bool:
    """Whether a form field of this type carries JSON (numbers, booleans, objects, arrays)."""
    for leaf in _leaf_types(annotation):
        if leaf in (int, float, bool, list, dict, datetime.datetime, datetime.timedelta):
            return True
        if get_origin(leaf) in (list, dict):
            return True
        if inspect.isclass(leaf) and issubclass(leaf, BaseModel):
            return True
    return False


_JSON_FIELDS: dict[MethodModel, frozenset[str]] = {}


def _json_fields(model: MethodModel) -> frozenset[str]:
    if model not in _JSON_FIELDS:
        _JSON_FIELDS[model] = frozenset(
            name for name, info in model.model_fields.items() if _wants_json(info.annotation)
        )
    return _JSON_FIELDS[model]


def decode_params(model: MethodModel, params: Mapping[str, Any]) -> dict[str, Any]:
    """Turn form strings into the values Telegram reads from them (JSON where the type needs it)."""
    json_fields = _json_fields(model)
    decoded: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str) and key in json_fields:
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        decoded[key] = value
    return decoded


def _validation_refusal(error: ValidationError) -> SandboxAPIError:
    details = error.errors()[0]
    location = details.get("loc") or ("",)
    field_name = str(location[0])
    if details["type"] == "missing" and len(location) == 1:
        if field_name == "text":
            return _bad_request("message text is empty")
        return _bad_request(f"{field_name} is empty")
    if field_name == "chat_id":
        return _bad_request("chat not found")
    if field_name == "reply_markup":
        return _bad_request("can't parse reply keyboard markup JSON object")
    if field_name in {"entities", "caption_entities"}:
        return _bad_request("can't parse entities JSON object")
    if field_name == "results":
        return _bad_request("can't parse inline query results JSON object")
    # Telegram has no single wording for a badly typed parameter; this one names the field.
    return _bad_request(f"wrong parameter {field_name} in request: {details['msg']}")


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _drop_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_drop_nulls(item) for item in value]
    return value


def to_json(value: Any) -> Any:
    """A Bot API object as Telegram serialises it (aliases like "from", no nulls)."""
    if isinstance(value, BaseModel):
        placeholders = False

        def omit(_: Any) -> None:
            nonlocal placeholders
            placeholders = True

        # Unresolved aiogram Default(...) placeholders have no JSON form; Telegram omits them.
        # They dump as null, so only then is the tree walked again to drop those nulls.
        dumped = value.model_dump(mode="json", exclude_none=True, by_alias=True, fallback=omit)
        return _drop_nulls(dumped) if placeholders else dumped
    if isinstance(value, list):
        return [to_json(item) for item in value]
    return value


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def _same(left: Any, right: Any) -> bool:
    return bool(to_json(left) == to_json(right))


def _unset(value: Any) -> Any:
    return None if isinstance(value, Default) else value


Handler = Callable[[Any, Mapping[str, UploadedFile]], Awaitable[Any]]


class Sandbox:
    """An in-memory Telegram Bot API for one bot and any number of private chats."""

    def __init__(
        self,
        token: str = "123456:SANDBOX-TOKEN",
        *,
        bot_username: str = "bookbridge_bot",
        bot_first_name: str = "Bookbridge",
        flood_limits: bool = False,
        queue_updates: bool = True,
    ) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("a bot token looks like '<bot id>:<secret>'")
        self.token = token
        self.bot_user = types.User(
            id=int(bot_id),
            is_bot=True,
            first_name=bot_first_name,
            username=bot_username,
            can_join_groups=True,
            can_read_all_group_messages=False,
            supports_inline_queries=True,
        )
        self.flood_limits = flood_limits
        self.queue_updates = queue_updates
        self.requests: list[RecordedRequest] = []
        self.webhook: Webhook | None = None
        self._flood_gate = _FloodGate()
        self._users: dict[int, types.User] = {}
        self._blocked: set[int] = set()
        self._chats: dict[int, _Chat] = {}
        self._updates: list[types.Update] = []
        self._update_ids = itertools.count(1)
        self._fetched_through = 0
        self._allowed_updates: list[str] = list(DEFAULT_ALLOWED_UPDATES)
        self._poll_generation = 0
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self._callback_queries: dict[str, types.CallbackQuery] = {}
        self._callback_answers: dict[str, dict[str, Any]] = {}
        self._inline_queries: dict[str, types.InlineQuery] = {}
        self._inline_answers: dict[str, list[dict[str, Any]]] = {}
        self._commands: dict[tuple[str, str], list[types.BotCommand]] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._faults: list[Fault] = []
        self._waiters: set[asyncio.Future[None]] = set()
        self._last_bot_request = time.monotonic()
        self._calls_in_flight = 0
        self._delivering = False
        self._webhook_task: asyncio.Task[None] | None = None
        self._closed = False
        self._handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "logOut": self._log_out,
            "close": self._log_out,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendLocation": self._send_location,
            "sendVenue": self._send_venue,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getFile": self._get_file,
        }

    # ----------------------------------------------------------------- users

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
    ) -> types.User:
        """Create a user (or update the one with this id) with a private chat with the bot."""
        if user_id <= 0 or user_id == self.bot_user.id:
            raise SandboxError(f"user id {user_id} is not a valid user id")
        user = types.User(
            id=user_id,
            is_bot=False,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self._users[user_id] = user
        if user_id not in self._chats:
            self._chats[user_id] = _Chat(user_id=user_id, chat_instance=str(-secrets.randbits(62)))
        self._notify()
        return user

    def users(self) -> list[types.User]:
        """Every user, in the order they were added."""
        return list(self._users.values())

    def user(self, user_id: int) -> types.User:
        """The user with this id."""
        try:
            return self._users[user_id]
        except KeyError:
            raise UnknownUser(f"no user {user_id}; add_user() first") from None

    def is_blocked(self, user_id: int) -> bool:
        """Whether the user has blocked the bot."""
        return user_id in self._blocked

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to them fail with 403, the bot gets my_chat_member."""
        user = self.user(user_id)
        if user_id not in self._blocked:
            self._blocked.add(user_id)
            self._emit_member_change(user, "member", "kicked")

    def unblock(self, user_id: int) -> None:
        """The user unblocks the bot."""
        user = self.user(user_id)
        if user_id in self._blocked:
            self._blocked.discard(user_id)
            self._emit_member_change(user, "kicked", "member")

    def _emit_member_change(self, user: types.User, old: str, new: str) -> None:
        def status(name: str) -> types.ChatMemberMember | types.ChatMemberBanned:
            if name == "kicked":
                return types.ChatMemberBanned(
                    user=self.bot_user, until_date=datetime.datetime.fromtimestamp(0, datetime.UTC)
                )
            return types.ChatMemberMember(user=self.bot_user)

        update = types.Update(
            update_id=next(self._update_ids),
            my_chat_member=types.ChatMemberUpdated(
                chat=self._chat_object(user),
                from_user=user,
                date=_now(),
                old_chat_member=status(old),
                new_chat_member=status(new),
            ),
        )
        self._emit(update)

    # ---------------------------------------------------------- user actions

    def send_text(self, user_id: int, text: str) -> types.Update:
        """The user sends a text message ("/cmd args" gets a bot_command entity)."""
        user, chat = self._acting_user(user_id)
        formatted = strip_text(FormattedText(text, []))
        if not formatted.text:
            raise SandboxError("Telegram does not send empty messages")
        if utf16_len(formatted.text) > MESSAGE_LIMIT:
            raise SandboxError("Telegram clients split text over 4096 characters")
        keyboard = chat.reply_keyboard
        if keyboard is not None:
            for row in keyboard.keyboard:
                for button in row:
                    if button.text == formatted.text and any(
                        getattr(button, name, None) for name in REPLY_BUTTON_ACTIONS
                    ):
                        raise ButtonNotPressable(
                            f"the button {button.text!r} shares a location or contact, it does not "
                            "send its label; use send_location()"
                        )
        formatted = detect_entities(formatted)
        message = self._store_message(
            chat, user, text=formatted.text, entities=formatted.entities or None
        )
        return self._emit(types.Update(update_id=next(self._update_ids), message=message))

    def send_location(self, user_id: int, latitude: float, longitude: float) -> types.Update:
        """The user shares a location (what a request_location button sends)."""
        user, chat = self._acting_user(user_id)
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise SandboxError(f"({latitude}, {longitude}) is not a location on Earth")
        location = types.Location(latitude=latitude, longitude=longitude)
        message = self._store_message(chat, user, location=location)
        return self._emit(types.Update(update_id=next(self._update_ids), message=message))

    def send_document(
        self,
        user_id: int,
        filename: str,
        content: bytes,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> types.Update:
        """The user sends a file as a document."""
        user, chat = self._acting_user(user_id)
        if not content:
            raise SandboxError("Telegram does not send empty files")
        stored = self._store_file(
            content, "documents", filename, mime_type or guess_mime_type(filename)
        )
        message = self._store_message(
            chat, user, document=self._document(stored), **self._user_caption(caption)
        )
        return self._emit(types.Update(update_id=next(self._update_ids), message=message))

    def send_photo(
        self, user_id: int, content: bytes, *, caption: str | None = None
    ) -> types.Update:
        """The user sends a picture as a photo."""
        user, chat = self._acting_user(user_id)
        size = image_size(content)
        if size is None:
            raise SandboxError("a photo must be a PNG, JPEG, GIF or WebP image")
        stored = self._store_file(content, "photos", None, image_content_type(content))
        message = self._store_message(
            chat, user, photo=self._photo(stored, size), **self._user_caption(caption)
        )
        return self._emit(types.Update(update_id=next(self._update_ids), message=message))

    def press(
        self,
        user_id: int,
        message_id: int | None = None,
        *,
        text: str | None = None,
        callback_data: str | None = None,
    ) -> types.Update:
        """The user taps an inline button, chosen by its label or its callback data."""
        user, chat = self._acting_user(user_id)
        if text is None and callback_data is None:
            raise SandboxError("press() needs the button's text or callback_data")
        message = self._keyboard_message(chat, message_id)
        markup = message.reply_markup
        buttons = [button for row in markup.inline_keyboard for button in row] if markup else []
        labels = [button.text for button in buttons]
        for button in buttons:
            if (text is None or button.text == text) and (
                callback_data is None or button.callback_data == callback_data
            ):
                break
        else:
            wanted = f"text {text!r}" if text is not None else f"callback_data {callback_data!r}"
            raise ButtonNotFound(
                f"no inline button with {wanted} on message {message.message_id}; "
                f"its buttons: {labels}",
                labels,
            )
        if button.callback_data is None:
            kind = next((name for name in BUTTON_ACTIONS if getattr(button, name, None)), "?")
            raise ButtonNotPressable(
                f"the button {button.text!r} is a {kind} button: the client handles it and "
                "the bot gets no callback query"
            )
        return self._callback_update(user, chat, message, button.callback_data)

    def forge_callback(
        self, user_id: int, callback_data: str, message_id: int | None = None
    ) -> types.Update:
        """A modified client sends callback data no button carries (for security tests)."""
        user, chat = self._acting_user(user_id)
        if message_id is None:
            sent = [m for m in chat.messages.values() if self.is_from_bot(m)]
            if not sent:
                raise UnknownMessage(f"the bot has sent nothing to {user_id} yet")
            message = sent[-1]
        else:
            message = self.message(user_id, message_id)
        return self._callback_update(user, chat, message, callback_data)

    def _callback_update(
        self, user: types.User, chat: _Chat, message: types.Message, data: str
    ) -> types.Update:
        query = types.CallbackQuery(
            id=str(next(self._query_ids)),
            from_user=user,
            message=message,
            chat_instance=chat.chat_instance,
            data=data,
        )
        self._callback_queries[query.id] = query
        return self._emit(types.Update(update_id=next(self._update_ids), callback_query=query))

    def inline_query(self, user_id: int, query: str, *, offset: str = "") -> types.Update:
        """The user types "@bot query" in the chat with the bot."""
        user, _ = self._acting_user(user_id)
        inline = types.InlineQuery(
            id=str(next(self._query_ids)),
            from_user=user,
            query=query,
            offset=offset,
            chat_type="sender",
        )
        self._inline_queries[inline.id] = inline
        return self._emit(types.Update(update_id=next(self._update_ids), inline_query=inline))

    # ------------------------------------------------------------ inspection

    def messages(self, user_id: int, after: int = 0) -> list[types.Message]:
        """The private chat with the user, oldest first (edited messages carry edit_date)."""
        chat = self._chat_of(user_id)
        return [message for key, message in chat.messages.items() if key > after]

    def message(self, user_id: int, message_id: int) -> types.Message:
        """One message of the chat."""
        chat = self._chat_of(user_id)
        try:
            return chat.messages[message_id]
        except KeyError:
            raise UnknownMessage(f"no message {message_id} in the chat with {user_id}") from None

    def chat_version(self, user_id: int) -> int:
        """A counter that grows with every new, edited or deleted message in the chat."""
        return self._chat_of(user_id).version

    def changes(
        self, user_id: int, after: int, since_version: int | None = None
    ) -> tuple[list[types.Message], list[int]]:
        """Messages after `after` or changed since `since_version`, and ids deleted since."""
        chat = self._chat_of(user_id)
        changed = [
            message
            for key, message in chat.messages.items()
            if key > after or (since_version is not None and chat.stamps[key] > since_version)
        ]
        deleted = (
            [key for key, stamp in chat.deleted.items() if stamp > since_version]
            if since_version is not None
            else []
        )
        return changed, deleted

    def is_from_bot(self, message: types.Message) -> bool:
        """Whether the bot sent this message."""
        return message.from_user is not None and message.from_user.id == self.bot_user.id

    def sent_markup(self, user_id: int, message_id: int) -> ChatMarkup | None:
        """The reply keyboard, removal or force-reply a bot message came with (not in Message)."""
        return self._chat_of(user_id).sent_markups.get(message_id)

    def reply_keyboard(self, user_id: int) -> types.ReplyKeyboardMarkup | None:
        """The reply keyboard the user currently sees."""
        return self._chat_of(user_id).reply_keyboard

    def callback_answer(self, callback_query_id: str) -> dict[str, Any] | None:
        """What answerCallbackQuery said (text, show_alert, url, cache_time), None if unanswered."""
        return self._callback_answers.get(callback_query_id)

    def inline_answer(self, inline_query_id: str) -> list[dict[str, Any]] | None:
        """The results answerInlineQuery gave (JSON objects), None if unanswered."""
        return self._inline_answers.get(inline_query_id)

    def file(self, file_id: str) -> StoredFile | None:
        """A stored file by file_id."""
        return self._files.get(file_id)

    def file_by_path(self, file_path: str) -> StoredFile | None:
        """A stored file by the file_path getFile gave."""
        return self._files_by_path.get(file_path)

    def commands(
        self, scope: types.BotCommandScopeUnion | None = None, language_code: str = ""
    ) -> list[types.BotCommand]:
        """The commands set with setMyCommands for that scope and language."""
        return list(self._commands.get((self._scope_key(scope), language_code), []))

    @property
    def pending_updates(self) -> list[types.Update]:
        """Updates not yet confirmed by getUpdates or delivered to the webhook."""
        return list(self._updates)

    # ---------------------------------------------------------------- faults

    def add_fault(
        self,
        method: str,
        error_code: int,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        count: int = 1,
    ) -> None:
        """Make the next `count` calls of `method` ("*" for any) fail with this error."""
        if error_code == HTTPStatus.TOO_MANY_REQUESTS and retry_after is None:
            retry_after = 1
        if description is None:
            if error_code == HTTPStatus.TOO_MANY_REQUESTS:
                description = f"Too Many Requests: retry after {retry_after}"
            elif error_code == HTTPStatus.FORBIDDEN:
                description = "Forbidden: bot was blocked by the user"
            elif error_code == HTTPStatus.BAD_REQUEST:
                description = "Bad Request"
            else:
                try:
                    description = HTTPStatus(error_code).phrase
                except ValueError:
                    description = "Error"
        self._faults.append(Fault(method, error_code, retry_after, description, count))

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self._faults.clear()

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self._faults:
            if fault.method in ("*", method) or fault.method.lower() == method.lower():
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # -------------------------------------------------------------- bot side

    async def call(
        self,
        method_name: str,
        params: Mapping[str, Any],
        files: Mapping[str, UploadedFile | bytes] | None = None,
        *,
        token: str | None = None,
    ) -> Any:
        """Run one Bot API call: its JSON-able result, or SandboxAPIError as Telegram refuses."""
        record = RecordedRequest(method_name, dict(params), time.time())
        self.requests.append(record)
        polling = method_name.lower() == "getupdates"
        if not polling:
            self._calls_in_flight += 1
            self._last_bot_request = time.monotonic()
        try:
            result = await self._execute(record, params, files or {}, token)
        except SandboxAPIError as error:
            record.outcome = "error"
            record.error_code = error.error_code
            record.description = error.description
            raise
        finally:
            if not polling:
                self._calls_in_flight -= 1
                self._last_bot_request = time.monotonic()
        record.outcome = "ok"
        return result

    async def _execute(
        self,
        record: RecordedRequest,
        params: Mapping[str, Any],
        files: Mapping[str, UploadedFile | bytes],
        token: str | None,
    ) -> Any:
        if token is not None and token != self.token:
            raise SandboxAPIError(401, "Unauthorized")
        model = METHODS.get(record.method.lower())
        if model is None:
            raise SandboxAPIError(404, "Not Found")
        record.method = str(model.__api_method__)
        fault = self._take_fault(record.method)
        if fault is not None:
            raise SandboxAPIError(
                fault.error_code, fault.description, retry_after=fault.retry_after
            )
        uploads = {
            key: value if isinstance(value, UploadedFile) else UploadedFile(key, value)
            for key, value in files.items()
        }
        if sum(len(upload.content) for upload in uploads.values()) > UPLOAD_LIMIT:
            raise SandboxAPIError(413, "Request Entity Too Large")
        raw = dict(params)
        for key in uploads:
            if key in model.model_fields and key not in raw:
                raw[key] = f"attach://{key}"
        decoded = decode_params(model, raw)
        record.params = decoded
        try:
            method = model.model_validate(decoded)
        except ValidationError as error:
            raise _validation_refusal(error) from None
        handler = self._handlers.get(record.method)
        if handler is None:
            raise SandboxAPIError(
                501, f"Not Implemented: the sandbox does not emulate {record.method}"
            )
        return to_json(await handler(method, uploads))

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int = 100,
        timeout: float = 0,  # noqa: ASYNC109
        allowed_updates: list[str] | None = None,
    ) -> list[types.Update]:
        """Long-poll for updates like getUpdates (confirming those before `offset`)."""
        if self.webhook is not None:
            raise SandboxAPIError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        if allowed_updates is not None:
            self._allowed_updates = list(allowed_updates) or list(DEFAULT_ALLOWED_UPDATES)
        if offset is not None:
            if offset < 0:
                self._updates = self._updates[offset:]
            else:
                self._updates = [u for u in self._updates if u.update_id >= offset]
        limit = min(max(limit, 1), 100)
        deadline = time.monotonic() + max(timeout, 0)
        while True:
            if generation != self._poll_generation:
                raise SandboxAPIError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            self._updates = [u for u in self._updates if u.event_type in self._allowed_updates]
            remaining = deadline - time.monotonic()
            if self._updates or remaining <= 0 or self._closed:
                batch = self._updates[:limit]
                if batch:
                    self._fetched_through = max(self._fetched_through, batch[-1].update_id)
                return batch
            await self._wait_for_change(remaining)

    # ------------------------------------------------------------ waiting

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _wait_for_change(self, within: float | None) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, within)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109
    ) -> bool:
        """Wait (without polling) until the predicate holds after some change; False on timeout."""
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closed:
                return False
            await self._wait_for_change(remaining)
        return True

    async def wait_for_inline_answer(
        self,
        inline_query_id: str,
        timeout: float,  # noqa: ASYNC109
    ) -> list[dict[str, Any]] | None:
        """The bot's answer to an inline query, waiting up to `timeout` seconds."""
        await self.wait_until(lambda: inline_query_id in self._inline_answers, timeout)
        return self._inline_answers.get(inline_query_id)

    async def wait_for_callback_answer(
        self,
        callback_query_id: str,
        timeout: float,  # noqa: ASYNC109
    ) -> dict[str, Any] | None:
        """The bot's answerCallbackQuery for a press, waiting up to `timeout` seconds."""
        await self.wait_until(lambda: callback_query_id in self._callback_answers, timeout)
        return self._callback_answers.get(callback_query_id)

    def is_idle(self, quiet: float = 0.3) -> bool:
        """No update waits for the bot and no bot request arrived in the last `quiet` seconds."""
        if self.webhook is not None:
            waiting = bool(self._updates) or self._delivering
        else:
            # Unconfirmed, not merely fetched: a bot handling updates one by one confirms an
            # update (with the next getUpdates offset) only once it has finished with it.
            waiting = bool(self._updates)
        calm = time.monotonic() - self._last_bot_request >= quiet
        return not waiting and not self._calls_in_flight and calm

    async def wait_idle(
        self,
        timeout: float = 10.0,  # noqa: ASYNC109
        quiet: float = 0.3,
    ) -> bool:
        """Wait until the bot has taken every update and gone quiet; False on timeout."""
        deadline = time.monotonic() + timeout
        while not self.is_idle(quiet):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def close(self) -> None:
        """Stop webhook delivery and release long polls."""
        self._closed = True
        self._notify()
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ----------------------------------------------------------- internals

    def _chat_of(self, user_id: int) -> _Chat:
        self.user(user_id)
        return self._chats[user_id]

    def _acting_user(self, user_id: int) -> tuple[types.User, _Chat]:
        user = self.user(user_id)
        if user_id in self._blocked:
            raise UserBlockedBot(f"user {user_id} has blocked the bot; unblock() first")
        return user, self._chats[user_id]

    def _chat_object(self, user: types.User) -> types.Chat:
        return types.Chat(
            id=user.id,
            type="private",
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
        )

    def _store_message(self, chat: _Chat, sender: types.User, **content: Any) -> types.Message:
        message = types.Message(
            message_id=chat.next_message_id,
            date=_now(),
            chat=self._chat_object(self._users[chat.user_id]),
            from_user=sender,
            **content,
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        self._touch(chat, message.message_id)
        return message

    def _replace_message(self, chat: _Chat, message: types.Message) -> None:
        chat.messages[message.message_id] = message
        self._touch(chat, message.message_id)

    def _touch(self, chat: _Chat, message_id: int) -> None:
        chat.version += 1
        chat.stamps[message_id] = chat.version
        self._notify()

    def _emit(self, update: types.Update) -> types.Update:
        if self.webhook is not None or self.queue_updates:
            allowed = (
                self.webhook.allowed_updates if self.webhook is not None else None
            ) or self._allowed_updates
            if update.event_type in allowed:
                self._updates.append(update)
                self._ensure_webhook_worker()
                self._notify()
        return update

    def _keyboard_message(self, chat: _Chat, message_id: int | None) -> types.Message:
        if message_id is not None:
            message = chat.messages.get(message_id)
            if message is None:
                raise UnknownMessage(f"no message {message_id} in the chat with {chat.user_id}")
            if message.reply_markup is None:
                raise ButtonNotFound(f"message {message_id} has no inline keyboard", [])
            return message
        for message in reversed(chat.messages.values()):
            if self.is_from_bot(message) and message.reply_markup is not None:
                return message
        raise ButtonNotFound(f"no bot message with an inline keyboard in chat {chat.user_id}", [])

    def _user_caption(self, caption: str | None) -> dict[str, Any]:
        if not caption:
            return {}
        formatted = detect_entities(strip_text(FormattedText(caption, [])))
        return {"caption": formatted.text, "caption_entities": formatted.entities or None}

    def _store_file(
        self, content: bytes, folder: str, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        number = next(self._file_counter)
        extension = ""
        if file_name and "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1]
        elif folder == "photos":
            extension = {"image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}.get(
                mime_type or "", ".jpg"
            )
        stored = StoredFile(
            file_id=f"SBX{folder[0].upper()}{number}_{secrets.token_urlsafe(24)}",
            file_unique_id="AQAD" + hashlib.sha256(content).hexdigest()[:16],
            file_path=f"{folder}/file_{number}{extension}",
            content=content,
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    @staticmethod
    def _document(stored: StoredFile) -> types.Document:
        return types.Document(
            file_id=stored.file_id,
            file_unique_id=stored.file_unique_id,
            file_name=stored.file_name,
            mime_type=stored.mime_type,
            file_size=stored.file_size,
        )

    @staticmethod
    def _photo(stored: StoredFile, size: tuple[int, int]) -> list[types.PhotoSize]:
        return [
            types.PhotoSize(
                file_id=stored.file_id,
                file_unique_id=stored.file_unique_id,
                width=size[0],
                height=size[1],
                file_size=stored.file_size,
            )
        ]

    @staticmethod
    def _scope_key(scope: types.BotCommandScopeUnion | None) -> str:
        if scope is None:
            return "default"
        return json.dumps(to_json(scope), sort_keys=True)

    # -------------------------------------------------- bot-side validation

    def _target_chat(self, chat_id: int | str, *, sending: bool = True) -> _Chat:
        if isinstance(chat_id, str):
            try:
                chat_id = int(chat_id)
            except ValueError:
                raise _bad_request("chat not found") from None
        chat = self._chats.get(chat_id)
        if chat is None:
            raise _bad_request("chat not found")
        if sending and chat_id in self._blocked:
            raise SandboxAPIError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _check_flood(self, chat: _Chat) -> None:
        if not self.flood_limits:
            return
        retry_after = self._flood_gate.take(chat.user_id)
        if retry_after is not None:
            raise SandboxAPIError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )

    @staticmethod
    def _format(
        text: str | None,
        parse_mode: Any,
        entities: list[types.MessageEntity] | None,
        *,
        limit: int,
        what: str,
    ) -> FormattedText:
        parse_mode = _unset(parse_mode)
        if parse_mode:
            mode = str(parse_mode).lower()
            if mode != "html":
                if mode in {"markdown", "markdownv2"}:
                    raise SandboxAPIError(
                        501, f"Not Implemented: the sandbox parses only HTML, not {parse_mode}"
                    )
                raise _bad_request(f"unsupported parse_mode {parse_mode}")
            try:
                formatted = parse_html(text or "")
            except EntityParseError as error:
                raise _bad_request(f"can't parse entities: {error}") from None
        else:
            formatted = FormattedText(text or "", list(entities or []))
        formatted = strip_text(formatted)
        if what == "text" and not formatted.text:
            raise _bad_request("message text is empty")
        if utf16_len(formatted.text) > limit:
            reason = "message is too long" if what == "text" else "message caption is too long"
            raise _bad_request(reason)
        return detect_entities(formatted)

    @staticmethod
    def _check_inline_keyboard(markup: types.InlineKeyboardMarkup) -> None:
        for row in markup.inline_keyboard:
            for button in row:
                if not any(getattr(button, name, None) is not None for name in BUTTON_ACTIONS):
                    raise _bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                if button.callback_data is not None:
                    size = len(button.callback_data.encode("utf-8"))
                    if not 1 <= size <= CALLBACK_DATA_LIMIT:
                        raise _bad_request("BUTTON_DATA_INVALID")
                if button.url is not None and not button.url.lower().startswith(
                    ("http://", "https://", "tg://")
                ):
                    raise _bad_request(
                        f"inline keyboard button URL '{button.url}' is invalid: Wrong HTTP URL"
                    )

    def _check_markup(self, markup: Any) -> Any:
        if isinstance(markup, types.InlineKeyboardMarkup):
            self._check_inline_keyboard(markup)
        return markup

    def _reply_target(self, chat: _Chat, method: Any) -> types.Message | None:
        parameters: types.ReplyParameters | None = getattr(method, "reply_parameters", None)
        message_id = (
            parameters.message_id if parameters else getattr(method, "reply_to_message_id", None)
        )
        if message_id is None:
            return None
        target = chat.messages.get(message_id)
        allow = (parameters.allow_sending_without_reply if parameters else None) or getattr(
            method, "allow_sending_without_reply", None
        )
        if target is None and not allow:
            raise _bad_request("message to be replied not found")
        return target

    def _store_bot_message(self, chat: _Chat, method: Any, **content: Any) -> types.Message:
        markup = self._check_markup(getattr(method, "reply_markup", None))
        reply_to = self._reply_target(chat, method)
        self._check_flood(chat)
        inline = markup if isinstance(markup, types.InlineKeyboardMarkup) else None
        message = self._store_message(
            chat, self.bot_user, reply_markup=inline, reply_to_message=reply_to, **content
        )
        if markup is not None and inline is None:
            chat.sent_markups[message.message_id] = markup
            if isinstance(markup, types.ReplyKeyboardMarkup):
                chat.reply_keyboard = markup
            elif isinstance(markup, types.ReplyKeyboardRemove):
                chat.reply_keyboard = None
        return message

    def _upload(
        self,
        value: str | types.InputFile,
        uploads: Mapping[str, UploadedFile],
        folder: str,
    ) -> StoredFile:
        if not isinstance(value, str):
            raise _bad_request("file must be sent as multipart/form-data")
        if value.startswith("attach://"):
            upload = uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise _bad_request(f"file {value} not found in the request")
            if not upload.content:
                raise _bad_request("file must be non-empty")
            mime_type = (
                image_content_type(upload.content)
                if folder == "photos"
                else guess_mime_type(upload.filename)
            )
            name = None if folder == "photos" else upload.filename
            return self._store_file(upload.content, folder, name, mime_type)
        stored = self._files.get(value)
        if stored is None:
            # The sandbox has no internet, so an HTTP URL cannot be fetched either.
            raise _bad_request(WRONG_FILE.removeprefix("Bad Request: "))
        return stored

    def _editable(self, method: Any) -> tuple[_Chat, types.Message]:
        if method.inline_message_id is not None:
            raise _bad_request("message to edit not found")
        if method.chat_id is None:
            raise _bad_request("chat_id is empty")
        chat = self._target_chat(method.chat_id, sending=False)
        message = chat.messages.get(method.message_id) if method.message_id else None
        if message is None:
            raise _bad_request("message to edit not found")
        if not self.is_from_bot(message):
            raise _bad_request("message can't be edited")
        return chat, message

    # ------------------------------------------------------ method handlers

    async def _get_me(self, method: methods.GetMe, uploads: Mapping[str, UploadedFile]) -> Any:
        return self.bot_user

    async def _log_out(self, method: Any, uploads: Mapping[str, UploadedFile]) -> bool:
        return True

    async def _get_updates(
        self, method: methods.GetUpdates, uploads: Mapping[str, UploadedFile]
    ) -> list[types.Update]:
        return await self.get_updates(
            method.offset,
            method.limit if method.limit is not None else 100,
            method.timeout or 0,
            method.allowed_updates,
        )

    async def _set_webhook(
        self, method: methods.SetWebhook, uploads: Mapping[str, UploadedFile]
    ) -> bool:
        if not method.url:
            return await self._delete_webhook(
                methods.DeleteWebhook(drop_pending_updates=method.drop_pending_updates), uploads
            )
        if not method.url.lower().startswith(("http://", "https://")):
            raise _bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        if method.drop_pending_updates:
            self._updates.clear()
        self.webhook = Webhook(
            url=method.url,
            secret_token=method.secret_token,
            max_connections=method.max_connections or 40,
            allowed_updates=method.allowed_updates or None,
        )
        self._poll_generation += 1
        self._ensure_webhook_worker()
        self._notify()
        return True

    async def _delete_webhook(
        self, method: methods.DeleteWebhook, uploads: Mapping[str, UploadedFile]
    ) -> bool:
        self.webhook = None
        if method.drop_pending_updates:
            self._updates.clear()
        self._notify()
        return True

    async def _get_webhook_info(
        self, method: methods.GetWebhookInfo, uploads: Mapping[str, UploadedFile]
    ) -> types.WebhookInfo:
        hook = self.webhook
        return types.WebhookInfo(
            url=hook.url if hook else "",
            has_custom_certificate=False,
            pending_update_count=len(self._updates),
            last_error_date=hook.last_error_date if hook else None,
            last_error_message=hook.last_error_message if hook else None,
            max_connections=hook.max_connections if hook else None,
            allowed_updates=hook.allowed_updates if hook else None,
        )

    async def _send_message(
        self, method: methods.SendMessage, uploads: Mapping[str, UploadedFile]
    ) -> types.Message:
        chat = self._target_chat(method.chat_id)
        formatted = self._format(
            method.text, method.parse_mode, method.entities, limit=MESSAGE_LIMIT, what="text"
        )
        return self._store_bot_message(
            chat, method, text=formatted.text, entities=formatted.entities or None
        )

    def _caption(self, method: Any) -> dict[str, Any]:
        if not method.caption:
            return {}
        formatted = self._format(
            method.caption,
            method.parse_mode,
            method.caption_entities,
            limit=CAPTION_LIMIT,
            what="caption",
        )
        if not formatted.text:
            return {}
        return {"caption": formatted.text, "caption_entities": formatted.entities or None}

    async def _send_document(
        self, method: methods.SendDocument, uploads: Mapping[str, UploadedFile]
    ) -> types.Message:
        chat = self._target_chat(method.chat_id)
        caption = self._caption(method)
        stored = self._upload(method.document, uploads, "documents")
        return self._store_bot_message(chat, method, document=self._document(stored), **caption)

    async def _send_photo(
        self, method: methods.SendPhoto, uploads: Mapping[str, UploadedFile]
    ) -> types.Message:
        chat = self._target_chat(method.chat_id)
        caption = self._caption(method)
        stored = self._upload(method.photo, uploads, "photos")
        size = image_size(stored.content)
        if size is None:
            raise _bad_request("IMAGE_PROCESS_FAILED")
        return self._store_bot_message(chat, method, photo=self._photo(stored, size), **caption)

    async def _send_location(
        self, method: methods.SendLocation, uploads: Mapping[str, UploadedFile]
    ) -> types.Message:
        chat = self._target_chat(method.chat_id)
        location = types.Location(
            latitude=method.latitude,
            longitude=method.longitude,
            horizontal_accuracy=method.horizontal_accuracy,
        )
        return self._store_bot_message(chat, method, location=location)

    async def _send_venue(
        self, method: methods.SendVenue, uploads: Mapping[str, UploadedFile]
    ) -> types.Message:
        chat = self._target_chat(method.chat_id)
        location = types.Location(latitude=method.latitude, longitude=method.longitude)
        venue = types.Venue(
            location=location,
            title=method.title,
            address=method.address,
            foursquare_id=method.foursquare_id,
            foursquare_type=method.foursquare_type,
            google_place_id=method.google_place_id,
            google_place_type=method.google_place_type,
        )
        return self._store_bot_message(chat, method, venue=venue, location=location)

    async def _edit_message_text(
        self, method: methods.EditMessageText, uploads: Mapping[str, UploadedFile]
    ) -> types.Message:
        chat, message = self._editable(method)
        if message.text is None:
            raise _bad_request("there is no text in the message to edit")
        formatted = self._format(
            method.text, method.parse_mode, method.entities, limit=MESSAGE_LIMIT, what="text"
        )
        markup = self._check_markup(method.reply_markup)
        if (
            message.text == formatted.text
            and _same(message.entities or [], formatted.entities)
            and _same(message.reply_markup, markup)
        ):
            raise _bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        edited = message.model_copy(
            update={
                "text": formatted.text,
                "entities": formatted.entities or None,
                "reply_markup": markup,
                "edit_date": round(_now().timestamp()),
            }
        )
        self._replace_message(chat, edited)
        return edited

    async def _edit_message_caption(
        self, method: methods.EditMessageCaption, uploads: Mapping[str, UploadedFile]
    ) -> types.Message:
        chat, message = self._editable(method)
        if message.document is None and message.photo is None:
            raise _bad_request("there is no caption in the message to edit")
        caption = self._caption(method)
        markup = self._check_markup(method.reply_markup)
        if (
            message.caption == caption.get("caption")
            and _same(message.caption_entities, caption.get("caption_entities"))
            and _same(message.reply_markup, markup)
        ):
            raise _bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        edited = message.model_copy(
            update={
                "caption": caption.get("caption"),
                "caption_entities": caption.get("caption_entities"),
                "reply_markup": markup,
                "edit_date": round(_now().timestamp()),
            }
        )
        self._replace_message(chat, edited)
        return edited

    async def _edit_message_reply_markup(
        self, method: methods.EditMessageReplyMarkup, uploads: Mapping[str, UploadedFile]
    ) -> types.Message:
        chat, message = self._editable(method)
        markup = self._check_markup(method.reply_markup)
        if _same(message.reply_markup, markup):
            raise _bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        edited = message.model_copy(
            update={"reply_markup": markup, "edit_date": round(_now().timestamp())}
        )
        self._replace_message(chat, edited)
        return edited

    async def _delete_message(
        self, method: methods.DeleteMessage, uploads: Mapping[str, UploadedFile]
    ) -> bool:
        chat = self._target_chat(method.chat_id, sending=False)
        if chat.messages.pop(method.message_id, None) is None:
            raise _bad_request("message to delete not found")
        chat.version += 1
        chat.deleted[method.message_id] = chat.version
        chat.stamps.pop(method.message_id, None)
        self._notify()
        return True

    async def _answer_callback_query(
        self, method: methods.AnswerCallbackQuery, uploads: Mapping[str, UploadedFile]
    ) -> bool:
        query_id = method.callback_query_id
        if query_id not in self._callback_queries or query_id in self._callback_answers:
            raise _bad_request(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        if method.text is not None and len(method.text) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        self._callback_answers[query_id] = {
            "text": method.text,
            "show_alert": bool(method.show_alert),
            "url": method.url,
            "cache_time": method.cache_time,
        }
        self._notify()
        return True

    async def _answer_inline_query(
        self, method: methods.AnswerInlineQuery, uploads: Mapping[str, UploadedFile]
    ) -> bool:
        query_id = method.inline_query_id
        if query_id not in self._inline_queries or query_id in self._inline_answers:
            raise _bad_request(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        if len(method.results) > 50:
            raise _bad_request("RESULTS_TOO_MUCH")
        ids = [result.id for result in method.results]
        if len(set(ids)) != len(ids):
            raise _bad_request("RESULT_ID_DUPLICATE")
        self._inline_answers[query_id] = [to_json(result) for result in method.results]
        self._notify()
        return True

    async def _send_chat_action(
        self, method: methods.SendChatAction, uploads: Mapping[str, UploadedFile]
    ) -> bool:
        self._target_chat(method.chat_id)
        if method.action not in CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    async def _set_my_commands(
        self, method: methods.SetMyCommands, uploads: Mapping[str, UploadedFile]
    ) -> bool:
        for command in method.commands:
            name = command.command
            if not (1 <= len(name) <= 32) or any(
                not (c.islower() or c.isdigit() or c == "_") or not c.isascii() for c in name
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command.description) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = (self._scope_key(method.scope), method.language_code or "")
        self._commands[key] = list(method.commands)
        return True

    async def _get_my_commands(
        self, method: methods.GetMyCommands, uploads: Mapping[str, UploadedFile]
    ) -> list[types.BotCommand]:
        return self.commands(method.scope, method.language_code or "")

    async def _delete_my_commands(
        self, method: methods.DeleteMyCommands, uploads: Mapping[str, UploadedFile]
    ) -> bool:
        self._commands.pop((self._scope_key(method.scope), method.language_code or ""), None)
        return True

    async def _get_file(
        self, method: methods.GetFile, uploads: Mapping[str, UploadedFile]
    ) -> types.File:
        stored = self._files.get(method.file_id)
        if stored is None:
            raise _bad_request("invalid file_id")
        if stored.file_size > DOWNLOAD_LIMIT:
            raise _bad_request("file is too big")
        return types.File(
            file_id=stored.file_id,
            file_unique_id=stored.file_unique_id,
            file_size=stored.file_size,
            file_path=stored.file_path,
        )

    # -------------------------------------------------------------- webhook

    def _ensure_webhook_worker(self) -> None:
        if self.webhook is None or self._closed:
            return
        if self._webhook_task is not None and not self._webhook_task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._webhook_task = loop.create_task(self._deliver_webhooks())

    async def _deliver_webhooks(self) -> None:
        backoff = 0.1
        async with aiohttp.ClientSession() as session:
            while self.webhook is not None and not self._closed:
                if not self._updates:
                    await self._wait_for_change(None)
                    continue
                hook = self.webhook
                update = self._updates[0]
                self._delivering = True
                try:
                    delivered = await self._deliver(session, hook, update)
                finally:
                    self._delivering = False
                if delivered:
                    backoff = 0.1
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)
                    self._notify()
                else:
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 2.0)

    async def _deliver(
        self, session: aiohttp.ClientSession, hook: Webhook, update: types.Update
    ) -> bool:
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        try:
            async with session.post(
                hook.url,
                data=json.dumps(to_json(update)),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT),
            ) as response:
                if not 200 <= response.status < 300:
                    hook.last_error_date = _now()
                    hook.last_error_message = (
                        f"Wrong response from the webhook: {response.status} {response.reason}"
                    )
                    return False
                reply = await self._read_webhook_reply(response)
        except (aiohttp.ClientError, TimeoutError) as error:
            hook.last_error_date = _now()
            hook.last_error_message = f"Connection failed: {type(error).__name__}"
            return False
        if reply is not None:
            method_name, params, files = reply
            # Telegram runs a method given in the webhook reply but reports nothing back.
            with contextlib.suppress(SandboxAPIError):
                await self.call(method_name, params, files)
        return True

    @staticmethod
    async def _read_webhook_reply(
        response: aiohttp.ClientResponse,
    ) -> tuple[str, dict[str, Any], dict[str, UploadedFile]] | None:
        params: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        if response.content_type == "multipart/form-data":
            reader = aiohttp.MultipartReader(response.headers, response.content)
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                if part.filename:
                    files[part.name] = UploadedFile(part.filename, bytes(await part.read()))
                else:
                    params[part.name] = await part.text()
        elif response.content_type == "application/json":
            body = await response.json()
            if isinstance(body, dict):
                params = body
        method_name = params.pop("method", None)
        if not isinstance(method_name, str) or not method_name:
            return None
        return method_name, params, files
