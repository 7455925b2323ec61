"""Which periodic jobs run, how often, and the workers they share."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from aiogram import Bot
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.delivery import DeliveryWorker
from bot.scheduler import Scheduler
from bot.services.ils.live import LiveAvailability
from jobs.broadcasts import BroadcastReporter, report_broadcasts
from jobs.campaigns import prepare_weekly_campaign, run_campaigns
from jobs.events import EventsTick, tick_events
from jobs.harvest import harvest_connected
from jobs.holds import HoldsJob, run_holds_tick
from jobs.ils import IlsJob, run_ils_tick
from jobs.outbox import deliver_outbox
from jobs.quizzes import send_quiz_boards
from jobs.reach import measure_reach
from jobs.reading import DIGEST_EVERY_S, PAIRS_EVERY_S, queue_digests, refresh_pairs


@dataclass
class Jobs:
    """The long-lived objects behind the jobs of one scheduler process."""

    settings: Settings
    worker: DeliveryWorker
    reporter: BroadcastReporter
    holds: HoldsJob | None = None
    # Reading events: reminders, offers, feedback prompts, completion.
    events_tick: EventsTick | None = None
    # Reach and campaigns.
    sessionmaker: async_sessionmaker[AsyncSession] | None = None
    bot: Bot | None = None
    i18n: I18n | None = None
    # The libraries' own systems: holds relayed, copies reconciled.
    ils: IlsJob | None = None

    def register(self, scheduler: Scheduler) -> None:
        """Add every periodic job to the scheduler."""
        scheduler.every(
            self.settings.outbox_poll_s, partial(deliver_outbox, self.worker), name="outbox"
        )
        scheduler.every(
            self.settings.broadcast_progress_s,
            partial(report_broadcasts, self.reporter),
            name="broadcast-progress",
        )
        if self.holds is not None:
            scheduler.every(
                self.settings.hold_tick_s, partial(run_holds_tick, self.holds), name="holds"
            )
        if self.ils is not None:
            scheduler.every(
                self.settings.ils_reconcile_s, partial(run_ils_tick, self.ils), name="ils"
            )
        if self.events_tick is not None:
            scheduler.every(
                self.settings.events_tick_s, partial(tick_events, self.events_tick), name="events"
            )
        if self.sessionmaker is not None:
            scheduler.every(
                self.settings.quiz_tick_s,
                partial(send_quiz_boards, self.sessionmaker),
                name="quiz-boards",
            )
        if self.sessionmaker is not None and self.bot is not None and self.i18n is not None:
            args = (self.sessionmaker, self.settings, self.bot, self.i18n)
            scheduler.every(
                self.settings.reach_job_hours * 3600,
                partial(measure_reach, self.sessionmaker, self.settings),
                name="reach",
            )
            scheduler.every(
                self.settings.campaign_job_s, partial(run_campaigns, *args), name="campaigns"
            )
            scheduler.every(
                self.settings.auto_campaign_hours * 3600,
                partial(prepare_weekly_campaign, *args),
                name="campaign-automation",
            )
            scheduler.every(
                PAIRS_EVERY_S, partial(refresh_pairs, self.sessionmaker), name="reading-pairs"
            )
            scheduler.every(
                DIGEST_EVERY_S,
                partial(queue_digests, self.sessionmaker, self.settings),
                name="reading-digest",
            )
        if self.sessionmaker is not None and self.settings.harvest_interval_minutes > 0:
            scheduler.every(
                self.settings.harvest_interval_minutes * 60,
                partial(harvest_connected, self.sessionmaker, self.settings),
                name="harvest",
            )

    async def stop(self) -> None:
        """Stop a drain in progress (its unsent claims go back to the queue)."""
        await self.worker.stop()
        if self.ils is not None:
            await self.ils.close()


def build_jobs(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    bot: Bot,
    i18n: I18n,
) -> Jobs:
    """The delivery worker and the broadcast reporter, sharing one pacer."""
    worker = DeliveryWorker(sessionmaker, bot, i18n, settings)
    reporter = BroadcastReporter(sessionmaker, bot, i18n, worker.pacer)
    holds = HoldsJob(settings, sessionmaker)
    events_tick = EventsTick(sessionmaker, settings)
    return Jobs(
        settings=settings,
        worker=worker,
        reporter=reporter,
        holds=holds,
        events_tick=events_tick,
        sessionmaker=sessionmaker,
        bot=bot,
        i18n=i18n,
        ils=IlsJob(settings, sessionmaker, LiveAvailability.from_settings(settings)),
    )
