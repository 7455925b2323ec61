"""Inline buttons, callback queries and inline mode, from both sides: the user presses or types
"@bot query", the bot answers with answerCallbackQuery or answerInlineQuery."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram import methods, types

from sandbox.errors import (
    QUERY_TOO_OLD,
    ButtonNotFound,
    ButtonNotPressable,
    SandboxAPIError,
    SandboxError,
    UnknownMessage,
    bad_request,
)
from sandbox.files import UploadedFile
from sandbox.methods import bot_method
from sandbox.serialise import to_json
from sandbox.state import PrivateChat
from sandbox.users import Users
from sandbox.validation import BUTTON_ACTIONS, MESSAGE_LIMIT, format_text
from sandbox.waiting import Waiting


class Buttons(Users, Waiting):
    """Presses, forged callbacks, inline queries and the bot's answers to them."""

    # ------------------------------------------------------------ user side

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
        self, user: types.User, chat: PrivateChat, message: types.Message, data: str
    ) -> types.Update:
        query = types.CallbackQuery(
            id=str(next(self._query_ids)),
            from_user=user,
            message=message,
            chat_instance=chat.chat_instance,
            data=data,
        )
        self._callback_queries[query.id] = query
        return self._next_update(callback_query=query)

    def _keyboard_message(self, chat: PrivateChat, message_id: int | None) -> types.Message:
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
        return self._next_update(inline_query=inline)

    def choose_inline_result(
        self, user_id: int, inline_query_id: str, result_id: str
    ) -> types.Update:
        """The user picks one of the bot's answers to an inline query: the chat gets the result's
        message "via @bot" (the update returned) and the bot a chosen_inline_result."""
        user, chat = self._acting_user(user_id)
        query = self._inline_queries.get(inline_query_id)
        if query is None or query.from_user.id != user_id:
            raise SandboxError(f"user {user_id} asked no inline query {inline_query_id}")
        results = self._inline_answers.get(inline_query_id)
        if results is None:
            raise SandboxError(f"the bot has not answered inline query {inline_query_id}")
        result = next((item for item in results if item.get("id") == result_id), None)
        if result is None:
            raise SandboxError(f"no result {result_id!r} in the answer to {inline_query_id}")
        content = _result_message(result)
        self._next_update(
            chosen_inline_result=types.ChosenInlineResult(
                result_id=result_id, from_user=user, query=query.query
            )
        )
        message = self._store_message(chat, user, via_bot=self.bot_user, **content)
        return self._next_update(message=message)

    # ------------------------------------------------------------- reading

    def callback_answer(self, callback_query_id: str) -> dict[str, Any] | None:
        """What answerCallbackQuery said (text, show_alert, url, cache_time), None if unanswered."""
        return self._callback_answers.get(callback_query_id)

    def inline_answer(self, inline_query_id: str) -> list[dict[str, Any]] | None:
        """The results answerInlineQuery gave (JSON objects), None if unanswered."""
        return self._inline_answers.get(inline_query_id)

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

    # -------------------------------------------------------------- bot side

    @bot_method("answerCallbackQuery")
    async def _answer_callback_query(
        self, method: methods.AnswerCallbackQuery, uploads: Mapping[str, UploadedFile]
    ) -> bool:
        query_id = method.callback_query_id
        if query_id not in self._callback_queries or query_id in self._callback_answers:
            raise bad_request(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        if method.text is not None and len(method.text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self._callback_answers[query_id] = {
            "text": method.text,
            "show_alert": bool(method.show_alert),
            "url": method.url,
            "cache_time": method.cache_time,
        }
        self._notify()
        return True

    @bot_method("answerInlineQuery")
    async def _answer_inline_query(
        self, method: methods.AnswerInlineQuery, uploads: Mapping[str, UploadedFile]
    ) -> bool:
        query_id = method.inline_query_id
        if query_id not in self._inline_queries or query_id in self._inline_answers:
            raise bad_request(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        if len(method.results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        ids = [result.id for result in method.results]
        if len(set(ids)) != len(ids):
            raise bad_request("RESULT_ID_DUPLICATE")
        self._inline_answers[query_id] = [to_json(result) for result in method.results]
        self._notify()
        return True


def _result_message(result: Mapping[str, Any]) -> dict[str, Any]:
    """The text, entities and buttons an inline result puts in the chat (text results only)."""
    content = result.get("input_message_content") or {}
    if "message_text" not in content:
        raise SandboxError("the sandbox sends only inline results with a text message")
    entities = [types.MessageEntity.model_validate(e) for e in content.get("entities") or []]
    try:
        formatted = format_text(
            content["message_text"],
            content.get("parse_mode"),
            entities,
            limit=MESSAGE_LIMIT,
            what="text",
        )
    except SandboxAPIError as error:
        raise SandboxError(f"the result's message is refused: {error.description}") from None
    markup = result.get("reply_markup")
    return {
        "text": formatted.text,
        "entities": formatted.entities or None,
        "reply_markup": types.InlineKeyboardMarkup.model_validate(markup) if markup else None,
    }
