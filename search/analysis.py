"""Text analysis for the catalogue index: Chinese (t2s, jieba, bigrams, pinyin) and English."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

from whoosh.analysis import STOP_WORDS, Filter, Token, Tokenizer
from whoosh.lang import stemmer_for_language

# Bump when tokens change: stored fingerprints include it, so upserts re-index everything.
ANALYSIS_VERSION = 5

MAX_TOKEN_CHARS = 64
MAX_TITLE_KEY_CHARS = 160
# Readings kept for a character whose reading context does not settle (的: de, di).
MAX_READINGS = 5

_HAN = (
    "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3038-\u303b\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\U00020000-\U0003134f"
)
_KANA_HANGUL = "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\uac00-\ud7af"
_CJK = _HAN + _KANA_HANGUL

_RUN_RE = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W_{_CJK}]+(?:['’][^\W_{_CJK}]+)*)")
_HAN_RUN_RE = re.compile(f"[{_HAN}]+")
_HAN_CHAR_RE = re.compile(f"[{_HAN}]")
_TITLE_HEAD_RE = re.compile(r"\s[:/=;]\s|\s[:/=;]$")
_APOSTROPHES = str.maketrans("", "", "'’")
# Letters that NFKD does not decompose into a base letter plus marks.
_LETTER_FOLDS = str.maketrans(
    {"æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)
# Control characters (C0, DEL, C1) become spaces; lone surrogates are dropped separately.
_CONTROLS = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)], " ")

# Whoosh's English stop words plus the articles and prepositions of other languages common
# in a research library's titles; each matches tens of thousands of works.
WEAK_WORDS: frozenset[str] = frozenset(STOP_WORDS) | {
    *("de", "des", "du", "la", "le", "les", "et"),
    *("del", "el", "los", "las", "y"),
    *("der", "das", "und"),
    *("di", "il", "het", "een"),
}


class WeightedText(str):
    """Field text made of parts whose tokens get different weights (Whoosh token boosts).

    Whoosh takes a list value as ready-made tokens, so the parts ride on a str: its text is
    the parts joined, which is what any other analyzer sees.
    """

    parts: tuple[tuple[float, str], ...]

    def __new__(cls, parts: Iterable[tuple[float, str]]) -> WeightedText:
        parts = tuple(parts)
        text = super().__new__(cls, "\n".join(part for _, part in parts))
        text.parts = parts
        return text

    def __repr__(self) -> str:
        return f"WeightedText({self.parts!r})"

    def __reduce__(self) -> tuple[type[WeightedText], tuple[tuple[tuple[float, str], ...]]]:
        # Pickled with its parts (a multi-process writer sends field values to workers).
        return (WeightedText, (self.parts,))


def _weighted_parts(value: str) -> tuple[tuple[float, str], ...]:
    if isinstance(value, WeightedText):
        return value.parts
    return ((1.0, value),)


class _ChineseTools:
    """Process-wide, lazily loaded OpenCC converter and jieba tokenizer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._converter: Any = None
        self._segmenter: Any = None

    def _load(self) -> None:
        with self._lock:
            if self._segmenter is not None:
                return
            import jieba
            from opencc import OpenCC

            jieba.setLogLevel(60)
            converter = OpenCC("t2s")
            segmenter = jieba.Tokenizer()
            segmenter.initialize()
            self._converter = converter
            self._segmenter = segmenter

    def to_simplified(self, text: str) -> str:
        if self._converter is None:
            self._load()
        return str(self._converter.convert(text))

    def words(self, text: str) -> tuple[tuple[str, int], ...]:
        """Return jieba search-mode words with their start offsets."""
        if self._segmenter is None:
            self._load()
        return _cached_words(self._segmenter, text)


@lru_cache(maxsize=8192)
def _cached_words(segmenter: Any, text: str) -> tuple[tuple[str, int], ...]:
    return tuple((word, start) for word, start, _ in segmenter.tokenize(text, mode="search"))


