"""Users and messages as the control API shows them to the web page and to scripts."""

from __future__ import annotations

from typing import Any

from aiogram import types

from sandbox.core import Sandbox
from sandbox.formatting import render_html
from sandbox.links import link_target
from sandbox.serialise import to_json


def user_view(sandbox: Sandbox, user: types.User) -> dict[str, Any]:
    """A user as the control API shows it."""
    return {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "language_code": user.language_code,
        "blocked": sandbox.is_blocked(user.id),
        "persona": sandbox.persona(user.id),
    }


def _message_urls(message: types.Message, text: str | None) -> list[str]:
    """Every URL a tap on the message can open: links in the text and URL buttons."""
    urls: list[str] = []
    entities = (message.entities if message.text is not None else message.caption_entities) or []
    units = (text or "").encode("utf-16-le")
    for entity in entities:
        if entity.type == "text_link" and entity.url:
            urls.append(entity.url)
        elif entity.type == "url":
            start, end = entity.offset * 2, (entity.offset + entity.length) * 2
            url = units[start:end].decode("utf-16-le", errors="replace")
            # The href render_html gives it, which is what the page looks up.
            urls.append(url if "://" in url else f"http://{url}")
    markup = message.reply_markup
    if isinstance(markup, types.InlineKeyboardMarkup):
        urls += [button.url for row in markup.inline_keyboard for button in row if button.url]
    return urls


def telegram_links(sandbox: Sandbox, message: types.Message, text: str | None) -> dict[str, str]:
    """The message's links that act inside Telegram (deep links, shares), by URL: their kind."""
    username = sandbox.bot_user.username or ""
    links: dict[str, str] = {}
    for url in _message_urls(message, text):
        target = link_target(url, username)
        if target.kind != "external":
            links[url] = target.kind
    return links


def _attachments(message: types.Message) -> dict[str, Any]:
    view: dict[str, Any] = {}
    if message.document is not None:
        document = message.document
        view["document"] = {
            "file_name": document.file_name,
            "mime_type": document.mime_type,
            "file_size": document.file_size,
            "url": f"/sandbox/files/{document.file_id}",
        }
    if message.photo:
        largest = message.photo[-1]
        view["photo"] = {
            "url": f"/sandbox/files/{largest.file_id}",
            "width": largest.width,
            "height": largest.height,
        }
    if message.venue is not None:
        view["venue"] = to_json(message.venue)
    if message.location is not None:
        view["location"] = {
            "latitude": message.location.latitude,
            "longitude": message.location.longitude,
        }
    return view


def message_view(sandbox: Sandbox, message: types.Message) -> dict[str, Any]:
    """A chat message as the web page and tests read it."""
    text = message.text if message.text is not None else message.caption
    entities = message.entities if message.text is not None else message.caption_entities
    view: dict[str, Any] = {
        "message_id": message.message_id,
        "from": "bot" if sandbox.is_from_bot(message) else "user",
        "text": text,
        "html": render_html(text, entities) if text is not None else None,
        "edited": message.edit_date is not None,
        "date": round(message.date.timestamp()),
        "version": sandbox.chat_version(message.chat.id),
        "links": telegram_links(sandbox, message, text),
    }
    if message.via_bot is not None:
        view["via_bot"] = message.via_bot.username
    markup: Any = message.reply_markup or sandbox.sent_markup(message.chat.id, message.message_id)
    if markup is not None:
        view["reply_markup"] = to_json(markup)
    view.update(_attachments(message))
    return view
