"""The cheaper write path gives the postings Whoosh's own path gives, and reads back."""

from __future__ import annotations

from whoosh.fields import KEYWORD, TEXT

from search import WorkDocument
from search.analysis import WeightedText, title_keys
from search.schema import build_schema, document_fields
from tests.search.conftest import CORPUS


def _postings(field: object, value: object, own: bool) -> list[tuple[bytes, int, float, bytes]]:
    items = field.index(value) if own else TEXT.index(field, value)  # type: ignore[attr-defined]
    return sorted((term, freq, round(weight, 4), values) for term, freq, weight, values in items)


def test_weighted_fields_index_what_the_analyzer_and_frequency_format_give() -> None:
    schema = build_schema()
    repeated = WeightedText(
        [(3.0, "The cat and the other cat"), (2.0, "Cat, Anna"), (0.8, "Cats"), (0.8, "Cats")]
    )
    values = [document_fields(doc) for doc in CORPUS]
    checked = 0
    for fields in [*values, {"text": repeated, "spelling": repeated, "pinyin": repeated}]:
        for name in ("text", "pinyin", "spelling"):
            if name in fields:
                own = _postings(schema[name], fields[name], own=True)
                assert own == _postings(schema[name], fields[name], own=False), (name, fields)
                checked += bool(own)
    assert checked > len(CORPUS)
    # Repeats within and across parts add up: "cat" three times at 3.0 and 2.0, "cats" stemmed.
    by_term = {
        term: (freq, weight)
        for term, freq, weight, _ in _postings(schema["text"], repeated, own=True)
    }
    assert by_term[b"cat"] == (5, 3.0 * 2 + 2.0 + 0.8 * 2)


def test_title_keys_are_the_keys_of_each_title_once() -> None:
    field = build_schema()["title_key"]
    for doc in CORPUS:
        value = document_fields(doc)["title_key"]
        joined = " ".join(dict.fromkeys(key for t in value.titles for key in title_keys(t)))
        assert sorted(field.index(value)) == sorted(KEYWORD.index(field, joined))
    value = document_fields(WorkDocument(7, "The Hobbit : or there and back again"))["title_key"]
    assert [term for term, *_ in field.index(value)] == [
        b"the_hobbit_or_there_and_back_again",
        b"the_hobbit",
    ]