_TOOLS = _ChineseTools()


def warm_up() -> None:
    """Load jieba, OpenCC and the pinyin syllables now rather than on the first Chinese text."""
    _TOOLS.words("红楼梦")
    _TOOLS.to_simplified("紅樓夢")
    pinyin_syllables()


def contains_han(text: str) -> bool:
    """Return True if the text has at least one Chinese character."""
    return _HAN_CHAR_RE.search(text) is not None


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """NFKC-normalise, drop controls and lone surrogates, fold traditional to simplified."""
    if not text.isascii():
        text = text.encode("utf-8", "ignore").decode("utf-8")
        text = unicodedata.normalize("NFKC", text)
    text = text.translate(_CONTROLS)
    if contains_han(text):
        text = _TOOLS.to_simplified(text)
    return text


@lru_cache(maxsize=65536)
def fold_latin(word: str) -> str:
    """Lowercase a Latin-script word and strip its accents and apostrophes."""
    if word.isascii():
        return word.lower().translate(_APOSTROPHES)
    folded = unicodedata.normalize("NFKD", word.casefold().translate(_LETTER_FOLDS))
    return "".join(c for c in folded if not unicodedata.combining(c)).translate(_APOSTROPHES)


_snowball_english = stemmer_for_language("en")


@lru_cache(maxsize=65536)
def stem_english(word: str) -> str:
    """Porter2 (Snowball English) stem of a folded word."""
    return str(_snowball_english(word))


@dataclass(frozen=True)
class TextRun:
    """A stretch of query or field text: one Latin word or one run of CJK characters."""

    text: str
    cjk: bool


def split_runs(normalised: str) -> list[TextRun]:
    """Split normalised text into Latin words (folded) and CJK runs, dropping punctuation."""
    return list(_split_runs(normalised))


@lru_cache(maxsize=65536)
def _split_runs(normalised: str) -> tuple[TextRun, ...]:
    # A title is split three times (title keys, text, spelling) and authors, subjects and
    # publishers repeat across works: split each text once.
    runs: list[TextRun] = []
    for match in _RUN_RE.finditer(normalised):
        cjk = match.group("cjk")
        if cjk is not None:
            runs.append(TextRun(cjk, True))
        else:
            word = fold_latin(match.group("word"))
            if word:
                runs.append(TextRun(word, False))
    return tuple(runs)


def title_key(text: str) -> str:
    """Exact-title key: folded words and simplified CJK runs joined by "_", no punctuation."""
    return "_".join(run.text for run in _split_runs(normalise(text)))[:MAX_TITLE_KEY_CHARS]


def _joined(readings: Sequence[tuple[str, ...]]) -> str:
    return "".join(char[0] for char in readings if char)[:MAX_TITLE_KEY_CHARS]


def _han_chars(text: str) -> str:
    return "".join(_HAN_RUN_RE.findall(normalise(text)))


def pinyin_key(text: str) -> str:
    """The likeliest pinyin of the Chinese characters of a text, joined ("hongloumeng")."""
    return _joined(han_pinyin(_han_chars(text)))


def title_keys(title: str) -> list[str]:
    """Exact-title and pinyin keys of a whole title and of its main title.

    The main title is what comes before " : ", " / ", " = " or " ; ".
    """
    main = _TITLE_HEAD_RE.split(title, maxsplit=1)[0]
    readings = han_pinyin(_han_chars(title))
    # The main title's characters start the title's, so reuse their readings.
    main_readings = readings[: len(_han_chars(main))]
    keys = [title_key(title), _joined(readings), title_key(main), _joined(main_readings)]
    return [key for key in dict.fromkeys(keys) if key]


def cjk_bigrams(run: str) -> list[str]:
    """Overlapping character bigrams of a CJK run (the run itself if it is one character)."""
    if len(run) < 2:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


