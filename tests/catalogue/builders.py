"""Build small MARC 21 records byte by byte for tests."""

FIELD_END = b"\x1e"
RECORD_END = b"\x1d"
# 008 of a 2019 book in Chinese: date 1 at 07-10, language at 35-37, 40 bytes long.
FIXED_008 = b"200101s2019    " + b" " * 20 + b"chi" + b" d"


def datafield(indicators: bytes, *subfields: tuple[str, bytes]) -> bytes:
    """The bytes of a data field (without its terminator)."""
    return indicators + b"".join(b"\x1f" + code.encode() + value for code, value in subfields)


def marc_record(fields: list[tuple[str, bytes]], *, coding: bytes = b"a") -> bytes:
    """A complete ISO 2709 record; `coding` is leader/09 (b"a" UTF-8, b" " MARC-8)."""
    directory = b""
    body = b""
    for tag, data in fields:
        data += FIELD_END
        directory += tag.encode() + b"%04d%05d" % (len(data), len(body))
        body += data
    directory += FIELD_END
    base = 24 + len(directory)
    length = base + len(body) + len(RECORD_END)
    leader = b"%05d" % length + b"nam " + coding + b"22" + b"%05d" % base + b"   4500"
    assert len(leader) == 24
    return leader + directory + body + RECORD_END


def book(
    title: bytes, *, coding: bytes = b"a", extra: list[tuple[str, bytes]] | None = None
) -> bytes:
    """A minimal book record with a 008 and a 245 $a, plus `extra` fields."""
    fields = [
        ("001", b"test-1"),
        ("008", FIXED_008),
        ("245", datafield(b"10", ("a", title))),
        *(extra or []),
    ]
    return marc_record(sorted(fields, key=lambda field: field[0]), coding=coding)
