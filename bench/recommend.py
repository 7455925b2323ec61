"""Recommendations benchmark: an offline evaluation on a seeded alliance with hidden tastes.

    python -m bench.recommend [--readers 1500] [--works 640] [--evaluated 400]
        [--card-samples 300] [--follow-share 0.3] [--database-url URL]

The generator (seed ``SEED``, so every run makes the same alliance):

* six districts with two libraries each; ``--works`` works split evenly over eight topics;
  inside a topic a work's appeal falls with its rank (Zipf, exponent 0.8), so each topic
  has a few favourites and a long tail;
* every district has a favourite topic; ``--readers`` readers live in districts uniformly;
* each reader has a hidden taste the recommender never sees: a primary topic (their
  district's favourite half of the time, else any topic) and a secondary one. Each of their
  4-15 holds picks the primary topic with probability 0.7, the secondary 0.2, any topic 0.1,
  then a work of that topic by appeal (never the same work twice); each reader also logs
  one or two reads of primary-topic works in the reading log;
* the holds are in the order they were placed; each reader's last two are their "later
  holds": they are left out of the database and kept as the answers;
* reading lists (drawn from a second generator, ``SEED + 3``, so everything above is the
  same with or without them): two published lists per topic, each of 12 works of the topic
  drawn by appeal (a librarian picks favourites and some of the tail); a ``--follow-share``
  of the readers follow one list of their primary topic, and a third as many also one of
  their secondary topic.

For ``--evaluated`` readers, hit rate@10 is the share whose top ten recommendations
(``recommend.recommend``, co-occurrence) contain at least one of their later holds, with the
books of the lists the reader follows counted as their interest and without them (holds and
reads only, as before lists counted). The baseline, in the same run on the same data, is the
ten works most popular in the reader's district that the reader has not reserved or read
(``recommend.popular_near``).

The card's block, measured the same way: for each evaluated reader, the block of the card of
their last earlier hold (three works) hits when it holds one of their later holds; once with
the pairs of holds only and once with list followers counted as reserving the list's books
(what the reading job keeps, ``recommend.ALSO_FOLLOWS``); the recount timed below is the job's.

The card: ``--card-samples`` works drawn by popularity (popular works have the most readers
to join over), each card timed with ``work_card`` alone and with ``work_card`` plus the
"readers who reserved this also reserved" block (``recommend.also_reserved``) right after
it; p95 of the card, of the card with the block and their difference. The block reads the
pairs the reading job keeps; the job's recount of all pairs is timed too. The last line printed is
``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert

from bench.broadcast import scratch_database
from bot.db import create_engine, create_sessionmaker
from bot.migrate import upgrade
from bot.models import (
    District,
    Hold,
    HoldStatus,
    Item,
    Library,
    LibraryKind,
    ListFollow,
    Reader,
    ReadingList,
    ReadingListEntry,
    ReadingLog,
    Work,
    utcnow,
)
from bot.services.reading import recommend
from bot.services.search.work_card import work_card

SEED = 20261206
DISTRICTS = 6
TOPICS = 8
LATER_HOLDS = 2
TOP = 10
LISTS_PER_TOPIC = 2
LIST_BOOKS = 12


@dataclass
class Alliance:
    """What the generator made: the works by topic, and each reader's district and holds."""

    topic_works: list[list[int]]
    appeal: list[list[float]]
    district_ids: list[int]
    library_ids: list[int]
    readers: list[int] = field(default_factory=list)
    reader_district: dict[int, int] = field(default_factory=dict)
    later: dict[int, set[int]] = field(default_factory=dict)
    last_earlier: dict[int, int] = field(default_factory=dict)
    tastes: dict[int, tuple[int, int]] = field(default_factory=dict)


def _pick(rng: random.Random, alliance: Alliance, topic: int, taken: set[int]) -> int:
    works = alliance.topic_works[topic]
    for _ in range(50):
        work = rng.choices(works, weights=alliance.appeal[topic])[0]
        if work not in taken:
            return work
    return next(work for work in works if work not in taken)


