"""Drive the real dispatcher through the in-process sandbox: users type, tap and read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.types import Message, Update

from bot.app import Application
from sandbox.core import Sandbox


@dataclass
class ChatUser:
    """One Telegram user talking to the bot in a private chat."""

    harness: BotHarness
    user_id: int
    seen: int = 0
    answers: list[dict[str, Any] | None] = field(default_factory=list)

    async def _feed(self, update: Update) -> list[Message]:
        await self.harness.feed(update)
        return self.new_bot_messages()

    def new_bot_messages(self) -> list[Message]:
        """Bot messages that arrived since the last call."""
        fresh = self.harness.sandbox.messages(self.user_id, after=self.seen)
        if fresh:
            self.seen = fresh[-1].message_id
        return [m for m in fresh if self.harness.sandbox.is_from_bot(m)]

    async def send(self, text: str) -> list[Message]:
        """Type and send text (or press the reply-keyboard button with that label)."""
        return await self._feed(self.harness.sandbox.send_text(self.user_id, text))

    async def share_location(self, latitude: float, longitude: float) -> list[Message]:
        """Share a location."""
        return await self._feed(
            self.harness.sandbox.send_location(self.user_id, latitude, longitude)
        )

    async def send_photo(self, content: bytes, *, caption: str | None = None) -> list[Message]:
        """Send a photo, optionally with a caption."""
        return await self._feed(
            self.harness.sandbox.send_photo(self.user_id, content, caption=caption)
        )

    async def send_document(
        self,
        filename: str,
        content: bytes,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> list[Message]:
        """Send a file as a document, optionally with a caption."""
        update = self.harness.sandbox.send_document(
            self.user_id, filename, content, mime_type=mime_type, caption=caption
        )
        return await self._feed(update)

    async def inline(self, query: str) -> list[dict[str, Any]] | None:
        """Type "@bot query": the results the bot answered with (None if it did not answer)."""
        update = self.harness.sandbox.inline_query(self.user_id, query)
        await self.harness.feed(update)
        assert update.inline_query is not None
        return self.harness.sandbox.inline_answer(update.inline_query.id)

    async def tap(
        self, label: str | None = None, *, message_id: int | None = None, data: str | None = None
    ) -> list[Message]:
        """Tap an inline button by label (or raw callback data) on the newest keyboard."""
        update = self.harness.sandbox.press(
            self.user_id, message_id, text=label, callback_data=data
        )
        messages = await self._feed(update)
        assert update.callback_query is not None
        self.answers.append(self.harness.sandbox.callback_answer(update.callback_query.id))
        return messages

    async def forge(self, data: str, *, message_id: int | None = None) -> list[Message]:
        """Send callback data that no button carries (a tampered client)."""
        update = self.harness.sandbox.forge_callback(self.user_id, data, message_id)
        messages = await self._feed(update)
        assert update.callback_query is not None
        self.answers.append(self.harness.sandbox.callback_answer(update.callback_query.id))
        return messages

    async def onboard(self, language: str = "en") -> None:
        """Go through onboarding quickly: language, skip the district, skip the location."""
        await self.send("/start")
        await self.tap("English" if language == "en" else "中文")
        skip = "Skip" if language == "en" else "跳过"
        if skip in inline_labels(self.last_bot_message()):
            await self.tap(skip)
        await self.send(skip)
        self.new_bot_messages()

    @property
    def last_answer(self) -> dict[str, Any] | None:
        """What the bot answered to the last tapped button (toast or alert)."""
        return self.answers[-1] if self.answers else None

    def chat(self) -> list[Message]:
        """The whole chat as it is now (edits applied)."""
        return self.harness.sandbox.messages(self.user_id)

    def last_bot_message(self) -> Message:
        """The newest message from the bot."""
        mine = [m for m in self.chat() if self.harness.sandbox.is_from_bot(m)]
        assert mine, "the bot has not said anything"
        return mine[-1]

    def reply_keyboard(self) -> list[str]:
        """The labels of the reply keyboard the user sees now."""
        keyboard = self.harness.sandbox.reply_keyboard(self.user_id)
        return [button.text for row in keyboard.keyboard for button in row] if keyboard else []


def inline_labels(message: Message) -> list[str]:
    """The labels of a message's inline buttons, row by row flattened."""
    markup = message.reply_markup
    return [b.text for row in markup.inline_keyboard for b in row] if markup else []


def texts(messages: Sequence[Message]) -> list[str]:
    """Text (or caption) of each message."""
    return [m.text or m.caption or "" for m in messages]


@dataclass
class BotHarness:
    """The application, the sandbox and an aiogram Bot wired to it."""

    app: Application
    sandbox: Sandbox
    bot: Bot

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        *,
        language_code: str | None = "en",
        username: str | None = None,
    ) -> ChatUser:
        """A user in the sandbox (created if new)."""
        self.sandbox.add_user(user_id, first_name, username=username, language_code=language_code)
        return ChatUser(self, user_id)

    async def feed(self, update: Update) -> None:
        """Process one update with the real dispatcher, as polling would."""
        await self.app.dispatcher.feed_update(self.bot, update)
