"""Typed words the index does not know (or knows only rarely), and known words one typo away."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from whoosh.query import And, Term
from whoosh.reading import TermNotFound

from search.analysis import pinyin_query_terms, pinyin_segmentations, stem_english
from search.syllables import pinyin_corrections, pinyin_respellings
from search.vocabulary import Vocabulary

# A word in at most this many works may be a typo: other works may have made it too.
RARE_DOC_FREQUENCY = 2
# Shorter words keep the zero-hit help: fuzzy matching with two letters fixed, "did you mean".
FUZZY_MIN_CHARS = 5
# Longer words are run-together pinyin, not English: walking near them costs milliseconds.
FUZZY_MAX_CHARS = 20
MAX_VARIANTS = 8
MAX_PINYIN_FIXES = 4
# Syllables a "did you mean" may change in pinyin, and respellings it may try.
SUGGEST_PINYIN_ERRORS = 2
SUGGEST_PINYIN_TRIES = 20


@dataclass(frozen=True)
class KnownTerms:
    """What the index holds, in memory, loaded when first asked for."""

    # Title and author words (the "spelling" field).
    spelling: Callable[[], Vocabulary]
    # Pinyin syllables and pairs of adjacent syllables (the "pinyin" field).
    pinyin: Callable[[], Vocabulary]


@dataclass(frozen=True)
class Corrections:
    """What the index knows near the typed words it does not know.

    ``latin`` maps a typed word to known title and author words, most frequent first;
    ``pinyin`` maps a typed word, or all typed words run together, to syllable splits of
    corrected pinyin that some work's title or author reads as.
    """

    latin: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pinyin: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.latin or self.pinyin)


def latin_variants(word: str, reader: Any, vocabulary: Vocabulary) -> tuple[str, ...]:
    """Known title and author words one edit or swap from a rare or unknown word.

    If titles or authors have the word as typed, a variant's stem must be in at least as
    many works as the word's, so a rare but real word is not read as a typo of a rarer
    one. The most frequent come first.
    """
    if not FUZZY_MIN_CHARS <= len(word) <= FUZZY_MAX_CHARS or not word.isalpha():
        return ()
    stem = stem_english(word)
    typed = reader.doc_frequency("text", stem) if word in vocabulary else 0
    stems = {near: stem_english(near) for near in vocabulary.near(word, prefix=0)}
    frequencies = {
        variant: reader.doc_frequency("text", variant) for variant in set(stems.values())
    }
    known = [
        near
        for near, variant in stems.items()
        if variant != stem and frequencies[variant] >= max(1, typed)
    ]
    known.sort(key=lambda near: (-frequencies[stems[near]], near))
    return tuple(known[:MAX_VARIANTS])


def is_rare(word: str, reader: Any) -> bool:
    """Whether a typed Latin word is in at most RARE_DOC_FREQUENCY works."""
    return int(reader.doc_frequency("text", stem_english(word))) <= RARE_DOC_FREQUENCY


def _pinyin_query(syllables: Sequence[str]) -> Any:
    return And([Term("pinyin", term) for term in pinyin_query_terms(syllables)])


def pinyin_matches(word: str, searcher: Any) -> bool:
    """Whether some work's Chinese title or author reads as the word (as pinyin)."""
    return any(
        _pinyin_query(syllables).matcher(searcher).is_active()
        for syllables in pinyin_segmentations(word)
    )


class _PinyinWorks:
    """Which works hold pinyin terms, read once per search and intersected in memory.

    Checking that a correction's syllable pairs occur together in one work with a Whoosh
    matcher per correction costs a few milliseconds each on 250,000 works; corrections of
    one word share most pairs, so their works are read once and intersected rarest first.
    """

    def __init__(self, searcher: Any) -> None:
        self._reader = searcher.reader()
        self._works: dict[str, frozenset[int]] = {}

    def _holding(self, term: str) -> frozenset[int]:
        works = self._works.get(term)
        if works is None:
            with suppress(TermNotFound):
                works = frozenset(self._reader.postings("pinyin", term).all_ids())
            works = self._works[term] = works or frozenset()
        return works

    def count(self, syllables: Sequence[str]) -> int:
        """How many works read as the syllables (hold all their pinyin query terms)."""
        common: frozenset[int] | None = None
        for works in sorted(map(self._holding, pinyin_query_terms(syllables)), key=len):
            common = works if common is None else common & works
            if not common:
                return 0
        return len(common or ())


