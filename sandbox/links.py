"""What a Telegram link in a bot message does inside the sandbox: t.me/<bot>?start=PAYLOAD is
the deep link `/start PAYLOAD`, t.me/share/url shares, other links leave for the web."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

TELEGRAM_HOSTS = {"t.me", "telegram.me", "telegram.dog"}
# Telegram passes a start parameter only if it is 1-64 of these characters.
START_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")

LinkKind = Literal["start", "chat", "share", "external"]


@dataclass(frozen=True)
class LinkTarget:
    """Where a link leads: start the bot with a payload, open its chat, share, or the web."""

    kind: LinkKind
    url: str
    payload: str | None = None
    share_url: str | None = None
    share_text: str | None = None

    @property
    def command(self) -> str | None:
        """The message a tap sends as the user: "/start PAYLOAD" for a deep link."""
        if self.kind != "start":
            return None
        return f"/start {self.payload}" if self.payload else "/start"


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _bot_link(url: str, query: dict[str, list[str]]) -> LinkTarget:
    payload = _first(query, "start")
    if payload is not None and START_PAYLOAD.fullmatch(payload):
        return LinkTarget("start", url, payload=payload)
    return LinkTarget("chat", url)


def link_target(url: str, bot_username: str) -> LinkTarget:
    """What tapping `url` does in the chat with the bot called `bot_username`."""
    address = url.strip()
    if address.lower().startswith(tuple(f"{host}/" for host in TELEGRAM_HOSTS)):
        address = f"https://{address}"
    parts = urlsplit(address)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    query = parse_qs(parts.query)
    bot = bot_username.lower()
    if scheme == "tg" and host == "resolve":
        if (_first(query, "domain") or "").lower() == bot:
            return _bot_link(url, query)
        return LinkTarget("external", url)
    if scheme not in {"http", "https"} or host not in TELEGRAM_HOSTS:
        return LinkTarget("external", url)
    path = parts.path.strip("/")
    if path.lower() in {"share", "share/url"}:
        return LinkTarget(
            "share", url, share_url=_first(query, "url"), share_text=_first(query, "text")
        )
    if bot and path.lower() == bot:
        return _bot_link(url, query)
    return LinkTarget("external", url)
