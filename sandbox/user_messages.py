"""What users send the bot: text (a reply keyboard's label too), locations, files, photos."""

from __future__ import annotations

from typing import Any

from aiogram import types

from sandbox.errors import ButtonNotPressable, SandboxError
from sandbox.formatting import FormattedText, detect_entities, strip_text, utf16_len
from sandbox.media import guess_mime_type, image_content_type, image_size
from sandbox.state import PrivateChat, SandboxState
from sandbox.validation import MESSAGE_LIMIT

REPLY_BUTTON_ACTIONS = (
    "request_location",
    "request_contact",
    "request_poll",
    "request_users",
    "request_chat",
    "request_managed_bot",
    "web_app",
)


def _check_not_a_sharing_button(chat: PrivateChat, text: str) -> None:
    """A reply button that shares a location or contact does not send its label."""
    keyboard = chat.reply_keyboard
    if keyboard is None:
        return
    for row in keyboard.keyboard:
        for button in row:
            if button.text == text and any(
                getattr(button, name, None) for name in REPLY_BUTTON_ACTIONS
            ):
                raise ButtonNotPressable(
                    f"the button {button.text!r} shares a location or contact, it does not "
                    "send its label; use send_location()"
                )


def _user_caption(caption: str | None) -> dict[str, Any]:
    if not caption:
        return {}
    formatted = detect_entities(strip_text(FormattedText(caption, [])))
    return {"caption": formatted.text, "caption_entities": formatted.entities or None}


class UserMessages(SandboxState):
    """A user's side of the chat: each send stores the message and queues its update."""

    def send_text(self, user_id: int, text: str) -> types.Update:
        """The user sends a text message ("/cmd args" gets a bot_command entity)."""
        user, chat = self._acting_user(user_id)
        formatted = strip_text(FormattedText(text, []))
        if not formatted.text:
            raise SandboxError("Telegram does not send empty messages")
        if utf16_len(formatted.text) > MESSAGE_LIMIT:
            raise SandboxError("Telegram clients split text over 4096 characters")
        _check_not_a_sharing_button(chat, formatted.text)
        formatted = detect_entities(formatted)
        message = self._store_message(
            chat, user, text=formatted.text, entities=formatted.entities or None
        )
        return self._next_update(message=message)

    def send_location(self, user_id: int, latitude: float, longitude: float) -> types.Update:
        """The user shares a location (what a request_location button sends)."""
        user, chat = self._acting_user(user_id)
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise SandboxError(f"({latitude}, {longitude}) is not a location on Earth")
        location = types.Location(latitude=latitude, longitude=longitude)
        message = self._store_message(chat, user, location=location)
        return self._next_update(message=message)

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
        stored = self._file_store.store(
            content, "documents", filename, mime_type or guess_mime_type(filename)
        )
        message = self._store_message(
            chat, user, document=stored.document(), **_user_caption(caption)
        )
        return self._next_update(message=message)

    def send_photo(
        self, user_id: int, content: bytes, *, caption: str | None = None
    ) -> types.Update:
        """The user sends a picture as a photo."""
        user, chat = self._acting_user(user_id)
        size = image_size(content)
        if size is None:
            raise SandboxError("a photo must be a PNG, JPEG, GIF or WebP image")
        stored = self._file_store.store(content, "photos", None, image_content_type(content))
        message = self._store_message(
            chat, user, photo=stored.photo(size), **_user_caption(caption)
        )
        return self._next_update(message=message)
