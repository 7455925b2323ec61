"""Users and their private chats with the bot: adding, blocking, and reading the chats."""

from __future__ import annotations

import datetime
import secrets

from aiogram import types

from sandbox.errors import SandboxError, UnknownMessage
from sandbox.files import StoredFile
from sandbox.state import ChatMarkup, PrivateChat, SandboxState, now


class Users(SandboxState):
    """The people who talk to the bot, and what their chats hold."""

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
        persona: str | None = None,
    ) -> types.User:
        """Create a user (or update the one with this id) with a private chat with the bot.

        A persona ("reader", "organiser", ...) marks an account meant to try the bot as that role;
        only the page shows it, Telegram knows nothing of it.
        """
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
        if persona:
            self._personas[user_id] = persona
        else:
            self._personas.pop(user_id, None)
        if user_id not in self._chats:
            chat_instance = str(-secrets.randbits(62))
            self._chats[user_id] = PrivateChat(user_id=user_id, chat_instance=chat_instance)
        self._notify()
        return user

    def users(self) -> list[types.User]:
        """Every user, in the order they were added."""
        return list(self._users.values())

    def persona(self, user_id: int) -> str | None:
        """The role this account is meant to try the bot as, if add_user gave one."""
        self.user(user_id)
        return self._personas.get(user_id)

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

        self._next_update(
            my_chat_member=types.ChatMemberUpdated(
                chat=self._chat_object(user),
                from_user=user,
                date=now(),
                old_chat_member=status(old),
                new_chat_member=status(new),
            )
        )

    # ------------------------------------------------------------- the chats

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

    def sent_markup(self, user_id: int, message_id: int) -> ChatMarkup | None:
        """The reply keyboard, removal or force-reply a bot message came with (not in Message)."""
        return self._chat_of(user_id).sent_markups.get(message_id)

    def reply_keyboard(self, user_id: int) -> types.ReplyKeyboardMarkup | None:
        """The reply keyboard the user currently sees."""
        return self._chat_of(user_id).reply_keyboard

    def file(self, file_id: str) -> StoredFile | None:
        """A stored file by file_id."""
        return self._file_store.by_id(file_id)

    def file_by_path(self, file_path: str) -> StoredFile | None:
        """A stored file by the file_path getFile gave."""
        return self._file_store.by_path(file_path)
