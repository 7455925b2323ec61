"""In-memory Telegram for one bot: users, private chats, messages, updates, files and faults.

`Sandbox` is assembled from one class per section; each Bot API method is emulated by the
method marked ``@bot_method("<name>")`` (grep for the name):

- ``sandbox.state``: what is held, storing messages, queueing updates, signalling changes
- ``sandbox.users``: users, blocking, reading the chats (`messages`, `changes`, ...)
- ``sandbox.user_messages``: what users send (`send_text`, `send_location`, ...)
- ``sandbox.buttons``: presses, callback queries, inline mode, answerCallbackQuery,
  answerInlineQuery
- ``sandbox.bot_messages``: sendMessage, sendDocument, sendPhoto, sendLocation, sendVenue,
  sendChatAction, editMessage*, deleteMessage, getFile
- ``sandbox.updates``: getUpdates, setWebhook, deleteWebhook, getWebhookInfo, webhook delivery
- ``sandbox.commands``: setMyCommands, getMyCommands, deleteMyCommands
- ``sandbox.dispatch``: `call` (every Bot API call), injected faults, getMe, logOut, close
- ``sandbox.waiting``: `wait_until`, `wait_idle`
- ``sandbox.faults``, ``sandbox.files``, ``sandbox.validation``, ``sandbox.methods``: the rules
  those sections apply (fault list and flood gate, file store, Telegram's checks, registry)
"""

from __future__ import annotations

from sandbox.bot_messages import BotMessages
from sandbox.buttons import Buttons
from sandbox.commands import Commands
from sandbox.errors import (
    ButtonNotFound,
    ButtonNotPressable,
    SandboxAPIError,
    SandboxError,
    UnknownMessage,
    UnknownUser,
    UserBlockedBot,
)
from sandbox.faults import Fault
from sandbox.files import StoredFile, UploadedFile
from sandbox.methods import decode_params
from sandbox.serialise import to_json
from sandbox.state import RecordedRequest, Webhook
from sandbox.updates import Updates
from sandbox.user_messages import UserMessages

# The names the project imports from here; each is defined in the module named above.
__all__ = [
    "ButtonNotFound",
    "ButtonNotPressable",
    "Fault",
    "RecordedRequest",
    "Sandbox",
    "SandboxAPIError",
    "SandboxError",
    "StoredFile",
    "UnknownMessage",
    "UnknownUser",
    "UploadedFile",
    "UserBlockedBot",
    "Webhook",
    "decode_params",
    "to_json",
]


class Sandbox(Updates, Buttons, UserMessages, BotMessages, Commands):
    """An in-memory Telegram Bot API for one bot and any number of private chats."""
