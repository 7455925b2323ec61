"""From what a reader typed to Whoosh queries: ISBN detection, strict AND, loose OR, spelling."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from whoosh.query import And, AndMaybe, Or, Query, Term

from search.analysis import (
    MAX_TOKEN_CHARS,
    WEAK_WORDS,
    TextRun,
    normalise,
    pinyin_query_terms,
    pinyin_segmentations,
    split_runs,
    stem_english,
    title_key,
)
from search.isbn import isbn13
from search.typos import Corrections, KnownTerms, find_corrections, pinyin_suggestion
from search.vocabulary import Vocabulary

MAX_QUERY_CHARS = 256
MAX_RUNS = 12
MAX_CJK_RUN_CHARS = 24
FUZZY_MIN_CHARS = 5
FUZZY_PREFIX = 2
FUZZY_MAX_EXPANSIONS = 8
FUZZY_BOOST = 0.3
SUGGEST_MIN_CHARS = 3
SUGGEST_PREFIX = 1
YEAR_BOOST = 0.5
TITLE_KEY_BOOST = 10.0


@dataclass(frozen=True)
class QueryPlan:
    """A reader's query, cleaned: either one ISBN-13 or a list of words and CJK runs."""

    isbn: str | None
    runs: tuple[TextRun, ...]

    @property
    def empty(self) -> bool:
        return self.isbn is None and not self.runs


def truncate_query(text: str) -> str:
    """Cut an over-long query to MAX_QUERY_CHARS, at a space when one is near the end."""
    if len(text) <= MAX_QUERY_CHARS:
        return text
    cut = text[:MAX_QUERY_CHARS]
    if text[MAX_QUERY_CHARS].isalnum():
        space = cut.rfind(" ")
        if space > MAX_QUERY_CHARS // 2:
            cut = cut[:space]
    return cut


def plan_query(text: str) -> QueryPlan:
    """Clean a typed query: detect an ISBN, else split it into at most MAX_RUNS runs."""
    text = truncate_query(text)
    isbn = isbn13(text)
    if isbn is not None:
        return QueryPlan(isbn, ())
    runs: dict[TextRun, None] = {}
    for run in split_runs(normalise(text)):
        if run.cjk:
            run = TextRun(run.text[:MAX_CJK_RUN_CHARS], True)
        elif len(run.text) > MAX_TOKEN_CHARS:
            continue
        runs.setdefault(run)
        if len(runs) == MAX_RUNS:
            break
    return QueryPlan(None, tuple(runs))


def _is_weak(run: TextRun) -> bool:
    """Stop words and single letters or digits: they only count in exact-title matches."""
    return not run.cjk and (len(run.text) == 1 or run.text in WEAK_WORDS)


