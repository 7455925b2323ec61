"""An aiogram session that talks to a Sandbox in-process instead of over HTTP."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, cast

from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import ClientResponseError, RequestInfo
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from sandbox.core import Sandbox
from sandbox.errors import SandboxAPIError
from sandbox.files import UploadedFile

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.types import InputFile

_FILE_URL = re.compile(r"/file/bot(?P<token>[^/]+)/(?P<path>.+)$")


class SandboxSession(BaseSession):
    """Serialises each method exactly like AiohttpSession and hands it to Sandbox.call."""

    def __init__(self, sandbox: Sandbox, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sandbox = sandbox

    async def close(self) -> None:
        """Nothing to release: there is no connection."""

    async def build_request(
        self, bot: Bot, method: TelegramMethod[TelegramType]
    ) -> tuple[dict[str, str], dict[str, UploadedFile]]:
        """The form fields and file parts AiohttpSession.build_form_data would send."""
        files: dict[str, InputFile] = {}
        fields: dict[str, str] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if not prepared:
                continue
            fields[key] = prepared
        uploads: dict[str, UploadedFile] = {}
        for key, input_file in files.items():
            chunks = [chunk async for chunk in input_file.read(bot)]
            uploads[key] = UploadedFile(input_file.filename or key, b"".join(chunks))
        return fields, uploads

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> TelegramType:
        """Run the method in the sandbox and check the answer like a Telegram response."""
        fields, uploads = await self.build_request(bot, method)
        try:
            async with asyncio.timeout(self.timeout if timeout is None else timeout):
                result = await self.sandbox.call(
                    method.__api_method__, fields, uploads, token=bot.token
                )
        except TimeoutError as error:
            raise TelegramNetworkError(method=method, message="Request timeout error") from error
        except SandboxAPIError as error:
            status_code, body = error.error_code, error.to_response()
        else:
            status_code, body = 200, {"ok": True, "result": result}
        response = self.check_response(
            bot=bot, method=method, status_code=status_code, content=self.json_dumps(body)
        )
        return cast(TelegramType, response.result)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        """Yield a stored file (a /file/bot<token>/<file_path> URL) in chunks."""
        match = _FILE_URL.search(URL(url).path)
        stored = None
        status = 404
        if match is not None:
            if match["token"] != self.sandbox.token:
                status = 401
            else:
                stored = self.sandbox.file_by_path(match["path"])
        if stored is None:
            if raise_for_status:
                request_info = RequestInfo(
                    URL(url), "GET", CIMultiDictProxy(CIMultiDict()), URL(url)
                )
                raise ClientResponseError(request_info, (), status=status)
            description = "Unauthorized" if status == 401 else "Not Found"
            yield self.json_dumps(
                {"ok": False, "error_code": status, "description": description}
            ).encode()
            return
        for start in range(0, len(stored.content), chunk_size):
            yield stored.content[start : start + chunk_size]
