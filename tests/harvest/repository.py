"""An OAI-PMH repository for tests and the bench: pyoai's server over real HTTP on loopback.

The records are MARCXML ``record`` elements (built from ``../shared/data``), served under
the prefixes of ``FORMATS``: as they are under ``marc21``/``marcxml``, converted to UNIMARC
XML under ``unimarc``/``cnmarc`` (``tests.harvest.unimarc``). pyoai
does the protocol (arguments, datestamps, resumption tokens, OAI errors); this module only
keeps the records and serves pyoai's answers over HTTP (wsgiref, in a thread), with
``faults`` to break chosen answers (status, body) the way real repositories break.
"""

from __future__ import annotations

import sys
import threading
import types
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from lxml import etree

# pyoai 2.5 decodes resumption tokens with cgi.parse_qs, which Python 3.8 removed (its
# replacement is urllib.parse.parse_qs, same arguments); Python 3.13 removed cgi itself.
try:
    import cgi
except ImportError:  # pragma: no cover - Python 3.13 and later
    cgi = types.ModuleType("cgi")
    sys.modules["cgi"] = cgi
if not hasattr(cgi, "parse_qs"):
    cgi.parse_qs = urllib.parse.parse_qs  # type: ignore[attr-defined]

# pyoai 2.5 imports pkg_resources (only to describe itself in Identify, which is turned off
# here); newer setuptools no longer ship it.
try:
    import pkg_resources  # type: ignore[import-untyped]  # noqa: F401
except ImportError:  # pragma: no cover - depends on the installed setuptools
    sys.modules["pkg_resources"] = types.ModuleType("pkg_resources")

from oaipmh import common, error, metadata, server

from tests.harvest.unimarc import UNIMARC_NS, UNIMARC_SCHEMA, write_unimarc

MARC_NS = "http://www.loc.gov/MARC21/slim"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
FIRST_DATESTAMP = datetime(2026, 1, 1, 8, 0, 0)


def _append_record(element: Any, payload: bytes) -> None:
    element.append(etree.fromstring(payload))


# metadataPrefix -> (schema, namespace, writer of one record's metadata).
FORMATS: dict[str, tuple[str, str, Callable[[Any, bytes], None]]] = {
    "marc21": (
        "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
        MARC_NS,
        _append_record,
    ),
    "marcxml": (
        "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
        MARC_NS,
        _append_record,
    ),
    "unimarc": (UNIMARC_SCHEMA, UNIMARC_NS, write_unimarc),
    "cnmarc": (UNIMARC_SCHEMA, UNIMARC_NS, write_unimarc),
}


def marcxml_records(path: Path, limit: int | None = None) -> list[bytes]:
    """The first ``limit`` MARCXML ``record`` elements of a file, each serialised alone."""
    records: list[bytes] = []
    for _event, element in etree.iterparse(str(path), tag=f"{{{MARC_NS}}}record"):
        records.append(etree.tostring(element))
        element.clear()
        if limit is not None and len(records) >= limit:
            break
    return records


def control_number(payload: bytes) -> str:
    """A MARCXML record's 001."""
    root = etree.fromstring(payload)
    return str(root.findtext(f"{{{MARC_NS}}}controlfield[@tag='001']") or "").strip()


def retitled(payload: bytes, title: str) -> bytes:
    """The record with its 245 $a replaced."""
    root = etree.fromstring(payload)
    subfield = root.find(f"{{{MARC_NS}}}datafield[@tag='245']/{{{MARC_NS}}}subfield[@code='a']")
    assert subfield is not None
    subfield.text = title
    return bytes(etree.tostring(root))


@dataclass
class Entry:
    """A record as the repository keeps it (payload None: deleted)."""

    identifier: str
    datestamp: datetime
    payload: bytes | None
    sets: tuple[str, ...] = ()


