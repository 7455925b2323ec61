"""ISBNs read once for the whole project: catalogue fields, CSV cells, typed queries, barcodes."""

import isbnlib
import pytest

from search.isbn import find_isbn13, isbn13
from search.queries import plan_query


@pytest.mark.parametrize(
    ("text", "isbn"),
    [
        ("020161622X", "9780201616224"),
        ("020161622x", "9780201616224"),
        ("0-201-61622-X", "9780201616224"),
        ("ISBN 978-0-306-40615-7 (pbk.)", "9780306406157"),
        ("isbn-10: 0 306 40615 2", "9780306406157"),
        ("ISBN-13:9780306406157", "9780306406157"),
        ("0914378295 (lim. ed.) (v. 1)", "9780914378297"),
        ("9791090636071 1", "9791090636071"),
        ("９７８７０２０００２２０７", "9787020002207"),
        ("(pbk.) 7-02-000220-X", "9787020002207"),
    ],
)
def test_isbns_written_in_catalogue_fields_become_13_digits(text: str, isbn: str) -> None:
    assert find_isbn13(text) == isbn


@pytest.mark.parametrize(
    "text",
    [
        "",
        "pbk.",
        "0201616221",  # wrong ISBN-10 check digit
        "7020002208",  # wrong check digit: 702000220X is right
        "9780306406158",  # wrong ISBN-13 check digit
        "9770306406157",  # not a 978/979 prefix
        "0000000000",
        "439023483",  # nine digits: a leading zero lost in a spreadsheet
        "97803064061571234",
    ],
)
def test_invalid_isbns_in_catalogue_fields_are_none(text: str) -> None:
    assert find_isbn13(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "9780441013593",
        "978-0-441-01359-3",
        "978 0 441 01359 3",
        " 978-0-441-01359-3\n",
        "0441013597",
        "0-441-01359-7",
        "0 441 01359 7",
        "ISBN 0-441-01359-7",
        "isbn: 9780441013593",
        "ISBN-13: 978-0-441-01359-3",
        "ISBN 13 978-0-441-01359-3",
        "ISBN10:0441013597",
        "978‐0‐441‐01359‐3",  # Unicode hyphens, as pasted from a web page
        "978–0–441–01359–3",  # en dashes
        "９７８－０－４４１－０１３５９－３",  # full-width
    ],
)
def test_a_typed_isbn_in_any_usual_writing(text: str) -> None:
    assert isbn13(text) == "9780441013593"


@pytest.mark.parametrize("text", ["080442957X", "080442957x", "0-8044-2957-X", "0 8044 2957 x"])
def test_isbn10_with_x_check_digit(text: str) -> None:
    assert isbn13(text) == "9780804429573"


def test_isbn10_starting_with_10_or_13_after_the_word_isbn() -> None:
    assert isbnlib.is_isbn10("1300000007")
    assert isbn13("ISBN 1300000007") == "9781300000006"
    assert find_isbn13("ISBN 1300000007") == "9781300000006"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ISBN",
        "0441013598",  # wrong check digit
        "9780441013594",  # wrong check digit
        "9770441013593",  # not 978 or 979
        "044101359",  # nine digits
        "0-441-01359-7 paperback",  # more than an ISBN
        "the 9780441013593",
        "9791090636071 1",
        "X441013597",  # X only as the check digit
        "2001",
    ],
)
def test_text_that_is_not_exactly_one_isbn(text: str) -> None:
    assert isbn13(text) is None


@pytest.mark.parametrize(
    ("typed", "isbn"),
    [
        ("0-8044-2957-x", "9780804429573"),
        ("ISBN 978‐0‐441‐01359‐3", "9780441013593"),
        ("9780441013593", "9780441013593"),
        ("0441013598", None),
        ("Dune 9780441013593", None),
    ],
)
def test_search_queries_read_isbns_with_the_same_rule(typed: str, isbn: str | None) -> None:
    assert plan_query(typed).isbn == isbn == isbn13(typed)
