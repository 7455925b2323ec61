"""XML in GB 2312/GBK/GB 18030, which the XML parser cannot read, transcoded to UTF-8.

Chinese systems export UNIMARC XML with ``encoding="GBK"`` (or GB2312, GB18030) in the
declaration; expat reads only UTF-8, UTF-16 and single-byte sets. Such a stream is decoded as
GB 18030 (which holds the others) while it is read and handed on as UTF-8 with the
declaration saying so. Bytes that are not GB 18030 become U+FFFD, which the UNIMARC reader
refuses as mojibake, naming the field.
"""

from __future__ import annotations

import codecs
import re

from bot.catalogue.records import Readable

__all__ = ["utf8_xml"]

_DECLARATION = re.compile(rb"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])([A-Za-z0-9._-]+)(["'])""")
_GB = frozenset({"gb2312", "gbk", "gb18030", "cp936", "gb_2312-80", "x-gbk", "euc-cn"})
_HEAD_BYTES = 1024


class _Replayed:
    """A stream with bytes already read put back in front."""

    def __init__(self, head: bytes, stream: Readable) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int, /) -> bytes:
        if self._head:
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._stream.read(size)


class _Transcoded:
    """GB 18030 bytes read as UTF-8 bytes."""

    def __init__(self, stream: Readable) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("gb18030")(errors="replace")
        self._done = False

    def read(self, size: int, /) -> bytes:
        while not self._done:
            block = self._stream.read(size)
            text = self._decoder.decode(block, final=not block)
            self._done = not block
            if text:
                return text.encode("utf-8")
        return b""


def utf8_xml(stream: Readable) -> Readable:
    """`stream` as the XML parser can read it: GB-encoded XML transcoded to UTF-8."""
    head = stream.read(_HEAD_BYTES)
    declared = _DECLARATION.match(head)
    if declared is None or declared.group(2).decode().lower() not in _GB:
        return _Replayed(head, stream)
    head = _DECLARATION.sub(rb"\1UTF-8\3", head, count=1)
    return _Transcoded(_Replayed(head, stream))
