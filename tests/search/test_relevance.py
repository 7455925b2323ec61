"""Known-item relevance on real Library of Congress records (English and Chinese).

Also misspelled known items: one letter substituted, two adjacent letters swapped or one
letter dropped, in a title word of six letters or more, or in a title typed as pinyin.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import isbnlib
import pytest
from opencc import OpenCC

from search import CatalogueIndex, WorkDocument
from search.analysis import fold_latin, pinyin_key
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
MISSPELLINGS = ("substitution", "transposition", "deletion")
MISSPELLED_SAMPLE = 200
MIN_MISSPELLED_QUERIES = {
    **{f"title, {kind}": 150 for kind in MISSPELLINGS},
    **{f"pinyin, {kind}": 60 for kind in MISSPELLINGS},
}
MISSPELLED_WORD_CHARS = 6
_HAN = re.compile(r"[\u4e00-\u9fff]")
# A word as a reader types it: "That's" stays one word.
_TYPED_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


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


def misspell(word: str, kind: str, rng: random.Random) -> str:
    """The word with one typing error of the kind, at a position the generator picks."""
    if kind == "substitution":
        at = rng.randrange(len(word))
        letter = rng.choice([c for c in "abcdefghijklmnopqrstuvwxyz" if c != word[at].lower()])
        return word[:at] + letter + word[at + 1 :]
    if kind == "transposition":
        at = rng.choice([i for i in range(len(word) - 1) if word[i] != word[i + 1]])
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    at = rng.randrange(len(word))
    return word[:at] + word[at + 1 :]


def _unique(queries: dict[int, str]) -> dict[int, str]:
    """The queries no other work shares (a series of volumes with one title is left out)."""
    counts = Counter(fold_latin(query) for query in queries.values())
    return {work_id: q for work_id, q in queries.items() if counts[fold_latin(q)] == 1}


def misspelled_items(works: list[WorkDocument]) -> list[KnownItem]:
    """Known items typed with one error of each kind, for a fixed sample of works.

    English: the first six words of the main title with one of its words of six letters or
    more misspelled. Pinyin: the romanised main title run together ("hongloumeng"), six
    letters or more, misspelled anywhere, from records whose romanisation is the reading
    the index gives the Chinese title (Library of Congress and pypinyin differ on some).
    """
    rng = random.Random(20_261_122)
    titles = _unique(
        {
            work.work_id: " ".join(_TYPED_WORD.findall(_typed(_main_title(work.title)))[:6])
            for work in works
            if work.work_id < 100_000
        }
    )
    pinyin = _unique(
        {
            work.work_id: romanised
            for work in works
            if work.work_id >= 100_000
            and work.original_title
            and 2 <= len(_HAN.findall(_main_title(work.original_title))) <= 8
            and len(romanised := _romanised(work)) >= MISSPELLED_WORD_CHARS
            and fold_latin(romanised) == pinyin_key(_main_title(work.original_title))
        }
    )
    items: list[KnownItem] = []
    for work_id in rng.sample(sorted(titles), min(len(titles), MISSPELLED_SAMPLE)):
        words = titles[work_id].split(" ")
        long_words = [
            i for i, w in enumerate(words) if len(w) >= MISSPELLED_WORD_CHARS and w.isalpha()
        ]
        for kind in MISSPELLINGS if long_words else ():
            at = rng.choice(long_words)
            typed = [*words[:at], misspell(words[at], kind, rng), *words[at + 1 :]]
            items.append(KnownItem(f"title, {kind}", " ".join(typed), work_id))
    for work_id in rng.sample(sorted(pinyin), min(len(pinyin), MISSPELLED_SAMPLE)):
        for kind in MISSPELLINGS:
            items.append(
                KnownItem(f"pinyin, {kind}", misspell(pinyin[work_id], kind, rng), work_id)
            )
    return items


def _typed(text: str) -> str:
    """Text as a reader types it: letters and their accents composed ("a" + "̄" is "ā")."""
    return unicodedata.normalize("NFKC", text)


def _romanised(work: WorkDocument) -> str:
    return "".join(w for w in _words(_main_title(work.title)) if w.isalpha()).lower()


def _success_at_3(
    index: CatalogueIndex,
    items: list[KnownItem],
    minimums: dict[str, int],
    record_property: Callable[[str, object], None],
) -> None:
    outcomes: dict[str, list[bool]] = {kind: [] for kind in minimums}
    misses: list[str] = []
    for item in items:
        top3 = [hit.work_id for hit in index.search(item.query, limit=3).hits]
        outcomes[item.kind].append(item.work_id in top3)
        if item.work_id not in top3:
            misses.append(f"{item.kind}: {item.query!r} -> {top3} (wanted {item.work_id})")
    rates = {kind: sum(hits) / len(hits) for kind, hits in outcomes.items() if hits}
    summary = ", ".join(f"{k} {rates[k]:.3f} (n={len(outcomes[k])})" for k in rates)
    record_property("success_at_3", summary)
    print(f"\nsuccess@3: {summary}")
    for kind, minimum in minimums.items():
        assert len(outcomes[kind]) >= minimum, f"too few {kind} queries: {len(outcomes[kind])}"
        assert rates[kind] >= MIN_SUCCESS_AT_3, f"{kind}: {rates[kind]:.3f}\n" + "\n".join(misses)


def test_known_item_success_at_3(
    loc_index: CatalogueIndex,
    works: list[WorkDocument],
    record_property: Callable[[str, object], None],
) -> None:
    _success_at_3(loc_index, known_items(works), MIN_QUERIES, record_property)


def test_misspelled_known_item_success_at_3(
    loc_index: CatalogueIndex,
    works: list[WorkDocument],
    record_property: Callable[[str, object], None],
) -> None:
    items = misspelled_items(works)
    _success_at_3(loc_index, items, MIN_MISSPELLED_QUERIES, record_property)
