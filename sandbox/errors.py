"""What goes wrong: user actions the sandbox refuses, and Bot API refusals in Telegram's words."""

from __future__ import annotations

from typing import Any

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"


class SandboxError(Exception):
    """A user action the sandbox cannot perform (unknown user, no such button, ...)."""


class UnknownUser(SandboxError, LookupError):
    """No user with that id was added to the sandbox."""


class UnknownMessage(SandboxError, LookupError):
    """No message with that id in the chat."""


class ButtonNotFound(SandboxError, LookupError):
    """No inline button with that label or data; labels lists the buttons on the message."""

    def __init__(self, message: str, labels: list[str]) -> None:
        super().__init__(message)
        self.labels = labels


class ButtonNotPressable(SandboxError, ValueError):
    """The button exists but pressing it sends no update the bot would see (url, location...)."""


class UserBlockedBot(SandboxError):
    """The user has blocked the bot and must unblock it before talking to it again."""


class SandboxAPIError(Exception):
    """A Bot API refusal: Telegram's error code, description and optional retry_after."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None):
        super().__init__(f"{error_code}: {description}")
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_response(self) -> dict[str, Any]:
        """The JSON body Telegram answers with."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> SandboxAPIError:
    """Telegram's 400 with its "Bad Request: " prefix."""
    return SandboxAPIError(400, f"Bad Request: {reason}")
