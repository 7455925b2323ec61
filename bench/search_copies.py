"""Perturbed copies of the shared LoC records, to take ``bench.search`` past the file's size.

Copy ``n`` (1, 2, ...) of a record gets the control number ``<001>-c<n>``, loses its ISBNs
(an ISBN would merge it into the original's work) and has every word of four or more
letters, and every run of two or more Chinese characters, in its titles (245 and the 880
linked to it) rotated by ``n``: "Macbeth" becomes "acbethM", 红楼梦 becomes 楼梦红. So each
copy is a new work with its own title words, of the same length and script as the original's, and
the authors, subjects, publisher, languages and linking fields stay as they were.
"""

from __future__ import annotations

import lzma
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymarc

_LONG_WORD = re.compile(r"[\u3400-\u9fff]{2,}|[^\W\d_\u3400-\u9fff]{4,}")
_TITLE_CODES = "abnp"


def rotate_words(text: str, shift: int) -> str:
    """Words of four or more letters and Chinese runs of two or more rotated by ``shift``."""

    def rotated(match: re.Match[str]) -> str:
        word = match.group(0)
        k = shift % len(word)
        return word[k:] + word[:k]

    return _LONG_WORD.sub(rotated, text)


def _perturb(record: pymarc.Record, copy: int) -> None:
    control = record.get_fields("001")
    if control:
        control[0].data = f"{(control[0].data or '').strip()}-c{copy}"
    record.remove_fields("020")
    for title in record.get_fields("245", "880"):
        if title.tag == "880" and not (title.get("6") or "").startswith("245"):
            continue
        for position, subfield in enumerate(title.subfields):
            if subfield.code in _TITLE_CODES:
                title.subfields[position] = pymarc.Subfield(
                    subfield.code, rotate_words(subfield.value, copy)
                )


def _records(stream: Any) -> Iterator[pymarc.Record]:
    reader = pymarc.MARCReader(stream, to_unicode=True, force_utf8=True, utf8_handling="replace")
    for record in reader:
        if record is not None:
            yield record


def write_copy(source: Path, target: Path, copy: int, limit: int) -> int:
    """Write copy ``copy`` of the first ``limit`` records of ``source`` (an .xz file)."""
    written = 0
    with lzma.open(source, "rb") as stream, open(target, "wb") as out:
        for record in _records(stream):
            if written >= limit:
                break
            _perturb(record, copy)
            record.leader = pymarc.Leader(str(record.leader)[:9] + "a" + str(record.leader)[10:])
            out.write(record.as_marc())
            written += 1
    return written
