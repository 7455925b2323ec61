"""What the bot sends, edits and deletes in a chat, and the files it uploads and fetches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram import methods, types

from sandbox.errors import NOT_MODIFIED, WRONG_FILE, SandboxAPIError, bad_request
from sandbox.files import DOWNLOAD_LIMIT, StoredFile, UploadedFile
from sandbox.media import guess_mime_type, image_content_type, image_size
from sandbox.methods import bot_method
from sandbox.serialise import same
from sandbox.state import PrivateChat, SandboxState, now
from sandbox.validation import CAPTION_LIMIT, MESSAGE_LIMIT, check_markup, format_text

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


def _not_modified() -> SandboxAPIError:
    return bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))


def _caption(method: Any) -> dict[str, Any]:
    if not method.caption:
        return {}
    formatted = format_text(
        method.caption,
        method.parse_mode,
        method.caption_entities,
        limit=CAPTION_LIMIT,
        what="caption",
    )
    if not formatted.text:
        return {}
    return {"caption": formatted.text, "caption_entities": formatted.entities or None}


class BotMessages(SandboxState):
    """The bot's side of a chat, refused where Telegram refuses it."""

    # ------------------------------------------------------------- sending

    @bot_method("sendMessage")
    async def _send_message(
        self, method: methods.SendMessage, uploads: Mapping[str, UploadedFile]
    ) -> types.Message:
        chat = self._target_chat(method.chat_id)
        formatted = format_text(
            method.text, method.parse_mode, method.entities, limit=MESSAGE_LIMIT, what="text"
        )
        return self._store_bot_message(
            chat, method, text=formatted.text, entities=formatted.entities or None
        )

    @bot_method("sendDocument")
    async def _send_document(
        self, method: methods.SendDocument, uploads: Mapping[str, UploadedFile]
    ) -> types.Message:
        chat = self._target_chat(method.chat_id)
        caption = _caption(method)
        stored = self._upload(method.document, uploads, "documents")
        return self._store_bot_message(chat, method, document=stored.document(), **caption)

    @bot_method("sendPhoto")
    async def _send_photo(
        self, method: methods.SendPhoto, uploads: Mapping[str, UploadedFile]
    ) -> types.Message:
        chat = self._target_chat(method.chat_id)
        caption = _caption(method)
        stored = self._upload(method.photo, uploads, "photos")
        size = image_size(stored.content)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        return self._store_bot_message(chat, method, photo=stored.photo(size), **caption)

    @bot_method("sendLocation")
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

    @bot_method("sendVenue")
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

    @bot_method("sendChatAction")
    async def _send_chat_action(
        self, method: methods.SendChatAction, uploads: Mapping[str, UploadedFile]
    ) -> bool:
        self._target_chat(method.chat_id)
        if method.action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # ------------------------------------------------------------- editing

    @bot_method("editMessageText")
    async def _edit_message_text(
        self, method: methods.EditMessageText, uploads: Mapping[str, UploadedFile]
    ) -> types.Message:
        chat, message = self._editable(method)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        formatted = format_text(
            method.text, method.parse_mode, method.entities, limit=MESSAGE_LIMIT, what="text"
        )
        markup = check_markup(method.reply_markup)
        if (
            message.text == formatted.text
            and same(message.entities or [], formatted.entities)
            and same(message.reply_markup, markup)
        ):
            raise _not_modified()
        edited = message.model_copy(
            update={
                "text": formatted.text,
                "entities": formatted.entities or None,
                "reply_markup": markup,
                "edit_date": round(now().timestamp()),
            }
        )
        self._replace_message(chat, edited)
        return edited

    @bot_method("editMessageCaption")
    async def _edit_message_caption(
        self, method: methods.EditMessageCaption, uploads: Mapping[str, UploadedFile]
    ) -> types.Message:
        chat, message = self._editable(method)
        if message.document is None and message.photo is None:
            raise bad_request("there is no caption in the message to edit")
        caption = _caption(method)
        markup = check_markup(method.reply_markup)
        if (
            message.caption == caption.get("caption")
            and same(message.caption_entities, caption.get("caption_entities"))
            and same(message.reply_markup, markup)
        ):
            raise _not_modified()
        edited = message.model_copy(
            update={
                "caption": caption.get("caption"),
                "caption_entities": caption.get("caption_entities"),
                "reply_markup": markup,
                "edit_date": round(now().timestamp()),
            }
        )
        self._replace_message(chat, edited)
        return edited

    @bot_method("editMessageReplyMarkup")
    async def _edit_message_reply_markup(
        self, method: methods.EditMessageReplyMarkup, uploads: Mapping[str, UploadedFile]
    ) -> types.Message:
        chat, message = self._editable(method)
        markup = check_markup(method.reply_markup)
        if same(message.reply_markup, markup):
            raise _not_modified()
        edited = message.model_copy(
            update={"reply_markup": markup, "edit_date": round(now().timestamp())}
        )
        self._replace_message(chat, edited)
        return edited

    @bot_method("deleteMessage")
    async def _delete_message(
        self, method: methods.DeleteMessage, uploads: Mapping[str, UploadedFile]
    ) -> bool:
        chat = self._target_chat(method.chat_id, sending=False)
        if chat.messages.pop(method.message_id, None) is None:
            raise bad_request("message to delete not found")
        chat.version += 1
        chat.deleted[method.message_id] = chat.version
        chat.stamps.pop(method.message_id, None)
        self._notify()
        return True

    # --------------------------------------------------------------- files

    @bot_method("getFile")
    async def _get_file(
        self, method: methods.GetFile, uploads: Mapping[str, UploadedFile]
    ) -> types.File:
        stored = self._file_store.by_id(method.file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.file_size > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return types.File(
            file_id=stored.file_id,
            file_unique_id=stored.file_unique_id,
            file_size=stored.file_size,
            file_path=stored.file_path,
        )

    def _upload(
        self,
        value: str | types.InputFile,
        uploads: Mapping[str, UploadedFile],
        folder: str,
    ) -> StoredFile:
        """The file a send method names: an attach:// part of the request or a stored file_id."""
        if not isinstance(value, str):
            raise bad_request("file must be sent as multipart/form-data")
        if value.startswith("attach://"):
            upload = uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"file {value} not found in the request")
            if not upload.content:
                raise bad_request("file must be non-empty")
            mime_type = (
                image_content_type(upload.content)
                if folder == "photos"
                else guess_mime_type(upload.filename)
            )
            name = None if folder == "photos" else upload.filename
            return self._file_store.store(upload.content, folder, name, mime_type)
        stored = self._file_store.by_id(value)
        if stored is None:
            # The sandbox has no internet, so an HTTP URL cannot be fetched either.
            raise bad_request(WRONG_FILE.removeprefix("Bad Request: "))
        return stored

    # ---------------------------------------------------------- validation

    def _target_chat(self, chat_id: int | str, *, sending: bool = True) -> PrivateChat:
        if isinstance(chat_id, str):
            try:
                chat_id = int(chat_id)
            except ValueError:
                raise bad_request("chat not found") from None
        chat = self._chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if sending and chat_id in self._blocked:
            raise SandboxAPIError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _check_flood(self, chat: PrivateChat) -> None:
        if not self.flood_limits:
            return
        retry_after = self._flood_gate.take(chat.user_id)
        if retry_after is not None:
            raise SandboxAPIError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )

    def _reply_target(self, chat: PrivateChat, method: Any) -> types.Message | None:
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
            raise bad_request("message to be replied not found")
        return target

    def _store_bot_message(self, chat: PrivateChat, method: Any, **content: Any) -> types.Message:
        markup = check_markup(getattr(method, "reply_markup", None))
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

    def _editable(self, method: Any) -> tuple[PrivateChat, types.Message]:
        if method.inline_message_id is not None:
            raise bad_request("message to edit not found")
        if method.chat_id is None:
            raise bad_request("chat_id is empty")
        chat = self._target_chat(method.chat_id, sending=False)
        message = chat.messages.get(method.message_id) if method.message_id else None
        if message is None:
            raise bad_request("message to edit not found")
        if not self.is_from_bot(message):
            raise bad_request("message can't be edited")
        return chat, message