class CatalogueTokenizer(Tokenizer):  # type: ignore[misc]
    """Latin words folded to lowercase ASCII; CJK runs as jieba words, bigrams and unigrams.

    In query mode a CJK run yields only its bigrams (or its single character), so the
    query matches whatever way jieba segmented the indexed text. In a WeightedText value
    each token is weighted as its part.
    """

    def __init__(self, cjk: bool = True) -> None:
        self.cjk = cjk

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CatalogueTokenizer) and other.cjk == self.cjk

    def __hash__(self) -> int:
        return hash((type(self), self.cjk))

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        parts = _weighted_parts(value)
        if not tokenize:
            text = normalise(" ".join(text for _, text in parts))
            yield self._emit(token, text, False, start_pos, 1.0, keeporiginal)
            return
        pos = start_pos
        for weight, part in parts:
            for run in _split_runs(normalise(part)):
                if not run.cjk:
                    if len(run.text) <= MAX_TOKEN_CHARS:
                        yield self._emit(token, run.text, False, pos, weight, keeporiginal)
                        pos += 1
                    continue
                if not self.cjk:
                    continue
                for piece, offset in self._cjk_pieces(run.text, mode):
                    yield self._emit(token, piece, True, pos + offset, weight, keeporiginal)
                pos += len(run.text)
            pos += 1

    @staticmethod
    def _cjk_pieces(run: str, mode: str) -> Iterator[tuple[str, int]]:
        if mode == "query":
            for offset, gram in enumerate(cjk_bigrams(run)):
                yield gram, offset
            return
        for offset, char in enumerate(run):
            yield char, offset
        if len(run) > 1:
            for offset, gram in enumerate(cjk_bigrams(run)):
                yield gram, offset
        if len(run) > 2:
            for word, offset in _TOOLS.words(run):
                # Two-character words are already there as bigrams.
                if 2 < len(word) <= MAX_TOKEN_CHARS:
                    yield word, offset

    @staticmethod
    def _emit(
        token: Token, text: str, cjk: bool, pos: int, weight: float, keeporiginal: bool
    ) -> Token:
        token.text = text
        token.cjk = cjk
        token.stopped = False
        token.boost = weight
        if keeporiginal:
            token.original = text
        if token.positions:
            token.pos = pos
        return token


class EnglishStemFilter(Filter):  # type: ignore[misc]
    """Porter2 (Snowball English) stemming of Latin tokens; CJK tokens pass unchanged."""

    is_morph = True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EnglishStemFilter)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            if not token.cjk:
                token.text = stem_english(token.text)
            yield token


@lru_cache(maxsize=1)
def pinyin_syllables() -> frozenset[str]:
    """Toneless pinyin syllables of pypinyin's dictionary ("ü" written "u")."""
    from pypinyin.pinyin_dict import pinyin_dict

    syllables: set[str] = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            syllable = fold_latin(reading)
            # Drop interjections with no vowel ("m", "ng", "hm"): they only add false splits.
            if syllable.isalpha() and any(v in syllable for v in "aeiou"):
                syllables.add(syllable)
    return frozenset(syllables)


def _no_reading(chars: str) -> Any:
    return [""] * len(chars)


@lru_cache(maxsize=8192)
def han_pinyin(text: str) -> tuple[tuple[str, ...], ...]:
    """Toneless readings of each character (ü written u), the likeliest in context first.

    Characters whose reading the context does not settle keep up to MAX_READINGS, so
    older romanisations (的 as "di") and other guesses still match. No reading gives ``()``.
    """
    from pypinyin import Style, pinyin

    readings = pinyin(text, style=Style.NORMAL, heteronym=True, errors=_no_reading)
    folded = tuple(
        tuple(dict.fromkeys(r.replace("v", "u") for r in char if r))[:MAX_READINGS]
        for char in readings
    )
    return (folded + ((),) * len(text))[: len(text)]


