"""The in-memory typo vocabulary and how the index keeps it current."""

from __future__ import annotations

import random
from pathlib import Path

from whoosh.support.levenshtein import levenshtein as distance

from search import CatalogueIndex, WorkDocument
from search.vocabulary import Vocabulary, transpositions
from tests.search.conftest import CORPUS


def test_near_finds_one_edit_and_one_swap() -> None:
    vocabulary = Vocabulary(["gatsby", "great", "potter", "pottery", "hobbit"])
    assert vocabulary.near("gatbsy", prefix=1) == {"gatsby"}  # swap
    assert vocabulary.near("grat", prefix=1) == {"great"}  # missing letter
    assert vocabulary.near("potterx", prefix=2) == {"potter", "pottery"}
    assert vocabulary.near("hobbit", prefix=1) == set()  # the word itself is not "near"


def test_near_keeps_the_prefix() -> None:
    vocabulary = Vocabulary(["dune", "june"])
    assert vocabulary.near("dune", prefix=0) == {"june"}
    assert vocabulary.near("dune", prefix=1) == set()
    assert vocabulary.near("udne", prefix=1) == set()
    assert vocabulary.near("udne", prefix=0) == {"dune"}


def test_short_words_and_empty_vocabularies_are_safe() -> None:
    assert Vocabulary([]).near("anything", prefix=1) == set()
    assert Vocabulary(["a"]).near("a", prefix=1) == set()
    assert Vocabulary(["ab"]).near("", prefix=0) == set()


def test_added_words_are_found() -> None:
    vocabulary = Vocabulary(["dune"])
    vocabulary.add(["neuromancer", "dune", ""])
    assert len(vocabulary) == 2
    assert "neuromancer" in vocabulary
    assert vocabulary.near("nueromancer", prefix=1) == {"neuromancer"}
    assert vocabulary.near("neuromance", prefix=1) == {"neuromancer"}


def test_near_agrees_with_brute_force() -> None:
    rng = random.Random(5)
    alphabet = "abcé"
    for _ in range(200):
        words = {"".join(rng.choices(alphabet, k=rng.randint(1, 6))) for _ in range(30)}
        vocabulary = Vocabulary(words)
        word = "".join(rng.choices(alphabet, k=rng.randint(2, 7)))
        for prefix in (0, 1, 2):
            expected = {
                w
                for w in words
                if w != word
                and w[:prefix] == word[:prefix]
                and (distance(w, word) <= 1 or w in transpositions(word, prefix))
            }
            assert vocabulary.near(word, prefix=prefix) == expected, (word, prefix)


def test_transpositions() -> None:
    assert transpositions("abc", 0) == {"bac", "acb"}
    assert transpositions("abc", 1) == {"acb"}
    assert transpositions("aab", 0) == {"aba"}


def test_upserted_words_feed_fuzzy_matching(fresh_index: CatalogueIndex) -> None:
    fresh_index.rebuild(CORPUS)
    assert fresh_index.search("neuormancer").hits == []
    fresh_index.upsert(
        [
            WorkDocument(500, "Neuromancer", authors=("Gibson, William",)),
            WorkDocument(501, "Ubik", authors=("Dick, Philip K.",)),
        ]
    )
    assert [hit.work_id for hit in fresh_index.search("neuormancer").hits] == [500]
    assert fresh_index.search("gibsno").suggestion is None  # found by a swap instead
    # A dropped letter in a longer word is found too (issue 22); a short word is suggested.
    gbson = fresh_index.search("gbson")
    assert ([hit.work_id for hit in gbson.hits], gbson.suggestion) == ([500], None)
    assert fresh_index.search("ubki").suggestion == "ubik"


def test_another_instance_loads_the_vocabulary_of_a_new_generation(tmp_path: Path) -> None:
    writer = CatalogueIndex(tmp_path / "index")
    reader = CatalogueIndex(tmp_path / "index", refresh_interval=0.0)
    try:
        writer.rebuild(CORPUS[:3])
        assert reader.search("dnue").suggestion is None
        writer.rebuild(CORPUS)
        assert reader.search("dnue").suggestion == "dune"
    finally:
        writer.close()
        reader.close()
