"""Typing errors in run-together pinyin, corrected syllable by syllable."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from search.analysis import MAX_TOKEN_CHARS, pinyin_segmentations, pinyin_syllables

MAX_SYLLABLE_CHARS = 6
# Splits kept of an ambiguous stretch ("fangan": fan-gan, fang-an), as pinyin_segmentations.
MAX_SPLITS = 3


def _deletions(text: str) -> set[str]:
    return {text[:i] + text[i + 1 :] for i in range(len(text))}


def one_edit_apart(first: str, second: str) -> bool:
    """Whether one wrong, missing, extra or swapped (adjacent) letter turns one into the other."""
    if first == second:
        return False
    if len(first) == len(second):
        diffs = [i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and first[diffs[0]] == second[diffs[1]]
            and first[diffs[1]] == second[diffs[0]]
        )
    shorter, longer = sorted((first, second), key=len)
    return len(longer) == len(shorter) + 1 and shorter in _deletions(longer)


@lru_cache(maxsize=1)
def _syllables_by_deletion() -> dict[str, frozenset[str]]:
    """Every syllable under itself and under each of its one-letter deletions."""
    index: dict[str, set[str]] = {}
    for syllable in pinyin_syllables():
        for key in {syllable, *_deletions(syllable)}:
            index.setdefault(key, set()).add(syllable)
    return {key: frozenset(syllables) for key, syllables in index.items()}


@lru_cache(maxsize=8192)
def near_syllables(text: str) -> frozenset[str]:
    """Pinyin syllables one typing error from the text ("luo" gives "lou", "lao", "guo", ...)."""
    if len(text) > MAX_SYLLABLE_CHARS + 1:
        return frozenset()
    # Two strings one edit apart share themselves or a one-letter deletion (symmetric delete).
    index = _syllables_by_deletion()
    found: set[str] = set()
    for key in {text, *_deletions(text)}:
        found.update(s for s in index.get(key, ()) if one_edit_apart(text, s))
    return frozenset(found)


def _fewest(splits: list[tuple[str, ...]], candidate: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Keep the splits with the fewest syllables, at most MAX_SPLITS of them."""
    if not splits or len(candidate) < len(splits[0]):
        return [candidate]
    if len(candidate) == len(splits[0]) and len(splits) < MAX_SPLITS:
        return [*splits, candidate]
    return splits


def _prefix_splits(word: str) -> list[list[tuple[str, ...]]]:
    """For each i, the splits of word[:i] into the fewest syllables (none if it does not split)."""
    syllables = pinyin_syllables()
    nothing: tuple[str, ...] = ()
    splits: list[list[tuple[str, ...]]] = [[nothing]] + [[] for _ in word]
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - MAX_SYLLABLE_CHARS), end):
            if splits[start] and word[start:end] in syllables:
                for head in splits[start]:
                    splits[end] = _fewest(splits[end], (*head, word[start:end]))
    return splits


def _suffix_splits(word: str) -> list[list[tuple[str, ...]]]:
    """For each i, the splits of word[i:] into the fewest syllables (none if it does not split)."""
    syllables = pinyin_syllables()
    size = len(word)
    nothing: tuple[str, ...] = ()
    splits: list[list[tuple[str, ...]]] = [[] for _ in word] + [[nothing]]
    for start in range(size - 1, -1, -1):
        for end in range(start + 1, min(size, start + MAX_SYLLABLE_CHARS) + 1):
            if splits[end] and word[start:end] in syllables:
                for tail in splits[end]:
                    splits[start] = _fewest(splits[start], (word[start:end], *tail))
    return splits


def _swapped(word: str) -> set[str]:
    return {
        word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        for i in range(len(word) - 1)
        if word[i] != word[i + 1]
    }


@lru_cache(maxsize=1024)
def pinyin_corrections(word: str) -> frozenset[tuple[str, ...]]:
    """Syllables of the words one typing error from a run-together pinyin word.

    The error is looked for one syllable at a time: the letters before it and after it must
    already split into syllables, and the letters in between must be one error from a
    syllable ("hongluomeng" gives hong-lou-meng, among others). Two letters swapped across
    a syllable boundary ("hongloumnegg") are tried as they are. Which of these the index
    holds is for the caller to check.
    """
    word = word.replace("v", "u")
    if not word.isascii() or not word.isalpha() or len(word) > MAX_TOKEN_CHARS:
        return frozenset()
    heads, tails = _prefix_splits(word), _suffix_splits(word)
    found: set[tuple[str, ...]] = set()
    for start in range(len(word) + 1):
        for end in range(start, min(len(word), start + MAX_SYLLABLE_CHARS + 1) + 1):
            if heads[start] and tails[end]:
                found.update(
                    (*head, syllable, *tail)
                    for syllable in near_syllables(word[start:end])
                    for head in heads[start]
                    for tail in tails[end]
                )
    for swap in _swapped(word):
        found.update(tuple(split) for split in pinyin_segmentations(swap))
    return frozenset(split for split in found if "".join(split) != word)


def pinyin_respellings(
    word: str, pair_known: Callable[[str], bool], *, max_errors: int
) -> list[tuple[str, ...]]:
    """Other splits of a run-together pinyin word, with up to ``max_errors`` syllables mistyped.

    Every two adjacent syllables must make a pair that ``pair_known`` accepts (a pair some
    indexed title or author reads as), which keeps the search small. The splits with the
    fewest errors come first, then those with the fewest syllables.
    """
    word = word.replace("v", "u")
    if not word.isascii() or not word.isalpha() or len(word) > MAX_TOKEN_CHARS:
        return []
    syllables = pinyin_syllables()
    # best[i][(errors, last syllable)]: the shortest split of word[:i] ending that way.
    best: list[dict[tuple[int, str], tuple[str, ...]]] = [{} for _ in range(len(word) + 1)]
    best[0][(0, "")] = ()
    for start in range(len(word)):
        for end in range(start + 1, min(len(word), start + MAX_SYLLABLE_CHARS + 1) + 1):
            piece = word[start:end]
            options = [(piece, 0)] if piece in syllables else []
            options.extend((syllable, 1) for syllable in sorted(near_syllables(piece)))
            for (errors, last), split in best[start].items():
                for syllable, cost in options:
                    if errors + cost > max_errors or (last and not pair_known(last + syllable)):
                        continue
                    key = (errors + cost, syllable)
                    if key not in best[end] or len(split) + 1 < len(best[end][key]):
                        best[end][key] = (*split, syllable)
    ranked = sorted(best[-1].items(), key=lambda state: (state[0][0], len(state[1]), state[1]))
    splits = dict.fromkeys(split for _, split in ranked if "".join(split) != word)
    return list(splits)
