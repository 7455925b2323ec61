"""One Bot API call from the bot: checked, logged, maybe failed on purpose, then handed to the
method's emulation (found by its ``@bot_method`` name); the bot's identity methods live here."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from aiogram import methods, types
from pydantic import ValidationError

from sandbox.errors import SandboxAPIError
from sandbox.files import UPLOAD_LIMIT, UploadedFile
from sandbox.methods import EMULATED, METHODS, bot_method, decode_params, validation_refusal
from sandbox.serialise import to_json
from sandbox.state import RecordedRequest, SandboxState


class Dispatch(SandboxState):
    """The entry point of every Bot API call, and the faults injected into them."""

    async def call(
        self,
        method_name: str,
        params: Mapping[str, Any],
        files: Mapping[str, UploadedFile | bytes] | None = None,
        *,
        token: str | None = None,
    ) -> Any:
        """Run one Bot API call: its JSON-able result, or SandboxAPIError as Telegram refuses."""
        record = RecordedRequest(method_name, dict(params), time.time())
        self.requests.append(record)
        polling = method_name.lower() == "getupdates"
        if not polling:
            self._calls_in_flight += 1
            self._last_bot_request = time.monotonic()
        try:
            result = await self._execute(record, params, files or {}, token)
        except SandboxAPIError as error:
            record.outcome = "error"
            record.error_code = error.error_code
            record.description = error.description
            raise
        finally:
            if not polling:
                self._calls_in_flight -= 1
                self._last_bot_request = time.monotonic()
        record.outcome = "ok"
        return result

    async def _execute(
        self,
        record: RecordedRequest,
        params: Mapping[str, Any],
        files: Mapping[str, UploadedFile | bytes],
        token: str | None,
    ) -> Any:
        if token is not None and token != self.token:
            raise SandboxAPIError(401, "Unauthorized")
        model = METHODS.get(record.method.lower())
        if model is None:
            raise SandboxAPIError(404, "Not Found")
        record.method = str(model.__api_method__)
        fault = self._faults.take(record.method)
        if fault is not None:
            raise SandboxAPIError(
                fault.error_code, fault.description, retry_after=fault.retry_after
            )
        uploads = {
            key: value if isinstance(value, UploadedFile) else UploadedFile(key, value)
            for key, value in files.items()
        }
        if sum(len(upload.content) for upload in uploads.values()) > UPLOAD_LIMIT:
            raise SandboxAPIError(413, "Request Entity Too Large")
        raw = dict(params)
        for key in uploads:
            if key in model.model_fields and key not in raw:
                raw[key] = f"attach://{key}"
        decoded = decode_params(model, raw)
        record.params = decoded
        try:
            method = model.model_validate(decoded)
        except ValidationError as error:
            raise validation_refusal(error) from None
        handler = EMULATED.get(record.method)
        if handler is None:
            raise SandboxAPIError(
                501, f"Not Implemented: the sandbox does not emulate {record.method}"
            )
        return to_json(await getattr(self, handler)(method, uploads))

    # ---------------------------------------------------------------- faults

    def add_fault(
        self,
        method: str,
        error_code: int,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        count: int = 1,
    ) -> None:
        """Make the next `count` calls of `method` ("*" for any) fail with this error."""
        self._faults.add(
            method, error_code, retry_after=retry_after, description=description, count=count
        )

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self._faults.clear()

    # -------------------------------------------------------------- the bot

    @bot_method("getMe")
    async def _get_me(
        self, method: methods.GetMe, uploads: Mapping[str, UploadedFile]
    ) -> types.User:
        return self.bot_user

    @bot_method("logOut", "close")
    async def _log_out(self, method: Any, uploads: Mapping[str, UploadedFile]) -> bool:
        return True
