"""Title and author words held in memory, for typo matching: fuzzy terms and "did you mean"."""

from __future__ import annotations

import functools
import threading
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

from whoosh.automata.fsa import find_all_matches
from whoosh.automata.lev import levenshtein_automaton


def transpositions(word: str, keep: int) -> set[str]:
    """The word with two adjacent letters swapped, leaving the first ``keep`` letters alone."""
    return {
        word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        for i in range(keep, len(word) - 1)
        if word[i] != word[i + 1]
    }


class Vocabulary:
    """Sorted unstemmed Latin words of titles and authors, walked with Whoosh's automata.

    Walking the index's own term list for every typo costs tens of milliseconds per word
    on 250,000 works; the same walk over an in-memory list takes about one. Words added
    after loading are kept in a small second list. Words of deleted works are not removed:
    callers check candidates against the index.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self._words = sorted(set(words))
        self._added: list[str] = []
        self._lock = threading.Lock()

    @classmethod
    def from_reader(cls, reader: Any, fieldname: str) -> Vocabulary:
        """Load the terms of an index field."""
        return cls(reader.field_terms(fieldname))

    def __len__(self) -> int:
        return len(self._words) + len(self._added)

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        return _in_sorted(self._words, word) or _in_sorted(self._added, word)

    def add(self, words: Iterable[str]) -> None:
        """Add words of newly indexed works."""
        new = {word for word in words if word and word not in self}
        if not new:
            return
        with self._lock:
            self._added = sorted({*self._added, *new})

    def near(self, word: str, *, prefix: int) -> set[str]:
        """Known words one edit or one swap of adjacent letters from the word.

        The first ``prefix`` letters must match. Whoosh's edit distance has no swaps (it
        counts "gatbsy" two edits from "gatsby"), so swaps are looked up directly.
        """
        if not word or len(word) < prefix:
            return set()
        # Whoosh's ListCorrector steps past the word it should land on when a lookup
        # misses, so the DFA is walked here with a plain sorted-list successor.
        dfa = levenshtein_automaton(word, 1, prefix).to_dfa()
        found = {
            match
            for words in (self._words, self._added)
            for match in find_all_matches(dfa, functools.partial(_successor, words))
        }
        found.update(swap for swap in transpositions(word, prefix) if swap in self)
        found.discard(word)
        return found


def _successor(words: list[str], key: str) -> str | None:
    """The first word not less than the key."""
    position = bisect_left(words, key)
    return words[position] if position < len(words) else None


def _in_sorted(words: list[str], word: str) -> bool:
    position = bisect_left(words, word)
    return position < len(words) and words[position] == word