class QueryBuilder:
    """Builds Whoosh queries for a plan against one schema."""

    def __init__(self, schema: Any) -> None:
        self._analyzer = schema["text"].analyzer

    def _text_terms(self, run: TextRun) -> list[str]:
        return list(dict.fromkeys(token.text for token in self._analyzer(run.text, mode="query")))

    def _run_query(
        self,
        run: TextRun,
        *,
        reader: Any,
        vocabulary: Vocabulary | None,
        corrections: Corrections,
    ) -> Query | None:
        """Query matching one run; with a vocabulary (loose) also partial CJK runs and typos.

        Corrections of the run's word match too, below the word itself.
        """
        loose = vocabulary is not None
        alternatives: list[Query] = []
        terms = self._text_terms(run)
        if len(terms) == 1:
            alternatives.append(Term("text", terms[0]))
        elif terms:
            joint = Or if loose else And
            alternatives.append(joint([Term("text", term) for term in terms]))
        if not run.cjk:
            if vocabulary is not None:
                alternatives.extend(
                    Term("text", variant, boost=FUZZY_BOOST)
                    for variant in _fuzzy_variants(run.text, reader, vocabulary)
                )
            variants = (stem_english(near) for near in corrections.latin.get(run.text, ()))
            alternatives.extend(
                Term("text", variant, boost=FUZZY_BOOST) for variant in dict.fromkeys(variants)
            )
            pinyin = _pinyin_word_query(run.text, loose=loose)
            if pinyin is not None:
                alternatives.append(pinyin)
            fixes = _pinyin_query(corrections.pinyin.get(run.text, ()), boost=FUZZY_BOOST)
            if fixes is not None:
                alternatives.append(fixes)
            if len(run.text) == 4 and run.text.isascii() and run.text.isdigit():
                alternatives.append(Term("year", int(run.text), boost=YEAR_BOOST))
        if not alternatives:
            return None
        return alternatives[0] if len(alternatives) == 1 else Or(alternatives)

    def _combined(
        self,
        plan: QueryPlan,
        *,
        reader: Any,
        vocabulary: Vocabulary | None,
        corrections: Corrections,
    ) -> Query | None:
        """All (or, loose, any) runs but the weak ones, which match far too much to help."""
        queries = [
            query
            for run in plan.runs
            if not _is_weak(run)
            and (
                query := self._run_query(
                    run, reader=reader, vocabulary=vocabulary, corrections=corrections
                )
            )
            is not None
        ]
        if not queries:
            return None
        if len(queries) == 1:
            return queries[0]
        return And(queries) if vocabulary is None else Or(queries)

    def strict(
        self, plan: QueryPlan, reader: Any, corrections: Corrections | None = None
    ) -> Query | None:
        """Every run but weak ones must match; an exact title match ranks first.

        A query of weak runs only ("It", "to be or not to be") matches exact titles alone.
        With corrections, a run also matches by the known words near it.
        """
        corrections = corrections or Corrections()
        keys = [
            title_key(" ".join(run.text for run in plan.runs)),
            _pinyin_key(plan),
            *_corrected_title_keys(plan, corrections),
        ]
        exact_titles = [
            Term("title_key", key, TITLE_KEY_BOOST) for key in dict.fromkeys(keys) if key
        ]
        query = self._combined(plan, reader=reader, vocabulary=None, corrections=corrections)
        if query is None:
            return Or(exact_titles)
        # Several typed words may be one run of pinyin ("hong lou meng").
        sequences = [
            _pinyin_sequence(plan),
            _pinyin_query(corrections.pinyin.get(_joined(plan), ()), boost=FUZZY_BOOST)
            if len(plan.runs) > 1
            else None,
        ]
        if any(sequences):
            query = Or([query, *(sequence for sequence in sequences if sequence is not None)])
        return AndMaybe(query, Or(exact_titles))

    def loose(self, plan: QueryPlan, reader: Any, vocabulary: Vocabulary) -> Query | None:
        """Any run may match; CJK runs match by any bigram, long Latin words also by typo."""
        return self._combined(plan, reader=reader, vocabulary=vocabulary, corrections=Corrections())

    @staticmethod
    def corrections(
        plan: QueryPlan,
        searcher: Any,
        known: KnownTerms,
        *,
        exact_total: int,
    ) -> Corrections:
        """Known words near the rare or unknown Latin words of the plan (typos, pinyin too)."""
        if any(run.cjk for run in plan.runs):
            return Corrections()
        words = [run.text for run in plan.runs if not _is_weak(run)]
        typed = [run.text for run in plan.runs]
        return find_corrections(words, typed, searcher, known, exact_total=exact_total)

    @staticmethod
    def isbn(isbn: str) -> Query:
        """Exact match on the ISBN field."""
        return Term("isbn", isbn)

    @staticmethod
    def filters(language: str | None) -> list[Query]:
        """A zero-score required clause for the language filter (none without a language).

        The holding-library filter is not a clause: see ``CatalogueIndex.search``.
        """
        if not language:
            return []
        return [Term("language", language.strip().lower(), boost=0.0)]

    @staticmethod
    def suggest(plan: QueryPlan, searcher: Any, known: KnownTerms) -> str | None:
        """Replace unknown Latin words by the most frequent title or author word close by.

        A word no title or author word is close to may be pinyin with a syllable or two
        mistyped ("hongluomeng" for "hongloumeng").
        """
        if any(run.cjk for run in plan.runs):
            return None
        reader = searcher.reader()
        words: list[str] = []
        changed = False
        for run in plan.runs:
            word = run.text
            if len(word) >= SUGGEST_MIN_CHARS and not word.isdigit():
                correction = _correct(word, reader, known.spelling())
                if correction is None and reader.doc_frequency("spelling", word) == 0:
                    correction = pinyin_suggestion(word, searcher, known)
                if correction is not None:
                    word, changed = correction, True
            words.append(word)
        return " ".join(words) if changed else None


