"""What one reader receives: the message model, its stored payload, and the checks it passes."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot.services.errors import InvalidInputError

LANGUAGES = ("zh", "en")
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CONTENT_LIMIT = 512 * 1024
CALLBACK_DATA_LIMIT = 64


@dataclass(frozen=True)
class Button:
    """An inline button under a message: a link or callback data; its label per language."""

    label: Mapping[str, str] | str
    url: str | None = None
    callback_data: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A document or photo: a Telegram file_id or http(s) URL, or the (small) file itself."""

    kind: Literal["document", "photo"]
    file: str | None = None
    content: bytes | None = None
    filename: str | None = None


def _button_payload(button: Button) -> dict[str, Any]:
    return {
        "label": button.label if isinstance(button.label, str) else dict(button.label),
        **({"url": button.url} if button.url else {}),
        **({"callback_data": button.callback_data} if button.callback_data else {}),
    }


def _attachment_payload(attachment: Attachment) -> dict[str, Any]:
    stored: dict[str, Any] = {"kind": attachment.kind}
    if attachment.file:
        stored["file"] = attachment.file
    if attachment.content is not None:
        stored["content_b64"] = base64.b64encode(attachment.content).decode()
    if attachment.filename:
        stored["filename"] = attachment.filename
    return stored


@dataclass(frozen=True)
class OutboxMessage:
    """What one reader receives: HTML text per language (one is enough) and extras."""

    text: Mapping[str, str]
    buttons: Sequence[Sequence[Button]] = ()
    attachment: Attachment | None = None
    location: tuple[float, float] | None = None

    def to_payload(self) -> dict[str, Any]:
        """The JSON stored in ``Notification.payload``."""
        payload: dict[str, Any] = {"text": dict(self.text)}
        if self.buttons:
            payload["buttons"] = [
                [_button_payload(button) for button in row] for row in self.buttons
            ]
        if self.attachment is not None:
            payload["attachment"] = _attachment_payload(self.attachment)
        if self.location is not None:
            payload["location"] = [self.location[0], self.location[1]]
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> OutboxMessage:
        """Read a stored payload back (raises InvalidInputError if it is malformed)."""
        try:
            buttons = tuple(
                tuple(
                    Button(
                        label=item["label"],
                        url=item.get("url"),
                        callback_data=item.get("callback_data"),
                    )
                    for item in row
                )
                for row in payload.get("buttons", ())
            )
            attachment = None
            if raw := payload.get("attachment"):
                content = raw.get("content_b64")
                attachment = Attachment(
                    kind=raw["kind"],
                    file=raw.get("file"),
                    content=base64.b64decode(content, validate=True) if content else None,
                    filename=raw.get("filename"),
                )
            location = payload.get("location")
            return cls(
                text=dict(payload["text"]),
                buttons=buttons,
                attachment=attachment,
                location=(float(location[0]), float(location[1])) if location else None,
            )
        except (KeyError, TypeError, ValueError, IndexError, binascii.Error) as exc:
            raise InvalidInputError(f"malformed outbox payload: {exc}") from exc

    def text_for(self, language: str | None, default: str) -> str:
        """The text in the reader's language, else the default language, else any."""
        for candidate in (language, default, *LANGUAGES):
            if candidate and self.text.get(candidate):
                return self.text[candidate]
        return next(iter(self.text.values()), "")


def check_message(message: OutboxMessage) -> None:
    """Refuse a message Telegram would refuse (or that no reader could read)."""
    texts = {lang: body for lang, body in message.text.items() if body}
    if not texts and message.attachment is None and message.location is None:
        raise InvalidInputError("an outbox message needs text, an attachment or a location")
    unknown = set(message.text) - set(LANGUAGES)
    if unknown:
        raise InvalidInputError(f"unknown language(s) {sorted(unknown)}")
    for body in texts.values():
        if len(body) > TEXT_LIMIT:
            raise InvalidInputError(f"text longer than {TEXT_LIMIT} characters")
    for row in message.buttons:
        for button in row:
            _check_button(button)
    if message.attachment is not None:
        _check_attachment(message.attachment)
    if message.location is not None:
        latitude, longitude = message.location
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise InvalidInputError("location out of range")


def _check_button(button: Button) -> None:
    if (button.url is None) == (button.callback_data is None):
        raise InvalidInputError("a button needs exactly one of url and callback_data")
    if (
        button.callback_data is not None
        and len(button.callback_data.encode()) > CALLBACK_DATA_LIMIT
    ):
        raise InvalidInputError(f"callback data longer than {CALLBACK_DATA_LIMIT} bytes")
    if button.url is not None and not button.url.startswith(("https://", "http://", "tg://")):
        raise InvalidInputError("a button link must be http(s) or tg://")


def _check_attachment(attachment: Attachment) -> None:
    if attachment.kind not in ("document", "photo"):
        raise InvalidInputError(f"unknown attachment kind {attachment.kind!r}")
    if (attachment.file is None) == (attachment.content is None):
        raise InvalidInputError("an attachment needs exactly one of file and content")
    if attachment.content is not None and len(attachment.content) > CONTENT_LIMIT:
        raise InvalidInputError(f"attached content larger than {CONTENT_LIMIT} bytes")
