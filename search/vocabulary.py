"""Index terms held in memory for typo matching: title and author words, pinyin terms."""

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
    """Sorted terms of one field (unstemmed title and author words), walked with automata.

    Walking the index's own term list for every typo costs tens of milliseconds per word
    on 250,000 works; the same walk over an in-memory list takes about one. Words added
    after loading are kept in a small second list. Words of deleted works are not removed:
    callers check candidates against the index.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self._words = sorted(set(words))
        self._added: list[str] = []
        self._initials = frozenset(word[0] for word in self._words if word)
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
            self._initials = self._initials | {word[0] for word in new}

    def near(self, word: str, *, prefix: int) -> set[str]:
        """Known words one edit or one swap of adjacent letters from the word.

        The first ``prefix`` letters must match. Whoosh's edit distance has no swaps (it
        counts "gatbsy" two edits from "gatsby"), so swaps are looked up directly, and so
        are errors in the first letter: a walk that may start with any letter costs several
        times one that keeps the first.
        """
        if not word or len(word) < prefix:
            return set()
        # Whoosh's ListCorrector steps past the word it should land on when a lookup
        # misses, so the DFA is walked here with a plain sorted-list successor.
        dfa = levenshtein_automaton(word, 1, max(prefix, 1)).to_dfa()
        found = {
            match
            for words in (self._words, self._added)
            for match in find_all_matches(dfa, functools.partial(_successor, words))
        }
        if prefix == 0:
            initials = self._initials
            first_letter = {
                *(letter + word[1:] for letter in initials),  # a wrong first letter
                *(letter + word for letter in initials),  # a missing first letter
                word[1:],  # an extra first letter
            }
            found.update(known for known in first_letter if known and known in self)
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


class GenerationVocabularies:
    """The in-memory term lists of one index generation, by field, loaded when first needed.

    Terms written later by this process are added as they are written; a new generation
    starts afresh.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._directory: object = None
        self._by_field: dict[str, Vocabulary] = {}

    def get(self, directory: object, fieldname: str, reader: Any) -> Vocabulary:
        """The field's terms in the generation, read from its index if they are not held."""
        with self._lock:
            if directory != self._directory:
                self._directory, self._by_field = directory, {}
            vocabulary = self._by_field.get(fieldname)
            if vocabulary is None:
                vocabulary = self._by_field[fieldname] = Vocabulary.from_reader(reader, fieldname)
            return vocabulary

    def learn(self, directory: object, terms: dict[str, set[str]], *, fresh: bool) -> None:
        """Terms just written to the generation; ``fresh``: the whole of a new generation's."""
        with self._lock:
            if fresh:
                self._directory = directory
                self._by_field = {field: Vocabulary(words) for field, words in terms.items()}
                return
            if directory != self._directory:
                return
            for field, words in terms.items():
                if field in self._by_field:
                    self._by_field[field].add(words)
