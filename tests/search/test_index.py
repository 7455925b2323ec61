"""Index lifecycle: create, upsert, delete, rebuild, refresh across instances, concurrency."""

from __future__ import annotations

import dataclasses
import multiprocessing.process
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from search import CatalogueIndex, IndexClosedError, IndexNotFoundError, WorkDocument
from search.index import PARALLEL_FROM
from tests.search.conftest import BY_ID, CORPUS


def ids(index: CatalogueIndex, query: str, **filters: Any) -> list[int]:
    return [hit.work_id for hit in index.search(query, **filters).hits]


def generation_dirs(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-"))


def test_missing_index(fresh_index: CatalogueIndex) -> None:
    assert not fresh_index.exists()
    assert fresh_index.doc_count() == 0
    assert fresh_index.delete([1]) == 0
    with pytest.raises(IndexNotFoundError):
        fresh_index.search("dune")


def test_create_makes_an_empty_index(fresh_index: CatalogueIndex) -> None:
    fresh_index.create()
    assert fresh_index.exists()
    assert fresh_index.doc_count() == 0
    assert fresh_index.search("dune").hits == []


def test_upsert_creates_the_index_and_skips_unchanged_works(
    fresh_index: CatalogueIndex,
) -> None:
    assert fresh_index.upsert(CORPUS) == len(CORPUS)
    assert fresh_index.doc_count() == len(CORPUS)
    assert fresh_index.upsert(CORPUS) == 0
    assert fresh_index.upsert(iter(CORPUS[:3])) == 0


def test_incremental_update_changes_only_what_changed(fresh_index: CatalogueIndex) -> None:
    fresh_index.upsert(CORPUS)
    # Searchers remember which works the libraries hold; a write must not leave that stale.
    several = ["CPL", "THU", "PKU"]
    assert ids(fresh_index, "hobbit", library_codes=several) == [18]
    dune = BY_ID[17]
    renamed = dataclasses.replace(dune, title="Dune messiah")
    moved = dataclasses.replace(BY_ID[18], library_codes=("HDL",))
    assert fresh_index.upsert([*CORPUS[:5], renamed, moved]) == 2
    assert fresh_index.doc_count() == len(CORPUS)
    assert ids(fresh_index, "messiah") == [17]
    assert ids(fresh_index, "hobbit") == [18]
    assert fresh_index.search("hobbit", library_codes=["CPL"]).hits == []
    assert fresh_index.search("hobbit", library_codes=several).hits == []
    assert ids(fresh_index, "hobbit", library_codes=[*several, "HDL"]) == [18]
    assert ids(fresh_index, "gatsby") == [14]


def test_a_work_repeated_in_one_batch_keeps_its_last_version(
    fresh_index: CatalogueIndex,
) -> None:
    first = WorkDocument(1, "First edition title")
    second = WorkDocument(1, "Second edition title")
    assert fresh_index.upsert([first, WorkDocument(2, "Other"), second]) == 3
    assert fresh_index.doc_count() == 2
    assert ids(fresh_index, "second edition") == [1]
    assert fresh_index.search("first").hits == []
    fresh_index.rebuild([first, second, first])
    assert fresh_index.doc_count() == 1
    assert ids(fresh_index, "first edition") == [1]


def test_delete(fresh_index: CatalogueIndex) -> None:
    fresh_index.upsert(CORPUS)
    assert fresh_index.delete([17, 17, 999]) == 1
    assert fresh_index.doc_count() == len(CORPUS) - 1
    assert fresh_index.search("dune").hits == []
    assert fresh_index.search("9780441013593").hits == []
    assert fresh_index.delete([17]) == 0


def test_rebuild_replaces_everything_and_reports_progress(
    fresh_index: CatalogueIndex, tmp_path: Path
) -> None:
    fresh_index.upsert(CORPUS)
    progress: list[int] = []
    assert fresh_index.rebuild(CORPUS[:10], progress=progress.append) == 10
    assert progress == [10]
    assert fresh_index.doc_count() == 10
    assert fresh_index.search("gatsby").hits == []
    assert ids(fresh_index, "紅樓夢") == [1]
    assert len(generation_dirs(tmp_path / "index")) == 1


def test_progress_is_reported_every_thousand_works(fresh_index: CatalogueIndex) -> None:
    progress: list[int] = []
    works = (WorkDocument(n, f"Volume {n}") for n in range(2500))
    assert fresh_index.rebuild(works, progress=progress.append) == 2500
    assert progress == [1000, 2000, 2500]


@pytest.mark.parametrize(
    ("expected", "forked"), [(2500, False), (None, True), (PARALLEL_FROM - 1, False)]
)
def test_only_a_large_rebuild_forks_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expected: int | None, forked: bool
) -> None:
    # A fork copies the descriptors of every thread's half-started subprocess; the bot's
    # own small rebuilds (a missing index, tests) must not fork at all.
    started: list[object] = []
    real_start = multiprocessing.process.BaseProcess.start

    def start(process: multiprocessing.process.BaseProcess) -> None:
        started.append(process)
        real_start(process)

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", start)
    index = CatalogueIndex(tmp_path / "index", procs=2)
    try:
        works = (WorkDocument(n, f"Volume {n}") for n in range(2500))
        assert index.rebuild(works, expected=expected) == 2500
        assert index.doc_count() == 2500
    finally:
        index.close()
    assert bool(started) is forked


