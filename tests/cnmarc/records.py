"""CNMARC test records, written field by field from the CNMARC field definitions.

Each book is a list of (tag, indicators, subfields) in CNMARC: 001 record identifier, 010
ISBN ($a) and price ($d), 100 general processing data (36 characters; 26-29 the character
sets: "50" ISO 10646, "0120" GB 2312), 101 language, 200 title and statement of
responsibility ($a title, $e other title information, $f/$g responsibility, $A or $9
pinyin), 205 edition, 210 publication ($a place, $c publisher, $d date), 225 series, 330
summary, 510 parallel title, 517 other variant title, 606 topical subject, 690 Chinese
Library Classification, 701/702 personal names ($4 relator), 905 holdings ($a library,
$b barcode, $d class number, $e book number).

``python -m tests.cnmarc.records`` rewrites the files in ``fixtures/``; a test checks that
they are what this module builds.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

FIXTURES = Path(__file__).resolve().parent / "fixtures"

Field = tuple[str, str, list[tuple[str, str]]]

UTF8_SETS = "50  "
GB_SETS = "0120"
NO_SETS = "    "


def isbn13(first12: str) -> str:
    """The ISBN-13 with its check digit."""
    digits = [int(d) for d in first12]
    total = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return first12 + str((10 - total % 10) % 10)


def processing_data(year: str, sets: str) -> str:
    """100 $a: entered 2020-01-01, date type d, year, no date 2, adult, chi, sets, ea."""
    data = f"20200101d{year}    em y0chiy{sets}    ea"
    assert len(data) == 36 and data[26:30] == sets
    return data


DREAM = isbn13("978702000220")  # 9787020002207
THREE_BODY = isbn13("978753669293")
TO_LIVE = isbn13("978750636543")
ZHU = isbn13("978701009905")
FORTRESS = isbn13("978702002438")


def book(
    control: str,
    isbn: str,
    sets: str,
    title: list[tuple[str, str]],
    *,
    year: str,
    place: str,
    publisher: str,
    clc: str,
    authors: list[tuple[str, str]],
    parallel: str | None = None,
    variant: str | None = None,
    holdings: list[tuple[str, str, str]] | None = None,
    extra: list[Field] | None = None,
) -> list[Field]:
    """A CNMARC book: `authors` are (701/702 tag, name); holdings (library, barcode, number)."""
    fields: list[Field] = [
        ("001", "", [("", control)]),
        ("010", "  ", [("a", isbn), ("d", "CNY39.80")]),
        ("100", "  ", [("a", processing_data(year, sets))]),
        ("101", "0 ", [("a", "chi")]),
        ("200", "1 ", title),
        ("210", "  ", [("a", place), ("c", publisher), ("d", year)]),
        *(extra or []),
    ]
    if parallel:
        fields.append(("510", "1 ", [("a", parallel), ("z", "eng")]))
    if variant:
        fields.append(("517", "1 ", [("a", variant)]))
    fields.append(("690", "  ", [("a", clc), ("v", "5")]))
    for tag, name in authors:
        fields.append((tag, " 0", [("a", name), ("4", "著" if tag == "701" else "译")]))
    for library, barcode, number in holdings or []:
        fields.append(("905", "  ", [("a", library), ("b", barcode), ("d", clc), ("e", number)]))
    return sorted(fields, key=lambda field: field[0])


def dream(sets: str = UTF8_SETS) -> list[Field]:
    return book(
        "CN0000001",
        DREAM,
        sets,
        [("a", "红楼梦"), ("A", "Hong lou meng"), ("f", "(清)曹雪芹著"), ("g", "高鹗续")],
        year="1996",
        place="北京",
        publisher="人民文学出版社",
        clc="I242.4",
        authors=[("701", "曹雪芹"), ("702", "高鹗")],
        parallel="A dream of red mansions",
        variant="石头记",
        holdings=[("CNLIB", "C0001001", "12"), ("CNLIB", "C0001002", "12")],
        extra=[
            ("205", "  ", [("a", "第3版")]),
            ("225", "2 ", [("a", "中国古典文学读本丛书")]),
            ("330", "  ", [("a", "以贾、史、王、薛四大家族为背景的长篇小说。")]),
            ("606", "0 ", [("a", "章回小说"), ("y", "中国"), ("z", "清代")]),
        ],
    )


def three_body(sets: str = UTF8_SETS) -> list[Field]:
    return book(
        "CN0000002",
        THREE_BODY,
        sets,
        [("a", "三体"), ("9", "san ti"), ("f", "刘慈欣著")],
        year="2008",
        place="重庆",
        publisher="重庆出版社",
        clc="I247.55",
        authors=[("701", "刘慈欣")],
        parallel="The three-body problem",
        holdings=[("CNLIB", "C0002001", "L6")],
        extra=[("606", "0 ", [("a", "科学幻想小说"), ("y", "中国")])],
    )


def to_live(sets: str = GB_SETS) -> list[Field]:
    return book(
        "CN0000003",
        TO_LIVE,
        sets,
        [("a", "活着"), ("f", "余华著")],
        year="2012",
        place="北京",
        publisher="作家出版社",
        clc="I247.57",
        authors=[("701", "余华")],
        parallel="To live",
        holdings=[("CNLIB", "C0003001", "Y8")],
    )


def zhu(sets: str = GB_SETS) -> list[Field]:
    # 镕 is in GBK but not in GB 2312: what GB 18030 decoding is for.
    return book(
        "CN0000004",
        ZHU,
        sets,
        [("a", "朱镕基答记者问")],
        year="2009",
        place="北京",
        publisher="人民出版社",
        clc="D61",
        authors=[("701", "朱镕基")],
        holdings=[("CNLIB", "C0004001", "Z7")],
    )


def fortress() -> list[Field]:
    return book(
        "CN0000005",
        FORTRESS,
        UTF8_SETS,
        [("a", "围城"), ("A", "Wei cheng"), ("f", "钱钟书著")],
        year="1991",
        place="北京",
        publisher="人民文学出版社",
        clc="I246.57",
        authors=[("701", "钱钟书")],
        parallel="Fortress besieged",
        holdings=[("CNLIB", "C0005001", "Q3")],
    )


def iso2709(fields: list[Field], encoding: str) -> bytes:
    """One ISO 2709 record (CNMARC leader) with its fields encoded in `encoding`."""
    directory = b""
    body = b""
    for tag, indicators, subfields in fields:
        if tag < "010":
            data = subfields[0][1].encode(encoding)
        else:
            data = indicators.encode() + b"".join(
                b"\x1f" + code.encode() + value.encode(encoding) for code, value in subfields
            )
        data += b"\x1e"
        directory += tag.encode() + b"%04d%05d" % (len(data), len(body))
        body += data
    directory += b"\x1e"
    base = 24 + len(directory)
    length = base + len(body) + 1
    leader = b"%05d" % length + b"nam0 22" + b"%05d" % base + b"   450 "
    assert len(leader) == 24
    return leader + directory + body + b"\x1d"


def unimarc_xml(records: list[list[Field]], encoding: str = "UTF-8") -> str:
    """A marcxchange collection of UNIMARC records (its declaration naming `encoding`)."""
    lines = [
        f'<?xml version="1.0" encoding="{encoding}"?>',
        '<collection xmlns="info:lc/xmlns/marcxchange-v1" format="UNIMARC" type="Bibliographic">',
    ]
    for fields in records:
        lines.append("  <record>")
        lines.append("    <leader>00000nam0 2200000   450 </leader>")
        for tag, indicators, subfields in fields:
            if tag < "010":
                lines.append(
                    f'    <controlfield tag="{tag}">{escape(subfields[0][1])}</controlfield>'
                )
                continue
            ind1, ind2 = quoteattr(indicators[:1]), quoteattr(indicators[1:2])
            lines.append(f'    <datafield tag="{tag}" ind1={ind1} ind2={ind2}>')
            for code, value in subfields:
                lines.append(f'      <subfield code="{code}">{escape(value)}</subfield>')
            lines.append("    </datafield>")
        lines.append("  </record>")
    lines.append("</collection>")
    return "\n".join(lines) + "\n"


def _bad_directory() -> bytes:
    record = bytearray(iso2709(fortress(), "utf-8"))
    record[27:31] = b"00x9"  # the first directory entry's length is not a number
    return bytes(record)


def _retitled(fields: list[Field], control: str, title: str) -> list[Field]:
    changed = []
    for tag, indicators, subfields in fields:
        if tag == "001":
            subfields = [("", control)]
        elif tag == "200":
            subfields = [("a", title), *subfields[1:]]
        elif tag == "010":
            subfields = [("d", "CNY10.00")]
        elif tag == "905":
            subfields = [(c, v + control[-1] if c == "b" else v) for c, v in subfields]
        changed.append((tag, indicators, subfields))
    return changed


def fixture_files() -> dict[str, bytes]:
    """Every fixture file by name."""
    good_utf8 = iso2709(dream(), "utf-8") + iso2709(three_body(), "utf-8")
    good_gbk = (
        iso2709(to_live(), "gbk")
        + iso2709(zhu(), "gbk")
        # No declared character set: read as what decodes cleanly (GBK here).
        + iso2709(_retitled(to_live(NO_SETS), "CN0000006", "活着(插图本)"), "gbk")
    )
    truncated = iso2709(_retitled(three_body(), "CN0000010", "三体II"), "utf-8")
    broken = (
        iso2709(fortress(), "utf-8")
        + _bad_directory()
        # Declares UTF-8 ("50"), holds GBK.
        + iso2709(_retitled(to_live(UTF8_SETS), "CN0000007", "活着"), "gbk")
        # Declares GB 2312 ("0120"), holds UTF-8.
        + iso2709(_retitled(to_live(GB_SETS), "CN0000008", "活着"), "utf-8")
        # UTF-8 that went through Latin-1 on the way: mojibake.
        + iso2709(_retitled(three_body(), "CN0000009", "三体".encode().decode("latin-1")), "utf-8")
        + truncated[: len(truncated) // 2]
    )
    xml = unimarc_xml([fortress(), _retitled(dream(), "CN0000011", "")])
    return {
        "cnmarc-utf8.mrc": good_utf8,
        "cnmarc-gbk.mrc": good_gbk,
        "cnmarc-broken.mrc": broken,
        "unimarc.xml": xml.encode(),
        # Declared GBK, as Chinese systems export it; 镕 is outside GB 2312.
        "unimarc-gbk.xml": unimarc_xml([to_live(), zhu()], "GBK").encode("gbk"),
    }


def main() -> None:
    FIXTURES.mkdir(exist_ok=True)
    for name, content in fixture_files().items():
        (FIXTURES / name).write_bytes(content)


if __name__ == "__main__":
    main()