def pinyin_segmentations(word: str, limit: int = 3) -> list[list[str]]:
    """Split a run-together pinyin word into syllables, fewest syllables first.

    ``"hongloumeng"`` gives ``[["hong", "lou", "meng"]]``; a word that is not pinyin gives
    ``[]``. Ambiguous words (``"fangan"``) give every split with the fewest syllables,
    up to ``limit``.
    """
    word = word.replace("v", "u")
    syllables = pinyin_syllables()
    if not word.isascii() or not word.isalpha() or len(word) > MAX_TOKEN_CHARS:
        return []
    # best[i]: fewest syllables covering word[i:], and the splits achieving it.
    size = len(word)
    best: list[tuple[int, list[list[str]]]] = [(size + 1, []) for _ in range(size)]
    best.append((0, [[]]))
    for start in range(size - 1, -1, -1):
        for end in range(start + 1, min(size, start + 6) + 1):
            head = word[start:end]
            count, tails = best[end]
            if head not in syllables or not tails:
                continue
            if count + 1 < best[start][0]:
                best[start] = (count + 1, [[head, *tail] for tail in tails][:limit])
            elif count + 1 == best[start][0]:
                merged = best[start][1] + [[head, *tail] for tail in tails]
                best[start] = (count + 1, merged[:limit])
    return best[0][1]


def pinyin_query_terms(syllables: Sequence[str]) -> list[str]:
    """Pinyin terms that must all match for consecutive syllables: adjacent pairs, joined.

    The index holds every syllable and every adjacent pair, so "hongloumeng" (split into
    hong+lou+meng) needs "honglou" and "loumeng"; a lone syllable needs itself.
    """
    if len(syllables) == 1:
        return [syllables[0]]
    return list(dict.fromkeys(a + b for a, b in pairwise(syllables)))


class PinyinTokenizer(Tokenizer):  # type: ignore[misc]
    """Toneless pinyin of the Chinese characters in the text: readings and adjacent pairs.

    In query mode each Latin word is split into syllables and yields the terms of
    ``pinyin_query_terms``; a word that is not pinyin yields nothing.
    """

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PinyinTokenizer)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        token.cjk = False
        pos = start_pos
        for weight, part in _weighted_parts(value):
            for terms in self._part_terms(normalise(part), mode):
                for term in terms:
                    yield self._emit(token, term, pos, weight, keeporiginal)
                    pos += 1

    @staticmethod
    def _part_terms(text: str, mode: str) -> Iterator[list[str]]:
        if mode == "query":
            for run in split_runs(text):
                splits = [] if run.cjk else pinyin_segmentations(run.text)
                if splits:
                    yield pinyin_query_terms(splits[0])
            return
        # Characters of one part are read as one sequence: spaces and punctuation between
        # Chinese words ("韓國語 語言學") do not stop pairs forming across them.
        han = "".join(_HAN_RUN_RE.findall(text))
        readings = han_pinyin(han)
        yield list(dict.fromkeys(syllable for char in readings for syllable in char))
        yield list(
            dict.fromkeys(
                a + b for first, second in pairwise(readings) for a in first for b in second
            )
        )

    @staticmethod
    def _emit(token: Token, text: str, pos: int, weight: float, keeporiginal: bool) -> Token:
        token.text = text
        token.stopped = False
        token.boost = weight
        if keeporiginal:
            token.original = text
        if token.positions:
            token.pos = pos
        return token


def text_analyzer() -> Any:
    """Analyzer for catalogue text: CJK pieces plus Porter2-stemmed English words."""
    return CatalogueTokenizer() | EnglishStemFilter()


def spelling_analyzer() -> Any:
    """Analyzer for the "did you mean" vocabulary: unstemmed Latin words only."""
    return CatalogueTokenizer(cjk=False)


def pinyin_analyzer() -> Any:
    """Analyzer turning Chinese characters into toneless pinyin syllables and syllable pairs."""
    return PinyinTokenizer()
