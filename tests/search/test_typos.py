"""Typos matched by edit distance: Latin words and pinyin, on a small index built here."""

from __future__ import annotations

import pytest

from search import CatalogueIndex, SearchResult, WorkDocument, typos
from search.syllables import (
    near_syllables,
    one_edit_apart,
    pinyin_corrections,
    pinyin_respellings,
)
from search.vocabulary import Vocabulary
from tests.search.conftest import CORPUS


def ids(result: SearchResult) -> list[int]:
    return [hit.work_id for hit in result.hits]


@pytest.mark.parametrize(
    ("query", "work_id"),
    [
        ("the great gatbsy", 14),  # two letters swapped
        ("pride and prejudce", 19),  # a letter dropped
        ("zen motorcyxle maintenance", 29),  # a letter changed
        ("Runing with scissors", 15),
        ("philosopher's stnoe", 12),
        ("Harry Potter chamber of secrest", 13),
        ("nineteen eihgty-four", 24),
        ("The Hbobit", 18),  # second letter
        ("unning with scissors", 15),  # the first letter dropped
        ("Eighty-four nnneteen", 24),
        ("Fitzegrald", 14),  # an author
        ("Tolkein hobbit", 18),
        ("Herbert Dnue", 17),  # short words are only found with the rest of the query
    ],
)
def test_one_letter_wrong_still_finds_the_title(
    catalogue: CatalogueIndex, query: str, work_id: int
) -> None:
    result = catalogue.search(query, limit=3)
    assert ids(result)[:1] == [work_id]
    assert result.suggestion is None


def test_the_query_as_typed_ranks_above_its_corrections(fresh_index: CatalogueIndex) -> None:
    fresh_index.rebuild(
        [
            WorkDocument(1, "Painting techniques", subjects=("Colour",)),
            WorkDocument(2, "Color", authors=("Albers, Josef",)),
            WorkDocument(3, "Gardens of France"),
        ]
    )
    # "colour" is only a subject word of work 1; the title of work 2 is one letter away and
    # weighs more (a title), but the work matching as typed comes first.
    result = fresh_index.search("colour")
    assert (ids(result), result.total, result.suggestion) == ([1, 2], 2, None)
    assert ids(fresh_index.search("color")) == [2]


def test_a_word_no_title_has_but_whose_stem_matches_is_corrected_too(
    fresh_index: CatalogueIndex,
) -> None:
    fresh_index.rebuild(
        [
            WorkDocument(1, "Miscellaneous farm laws of Missouri"),
            WorkDocument(2, "Miscellanies", authors=("Macaulay, Thomas Babington",)),
        ]
    )
    # "miscellanes" (a letter dropped from "miscellanies") has the stem of "miscellaneous".
    assert ids(fresh_index.search("Miscellanes")) == [1, 2]


def test_a_word_no_title_has_is_corrected_even_if_its_stem_is_another_word(
    fresh_index: CatalogueIndex,
) -> None:
    fresh_index.rebuild(
        [
            WorkDocument(1, "Writing realism", subjects=("Realism in literature",)),
            *(WorkDocument(i, f"Volume {i}", authors=("Williams, Wirt",)) for i in range(2, 6)),
        ]
    )
    # "wirting" stems to "wirt", which four works have (an author), but no title or author
    # has "wirting" itself: it is corrected, rather than the query loosened to any word.
    result = fresh_index.search("Wirting realism")
    assert (ids(result), result.total) == ([1], 1)


def test_corrections_leave_out_deleted_works(fresh_index: CatalogueIndex) -> None:
    fresh_index.rebuild(CORPUS)
    assert ids(fresh_index.search("hongluomeng")) == [1]
    fresh_index.delete([1])
    assert fresh_index.search("hongluomeng").hits == []
    assert fresh_index.search("honglumen").suggestion is None


def test_frequent_words_are_not_corrected(catalogue: CatalogueIndex) -> None:
    # Works on gardens do not bring in works on "garden" typos, and vice versa.
    assert ids(catalogue.search("garden")) == [20, 21]
    assert set(ids(catalogue.search("fiction"))) == {
        doc.work_id
        for doc in CORPUS
        if any("fiction" in subject.lower() for subject in doc.subjects)
    }