def test_failed_rebuild_leaves_the_live_index_alone(
    fresh_index: CatalogueIndex, tmp_path: Path
) -> None:
    fresh_index.rebuild(CORPUS)
    before = generation_dirs(tmp_path / "index")

    def broken() -> Iterator[WorkDocument]:
        yield from CORPUS[:5]
        raise RuntimeError("catalogue export failed")

    with pytest.raises(RuntimeError, match="export failed"):
        fresh_index.rebuild(broken())
    assert generation_dirs(tmp_path / "index") == before
    assert fresh_index.doc_count() == len(CORPUS)
    assert ids(fresh_index, "gatsby") == [14]


def test_searches_during_rebuild_always_see_a_complete_index(
    fresh_index: CatalogueIndex,
) -> None:
    fresh_index.rebuild(CORPUS)
    errors: list[BaseException] = []
    seen_counts: set[int] = set()
    done = threading.Event()

    def search_until_done() -> None:
        try:
            while not done.is_set():
                result = fresh_index.search("gatsby")
                seen_counts.add(fresh_index.doc_count())
                if [hit.work_id for hit in result.hits] != [14]:
                    raise AssertionError(f"gatsby not found: {result}")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=search_until_done) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for size in (20, len(CORPUS), 20):
            fresh_index.rebuild(CORPUS[:size])
    finally:
        done.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert seen_counts <= {len(CORPUS), 20}


def test_concurrent_searches_while_one_thread_writes(fresh_index: CatalogueIndex) -> None:
    fresh_index.upsert(CORPUS)
    extra = [WorkDocument(1000 + n, f"Annual report {n}", language="eng") for n in range(60)]
    errors: list[BaseException] = []
    done = threading.Event()

    def search_until_done(query: str, expected: int) -> None:
        try:
            while not done.is_set():
                if [h.work_id for h in fresh_index.search(query).hits][:1] != [expected]:
                    raise AssertionError(query)
        except BaseException as error:
            errors.append(error)

    searchers = [
        threading.Thread(target=search_until_done, args=args)
        for args in [("紅樓夢", 1), ("great gatsby", 14), ("santi", 2), ("0441013597", 17)] * 2
    ]
    writers = [
        threading.Thread(target=fresh_index.upsert, args=(extra[n : n + 10],))
        for n in range(0, 60, 10)
    ]
    for thread in searchers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    for thread in searchers:
        thread.join()
    assert errors == []
    assert fresh_index.doc_count() == len(CORPUS) + 60
    assert fresh_index.search("annual report").total == 60


def test_writes_by_another_instance_become_visible(tmp_path: Path) -> None:
    writer = CatalogueIndex(tmp_path / "index")
    reader = CatalogueIndex(tmp_path / "index", refresh_interval=0.0)
    try:
        writer.rebuild(CORPUS[:5])
        assert reader.doc_count() == 5
        writer.upsert(CORPUS)
        assert reader.doc_count() == len(CORPUS)
        writer.rebuild(CORPUS[:3])
        assert reader.doc_count() == 3
        assert reader.search("gatsby").hits == []
    finally:
        writer.close()
        reader.close()


def test_closed_index_refuses_work(tmp_path: Path) -> None:
    index = CatalogueIndex(tmp_path / "index")
    index.rebuild(CORPUS[:2])
    index.close()
    with pytest.raises(IndexClosedError):
        index.search("dune")
    with pytest.raises(IndexClosedError):
        index.upsert(CORPUS[:1])
    index.close()


def test_an_existing_index_opens_in_a_new_instance(tmp_path: Path) -> None:
    first = CatalogueIndex(tmp_path / "index")
    first.rebuild(CORPUS)
    first.close()
    reopened = CatalogueIndex(tmp_path / "index")
    try:
        assert reopened.exists()
        assert [h.work_id for h in reopened.search("hongloumeng").hits] == [1]
    finally:
        reopened.close()
