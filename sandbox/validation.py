"""How Telegram checks what a bot sends: text and captions with their parse mode, keyboards."""

from __future__ import annotations

from typing import Any

from aiogram import types

from sandbox.errors import SandboxAPIError, bad_request
from sandbox.formatting import (
    EntityParseError,
    FormattedText,
    detect_entities,
    parse_html,
    strip_text,
    utf16_len,
)
from sandbox.serialise import unset

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
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


def format_text(
    text: str | None,
    parse_mode: Any,
    entities: list[types.MessageEntity] | None,
    *,
    limit: int,
    what: str,
) -> FormattedText:
    """Text or a caption ("text" or "caption" in `what`) as Telegram stores it, or its refusal."""
    parse_mode = unset(parse_mode)
    if parse_mode:
        mode = str(parse_mode).lower()
        if mode != "html":
            if mode in {"markdown", "markdownv2"}:
                raise SandboxAPIError(
                    501, f"Not Implemented: the sandbox parses only HTML, not {parse_mode}"
                )
            raise bad_request(f"unsupported parse_mode {parse_mode}")
        try:
            formatted = parse_html(text or "")
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    else:
        formatted = FormattedText(text or "", list(entities or []))
    formatted = strip_text(formatted)
    if what == "text" and not formatted.text:
        raise bad_request("message text is empty")
    if utf16_len(formatted.text) > limit:
        reason = "message is too long" if what == "text" else "message caption is too long"
        raise bad_request(reason)
    return detect_entities(formatted)


def check_inline_keyboard(markup: types.InlineKeyboardMarkup) -> None:
    """Refuse buttons without an action, oversized callback data and unusable URLs."""
    for row in markup.inline_keyboard:
        for button in row:
            if not any(getattr(button, name, None) is not None for name in BUTTON_ACTIONS):
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            if button.callback_data is not None:
                size = len(button.callback_data.encode("utf-8"))
                if not 1 <= size <= CALLBACK_DATA_LIMIT:
                    raise bad_request("BUTTON_DATA_INVALID")
            if button.url is not None and not button.url.lower().startswith(
                ("http://", "https://", "tg://")
            ):
                raise bad_request(
                    f"inline keyboard button URL '{button.url}' is invalid: Wrong HTTP URL"
                )


def check_markup(markup: Any) -> Any:
    """The reply markup, once an inline keyboard in it has passed Telegram's checks."""
    if isinstance(markup, types.InlineKeyboardMarkup):
        check_inline_keyboard(markup)
    return markup