def _correct(word: str, reader: Any, vocabulary: Vocabulary) -> str | None:
    """The most frequent known word one edit or swap away, or None if the word is known."""
    if reader.doc_frequency("spelling", word) > 0:
        return None
    candidates = sorted(vocabulary.near(word, prefix=SUGGEST_PREFIX))
    frequencies = {c: reader.doc_frequency("spelling", c) for c in candidates}
    known = [c for c in candidates if frequencies[c] > 0]
    return max(known, key=frequencies.__getitem__) if known else None


def _fuzzy_variants(word: str, reader: Any, vocabulary: Vocabulary) -> list[str]:
    """Indexed stems of known words one edit or swap from a long typed word, capped."""
    if len(word) < FUZZY_MIN_CHARS:
        return []
    stem = stem_english(word)
    frequencies = {
        variant: reader.doc_frequency("text", variant)
        for variant in {stem_english(near) for near in vocabulary.near(word, prefix=FUZZY_PREFIX)}
        if variant != stem
    }
    ranked = sorted(
        (v for v in frequencies if frequencies[v] > 0), key=lambda v: (-frequencies[v], v)
    )
    return ranked[:FUZZY_MAX_EXPANSIONS]


def _pinyin_query(splits: Sequence[Sequence[str]], boost: float = 1.0) -> Query | None:
    """Any of the syllable splits, each as all of its pinyin terms."""
    alternatives: list[Query] = []
    for syllables in splits:
        terms = [Term("pinyin", term, boost=boost) for term in pinyin_query_terms(syllables)]
        alternatives.append(terms[0] if len(terms) == 1 else And(terms))
    if not alternatives:
        return None
    return alternatives[0] if len(alternatives) == 1 else Or(alternatives)


def _corrected_title_keys(plan: QueryPlan, corrections: Corrections) -> list[str]:
    """Exact-title keys of the query with one word (or the pinyin run together) corrected."""
    if not corrections:
        return []
    words = [run.text for run in plan.runs]
    keys: list[str] = []
    for position, word in enumerate(words):
        fixes = ["".join(syllables) for syllables in corrections.pinyin.get(word, ())]
        for fixed in (*corrections.latin.get(word, ()), *fixes):
            keys.append(title_key(" ".join([*words[:position], fixed, *words[position + 1 :]])))
    if len(words) > 1:
        keys.extend("".join(syllables) for syllables in corrections.pinyin.get(_joined(plan), ()))
    return keys


def _joined(plan: QueryPlan) -> str:
    """The words of a plan run together, as Corrections keys pinyin typed with spaces."""
    return "".join(run.text for run in plan.runs)


def _pinyin_word_query(word: str, *, loose: bool) -> Query | None:
    """A typed Latin word read as pinyin ("hongloumeng", "caoxueqin").

    A lone syllable ("hong") matches too much to be worth it in a strict query: typed
    syllables are matched together by the whole-query sequence instead.
    """
    splits = pinyin_segmentations(word)
    if not splits or (len(splits[0]) == 1 and not loose):
        return None
    return _pinyin_query(splits)


def _pinyin_key(plan: QueryPlan) -> str | None:
    """The whole query as joined pinyin ("hong lou meng" -> "hongloumeng"), if it is pinyin."""
    if any(run.cjk or not pinyin_segmentations(run.text) for run in plan.runs):
        return None
    return "".join(run.text for run in plan.runs).replace("v", "u")


def _pinyin_sequence(plan: QueryPlan) -> Query | None:
    """The whole query as one run of pinyin, if it is two or more words that are all pinyin."""
    if len(plan.runs) < 2 or any(run.cjk for run in plan.runs):
        return None
    syllables: list[str] = []
    for run in plan.runs:
        splits = pinyin_segmentations(run.text)
        if not splits:
            return None
        syllables.extend(splits[0])
    return _pinyin_query([syllables])
