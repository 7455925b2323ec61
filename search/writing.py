"""Cheaper index writes: weighted text analysed a part at a time, rare terms' postings inlined.

Whoosh writes every term's postings as a block of its own in the postings file (pickled,
compressed, framed), even a term that one work holds (an ISBN, a work id, a title key): its
W3 codec can keep short posting lists in the term table instead, but the switch is broken
(``inlinelimit`` calls a method the term info does not have). ``BuildCodec`` mends it, so
terms with few postings cost one row of the term table. Its segments name a plain
``W3Codec``: what it writes is read by Whoosh as it is.

``WeightedTextField`` indexes a ``WeightedText`` value part by part, remembering each part's
terms: authors, subjects and publishers repeat across thousands of works, and the same
title feeds the text, pinyin and spelling fields. The terms, frequencies and weights are
the ones the field's analyzer and Whoosh's Frequency format give for the whole value.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    W3Codec,
    W3PerDocReader,
    W3PostingsWriter,
    W3Segment,
)
from whoosh.fields import KEYWORD, TEXT
from whoosh.formats import Frequency
from whoosh.system import emptybytes, pack_uint
from whoosh.util.numeric import byte_to_length

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
# A term with fewer postings than this is kept in the term table, not the postings file.
INLINE_LIMIT = 16
_PART_CACHE = 65536


class _InliningPostingsWriter(W3PostingsWriter):  # type: ignore[misc]
    def finish_postings(self) -> Any:
        terminfo: Any = self._terminfo  # type: ignore[has-type]
        if not self.written() and len(self) < self._inlinelimit:
            terminfo.add_block(self)
            ids, weights = self._ids, self._weights
            # Formats without values (Existence) leave no value per posting.
            values = self._values if len(self._values) == len(ids) else [emptybytes] * len(ids)
            terminfo.set_inlined(ids, weights, values)
            self._terminfo = None
            return terminfo
        return super().finish_postings()


class _LengthsReader(W3PerDocReader):  # type: ignore[misc]
    """The new segment's field lengths, as its postings are written: one read per field.

    Whoosh looks a posting's field length up for every posting, reading the length column
    one byte at a time, and for fields without lengths (ids, keywords) asks the file system
    each time whether the column exists.
    """

    def __init__(self, storage: Any, segment: Any) -> None:
        super().__init__(storage, segment)
        self._tables: dict[str, list[int | None] | None] = {}

    def _table(self, fieldname: str) -> list[int | None] | None:
        if fieldname not in self._tables:
            # The length column's name, as the W3 codec gives it.
            reader = self._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
            self._tables[fieldname] = (
                None
                if reader is None
                else [
                    byte_to_length(b) if b else None
                    for b in map(reader.__getitem__, range(self._doccount))
                ]
            )
        return self._tables[fieldname]

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        table = self._table(fieldname)
        if table is None:
            return default
        if docnum >= len(table):
            return super().doc_field_length(docnum, fieldname, default)  # type: ignore[no-any-return]
        return table[docnum]


class BuildCodec(W3Codec):  # type: ignore[misc]
    """Whoosh's W3 codec with short posting lists kept in the term table."""

    def __init__(self, inlinelimit: int = INLINE_LIMIT) -> None:
        super().__init__(inlinelimit=inlinelimit)

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> Any:
        return _InliningPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def per_document_reader(self, storage: Any, segment: Any) -> Any:
        return _LengthsReader(storage, segment)

    def new_segment(self, storage: Any, indexname: str) -> Any:
        # The segment (pickled into the index's table of contents) reads with a plain codec.
        return W3Segment(W3Codec(), indexname)


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
    """A Whoosh writer with the build codec; with ``procs`` > 1, spread over worker processes.

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
            codec=BuildCodec(),
        )
    return ix.writer(limitmb=limitmb, codec=BuildCodec())