def tastes(rng: random.Random, favourite: int) -> tuple[int, int]:
    """A reader's hidden primary and secondary topics."""
    primary = favourite if rng.random() < 0.5 else rng.randrange(TOPICS)
    secondary = rng.choice([topic for topic in range(TOPICS) if topic != primary])
    return primary, secondary


def reader_history(
    rng: random.Random, alliance: Alliance, favourite: int, reader_id: int
) -> tuple[list[int], list[int]]:
    """One reader's holds in order, and their reads."""
    primary, secondary = tastes(rng, favourite)
    alliance.tastes[reader_id] = (primary, secondary)
    taken: set[int] = set()
    holds = []
    for _ in range(rng.randint(4, 15)):
        draw = rng.random()
        topic = primary if draw < 0.7 else secondary if draw < 0.9 else rng.randrange(TOPICS)
        work = _pick(rng, alliance, topic, taken)
        taken.add(work)
        holds.append(work)
    reads = []
    for _ in range(rng.randint(1, 2)):
        work = _pick(rng, alliance, primary, taken)
        taken.add(work)
        reads.append(work)
    return holds, reads


async def _places(session: Any, rng: random.Random) -> tuple[list[int], list[int]]:
    districts = [
        District(code=f"RD{n}", name=f"区{n}", population=100_000, latitude=31.2, longitude=121.4)
        for n in range(DISTRICTS)
    ]
    session.add_all(districts)
    await session.flush()
    libraries = [
        Library(
            code=f"RL{n}",
            name=f"图书馆{n}",
            kind=LibraryKind.UNIVERSITY if n % 5 == 0 else LibraryKind.PUBLIC,
            district_id=districts[n // 2].id,
            latitude=31.2 + rng.uniform(-0.1, 0.1),
            longitude=121.4 + rng.uniform(-0.1, 0.1),
            opening_hours="Mo-Su 09:00-21:00",
        )
        for n in range(DISTRICTS * 2)
    ]
    session.add_all(libraries)
    await session.flush()
    return [d.id for d in districts], [library.id for library in libraries]


async def seed(url: str, readers: int, works: int, follow_share: float = 0.3) -> Alliance:
    """Make the alliance; the readers' earlier holds and their reads go in the database."""
    rng = random.Random(SEED)
    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    async with maker() as session:
        district_ids, library_ids = await _places(session, rng)
        rows = [
            {"title": f"Topic {n % TOPICS} work {n}", "work_key": f"rw{n}", "authors": []}
            for n in range(works)
        ]
        work_ids = list(await session.scalars(insert(Work).returning(Work.id), rows))
        await session.execute(
            insert(Item),
            [
                {"work_id": work, "library_id": rng.choice(library_ids), "barcode": f"RB{n}"}
                for n, work in enumerate(work_ids)
            ],
        )
        topic_works = [work_ids[topic::TOPICS] for topic in range(TOPICS)]
        appeal = [[1 / (rank + 1) ** 0.8 for rank in range(len(ws))] for ws in topic_works]
        alliance = Alliance(topic_works, appeal, district_ids, library_ids)
        favourites = {district: rng.randrange(TOPICS) for district in district_ids}
        reader_rows = [
            {
                "telegram_id": 7_000_000 + n,
                "chat_id": 7_000_000 + n,
                "card_number": f"RC{n:08d}",
                "district_id": rng.choice(district_ids),
                "onboarded_at": utcnow(),
            }
            for n in range(readers)
        ]
        ids = list(await session.scalars(insert(Reader).returning(Reader.id), reader_rows))
        holds, reads = [], []
        now = utcnow()
        for reader_id, row in zip(ids, reader_rows, strict=True):
            district = int(str(row["district_id"]))
            placed, read = reader_history(rng, alliance, favourites[district], reader_id)
            alliance.readers.append(reader_id)
            alliance.reader_district[reader_id] = district
            alliance.later[reader_id] = set(placed[-LATER_HOLDS:])
            alliance.last_earlier[reader_id] = placed[-LATER_HOLDS - 1]
            holds += [
                {
                    "reader_id": reader_id,
                    "work_id": work,
                    "pickup_library_id": rng.choice(library_ids),
                    "status": HoldStatus.COLLECTED,
                    "queued_at": now,
                    "collected_at": now,
                }
                for work in placed[:-LATER_HOLDS]
            ]
            reads += [
                {"reader_id": reader_id, "work_id": work, "source": "card", "read_at": now}
                for work in read
            ]
        await session.execute(insert(Hold), holds)
        await session.execute(insert(ReadingLog), reads)
        await _lists(session, alliance, follow_share)
        await session.commit()
    await engine.dispose()
    return alliance


async def _lists(session: Any, alliance: Alliance, follow_share: float) -> None:
    """Published lists per topic, and the readers who follow them (their own generator)."""
    rng = random.Random(SEED + 3)
    by_topic: list[list[int]] = []
    for topic in range(TOPICS):
        ids = []
        for n in range(LISTS_PER_TOPIC):
            made = ReadingList(title=f"书单{topic}-{n}", title_en=f"List {topic}-{n}")
            made.published = True
            session.add(made)
            await session.flush()
            taken: set[int] = set()
            for _ in range(min(LIST_BOOKS, len(alliance.topic_works[topic]))):
                taken.add(_pick(rng, alliance, topic, taken))
            session.add_all(
                ReadingListEntry(list_id=made.id, work_id=work, position=place)
                for place, work in enumerate(sorted(taken), start=1)
            )
            ids.append(made.id)
        by_topic.append(ids)
    follows = []
    for reader_id in alliance.readers:
        primary, secondary = alliance.tastes[reader_id]
        if rng.random() < follow_share:
            follows.append({"reader_id": reader_id, "list_id": rng.choice(by_topic[primary])})
            if rng.random() < 1 / 3:
                follows.append({"reader_id": reader_id, "list_id": rng.choice(by_topic[secondary])})
    if follows:
        await session.execute(insert(ListFollow), follows)


async def hit_rates(url: str, alliance: Alliance, evaluated: int) -> dict[str, float]:
    """Hit rate@10 of the recommendations and of the district-popularity baseline."""
    rng = random.Random(SEED + 1)
    sample = rng.sample(alliance.readers, min(evaluated, len(alliance.readers)))
    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    hits = plain_hits = baseline_hits = 0
    try:
        async with maker() as session:
            for reader_id in sample:
                reader = await session.get(Reader, reader_id)
                assert reader is not None
                later = alliance.later[reader_id]
                found = await recommend.recommend(session, reader, limit=TOP)
                hits += bool({item.work_id for item in found} & later)
                plain = await recommend.recommend(session, reader, limit=TOP, follows=False)
                plain_hits += bool({item.work_id for item in plain} & later)
                mine = set(await recommend.history(session, reader_id, follows=False))
                popular = await recommend.popular_near(session, reader.district_id, mine, TOP)
                baseline_hits += bool(set(popular) & alliance.later[reader_id])
    finally:
        await engine.dispose()
    return {
        "hit_rate": hits / len(sample),
        "hit_rate_without_follows": plain_hits / len(sample),
        "baseline_hit_rate": baseline_hits / len(sample),
    }


async def block_hit_rate(url: str, alliance: Alliance, evaluated: int, *, follows: bool) -> float:
    """Recount the pairs (with or without list followers), then the share of evaluated
    readers whose last earlier hold's card block holds one of their later holds."""
    rng = random.Random(SEED + 1)
    sample = rng.sample(alliance.readers, min(evaluated, len(alliance.readers)))
    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    hits = 0
    try:
        async with maker() as session:
            await recommend.refresh_also_reserved(session, follows=follows)
            for reader_id in sample:
                block = await recommend.also_reserved(session, alliance.last_earlier[reader_id])
                hits += bool({item.work_id for item in block} & alliance.later[reader_id])
    finally:
        await engine.dispose()
    return hits / len(sample)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


async def card_times(url: str, alliance: Alliance, samples: int) -> dict[str, float]:
    """p95 ms of the card alone, of the card with the "also reserved" block, of the block.

    Each sample times the card's queries, then the block's query right after, in the same
    session: the card with the block is their sum, so both p95s come from the same cards
    and the noise of a shared machine hits them alike.
    """
    rng = random.Random(SEED + 2)
    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    weighted = [w for topic in alliance.topic_works for w in topic]
    weights = [a for topic in alliance.appeal for a in topic]
    works = rng.choices(weighted, weights=weights, k=samples)
    card: list[float] = []
    block: list[float] = []
    try:
        async with maker() as session:
            reader = await session.get(Reader, alliance.readers[0])
            assert reader is not None
            for work_id in works:
                started = time.perf_counter()
                await work_card(session, reader, work_id)
                middle = time.perf_counter()
                await recommend.also_reserved(session, work_id)
                ended = time.perf_counter()
                await session.commit()
                card.append((middle - started) * 1000)
                block.append((ended - middle) * 1000)
    finally:
        await engine.dispose()
    both = [c + b for c, b in zip(card, block, strict=True)]
    return {
        "card_p95_ms": round(p95(card), 2),
        "card_with_block_p95_ms": round(p95(both), 2),
        "block_adds_p95_ms": round(p95(both) - p95(card), 2),
        "block_p50_ms": round(statistics.median(block), 2),
        "block_p95_ms": round(p95(block), 2),
    }


async def refresh(url: str) -> dict[str, float]:
    """The reading job's recount of the also-reserved pairs: how long, how many pairs."""
    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    try:
        async with maker() as session:
            started = time.perf_counter()
            pairs = await recommend.refresh_also_reserved(session)
            elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    return {"pairs_refresh_s": round(elapsed, 2), "pairs": pairs}


async def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    async with scratch_database(args.database_url) as url:
        await asyncio.to_thread(upgrade, url)
        started = time.perf_counter()
        alliance = await seed(url, args.readers, args.works, args.follow_share)
        seeded = time.perf_counter() - started
        rates = await hit_rates(url, alliance, args.evaluated)
        block_plain = await block_hit_rate(url, alliance, args.evaluated, follows=False)
        block_follows = await block_hit_rate(url, alliance, args.evaluated, follows=True)
        refreshed = await refresh(url)
        card = await card_times(url, alliance, args.card_samples)
    ratio = rates["hit_rate"] / rates["baseline_hit_rate"] if rates["baseline_hit_rate"] else 0.0
    return {
        "readers": args.readers,
        "works": args.works,
        "evaluated": args.evaluated,
        "seed_s": round(seeded, 1),
        "follow_share": args.follow_share,
        "hit_rate_at_10": round(rates["hit_rate"], 3),
        "hit_rate_at_10_without_follows": round(rates["hit_rate_without_follows"], 3),
        "baseline_hit_rate_at_10": round(rates["baseline_hit_rate"], 3),
        "ratio": round(ratio, 2),
        "block_hit_rate_holds": round(block_plain, 3),
        "block_hit_rate_with_follows": round(block_follows, 3),
        **refreshed,
        **card,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recommend", description=__doc__)
    parser.add_argument("--readers", type=int, default=1500)
    parser.add_argument("--works", type=int, default=640)
    parser.add_argument("--evaluated", type=int, default=400)
    parser.add_argument("--card-samples", type=int, default=300)
    parser.add_argument("--follow-share", type=float, default=0.3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    result = asyncio.run(benchmark(args))
    print(
        f"hit rate@10 {result['hit_rate_at_10']:.3f} vs most popular in the district "
        f"{result['baseline_hit_rate_at_10']:.3f}: {result['ratio']:.2f} x the baseline "
        f"({result['hit_rate_at_10_without_follows']:.3f} without the list follows)"
    )
    print(
        f"the card's block hits {result['block_hit_rate_holds']:.3f} from holds alone, "
        f"{result['block_hit_rate_with_follows']:.3f} with list followers counted"
    )
    print(
        f"card p95 {result['card_p95_ms']} ms without the block, "
        f"{result['card_with_block_p95_ms']} ms with it (+{result['block_adds_p95_ms']} ms); "
        f"the reading job recounts the {result['pairs']} pairs in {result['pairs_refresh_s']} s"
    )
    print("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
