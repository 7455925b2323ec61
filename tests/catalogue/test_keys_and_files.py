"""Work keys, and files that are not catalogues."""

import gzip
import hashlib
from pathlib import Path

import pytest

from bot.catalogue.keys import work_key
from bot.catalogue.reading import count_records, detect_format, read_records
from bot.catalogue.records import CatalogueFileError


def test_work_key_merges_the_documented_example() -> None:
    one = work_key("The Dream of the Red Chamber / Cao Xueqin", "Cao Xueqin")
    other = work_key("Dream of the red chamber.", "Cao, Xueqin, 1715?-1763")
    assert one == other == "dreamoftheredchamber|cao"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("紅樓夢", "曹雪芹"), ("红楼梦", "(清)曹雪芹著")),
        (("红楼梦 = The story of the stone", "曹雪芹"), ("紅樓夢：", "［清］曹雪芹 著")),
        (
            ("A tale of two cities", "Dickens, Charles, 1812-1870."),
            ("Tale of Two Cities", "Dickens, Charles"),
        ),
        (("An Anthology", None), ("anthology!", None)),
        (("Économie générale", "Dvořák, Antonín"), ("Economie generale", "Dvorak, Antonin")),
        (("Ma, Yuan", "Ma, Yuan"), ("Ma  Yuan", "Ma Yuan")),
    ],
)
def test_work_key_merges_editions(
    first: tuple[str, str | None], second: tuple[str, str | None]
) -> None:
    assert work_key(*first) == work_key(*second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            ("Perl : the complete reference", "Brown, Martin C."),
            ("Perl : programmer's reference", "Brown, Martin C."),
        ),
        (("Anna Karenina", "Tolstoy, Leo"), ("A Karenina", "Tolstoy, Leo")),
        (("Hamlet", "Shakespeare, William"), ("Hamlet", "Smith, John")),
        (("The Hobbit", "Tolkien, J. R. R."), ("The Hobbit", None)),
        (("乾隆", None), ("干隆", None)),
    ],
)
def test_work_key_keeps_different_works_apart(
    first: tuple[str, str | None], second: tuple[str, str | None]
) -> None:
    assert work_key(*first) != work_key(*second)


def test_work_key_of_punctuation_only_title_is_not_empty() -> None:
    assert work_key("?!", None).startswith("?!")


# Bytes that look random but are the same on every run: no test may depend on chance.
NOISE = hashlib.shake_256(b"not a catalogue").digest(4096).replace(b"\x1e", b"")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"  \n\n", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG image"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "JPEG image"),
        (b"PK\x03\x04" + b"\x00" * 64, "ZIP archive"),
        (b"%PDF-1.7\n", "PDF"),
        (b"<html><body>catalogue</body></html>", "not MARCXML"),
        (b'{"leader": "00000nam"}', "JSON"),
        (NOISE + b"\x00", "not a catalogue file"),
        # Noise that happens to start like XML is not "an XML file that is not MARCXML".
        (b"<" + NOISE, "not a catalogue file"),
        (b"<\x00" + NOISE, "not a catalogue file"),
    ],
)
def test_files_that_are_not_catalogues_are_refused(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "upload.mrc"
    path.write_bytes(content)
    with pytest.raises(CatalogueFileError, match=message):
        detect_format(path)
    with pytest.raises(CatalogueFileError, match=message):
        read_records(path)
    with pytest.raises(CatalogueFileError, match=message):
        count_records(path)


def test_compressed_image_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "upload.mrc.gz"
    path.write_bytes(gzip.compress(b"GIF89a" + b"\x00" * 100))
    with pytest.raises(CatalogueFileError, match="GIF image"):
        read_records(path)


def test_missing_file_and_directory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogueFileError, match="cannot open"):
        read_records(tmp_path / "absent.mrc")
    with pytest.raises(CatalogueFileError, match="cannot open"):
        detect_format(tmp_path)


def test_broken_xml_ends_with_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "cut.xml"
    path.write_text(
        '<collection xmlns="http://www.loc.gov/MARC21/slim"><record>'
        '<datafield tag="245" ind1="0" ind2="0"><subfield code="a">Whole</subfield></datafield>'
        '</record><record><datafield tag="245"><subfield code="a">Cut',
        encoding="utf-8",
    )
    items = list(read_records(path))
    assert getattr(items[0], "title", None) == "Whole"
    assert items[1].record_number == 2
    assert "XML is not well-formed" in getattr(items[1], "reason", "")


def test_xml_record_without_tags_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "odd.xml"
    path.write_text(
        "<collection><record><datafield><subfield code='a'>No tag</subfield></datafield></record>"
        "<record><datafield tag='245'><subfield>No code</subfield></datafield></record>"
        "<record><datafield tag='500'><subfield code='a'>No title</subfield></datafield></record>"
        "</collection>",
        encoding="utf-8",
    )
    reasons = [getattr(item, "reason", None) for item in read_records(path)]
    assert reasons == [
        "a datafield has no tag attribute",
        "a subfield in field 245 has no code",
        "no title (245)",
    ]


def test_a_long_leading_comment_does_not_hide_marcxml(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    comment = "<!-- " + "Shared under CC0. " * 5000 + "-->"  # longer than the sniffed bytes
    path.write_text(
        f'<?xml version="1.0"?>\n{comment}\n<collection xmlns="http://www.loc.gov/MARC21/slim">'
        '<record><datafield tag="245" ind1="0" ind2="0"><subfield code="a">Found</subfield>'
        "</datafield></record></collection>",
        encoding="utf-8",
    )
    assert detect_format(path) == "marcxml"
    for file_format in ("auto", "marcxml"):
        assert count_records(path, format=file_format) is None
        items = list(read_records(path, format=file_format))
        assert [getattr(item, "title", None) for item in items] == ["Found"]
