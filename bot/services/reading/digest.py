"""The weekly reading digest, for readers who turned it on (/settings → 📚 Reading).

Once a week per reader: new arrivals in their district, one recommendation (unless they
turned recommendations off), their open challenges and streak. It is queued through the
outbox as a promotional notice of the "campaigns" topic, so the delivery worker holds it
back in quiet hours, counts it in the promotional frequency cap, and skips it for readers
who turned reading campaigns off or blocked the bot.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import NotificationClass, Reader, ReadingPreference
from bot.notices.intents import DigestChallenge, Names, Notice, WeeklyDigest
from bot.services import outbox
from bot.services.outbox.queueing import Priority
from bot.services.reading import challenges, rankings, recommend

EVERY = timedelta(days=7)
ARRIVALS = 3
BATCH = 200


def _names(title: str, original: str | None) -> Names:
    original = (original or "").strip()
    if original and original != title.strip():
        return Names(name=original, name_en=title)
    return Names(name=title)


async def digest_for(
    session: AsyncSession, reader: Reader, choices: ReadingPreference, now: datetime, zone: tzinfo
) -> WeeklyDigest:
    """What the reader's digest says this week."""
    arrivals = [
        _names(work.title, work.original_title)
        for group in await rankings.new_arrivals(session, reader, now)
        for work in group.works
    ][:ARRIVALS]
    pick = None
    if choices.recommendations:
        found = await recommend.recommend(session, reader, limit=1)
        pick = found[0] if found else None
    standings = [
        DigestChallenge(
            title=Names(name=s.challenge.title, name_en=s.challenge.title_en),
            done=min(s.progress, s.challenge.goal),
            goal=s.challenge.goal,
        )
        for s in await challenges.standings(session, reader, now)
        if s.joined and s.completed_at is None and s.challenge.ends_at > now
    ]
    return WeeklyDigest(
        arrivals=tuple(arrivals),
        pick=_names(pick.title, pick.original_title) if pick else None,
        pick_work_id=pick.work_id if pick else None,
        # The digest says "because you reserved or read …": a followed list is not that.
        because=(
            _names(pick.because, pick.because_original)
            if pick and pick.because and pick.reason is not recommend.Reason.FOLLOWED
            else None
        ),
        challenges=tuple(standings),
        streak_weeks=await challenges.streak_weeks(session, reader.id, now, zone),
    )


async def queue_digests(session: AsyncSession, now: datetime, zone: tzinfo) -> int:
    """Queue the digest of every opted-in reader whose last one is a week old; how many."""
    due = await session.execute(
        select(Reader, ReadingPreference)
        .join(ReadingPreference, ReadingPreference.reader_id == Reader.id)
        .where(
            ReadingPreference.weekly_digest.is_(True),
            Reader.forgotten_at.is_(None),
            Reader.is_blocked.is_(False),
            or_(
                ReadingPreference.digest_sent_at.is_(None),
                ReadingPreference.digest_sent_at <= now - EVERY,
            ),
        )
        .order_by(Reader.id)
        .limit(BATCH)
    )
    queued = 0
    for reader, choices in list(due):
        data = await digest_for(session, reader, choices, now, zone)
        week = now.astimezone(zone).isocalendar()
        notice = Notice(
            reader_id=reader.id,
            data=data,
            dedup_key=f"reading.digest:{reader.id}:{week.year}-{week.week}",
            message_class=NotificationClass.PROMOTIONAL,
            topic="campaigns",
            priority=Priority.BULK,
            expires_at=now + timedelta(days=3),
        )
        async with write(session):
            claimed = await session.get(ReadingPreference, reader.id, with_for_update=True)
            stale = claimed is not None and (
                claimed.digest_sent_at is None or claimed.digest_sent_at <= now - EVERY
            )
            if claimed is not None and stale:
                claimed.digest_sent_at = now
                queued += await outbox.enqueue_notices(session, [notice], now=now)
    return queued
