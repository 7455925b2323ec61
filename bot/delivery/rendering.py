"""Rendering: the Bot API calls that deliver one outbox message, in the reader's language."""

from __future__ import annotations

import json
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.methods import SendDocument, SendLocation, SendMessage, SendPhoto, TelegramMethod
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from bot.config import Settings
from bot.i18n import N_
from bot.notices.render import render
from bot.services.outbox.claiming import Delivery
from bot.services.outbox.messages import CAPTION_LIMIT, Attachment, OutboxMessage

UNSUBSCRIBE_LABEL = N_("Unsubscribe from these")
RENDER_CACHE_SIZE = 256


class Unsubscribe(CallbackData, prefix="unsub"):
    """The "Unsubscribe from these" button under a promotional message."""

    topic: str


def _label(label: Any, language: str, default: str) -> str:
    if isinstance(label, str):
        return label
    for candidate in (language, default, "zh", "en"):
        if label.get(candidate):
            return str(label[candidate])
    return next(iter(label.values()), "?")


def _markup(
    message: OutboxMessage,
    *,
    language: str,
    default_language: str,
    i18n: I18n,
    unsubscribe_topic: str | None,
) -> InlineKeyboardMarkup | None:
    rows = [
        [
            InlineKeyboardButton(
                text=_label(button.label, language, default_language),
                url=button.url,
                callback_data=button.callback_data,
            )
            for button in row
        ]
        for row in message.buttons
    ]
    if unsubscribe_topic is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    text=i18n.gettext(UNSUBSCRIBE_LABEL, locale=language),
                    callback_data=Unsubscribe(topic=unsubscribe_topic).pack(),
                )
            ]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def _attachment_parts(
    attachment: Attachment, body: str, *, chat_id: int, markup: InlineKeyboardMarkup | None
) -> list[TelegramMethod[Any]]:
    caption = body if body and len(body) <= CAPTION_LIMIT else None
    file: str | BufferedInputFile = (
        BufferedInputFile(attachment.content, attachment.filename or "file")
        if attachment.content is not None
        else str(attachment.file)
    )
    own_markup = markup if caption is not None or not body else None
    parts: list[TelegramMethod[Any]] = []
    if attachment.kind == "photo":
        parts.append(
            SendPhoto(chat_id=chat_id, photo=file, caption=caption, reply_markup=own_markup)
        )
    else:
        parts.append(
            SendDocument(chat_id=chat_id, document=file, caption=caption, reply_markup=own_markup)
        )
    if caption is None and body:
        parts.append(SendMessage(chat_id=chat_id, text=body, reply_markup=markup))
    return parts


def render_parts(
    message: OutboxMessage,
    *,
    chat_id: int,
    language: str,
    default_language: str,
    i18n: I18n,
    unsubscribe_topic: str | None = None,
) -> list[TelegramMethod[Any]]:
    """The Bot API calls that deliver one outbox message, in order."""
    markup = _markup(
        message,
        language=language,
        default_language=default_language,
        i18n=i18n,
        unsubscribe_topic=unsubscribe_topic,
    )
    body = message.text_for(language, default_language)
    parts: list[TelegramMethod[Any]] = []
    if message.attachment is not None:
        parts += _attachment_parts(message.attachment, body, chat_id=chat_id, markup=markup)
    elif body:
        parts.append(SendMessage(chat_id=chat_id, text=body, reply_markup=markup))
    if message.location is not None:
        latitude, longitude = message.location
        parts.append(
            SendLocation(
                chat_id=chat_id,
                latitude=latitude,
                longitude=longitude,
                reply_markup=markup if not parts else None,
            )
        )
    return parts


class RenderedParts:
    """The calls for each claimed row; a broadcast renders once per language, not per reader."""

    def __init__(self, i18n: I18n, settings: Settings) -> None:
        self.i18n = i18n
        self.settings = settings
        self._rendered: dict[tuple[str, str, str | None], list[TelegramMethod[Any]]] = {}

    def for_delivery(self, delivery: Delivery) -> list[TelegramMethod[Any]]:
        """The calls that deliver the row to its reader (InvalidInputError if malformed)."""
        language = delivery.language or self.settings.default_language
        topic = delivery.topic if delivery.promotional else None
        key = (json.dumps(delivery.payload, sort_keys=True), language, topic)
        parts = self._rendered.get(key)
        if parts is None:
            parts = render_parts(
                render(delivery.payload, language, translator=self.i18n, settings=self.settings),
                chat_id=0,
                language=language,
                default_language=self.settings.default_language,
                i18n=self.i18n,
                unsubscribe_topic=topic,
            )
            if len(self._rendered) >= RENDER_CACHE_SIZE:
                self._rendered.pop(next(iter(self._rendered)))
            self._rendered[key] = parts
        return [part.model_copy(update={"chat_id": delivery.chat_id}) for part in parts]


def localized(i18n: I18n, message: str) -> dict[str, str]:
    """A message translated into every language (for labels stored in payloads)."""
    return {language: i18n.gettext(message, locale=language) for language in i18n.available_locales}
