"""What the sandbox holds (the bot, users, chats, queued updates, the webhook) and the few
primitives every section uses: store a message, queue an update, signal a change."""

from __future__ import annotations

import asyncio
import datetime
import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from aiogram import types

from sandbox.errors import UnknownUser, UserBlockedBot
from sandbox.faults import FaultList, FloodGate
from sandbox.files import FileStore

UPDATE_TYPES = [name for name in types.Update.model_fields if name != "update_id"]
# Telegram leaves these out unless a bot asks for them by name.
DEFAULT_ALLOWED_UPDATES = [
    name
    for name in UPDATE_TYPES
    if name not in {"chat_member", "message_reaction", "message_reaction_count"}
]

ChatMarkup = types.ReplyKeyboardMarkup | types.ReplyKeyboardRemove | types.ForceReply


@dataclass
class PrivateChat:
    """The private chat of one user with the bot: its messages and what changed when."""

    user_id: int
    chat_instance: str
    messages: dict[int, types.Message] = field(default_factory=dict)
    next_message_id: int = 1
    version: int = 0
    stamps: dict[int, int] = field(default_factory=dict)
    deleted: dict[int, int] = field(default_factory=dict)
    sent_markups: dict[int, ChatMarkup] = field(default_factory=dict)
    reply_keyboard: types.ReplyKeyboardMarkup | None = None


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
class Webhook:
    """The webhook set by setWebhook and its delivery state."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: datetime.datetime | None = None
    last_error_message: str | None = None


def now() -> datetime.datetime:
    """The current time as Telegram stamps messages (whole seconds, UTC)."""
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


class SandboxState:
    """The state of an in-memory Telegram for one bot, shared by every section of Sandbox."""

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
        self._flood_gate = FloodGate()
        self._faults = FaultList()
        self._file_store = FileStore()
        self._users: dict[int, types.User] = {}
        self._personas: dict[int, str] = {}
        self._blocked: set[int] = set()
        self._chats: dict[int, PrivateChat] = {}
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
        self._waiters: set[asyncio.Future[None]] = set()
        self._last_bot_request = time.monotonic()
        self._calls_in_flight = 0
        self._delivering = False
        self._webhook_task: asyncio.Task[None] | None = None
        self._closed = False

    # ----------------------------------------------------------------- users

    def user(self, user_id: int) -> types.User:
        """The user with this id."""
        try:
            return self._users[user_id]
        except KeyError:
            raise UnknownUser(f"no user {user_id}; add_user() first") from None

    def is_from_bot(self, message: types.Message) -> bool:
        """Whether the bot sent this message."""
        return message.from_user is not None and message.from_user.id == self.bot_user.id

    def _chat_of(self, user_id: int) -> PrivateChat:
        self.user(user_id)
        return self._chats[user_id]

    def _acting_user(self, user_id: int) -> tuple[types.User, PrivateChat]:
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

    # -------------------------------------------------------------- messages

    def _store_message(
        self, chat: PrivateChat, sender: types.User, **content: Any
    ) -> types.Message:
        message = types.Message(
            message_id=chat.next_message_id,
            date=now(),
            chat=self._chat_object(self._users[chat.user_id]),
            from_user=sender,
            **content,
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        self._touch(chat, message.message_id)
        return message

    def _replace_message(self, chat: PrivateChat, message: types.Message) -> None:
        chat.messages[message.message_id] = message
        self._touch(chat, message.message_id)

    def _touch(self, chat: PrivateChat, message_id: int) -> None:
        chat.version += 1
        chat.stamps[message_id] = chat.version
        self._notify()

    # --------------------------------------------------------------- updates

    def _next_update(self, **event: Any) -> types.Update:
        """An update carrying one event (message=..., callback_query=...), queued for the bot."""
        return self._emit(types.Update(update_id=next(self._update_ids), **event))

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

    def _ensure_webhook_worker(self) -> None:
        """Deliver queued updates to the webhook, if one is set (see sandbox.updates)."""

    # --------------------------------------------------------------- changes

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
