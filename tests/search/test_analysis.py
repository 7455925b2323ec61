"""Analyzers: traditional/simplified folding, CJK bigrams, pinyin, English stemming."""

from __future__ import annotations

import threading

import jieba
import pytest

from search import analysis
from search.analysis import (
    WeightedText,
    fold_latin,
    normalise,
    pinyin_analyzer,
    pinyin_query_terms,
    pinyin_segmentations,
    spelling_analyzer,
    stem_english,
    text_analyzer,
)


def tokens(text: str, mode: str = "index") -> list[str]:
    return [t.text for t in text_analyzer()(text, mode=mode)]


def test_traditional_and_simplified_give_the_same_tokens() -> None:
    assert tokens("紅樓夢") == tokens("红楼梦")
    assert tokens("紅樓夢", mode="query") == ["红楼", "楼梦"]
    assert normalise("三國演義 臺灣") == "三国演义 台湾"


def test_index_keeps_unigrams_bigrams_and_long_jieba_words() -> None:
    indexed = tokens("红楼梦研究")
    for expected in ("红", "梦", "红楼", "楼梦", "梦研", "研究", "红楼梦"):
        assert expected in indexed
    assert tokens("梦", mode="query") == ["梦"]


def test_query_mode_uses_bigrams_only_so_segmentation_does_not_matter() -> None:
    assert tokens("中华人民共和国", mode="query") == [
        "中华",
        "华人",
        "人民",
        "民共",
        "共和",
        "和国",
    ]


def test_pinyin_has_syllables_and_adjacent_pairs() -> None:
    indexed = [t.text for t in pinyin_analyzer()("紅樓夢", mode="index")]
    assert indexed == ["hong", "lou", "meng", "honglou", "loumeng"]


def test_pinyin_pairs_cross_spaces_between_chinese_words() -> None:
    indexed = [t.text for t in pinyin_analyzer()("韓國語 語言學", mode="index")]
    assert "yuyu" in indexed


def test_pinyin_keeps_other_readings_of_ambiguous_characters() -> None:
    indexed = [t.text for t in pinyin_analyzer()("最后的秘境", mode="index")]
    for term in ("de", "di", "houde", "houdi", "demi", "dimi"):
        assert term in indexed


def test_pinyin_query_needs_the_pairs_of_the_typed_syllables() -> None:
    def query(text: str) -> list[str]:
        return [t.text for t in pinyin_analyzer()(text, mode="query")]

    assert query("hongloumeng") == ["honglou", "loumeng"]
    assert query("Hóng Lóu") == ["hong", "lou"]
    assert query("xian") == ["xian"]  # 先, or 西安 through its pair "xi"+"an"
    assert query("gatsby") == []
    assert pinyin_query_terms(["hong", "lou", "meng"]) == ["honglou", "loumeng"]


def test_pinyin_of_latin_text_is_empty() -> None:
    assert list(pinyin_analyzer()("The Great Gatsby", mode="index")) == []


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("hongloumeng", [["hong", "lou", "meng"]]),
        ("xian", [["xian"]]),
        ("santi", [["san", "ti"]]),
        ("lvse", [["lu", "se"]]),
        ("gatsby", []),
        ("", []),
    ],
)
def test_pinyin_segmentation(word: str, expected: list[list[str]]) -> None:
    assert pinyin_segmentations(word) == expected


def test_ambiguous_pinyin_gives_every_shortest_split() -> None:
    assert sorted(pinyin_segmentations("fangan")) == [["fan", "gan"], ["fang", "an"]]


def test_porter2_stemming() -> None:
    assert tokens("running runs run") == ["run", "run", "run"]
    # Porter2 differs from the original Porter algorithm on these.
    assert stem_english("generously") == "generous"
    assert stem_english("fairly") == "fair"


def test_accents_case_and_apostrophes_fold() -> None:
    assert fold_latin("Misérables") == "miserables"
    assert fold_latin("Straße") == "strasse"
    assert fold_latin("Ærø") == "aero"
    assert fold_latin("O'Brien") == "obrien"
    assert tokens("Les Misérables") == tokens("les miserables")
    assert tokens("ＣＡＦÉ") == tokens("cafe")


def test_stop_words_are_kept_for_known_item_titles() -> None:
    assert tokens("It") == ["it"]
    assert tokens("The old man and the sea") == ["the", "old", "man", "and", "the", "sea"]


def test_spelling_analyzer_keeps_latin_words_unstemmed_and_drops_cjk() -> None:
    assert [t.text for t in spelling_analyzer()("Running 红楼梦 Gatsby")] == ["running", "gatsby"]


def test_weighted_text_gives_each_part_its_weight() -> None:
    value = WeightedText([(3.0, "Dune"), (0.5, "Science fiction")])
    assert str(value) == "Dune\nScience fiction"
    weights = [(t.text, t.boost) for t in text_analyzer()(value, mode="index")]
    assert weights == [("dune", 3.0), ("scienc", 0.5), ("fiction", 0.5)]


@pytest.mark.parametrize(
    "text", ["", "\x00\x1f\x7f", "\ud800 lone surrogate", "🙂" * 50, "a" * 5000, "_-_"]
)
def test_odd_input_never_raises(text: str) -> None:
    tokens(text)
    tokens(text, mode="query")
    list(pinyin_analyzer()(text, mode="index"))


def test_overlong_words_are_not_indexed() -> None:
    assert tokens("a" * 65 + " ok") == ["ok"]


def test_chinese_tools_load_once_under_concurrent_first_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created: list[object] = []
    real_tokenizer = jieba.Tokenizer

    def counting_tokenizer() -> object:
        created.append(real_tokenizer())
        return created[-1]

    monkeypatch.setattr(jieba, "Tokenizer", counting_tokenizer)
    tools = analysis._ChineseTools()
    results: list[tuple[tuple[str, int], ...]] = []
    barrier = threading.Barrier(6)

    def segment() -> None:
        barrier.wait()
        results.append(tools.words("中华人民共和国"))

    threads = [threading.Thread(target=segment) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(created) == 1
    assert len(results) == 6
    assert len(set(results)) == 1
    assert ("中华人民共和国", 0) in results[0]