def test_a_query_that_matches_enough_works_looks_for_no_corrections(
    fresh_index: CatalogueIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_index.rebuild(CORPUS)

    def unused(*args: object, **kwargs: object) -> None:
        raise AssertionError("a query that needs no corrections looked for some")

    monkeypatch.setattr(Vocabulary, "from_reader", unused)
    monkeypatch.setattr(Vocabulary, "near", unused)
    monkeypatch.setattr(typos, "pinyin_corrections", unused)
    for query in ("fiction", "Harry Potter", "China history", "hongloumeng", "三体"):
        assert fresh_index.search(query).hits


@pytest.mark.parametrize(
    ("query", "work_id"),
    [
        ("hongluomeng", 1),  # 红楼梦, a syllable mistyped
        ("hongloumneg", 1),  # letters swapped inside a syllable
        ("honglomueng", 1),  # letters swapped across two syllables
        ("hongoumeng", 1),  # a letter dropped
        ("hong luo meng", 1),  # typed with spaces
        ("xiyuoji", 3),  # 西遊記
        ("weichegn", 6),  # 围城
        ("qianzhonshu", 6),  # 钱钟书, the author
        ("caoxeuqin", 1),  # 曹雪芹
        ("sanguoyanyu", 5),  # 三國演義
    ],
)
def test_pinyin_with_a_typo_finds_the_chinese_title(
    catalogue: CatalogueIndex, query: str, work_id: int
) -> None:
    result = catalogue.search(query, limit=3)
    assert ids(result)[:1] == [work_id]
    assert result.suggestion is None


def test_pinyin_with_two_syllables_mistyped_gets_a_did_you_mean(
    catalogue: CatalogueIndex,
) -> None:
    result = catalogue.search("honglumen")
    assert (result.hits, result.suggestion) == ([], "hongloumeng")
    assert ids(catalogue.search("hongloumeng"))[:1] == [1]


def test_pinyin_of_works_added_later_is_corrected(fresh_index: CatalogueIndex) -> None:
    fresh_index.rebuild(CORPUS)
    fresh_index.warm_up()  # the pinyin terms are in memory before the upsert
    fresh_index.upsert([WorkDocument(600, "骆驼祥子", authors=("老舍",))])
    assert ids(fresh_index.search("luotuoxaingzi")) == [600]
    assert ids(fresh_index.search("luotuoxiangzi")) == [600]


def test_near_syllables() -> None:
    assert {"lou", "lao", "guo", "lu", "lo", "lun"} <= near_syllables("luo")
    assert "luan" not in near_syllables("luo")  # two letters changed
    assert "luo" not in near_syllables("luo")
    assert near_syllables("zong") >= {"zhong", "cong", "zeng"}
    assert near_syllables("qqqqqqqqq") == frozenset()


def test_one_edit_apart() -> None:
    assert one_edit_apart("lou", "luo")  # swap
    assert one_edit_apart("zong", "zhong")  # extra letter
    assert one_edit_apart("zhong", "zong")  # missing letter
    assert one_edit_apart("an", "en")  # wrong letter
    assert not one_edit_apart("an", "an")
    assert not one_edit_apart("abc", "cba")
    assert not one_edit_apart("an", "ang" + "g")


def test_pinyin_corrections() -> None:
    assert ("hong", "lou", "meng") in pinyin_corrections("hongluomeng")
    assert ("hong", "lou", "meng") in pinyin_corrections("honglomueng")  # across syllables
    assert ("hong", "lou", "meng") in pinyin_corrections("hngloumeng")
    assert ("hong", "lou", "meng") not in pinyin_corrections("hongloumeng")  # not a typo
    assert ("fang", "an") in pinyin_corrections("fagan")
    assert pinyin_corrections("gatsby!") == frozenset()


def test_pinyin_respellings_keep_to_known_pairs() -> None:
    pairs = {"honglou", "loumeng", "xiyou", "youji"}
    respellings = pinyin_respellings("honglumen", pairs.__contains__, max_errors=2)
    assert respellings[0] == ("hong", "lou", "meng")
    assert pinyin_respellings("honglumen", pairs.__contains__, max_errors=1) == []
    assert pinyin_respellings("xiyuoji", pairs.__contains__, max_errors=2)[0] == ("xi", "you", "ji")
    assert ("xi", "you", "ji") not in pinyin_respellings(
        "xiyouji", pairs.__contains__, max_errors=2
    )
