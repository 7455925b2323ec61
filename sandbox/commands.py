"""The bot's command menus: set, get and delete them by scope and language."""

from __future__ import annotations

import json
from collections.abc import Mapping

from aiogram import methods, types

from sandbox.errors import bad_request
from sandbox.files import UploadedFile
from sandbox.methods import bot_method
from sandbox.serialise import to_json
from sandbox.state import SandboxState


def _scope_key(scope: types.BotCommandScopeUnion | None) -> str:
    if scope is None:
        return "default"
    return json.dumps(to_json(scope), sort_keys=True)


def _check_command(command: types.BotCommand) -> None:
    name = command.command
    if not (1 <= len(name) <= 32) or any(
        not (c.islower() or c.isdigit() or c == "_") or not c.isascii() for c in name
    ):
        raise bad_request("BOT_COMMAND_INVALID")
    if not 1 <= len(command.description) <= 256:
        raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")


class Commands(SandboxState):
    """Command lists the bot publishes, kept per scope and language."""

    def commands(
        self, scope: types.BotCommandScopeUnion | None = None, language_code: str = ""
    ) -> list[types.BotCommand]:
        """The commands set with setMyCommands for that scope and language."""
        return list(self._commands.get((_scope_key(scope), language_code), []))

    @bot_method("setMyCommands")
    async def _set_my_commands(
        self, method: methods.SetMyCommands, uploads: Mapping[str, UploadedFile]
    ) -> bool:
        for command in method.commands:
            _check_command(command)
        key = (_scope_key(method.scope), method.language_code or "")
        self._commands[key] = list(method.commands)
        return True

    @bot_method("getMyCommands")
    async def _get_my_commands(
        self, method: methods.GetMyCommands, uploads: Mapping[str, UploadedFile]
    ) -> list[types.BotCommand]:
        return self.commands(method.scope, method.language_code or "")

    @bot_method("deleteMyCommands")
    async def _delete_my_commands(
        self, method: methods.DeleteMyCommands, uploads: Mapping[str, UploadedFile]
    ) -> bool:
        self._commands.pop((_scope_key(method.scope), method.language_code or ""), None)
        return True
