"""How updates reach the bot: getUpdates long polling, or delivery to a webhook."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiogram import methods, types

from sandbox.dispatch import Dispatch
from sandbox.errors import SandboxAPIError, bad_request
from sandbox.files import UploadedFile
from sandbox.methods import bot_method
from sandbox.serialise import to_json
from sandbox.state import DEFAULT_ALLOWED_UPDATES, Webhook, now

WEBHOOK_TIMEOUT = 30.0


class Updates(Dispatch):
    """The update queue as the bot sees it."""

    @property
    def pending_updates(self) -> list[types.Update]:
        """Updates not yet confirmed by getUpdates or delivered to the webhook."""
        return list(self._updates)

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int = 100,
        timeout: float = 0,  # noqa: ASYNC109
        allowed_updates: list[str] | None = None,
    ) -> list[types.Update]:
        """Long-poll for updates like getUpdates (confirming those before `offset`)."""
        if self.webhook is not None:
            raise SandboxAPIError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        if allowed_updates is not None:
            self._allowed_updates = list(allowed_updates) or list(DEFAULT_ALLOWED_UPDATES)
        if offset is not None:
            if offset < 0:
                self._updates = self._updates[offset:]
            else:
                self._updates = [u for u in self._updates if u.update_id >= offset]
        limit = min(max(limit, 1), 100)
        deadline = time.monotonic() + max(timeout, 0)
        while True:
            if generation != self._poll_generation:
                raise SandboxAPIError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            self._updates = [u for u in self._updates if u.event_type in self._allowed_updates]
            remaining = deadline - time.monotonic()
            if self._updates or remaining <= 0 or self._closed:
                batch = self._updates[:limit]
                if batch:
                    self._fetched_through = max(self._fetched_through, batch[-1].update_id)
                return batch
            await self._wait_for_change(remaining)

    async def close(self) -> None:
        """Stop webhook delivery and release long polls."""
        self._closed = True
        self._notify()
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ------------------------------------------------------- Bot API methods

    @bot_method("getUpdates")
    async def _get_updates(
        self, method: methods.GetUpdates, uploads: Mapping[str, UploadedFile]
    ) -> list[types.Update]:
        return await self.get_updates(
            method.offset,
            method.limit if method.limit is not None else 100,
            method.timeout or 0,
            method.allowed_updates,
        )

    @bot_method("setWebhook")
    async def _set_webhook(
        self, method: methods.SetWebhook, uploads: Mapping[str, UploadedFile]
    ) -> bool:
        if not method.url:
            return await self._delete_webhook(
                methods.DeleteWebhook(drop_pending_updates=method.drop_pending_updates), uploads
            )
        if not method.url.lower().startswith(("http://", "https://")):
            raise bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        if method.drop_pending_updates:
            self._updates.clear()
        self.webhook = Webhook(
            url=method.url,
            secret_token=method.secret_token,
            max_connections=method.max_connections or 40,
            allowed_updates=method.allowed_updates or None,
        )
        self._poll_generation += 1
        self._ensure_webhook_worker()
        self._notify()
        return True

    @bot_method("deleteWebhook")
    async def _delete_webhook(
        self, method: methods.DeleteWebhook, uploads: Mapping[str, UploadedFile]
    ) -> bool:
        self.webhook = None
        if method.drop_pending_updates:
            self._updates.clear()
        self._notify()
        return True

    @bot_method("getWebhookInfo")
    async def _get_webhook_info(
        self, method: methods.GetWebhookInfo, uploads: Mapping[str, UploadedFile]
    ) -> types.WebhookInfo:
        hook = self.webhook
        return types.WebhookInfo(
            url=hook.url if hook else "",
            has_custom_certificate=False,
            pending_update_count=len(self._updates),
            last_error_date=hook.last_error_date if hook else None,
            last_error_message=hook.last_error_message if hook else None,
            max_connections=hook.max_connections if hook else None,
            allowed_updates=hook.allowed_updates if hook else None,
        )

    # -------------------------------------------------------- webhook worker

    def _ensure_webhook_worker(self) -> None:
        if self.webhook is None or self._closed:
            return
        if self._webhook_task is not None and not self._webhook_task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._webhook_task = loop.create_task(self._deliver_webhooks())

    async def _deliver_webhooks(self) -> None:
        backoff = 0.1
        async with aiohttp.ClientSession() as session:
            while self.webhook is not None and not self._closed:
                if not self._updates:
                    await self._wait_for_change(None)
                    continue
                hook = self.webhook
                update = self._updates[0]
                self._delivering = True
                try:
                    delivered = await self._deliver(session, hook, update)
                finally:
                    self._delivering = False
                if delivered:
                    backoff = 0.1
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)
                    self._notify()
                else:
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 2.0)

    async def _deliver(
        self, session: aiohttp.ClientSession, hook: Webhook, update: types.Update
    ) -> bool:
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        try:
            async with session.post(
                hook.url,
                data=json.dumps(to_json(update)),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT),
            ) as response:
                if not 200 <= response.status < 300:
                    hook.last_error_date = now()
                    hook.last_error_message = (
                        f"Wrong response from the webhook: {response.status} {response.reason}"
                    )
                    return False
                reply = await _read_webhook_reply(response)
        except (aiohttp.ClientError, TimeoutError) as error:
            hook.last_error_date = now()
            hook.last_error_message = f"Connection failed: {type(error).__name__}"
            return False
        if reply is not None:
            method_name, params, files = reply
            # Telegram runs a method given in the webhook reply but reports nothing back.
            with contextlib.suppress(SandboxAPIError):
                await self.call(method_name, params, files)
        return True


async def _read_webhook_reply(
    response: aiohttp.ClientResponse,
) -> tuple[str, dict[str, Any], dict[str, UploadedFile]] | None:
    """A Bot API method the bot put in its answer to a webhook delivery, if any."""
    params: dict[str, Any] = {}
    files: dict[str, UploadedFile] = {}
    if response.content_type == "multipart/form-data":
        reader = aiohttp.MultipartReader(response.headers, response.content)
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            if part.filename:
                files[part.name] = UploadedFile(part.filename, bytes(await part.read()))
            else:
                params[part.name] = await part.text()
    elif response.content_type == "application/json":
        body = await response.json()
        if isinstance(body, dict):
            params = body
    method_name = params.pop("method", None)
    if not isinstance(method_name, str) or not method_name:
        return None
    return method_name, params, files
