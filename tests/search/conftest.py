"""A hand-made catalogue of Chinese (traditional and simplified) and English works."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from search import CatalogueIndex, WorkDocument

CORPUS: tuple[WorkDocument, ...] = (
    WorkDocument(
        1,
        "Hong lou meng",
        original_title="紅樓夢",
        authors=("Cao, Xueqin",),
        original_authors=("曹雪芹",),
        subjects=("Chinese fiction",),
        publisher="Ren min wen xue chu ban she",
        isbns=("9787020002207",),
        language="chi",
        year=1982,
        library_codes=("PKU", "CPL"),
    ),
    WorkDocument(
        2,
        "三体",
        authors=("刘慈欣",),
        subjects=("科幻小说",),
        language="chi",
        year=2008,
        library_codes=("PKU",),
    ),
    WorkDocument(
        3,
        "Xi you ji",
        original_title="西遊記",
        authors=("Wu, Cheng'en",),
        original_authors=("吳承恩",),
        language="chi",
        library_codes=("THU",),
    ),
    WorkDocument(
        4,
        "Shui hu zhuan",
        original_title="水滸傳",
        authors=("Shi, Nai'an",),
        original_authors=("施耐庵",),
        language="chi",
        library_codes=("CPL",),
    ),
    WorkDocument(
        5,
        "San guo yan yi",
        original_title="三國演義",
        authors=("Luo, Guanzhong",),
        original_authors=("羅貫中",),
        language="chi",
        library_codes=("HDL",),
    ),
    WorkDocument(
        6, "围城", authors=("钱钟书",), language="chi", year=1947, library_codes=("PKU", "HDL")
    ),
    WorkDocument(7, "活着", authors=("余华",), language="chi", year=1993, library_codes=("THU",)),
    WorkDocument(8, "边城", authors=("沈从文",), language="chi", year=1934, library_codes=("CPL",)),
    WorkDocument(
        9,
        "中国近代史",
        authors=("蒋廷黻",),
        subjects=("China -- History",),
        language="chi",
        library_codes=("PKU",),
    ),
    WorkDocument(
        10,
        "中华人民共和国经济史",
        subjects=("China -- Economic conditions",),
        language="chi",
        library_codes=("THU", "CPL"),
    ),
    WorkDocument(11, "論語", authors=("孔子",), language="chi", library_codes=("HDL",)),
    WorkDocument(
        12,
        "Harry Potter and the Philosopher's Stone",
        authors=("Rowling, J. K.",),
        subjects=("Wizards -- Fiction",),
        publisher="Bloomsbury",
        isbns=("9780747532699",),
        language="eng",
        year=1997,
        library_codes=("CPL", "HDL"),
    ),
    WorkDocument(
        13,
        "Harry Potter and the Chamber of Secrets",
        authors=("Rowling, J. K.",),
        subjects=("Wizards -- Fiction",),
        publisher="Bloomsbury",
        language="eng",
        year=1998,
        library_codes=("CPL",),
    ),
    WorkDocument(
        14,
        "The Great Gatsby",
        authors=("Fitzgerald, F. Scott",),
        subjects=("Rich people -- Fiction",),
        publisher="Scribner",
        isbns=("9780743273565",),
        language="eng",
        year=1925,
        library_codes=("PKU", "CPL"),
    ),
    WorkDocument(
        15,
        "Running with scissors",
        authors=("Burroughs, Augusten",),
        subjects=("Memoir",),
        language="eng",
        year=2002,
        library_codes=("HDL",),
    ),
    WorkDocument(
        16,
        "Born to run",
        authors=("McDougall, Christopher",),
        subjects=("Tarahumara Indians",),
        language="eng",
        year=2009,
        library_codes=("THU",),
    ),
    WorkDocument(
        17,
        "Dune",
        authors=("Herbert, Frank",),
        subjects=("Science fiction",),
        isbns=("9780441013593",),
        language="eng",
        year=1965,
        library_codes=("PKU", "THU"),
    ),
    WorkDocument(
        18,
        "The Hobbit",
        authors=("Tolkien, J. R. R.",),
        subjects=("Fantasy fiction",),
        isbns=("9780547928227",),
        language="eng",
        year=1937,
        library_codes=("CPL",),
    ),
    WorkDocument(
        19,
        "Pride and prejudice",
        authors=("Austen, Jane",),
        language="eng",
        year=1813,
        library_codes=("PKU", "HDL"),
    ),
    WorkDocument(
        20,
        "Garden design",
        authors=("Brookes, John",),
        subjects=("Landscape design",),
        language="eng",
        library_codes=("HDL",),
    ),
    WorkDocument(
        21,
        "Urban planning today",
        authors=("Lee, Ann",),
        subjects=("Gardens", "Cities"),
        language="eng",
        library_codes=("HDL",),
    ),
    WorkDocument(
        22,
        "It",
        authors=("King, Stephen",),
        subjects=("Horror fiction",),
        language="eng",
        year=1986,
        library_codes=("CPL",),
    ),
    WorkDocument(
        23,
        "Les Misérables",
        authors=("Hugo, Victor",),
        language="fre",
        year=1862,
        library_codes=("THU",),
    ),
    WorkDocument(
        24,
        "Nineteen eighty-four",
        authors=("Orwell, George",),
        subjects=("Dystopias",),
        language="eng",
        year=1949,
        library_codes=("PKU",),
    ),
    WorkDocument(
        25,
        "The old man and the sea",
        authors=("Hemingway, Ernest",),
        language="eng",
        year=1952,
        library_codes=("CPL",),
    ),
    WorkDocument(
        26,
        "The three-body problem",
        original_title="三體",
        authors=("Liu, Cixin",),
        original_authors=("劉慈欣",),
        subjects=("Science fiction, Chinese",),
        isbns=("9780765382030",),
        language="eng",
        year=2014,
        library_codes=("THU",),
    ),
    WorkDocument(
        27,
        "A history of modern China",
        authors=("Spence, Jonathan",),
        subjects=("China -- History",),
        language="eng",
        library_codes=("PKU", "CPL"),
    ),
    WorkDocument(
        28,
        "ノルウェイの森",
        authors=("村上春樹",),
        language="jpn",
        year=1987,
        library_codes=("THU",),
    ),
    WorkDocument(
        29,
        "Zen and the art of motorcycle maintenance",
        authors=("Pirsig, Robert M.",),
        isbns=("9780804429573",),
        language="eng",
        year=1974,
        library_codes=("HDL",),
    ),
    WorkDocument(
        30,
        "Café society",
        authors=("Smith, Anna",),
        subjects=("Coffeehouses",),
        language="eng",
        library_codes=("CPL",),
    ),
)

BY_ID = {doc.work_id: doc for doc in CORPUS}


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CatalogueIndex]:
    """A read-only index of CORPUS, built once per test module."""
    index = CatalogueIndex(tmp_path_factory.mktemp("catalogue") / "index")
    index.rebuild(CORPUS)
    yield index
    index.close()


@pytest.fixture
def fresh_index(tmp_path: Path) -> Iterator[CatalogueIndex]:
    """An index directory of its own, with nothing in it yet."""
    index = CatalogueIndex(tmp_path / "index", refresh_interval=0.0)
    yield index
    index.close()
