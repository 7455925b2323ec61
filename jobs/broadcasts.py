"""The broadcast progress tick: edit each author's status message as delivery goes on."""

from __future__ import annotations

import logging
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import EditMessageText
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.pacing import Pacer, Timekeeper
from bot.delivery.reports import broadcast_status_text
from bot.models import Broadcast
from bot.services import broadcasts
from bot.services.outbox.outcomes import OutcomeCounts

logger = logging.getLogger(__name__)

# The author's status message is attached right after the broadcast is queued; a broadcast
# still without one after this long is reported on without it.
ATTACH_GRACE = timedelta(seconds=60)


class BroadcastReporter:
    """Counts each running broadcast's outcomes and edits the author's status message."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bot: Bot,
        i18n: I18n,
        pacer: Pacer,
        *,
        timekeeper: Timekeeper | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.bot = bot
        self.i18n = i18n
        self.pacer = pacer
        self.time = timekeeper or pacer.time

    async def report(self) -> int:
        """One pass over the running broadcasts; how many status messages changed."""
        changed = 0
        async with self.sessionmaker() as session:
            for broadcast in await broadcasts.active_broadcasts(session):
                now = self.time.now()
                if (
                    broadcast.status_message_id is None
                    and now - broadcast.created_at < ATTACH_GRACE
                ):
                    continue
                counts = await broadcasts.progress(session, broadcast)
                if broadcasts.snapshot(counts) == broadcast.reported and not counts.finished:
                    continue
                if broadcast.status_message_id is not None and not await self._edit(
                    broadcast, counts
                ):
                    continue
                await broadcasts.record_report(session, broadcast, counts, now=now)
                changed += 1
        return changed

    async def _edit(self, broadcast: Broadcast, counts: OutcomeCounts) -> bool:
        """Edit the status message; False to try again on the next tick."""
        assert broadcast.status_chat_id is not None and broadcast.status_message_id is not None
        language = broadcast.status_language or self.i18n.default_locale
        with self.i18n.context(), self.i18n.use_locale(language):
            text = broadcast_status_text(
                broadcast.id, broadcast.recipients, counts, finished=counts.finished
            )
        await self.pacer.acquire()
        try:
            await self.bot.session.make_request(
                self.bot,
                EditMessageText(
                    chat_id=broadcast.status_chat_id,
                    message_id=broadcast.status_message_id,
                    text=text,
                ),
            )
        except TelegramRetryAfter as exc:
            self.pacer.pause(exc.retry_after)
            return False
        except TelegramBadRequest as exc:
            if "message is not modified" not in exc.message:
                logger.warning("broadcast %s: status message not edited: %s", broadcast.id, exc)
        except TelegramAPIError as exc:
            logger.warning("broadcast %s: status message not edited: %s", broadcast.id, exc)
            return False
        return True


async def report_broadcasts(reporter: BroadcastReporter) -> None:
    """Tick: bring every running broadcast's status message up to date."""
    await reporter.report()
