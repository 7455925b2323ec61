"""Which demo library holds how many copies of each work: derived from the data, not stored.

Each work falls in one collection (children, genre, science, humanities, classics or
literature), each library has a collecting profile (the share of each collection it holds,
less for English-language works at the periphery, more for the sea at the ocean university
and the museum), and generators seeded with the work's key and the library's code decide, so
the result is the same on every run and one library's holdings do not depend on the other
libraries (except for works held by a single library). A dozen core works are at every
library; about a fifth of the works are held by a single library; the libraries of the rural
districts hold few English-language works and no science or humanities beyond the core works.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.catalogue.records import BibRecord
from bot.models import LibraryKind
from bot.services.demo.data import CENTRAL_LIBRARY

HOLDINGS_SEED = "haibin"
SINGLE_LIBRARY_SHARE = 0.15


@dataclass(frozen=True)
class DemoHolding:
    """Copies of one catalogue row (``work_row``: 1-based data row) at one library."""

    work_row: int
    library_code: str
    copies: int
    call_number: str


# Held by every library: the four classic novels and a few works every reader asks for.
CORE_WORKS = frozenset(
    {
        "红楼梦",
        "西游记",
        "三国演义",
        "水浒传",
        "论语",
        "唐诗三百首",
        "三体",
        "平凡的世界",
        "活着",
        "草房子",
        "Harry Potter and the Philosopher's Stone",
        "The Little Prince",
    }
)

_CHILDREN = frozenset({"Children's literature", "Chinese children's literature", "Picture books"})
_GENRE = frozenset(
    {"Science fiction", "Fantasy", "Detective and mystery fiction", "Martial arts fiction"}
)
_SCIENCE = frozenset(
    {
        "Popular science",
        "Mathematics",
        "Physics and astronomy",
        "Biology",
        "Medicine",
        "Nature",
        "Technology",
        "History of science and technology",
    }
)
_HUMANITIES = frozenset(
    {
        "History",
        "Chinese history",
        "Biography and memoir",
        "Philosophy",
        "Chinese classics",
        "Society",
        "Economics",
        "Psychology",
        "Art",
        "Reading and writing",
        "Travel and exploration",
        "Language and writing systems",
        "Literary criticism",
    }
)
SEA_SUBJECT = "The sea"


def _collection(record: BibRecord) -> str:
    subjects = set(record.subjects)
    if subjects & _CHILDREN:
        return "children"
    if subjects & _GENRE:
        return "genre"
    if subjects & _SCIENCE:
        return "science"
    if subjects & _HUMANITIES:
        return "humanities"
    return "classics" if record.year is None or record.year < 1950 else "literature"


@dataclass(frozen=True)
class _Profile:
    shares: Mapping[str, float]
    english: float = 1.0
    sea: float = 0.0
    max_copies: int = 1


_PROFILES: dict[str, _Profile] = {
    "HBPL": _Profile(
        {
            "classics": 0.8,
            "literature": 0.8,
            "genre": 0.7,
            "children": 0.5,
            "science": 0.6,
            "humanities": 0.7,
        },
        english=0.8,
        sea=0.8,
        max_copies=3,
    ),
    "HBPL-CH": _Profile(
        {"children": 0.9, "science": 0.3, "genre": 0.15, "classics": 0.1}, english=0.8, max_copies=2
    ),
    "HBPL-XS": _Profile(
        {
            "literature": 0.45,
            "genre": 0.45,
            "children": 0.35,
            "classics": 0.35,
            "science": 0.25,
            "humanities": 0.2,
        },
        english=0.5,
        max_copies=2,
    ),
    "HBPL-DH": _Profile(
        {
            "literature": 0.4,
            "genre": 0.45,
            "children": 0.35,
            "classics": 0.3,
            "science": 0.3,
            "humanities": 0.2,
        },
        english=0.6,
        sea=0.3,
        max_copies=2,
    ),
    "NLPL": _Profile(
        {"literature": 0.15, "genre": 0.15, "children": 0.25, "classics": 0.2}, english=0.15
    ),
    "TYPL": _Profile(
        {"literature": 0.12, "genre": 0.12, "children": 0.2, "classics": 0.2}, english=0.1
    ),
    "YWRR": _Profile({"children": 0.08, "classics": 0.06, "literature": 0.04}, english=0.0),
    "HBU": _Profile(
        {
            "literature": 0.6,
            "classics": 0.6,
            "humanities": 0.8,
            "science": 0.8,
            "genre": 0.35,
            "children": 0.03,
        },
        max_copies=2,
    ),
    "HOU": _Profile(
        {"science": 0.6, "humanities": 0.2, "literature": 0.15, "genre": 0.2}, sea=0.95
    ),
    "HNC": _Profile(
        {
            "children": 0.55,
            "literature": 0.55,
            "classics": 0.65,
            "humanities": 0.45,
            "science": 0.3,
            "genre": 0.2,
        },
        english=0.9,
    ),
    "HVC": _Profile(
        {"science": 0.3, "genre": 0.3, "literature": 0.2, "classics": 0.1, "humanities": 0.1},
        english=0.6,
    ),
    "HBNO1": _Profile(
        {"children": 0.3, "classics": 0.35, "literature": 0.2, "science": 0.3, "genre": 0.2},
        english=0.6,
    ),
    "DHPS": _Profile({"children": 0.5, "science": 0.15, "classics": 0.05}, english=0.5),
    "BSMS": _Profile({"children": 0.15, "classics": 0.15, "literature": 0.05}, english=0.0),
    "SEABREEZE": _Profile(
        {
            "literature": 0.3,
            "genre": 0.35,
            "children": 0.2,
            "science": 0.15,
            "humanities": 0.15,
            "classics": 0.1,
        },
        english=0.7,
    ),
    "MUSEUM": _Profile({"humanities": 0.25, "classics": 0.1}, english=0.3, sea=0.6),
}
# Libraries added later (not in the demo files) collect like a small member of their kind.
_DEFAULT_PROFILES = {
    LibraryKind.UNIVERSITY: _PROFILES["HVC"],
    LibraryKind.PUBLIC: _PROFILES["NLPL"],
    LibraryKind.SCHOOL: _PROFILES["BSMS"],
    LibraryKind.PARTNER: _Profile({"literature": 0.1, "genre": 0.1}),
}

# Chinese Library Classification (中图法) classes used as demo call numbers.
_NATIONAL_LITERATURE = {
    "British literature": "I561",
    "Irish literature": "I562",
    "American literature": "I712",
    "Canadian literature": "I711",
    "Australian literature": "I611",
    "Nigerian literature": "I437",
    "Indian literature": "I351",
    "Lebanese literature": "I378",
    "Ancient Greek literature": "I545",
    "Italian literature": "I546",
    "Spanish literature": "I551",
    "German literature": "I516",
    "Austrian literature": "I521",
    "French literature": "I565",
    "Russian literature": "I512",
    "Norwegian literature": "I533",
    "Swedish literature": "I532",
    "Danish literature": "I534",
    "Finnish literature": "I531",
    "Swiss literature": "I522",
    "Dutch literature": "I563",
    "Czech literature": "I524",
    "Turkish literature": "I374",
    "Colombian literature": "I775",
    "Argentine literature": "I783",
    "Brazilian literature": "I777",
    "Japanese literature": "I313",
}
_FORM_SUFFIX = {
    "Poetry": ".2",
    "Drama": ".3",
    "Essays": ".6",
    "Children's literature": ".8",
    "Picture books": ".8",
}
_SUBJECT_CLASSES = {
    "Classical Chinese fiction": "I242",
    "Classical Chinese poetry": "I222",
    "Classical Chinese drama": "I237",
    "Classical Chinese prose": "I262",
    "Modern Chinese fiction": "I246",
    "Contemporary Chinese fiction": "I247",
    "Martial arts fiction": "I247",
    "Modern Chinese poetry": "I22",
    "Chinese essays": "I26",
    "Chinese drama": "I23",
    "Chinese children's literature": "I28",
    "Literary criticism": "I206",
    "Chinese classics": "B22",
    "Chinese history": "K2",
    "History of science and technology": "N09",
    "Popular science": "N49",
    "Mathematics": "O1",
    "Physics and astronomy": "O4",
    "Biology": "Q",
    "Medicine": "R",
    "Nature": "Q",
    "The sea": "P7",
    "History": "K",
    "Biography and memoir": "K81",
    "Philosophy": "B",
    "Society": "C91",
    "Economics": "F",
    "Psychology": "B84",
    "Art": "J",
    "Reading and writing": "G792",
    "Travel and exploration": "K91",
    "Technology": "T",
    "Language and writing systems": "H1",
}


def demo_call_number(record: BibRecord) -> str:
    """A Chinese Library Classification class for the record, used as its call number."""
    for subject in record.subjects:
        if subject in _NATIONAL_LITERATURE:
            suffix = next(
                (_FORM_SUFFIX[form] for form in record.subjects if form in _FORM_SUFFIX), ".4"
            )
            return _NATIONAL_LITERATURE[subject] + suffix
    if record.language == "chi" and set(record.subjects) & _GENRE:
        return "I247"
    for subject in record.subjects:
        if subject in _SUBJECT_CLASSES:
            return _SUBJECT_CLASSES[subject]
    return "Z"


def _chance(profile: _Profile, record: BibRecord, collection: str) -> float:
    share = profile.shares.get(collection, 0.0)
    if SEA_SUBJECT in record.subjects:
        share = max(share, profile.sea)
    if record.language != "chi":
        share *= profile.english
    return min(share, 1.0)


def _copies(rng: random.Random, profile: _Profile) -> int:
    if profile.max_copies == 1 or rng.random() < 0.7:
        return 1
    return rng.randint(2, profile.max_copies)


def demo_holdings(
    records: Sequence[BibRecord],
    libraries: Mapping[str, LibraryKind],
    *,
    seed: str = HOLDINGS_SEED,
) -> list[DemoHolding]:
    """Which library holds how many copies of each record: deterministic, see the module doc."""
    profiles = {
        code: _PROFILES.get(code, _DEFAULT_PROFILES[kind]) for code, kind in libraries.items()
    }
    codes = sorted(profiles)
    fallback = CENTRAL_LIBRARY if CENTRAL_LIBRARY in profiles else (codes[0] if codes else None)
    holdings: list[DemoHolding] = []
    for record in records:
        call_number = demo_call_number(record)
        # One generator per work and per (work, library): a library's draws never depend
        # on which other libraries exist.
        draws = {code: random.Random(f"{seed}:{record.work_key}:{code}") for code in codes}
        if (record.original_title or record.title) in CORE_WORKS:
            for code in codes:
                copies = (
                    profiles[code].max_copies + 1 if code == fallback else draws[code].randint(1, 2)
                )
                holdings.append(DemoHolding(record.record_number, code, copies, call_number))
            continue
        collection = _collection(record)
        chances = {code: _chance(profiles[code], record, collection) for code in codes}
        included = [code for code in codes if draws[code].random() < chances[code]]
        # Weighted choice of one library (Efraimidis-Spirakis keys), for single holdings.
        keys = {
            code: draws[code].random() ** (1 / chances[code]) for code in codes if chances[code]
        }
        single = random.Random(f"{seed}:{record.work_key}").random() < SINGLE_LIBRARY_SHARE
        if keys and (single or not included):
            included = [max(keys, key=keys.__getitem__)]
        elif not included:
            included = [fallback] if fallback else []
        holdings.extend(
            DemoHolding(
                record.record_number, code, _copies(draws[code], profiles[code]), call_number
            )
            for code in included
        )
    return holdings
