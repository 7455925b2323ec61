"""The work key: the folded title and first author under which editions of one work merge."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from opencc import OpenCC

from bot.catalogue.text import trim

__all__ = ["work_key"]

_CJK = re.compile("[\u2e80-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
_DIACRITICS = re.compile("[\u0300-\u036f\u02b0-\u02ff\ufe20-\ufe2f]")
_TITLE_END = re.compile(r"\s[/=](?:\s|$)")
_ARTICLE = re.compile(r"^(?:the|an|a)\s+(?=\S)")
_NAME_PREFIX = re.compile(r"^[(\[][^)\]]{1,8}[)\]]\s*")
_CJK_ROLE = re.compile("(?:等)?(?:主编|编著|原著|编|著|撰|译)$")
_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")


@lru_cache(maxsize=1)
def _traditional_to_simplified() -> OpenCC:
    return OpenCC("t2s")


def _fold(text: str) -> str:
    """NFKC, traditional to simplified Chinese, casefold, Latin diacritics removed."""
    text = unicodedata.normalize("NFKC", text)
    if _CJK.search(text):
        text = str(_traditional_to_simplified().convert(text))
    text = unicodedata.normalize("NFKD", text.casefold())
    return unicodedata.normalize("NFC", _DIACRITICS.sub("", text))


def _squeeze(text: str) -> str:
    return _NOT_ALPHANUMERIC.sub("", text)


def work_key(title: str, first_author: str | None) -> str:
    """Return the key "title|author" under which editions of one work merge.

    Both parts are folded: Unicode NFKC, traditional Chinese to simplified (OpenCC t2s),
    casefold, Latin diacritics and modifier letters dropped, then every character that
    is not a letter or digit (punctuation, whitespace) removed. The title is cut at a
    statement of responsibility (" / ") or parallel title (" = ") and loses one leading
    English article ("The", "A", "An"); subtitles are kept, so "Perl : the complete
    reference" and "Perl : programmer's reference" stay apart. The author is reduced to
    the part before the first comma ("Cao, Xueqin, 1715?-1763" -> "cao") or, without a
    comma, to the first word ("Cao Xueqin" -> "cao"), after dropping a bracketed prefix
    such as "(清)" and a Chinese role word such as "著" or "主编".
    """
    folded = _TITLE_END.split(_fold(trim(title)), maxsplit=1)[0]
    title_part = _squeeze(_ARTICLE.sub("", folded.strip()))
    if not title_part:
        title_part = _fold(title).strip()
    author_part = ""
    if first_author:
        name = _NAME_PREFIX.sub("", _fold(first_author).strip())
        words = name.split(",", 1)[0].split() if "," in name else name.split()[:1]
        name = "".join(words)
        without_role = _CJK_ROLE.sub("", name)
        if len(without_role) >= 2:
            name = without_role
        author_part = _squeeze(name)
    return f"{title_part}|{author_part}"