def pinyin_fixes(word: str, searcher: Any, known: KnownTerms) -> tuple[tuple[str, ...], ...]:
    """Splits of pinyin one typing error from the word that some work's title or author reads as.

    Only splits of two syllables or more: one syllable matches too much to be a correction.
    Whole titles come first, then the splits most works read as.
    """
    pinyin, works, reader = known.pinyin(), _PinyinWorks(searcher), searcher.reader()
    counts: dict[tuple[str, ...], int] = {}
    for syllables in pinyin_corrections(word):
        terms = pinyin_query_terms(syllables)
        if (
            len(syllables) > 1
            and all(term in pinyin for term in terms)
            and (count := works.count(syllables))
        ):
            counts[syllables] = count
    titles = {fix: ("title_key", "".join(fix)) in reader for fix in counts}
    ranked = sorted(counts, key=lambda fix: (not titles[fix], -counts[fix], fix))
    return tuple(ranked[:MAX_PINYIN_FIXES])


def pinyin_suggestion(word: str, searcher: Any, known: KnownTerms) -> str | None:
    """Pinyin with up to SUGGEST_PINYIN_ERRORS syllables respelled that some work reads as."""
    respellings = pinyin_respellings(
        word, known.pinyin().__contains__, max_errors=SUGGEST_PINYIN_ERRORS
    )
    works = _PinyinWorks(searcher)
    for syllables in respellings[:SUGGEST_PINYIN_TRIES]:
        if len(syllables) > 1 and works.count(syllables):
            return "".join(syllables)
    return None


def find_corrections(
    words: list[str],
    typed: list[str],
    searcher: Any,
    known: KnownTerms,
    *,
    exact_total: int,
) -> Corrections:
    """Known words near each rare or unknown word, and near all typed words run together.

    ``words`` are the typed words that must match (no stop words); ``typed`` all of them.
    Nothing is looked for when the query as typed matched more than RARE_DOC_FREQUENCY
    works, since each of its words is in at least as many. When it matched none, a word
    is looked at if it is rare or no title or author has it as typed (its stem may be
    another word's: "wirting" and the author "Wirt"). When it matched a few, only words
    that no title or author has but whose stem a few works have are looked at
    ("miscellanes" matching "miscellaneous"): a word in no work at all matched as pinyin.
    """
    if exact_total > RARE_DOC_FREQUENCY:
        return Corrections()
    reader = searcher.reader()
    if exact_total:
        return Corrections(
            latin={
                word: variants
                for word in words
                if word not in known.spelling()
                and 0 < reader.doc_frequency("text", stem_english(word)) <= RARE_DOC_FREQUENCY
                and (variants := latin_variants(word, reader, known.spelling()))
            }
        )
    latin: dict[str, tuple[str, ...]] = {}
    pinyin: dict[str, tuple[tuple[str, ...], ...]] = {}
    for word in words:
        unknown = is_rare(word, reader) or word not in known.spelling()
        if not unknown or pinyin_matches(word, searcher):
            continue
        if variants := latin_variants(word, reader, known.spelling()):
            latin[word] = variants
        if fixes := pinyin_fixes(word, searcher, known):
            pinyin[word] = fixes
    # Pinyin typed with spaces ("hong luo meng"): all words but the one with a typo split.
    joined = "".join(typed)
    if (
        len(typed) > 1
        and sum(not pinyin_segmentations(word) for word in typed) <= 1
        and not pinyin_matches(joined, searcher)
        and (fixes := pinyin_fixes(joined, searcher, known))
    ):
        pinyin[joined] = fixes
    return Corrections(latin, pinyin)
