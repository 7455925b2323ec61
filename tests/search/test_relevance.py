"""Known-item relevance on real Library of Congress records (English and Chinese)."""

from __future__ import annotations

import itertools
import os
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import isbnlib
import pytest
from opencc import OpenCC

from search import CatalogueIndex, WorkDocument
from tests.search.marc_records import CHINESE_MRC, ENGLISH_MARCXML, read_marc

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

CHINESE_RECORDS = 2000
SAMPLE_PER_LANGUAGE = 150
MIN_SUCCESS_AT_3 = 0.95
MIN_QUERIES = {
    "title words": 100,
    "surname + title word": 100,
    "ISBN-13": 100,
    "ISBN-10": 100,
    "simplified for traditional": 30,
    "pinyin": 60,
}
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class KnownItem:
    kind: str
    query: str
    work_id: int


@pytest.fixture(scope="module")
def works() -> list[WorkDocument]:
    missing = [path for path in (ENGLISH_MARCXML, CHINESE_MRC) if not path.exists()]
    if missing:
        message = f"shared MARC data is absent: {', '.join(map(str, missing))}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    english = list(read_marc(ENGLISH_MARCXML, 1))
    chinese = list(itertools.islice(read_marc(CHINESE_MRC, 100_000), CHINESE_RECORDS))
    return english + chinese


@pytest.fixture(scope="module")
def loc_index(
    works: list[WorkDocument], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CatalogueIndex]:
    index = CatalogueIndex(tmp_path_factory.mktemp("loc") / "index")
    index.rebuild(works)
    yield index
    index.close()


def _main_title(title: str) -> str:
    return re.split(r"\s[:/=;]\s", title, maxsplit=1)[0]


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text)


def known_items(works: list[WorkDocument]) -> list[KnownItem]:
    """Queries a reader looking for one particular record might type."""
    rng = random.Random(20_240_601)
    english = [w for w in works if w.work_id < 100_000]
    chinese = [w for w in works if w.work_id >= 100_000]
    t2s = OpenCC("t2s")
    items: list[KnownItem] = []
    for work in rng.sample(english, SAMPLE_PER_LANGUAGE):
        words = _words(_main_title(work.title))
        items.append(KnownItem("title words", " ".join(words[:6]), work.work_id))
        long_words = [w for w in words if len(w) >= 4]
        if work.authors and long_words:
            surname = work.authors[0].split(",")[0]
            query = f"{surname} {max(long_words, key=len)}"
            items.append(KnownItem("surname + title word", query, work.work_id))
    for work in rng.sample(english, SAMPLE_PER_LANGUAGE) + rng.sample(chinese, SAMPLE_PER_LANGUAGE):
        isbn = next((i for i in work.isbns if i.startswith("978")), None)
        if isbn is not None:
            items.append(KnownItem("ISBN-13", isbn, work.work_id))
            items.append(KnownItem("ISBN-10", isbnlib.mask(isbnlib.to_isbn10(isbn)), work.work_id))
    for work in rng.sample(chinese, SAMPLE_PER_LANGUAGE):
        if not work.original_title:
            continue
        original = _main_title(work.original_title)
        simplified = t2s.convert(original)
        if simplified != original:
            items.append(KnownItem("simplified for traditional", simplified, work.work_id))
        # The Library of Congress romanisation, typed run together as pinyin.
        letters = [w for w in _words(_main_title(work.title)) if w.isalpha()]
        if 2 <= len(_HAN.findall(original)) <= 8 and letters:
            items.append(KnownItem("pinyin", "".join(letters).lower(), work.work_id))
    return items


def test_known_item_success_at_3(
    loc_index: CatalogueIndex,
    works: list[WorkDocument],
    record_property: Callable[[str, object], None],
) -> None:
    outcomes: dict[str, list[bool]] = {kind: [] for kind in MIN_QUERIES}
    misses: list[str] = []
    for item in known_items(works):
        top3 = [hit.work_id for hit in loc_index.search(item.query, limit=3).hits]
        outcomes[item.kind].append(item.work_id in top3)
        if item.work_id not in top3:
            misses.append(f"{item.kind}: {item.query!r} -> {top3} (wanted {item.work_id})")
    rates = {kind: sum(hits) / len(hits) for kind, hits in outcomes.items() if hits}
    summary = ", ".join(f"{k} {rates[k]:.3f} (n={len(outcomes[k])})" for k in rates)
    record_property("success_at_3", summary)
    print(f"\nsuccess@3: {summary}")
    for kind, minimum in MIN_QUERIES.items():
        assert len(outcomes[kind]) >= minimum, f"too few {kind} queries: {len(outcomes[kind])}"
        assert rates[kind] >= MIN_SUCCESS_AT_3, f"{kind}: {rates[kind]:.3f}\n" + "\n".join(misses)
