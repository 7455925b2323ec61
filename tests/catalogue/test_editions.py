"""What a MARC record says about the work it is an edition or translation of."""

from pathlib import Path

from bot.catalogue.editions import family_key
from bot.catalogue.reading import read_records
from bot.catalogue.records import BibRecord
from tests.catalogue.builders import book, datafield


def _read(tmp_path: Path, record: bytes) -> BibRecord:
    path = tmp_path / "records.mrc"
    path.write_bytes(record)
    (item,) = list(read_records(path))
    assert isinstance(item, BibRecord)
    return item


def test_a_translation_names_its_uniform_title_without_the_language(tmp_path: Path) -> None:
    record = _read(
        tmp_path,
        book(
            "南京暴行 : 被遗忘的大屠杀".encode(),
            extra=[
                ("100", datafield(b"1 ", ("a", b"Chang, Iris."))),
                ("240", datafield(b"10", ("a", b"Rape of Nanking."), ("l", b"Chinese"))),
                ("041", datafield(b"1 ", ("a", b"chi"), ("h", b"eng"))),
                ("246", datafield(b"31", ("a", b"Forgotten holocaust"))),
            ],
        ),
    )
    assert record.uniform_title == "Rape of Nanking"
    assert record.other_titles == ("Rape of Nanking", "Forgotten holocaust")
    # The English original's own main title meets the translation's uniform title.
    original = family_key(
        "The rape of Nanking : the forgotten holocaust of World War II", None, "Chang, Iris"
    )
    assert family_key(record.title, record.uniform_title, record.authors[0]) == original
    assert original == "rapeofnanking|chang"


def test_translation_notes_and_linking_entries_give_titles(tmp_path: Path) -> None:
    record = _read(
        tmp_path,
        book(
            b"The widow Lerouge",
            extra=[
                (
                    "500",
                    datafield(b"  ", ("a", b"Translation of: L'affaire Lerouge / E. Gaboriau.")),
                ),
                ("500", datafield(b"  ", ("a", b"Includes translation of two letters."))),
                ("775", datafield(b"08", ("t", b"The Lerouge case."))),
                ("767", datafield(b"0 ", ("t", b"Die Witwe Lerouge"))),
            ],
        ),
    )
    assert record.uniform_title == "L'affaire Lerouge"
    assert record.other_titles == ("L'affaire Lerouge", "Die Witwe Lerouge", "The Lerouge case")


def test_a_765_original_entry_is_the_uniform_title(tmp_path: Path) -> None:
    record = _read(
        tmp_path,
        book(
            b"Harry Potter yu mo fa shi",
            extra=[("765", datafield(b"0 ", ("t", b"Harry Potter and the philosopher's stone")))],
        ),
    )
    assert record.uniform_title == "Harry Potter and the philosopher's stone"


def test_a_record_that_says_nothing_has_no_other_titles(tmp_path: Path) -> None:
    record = _read(
        tmp_path, book(b"Plain title", extra=[("246", datafield(b"30", ("a", b"Plain title")))])
    )
    assert record.uniform_title is None
    assert record.other_titles == ()


def test_no_family_without_an_author_or_a_uniform_title() -> None:
    assert family_key("Annual report", None, None) is None
    assert family_key("Annual report", "Bible", None) == "bible|"