class Catalogue:
    """The record store behind pyoai's BatchingServer (its IBatchingOAIPMH interface)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.entries: dict[str, Entry] = {}

    def add(self, identifier: str, payload: bytes, *, when: datetime = FIRST_DATESTAMP) -> None:
        self.entries[identifier] = Entry(identifier, when, payload)

    def change(self, identifier: str, payload: bytes) -> None:
        self.entries[identifier] = Entry(identifier, _now(), payload)

    def delete(self, identifier: str) -> None:
        self.entries[identifier] = Entry(identifier, _now(), None)

    def identify(self) -> common.Identify:
        return common.Identify(
            repositoryName="Bookbridge test repository",
            baseURL=self.base_url,
            protocolVersion="2.0",
            adminEmails=["oai@example.org"],
            earliestDatestamp=FIRST_DATESTAMP,
            deletedRecord="persistent",
            granularity=GRANULARITY,
            compression=["identity"],
            toolkit_description=False,
        )

    def listMetadataFormats(self, identifier: str | None = None) -> list[tuple[str, str, str]]:
        return [(prefix, schema, ns) for prefix, (schema, ns, _writer) in FORMATS.items()]

    def _selected(
        self, prefix: str, set_: str | None, from_: datetime | None, until: datetime | None
    ) -> list[Entry]:
        if prefix not in FORMATS:
            raise error.CannotDisseminateFormatError(f"no format {prefix}")
        return [
            entry
            for _key, entry in sorted(self.entries.items())
            if (from_ is None or entry.datestamp >= from_)
            and (until is None or entry.datestamp <= until)
            and (set_ is None or set_ in entry.sets)
        ]

    def listRecords(
        self,
        metadataPrefix: str,
        set: str | None = None,
        from_: datetime | None = None,
        until: datetime | None = None,
        cursor: int = 0,
        batch_size: int = 10,
    ) -> list[tuple[common.Header, bytes | None, None]]:
        chosen = self._selected(metadataPrefix, set, from_, until)[cursor : cursor + batch_size]
        return [
            (
                common.Header(None, e.identifier, e.datestamp, list(e.sets), e.payload is None),
                e.payload,
                None,
            )
            for e in chosen
        ]

    def listIdentifiers(
        self,
        metadataPrefix: str,
        set: str | None = None,
        from_: datetime | None = None,
        until: datetime | None = None,
        cursor: int = 0,
        batch_size: int = 10,
    ) -> list[common.Header]:
        rows = self.listRecords(metadataPrefix, set, from_, until, cursor, batch_size)
        return [header for header, _payload, _about in rows]

    def getRecord(self, metadataPrefix: str, identifier: str) -> tuple[Any, ...]:
        entry = self.entries.get(identifier)
        if entry is None:
            raise error.IdDoesNotExistError(identifier)
        header = common.Header(None, identifier, entry.datestamp, [], entry.payload is None)
        return header, entry.payload, None

    def listSets(self, cursor: int = 0, batch_size: int = 10) -> list[Any]:
        raise error.NoSetHierarchyError("no sets")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


Fault = Callable[[dict[str, str]], tuple[int, bytes] | None]


@dataclass
class TestRepository:
    __test__ = False

    """pyoai's server for a Catalogue, served over HTTP on 127.0.0.1 in a thread."""

    batch_size: int = 10
    requests: list[dict[str, str]] = field(default_factory=list)
    # Each fault looks at a request: an answer (status, body) replaces pyoai's, once.
    faults: list[Fault] = field(default_factory=list)
    catalogue: Catalogue = field(init=False)
    _http: WSGIServer | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.catalogue = Catalogue("http://127.0.0.1/oai")
        registry = metadata.MetadataRegistry()
        for prefix, (_schema, _ns, writer) in FORMATS.items():
            registry.registerWriter(prefix, writer)
        self._server = server.BatchingServer(
            self.catalogue, registry, resumption_batch_size=self.batch_size
        )

    port: int = field(default=0, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/oai"

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        query = dict(
            urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        )
        self.requests.append(query)
        for fault in list(self.faults):
            answer = fault(query)
            if answer is not None:
                self.faults.remove(fault)
                status, body = answer
                start_response(f"{status} Fault", [("Content-Type", "text/xml; charset=utf-8")])
                return iter([body])
        body = self._server.handleRequest(query)
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
        return iter([body])

    def answer(self, query: dict[str, str]) -> bytes:
        """pyoai's own answer to a request (for faults that change what is asked)."""
        return bytes(self._server.handleRequest(dict(query)))

    def start(self, port: int = 0) -> TestRepository:
        """Serve (again) on 127.0.0.1, on ``port`` or a free one."""
        self._http = make_server("127.0.0.1", port, self._app, handler_class=_QuietHandler)
        self.port = self._http.server_port
        self.catalogue.base_url = self.url
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._http = self._thread = None

    def load(self, payloads: list[bytes]) -> list[str]:
        """Add records under identifiers made from their 001; the identifiers in order."""
        identifiers = []
        for payload in payloads:
            identifier = f"oai:test:{control_number(payload)}"
            self.catalogue.add(identifier, payload)
            identifiers.append(identifier)
        return identifiers


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None
