"""Cheaper index writes: weighted text analysed a part at a time, title keys made by workers.

``WeightedTextField`` indexes a ``WeightedText`` value part by part, remembering each part's
terms: authors, subjects and publishers repeat across thousands of works, and the same
title feeds the text, pinyin and spelling fields. The terms, frequencies and weights are
the ones the field's analyzer and Whoosh's Frequency format give for the whole value.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from whoosh.fields import KEYWORD, TEXT
from whoosh.formats import Frequency
from whoosh.system import pack_uint

from search.analysis import (
    WeightedText,
    pinyin_analyzer,
    spelling_analyzer,
    text_analyzer,
    title_keys,
)
from search.analysis import warm_up as load_chinese_tools

# Works handed to a rebuild's worker process at a time.
BUILD_BATCH = 500
_PART_CACHE = 65536


# The analyzers of the weighted fields, by kind (a field holds its kind, not a cache).
_ANALYZERS = {"text": text_analyzer, "pinyin": pinyin_analyzer, "spelling": spelling_analyzer}


@lru_cache(maxsize=len(_ANALYZERS))
def _analyzer(kind: str) -> Any:
    return _ANALYZERS[kind]()


@lru_cache(maxsize=_PART_CACHE)
def _part_terms(kind: str, part: str) -> tuple[tuple[bytes, int], ...]:
    """The terms of one part of a weighted value and how often each occurs in it."""
    counts: dict[str, int] = {}
    for token in _analyzer(kind)(part, mode="index"):
        if not token.stopped:
            counts[token.text] = counts.get(token.text, 0) + 1
    return tuple((text.encode("utf-8"), count) for text, count in counts.items())


class WeightedTextField(TEXT):  # type: ignore[misc]
    """A TEXT field without positions that indexes WeightedText values a part at a time."""

    def __init__(self, kind: str) -> None:
        super().__init__(analyzer=_analyzer(kind), phrase=False)
        self.kind = kind

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        if not isinstance(value, WeightedText) or type(self.format) is not Frequency or kwargs:
            yield from super().index(value, **kwargs)
            return
        freqs: dict[bytes, int] = {}
        weights: dict[bytes, float] = {}
        for weight, part in value.parts:
            for term, count in _part_terms(self.kind, part):
                freqs[term] = freqs.get(term, 0) + count
                weights[term] = weights.get(term, 0.0) + weight * count
        boost = self.format.field_boost
        for term, freq in freqs.items():
            yield term, freq, weights[term] * boost, _FREQUENCIES.get(freq) or pack_uint(freq)


_FREQUENCIES = {freq: pack_uint(freq) for freq in range(1, 64)}


class Titles(str):
    """A work's titles, whose exact-title and pinyin keys the title_key field indexes.

    The keys are made where the work is indexed (a rebuild's worker process), which has
    just split and read the same titles for the text and pinyin fields.
    """

    titles: tuple[str, ...]

    def __new__(cls, titles: tuple[str, ...]) -> Titles:
        text = super().__new__(cls, "\n".join(titles))
        text.titles = tuple(titles)
        return text

    def __reduce__(self) -> tuple[type[Titles], tuple[tuple[str, ...]]]:
        return (Titles, (self.titles,))

    def title_keys(self) -> list[str]:
        """The keys, each once, in the order of the titles."""
        return list(dict.fromkeys(key for title in self.titles for key in title_keys(title)))


class TitleKeyField(KEYWORD):  # type: ignore[misc]
    """Whole-title keys, unscored: a Titles value gives its keys; other text its words."""

    def __init__(self) -> None:
        super().__init__(lowercase=False, scorable=False)

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        if not isinstance(value, Titles) or type(self.format) is not Frequency or kwargs:
            yield from super().index(value, **kwargs)
            return
        boost = self.format.field_boost
        for key in value.title_keys():
            yield key.encode("utf-8"), 1, boost, _FREQUENCIES[1]


def index_writer(ix: Any, *, procs: int, limitmb: int) -> Any:
    """A Whoosh writer; with ``procs`` > 1, spread over worker processes.

    Each worker writes a segment of its own and the segments are kept as they are: merging
    them would rewrite every posting once more for little gain in search time.
    """
    if procs > 1:
        # Workers are forked: load jieba and OpenCC once here, not under a lock that
        # another thread of this process might hold at the moment of the fork.
        load_chinese_tools()
        return ix.writer(
            procs=procs,
            multisegment=True,
            batchsize=BUILD_BATCH,
            limitmb=limitmb,
        )
    return ix.writer(limitmb=limitmb)
