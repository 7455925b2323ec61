"""Talking to an OAI-PMH repository: Identify, then ListRecords a page at a time.

oaipmh-scythe makes the requests and follows the protocol (arguments, resumption tokens,
OAI errors raised as exceptions). Each answer is then parsed again here, strictly, before
anything in it is used: lxml with no entity resolution, no DTD loading and no network, and
an answer that declares a DTD (which OAI-PMH never needs, and which is how entity bombs and
external entities arrive) or is not well-formed is refused whole. Everything here blocks:
callers run it in a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx2
from lxml import etree
from oaipmh_scythe import Scythe
from oaipmh_scythe import exceptions as oai_errors
from oaipmh_scythe.config import HTTPConfig
from oaipmh_scythe.iterator import OAIResponseIterator
from oaipmh_scythe.response import OAIResponse

__all__ = ["HarvestError", "Identity", "OaiRecord", "Page", "Repository", "from_stamp"]

OAI = "{http://www.openarchives.org/OAI/2.0/}"
DAY_GRANULARITY = "YYYY-MM-DD"


class HarvestError(Exception):
    """A harvest stopped: ``kind`` says why in a word, the message in a line."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


@dataclass(frozen=True)
class Identity:
    """What Identify says: the datestamp granularity and the repository's clock."""

    granularity: str
    response_date: str


@dataclass(frozen=True)
class OaiRecord:
    """One record of a ListRecords page: header, and the metadata's XML unless deleted."""

    identifier: str
    datestamp: str
    deleted: bool
    metadata: bytes | None


@dataclass(frozen=True)
class Page:
    """One ListRecords answer: its records and the token for the next page (None: last)."""

    records: list[OaiRecord]
    token: str | None


def from_stamp(response_date: str, granularity: str) -> str:
    """A ``from`` argument at the repository's granularity for a moment it reported."""
    if granularity == DAY_GRANULARITY:
        return response_date[:10]
    return response_date


def _strict_root(content: bytes) -> Any:
    """The answer's root element, parsed safely; HarvestError when it is bad or unsafe."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    head = content[:4096]
    try:
        root = etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError as exc:
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise _unsafe() from exc
        raise HarvestError("invalid_xml", f"the answer is not well-formed XML ({exc})") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or b"<!ENTITY" in head:
        raise _unsafe()
    if root.tag != f"{OAI}OAI-PMH":
        raise HarvestError("invalid_xml", "the answer is not an OAI-PMH response")
    return root


def _unsafe() -> HarvestError:
    return HarvestError(
        "unsafe_xml", "the answer declares a DTD or entities, which OAI-PMH never uses: refused"
    )


def _text(element: Any, path: str) -> str:
    return str(element.findtext(path) or "").strip()


def _page(response: OAIResponse) -> Page:
    root = _strict_root(response.http_response.content)
    records: list[OaiRecord] = []
    for record in root.iterfind(f"{OAI}ListRecords/{OAI}record"):
        header = record.find(f"{OAI}header")
        if header is None:
            raise HarvestError("invalid_xml", "a record of the answer has no header")
        metadata = record.find(f"{OAI}metadata")
        payload = None
        if metadata is not None and len(metadata):
            payload = etree.tostring(metadata[0])
        records.append(
            OaiRecord(
                identifier=_text(header, f"{OAI}identifier"),
                datestamp=_text(header, f"{OAI}datestamp"),
                deleted=header.get("status") == "deleted",
                metadata=payload,
            )
        )
    token = _text(root, f"{OAI}ListRecords/{OAI}resumptionToken") or None
    return Page(records, token)


def _translated(exc: Exception, url: str) -> Exception:
    """The library's exception as a HarvestError (NoRecordsMatch passes through)."""
    if isinstance(exc, oai_errors.NoRecordsMatch | HarvestError):
        return exc
    if isinstance(exc, oai_errors.BadResumptionToken):
        return HarvestError(
            "bad_resumption_token",
            f"the repository refused the resumption token ({exc}); the next harvest starts "
            "again from the last complete one",
        )
    if isinstance(exc, oai_errors.CannotDisseminateFormat):
        return HarvestError("format", f"the repository does not offer that format ({exc})")
    if isinstance(exc, oai_errors.OAIPMHException):
        code = type(exc).__name__
        return HarvestError("oai", f"the repository answered with the OAI error {code}: {exc}")
    if isinstance(exc, httpx2.HTTPStatusError):
        status = exc.response.status_code
        return HarvestError("http", f"the repository answered HTTP {status}")
    if isinstance(exc, httpx2.TransportError | httpx2.InvalidURL):
        return HarvestError("unreachable", f"the repository at {url} cannot be reached ({exc})")
    if isinstance(exc, etree.XMLSyntaxError):
        return HarvestError("invalid_xml", f"the answer is not well-formed XML ({exc})")
    return exc


def _raise_for_status(response: httpx2.Response) -> None:
    if response.is_error:
        response.raise_for_status()


def _reraise(exc: Exception, url: str) -> NoReturn:
    translated = _translated(exc, url)
    if translated is exc:
        raise exc
    raise translated from exc


class Repository:
    """One repository's client (blocking)."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self.url = url
        self._scythe = Scythe(
            url, http_config=HTTPConfig(timeout=timeout), iterator=OAIResponseIterator
        )
        # An HTTP error is reported as such, whatever body came with it.
        self._scythe.client.event_hooks["response"].append(_raise_for_status)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._scythe.close()

    def _answer(self, responses: Iterator[OAIResponse]) -> OAIResponse | None:
        """The next answer; None after the last page."""
        try:
            return next(responses, None)
        except AttributeError as exc:
            # oaipmh-scythe reads a body that is not XML at all as None, then trips on it.
            raise HarvestError("invalid_xml", "the answer is not XML") from exc

    def identify(self) -> Identity:
        """Identify: the granularity of datestamps and the repository's time now."""
        try:
            answer = self._answer(iter([self._scythe.harvest({"verb": "Identify"})]))
            assert answer is not None
            root = _strict_root(answer.http_response.content)
        except Exception as exc:
            _reraise(exc, self.url)
        granularity = _text(root, f"{OAI}Identify/{OAI}granularity") or DAY_GRANULARITY
        response_date = _text(root, f"{OAI}responseDate")
        if len(response_date) < 10:
            raise HarvestError("invalid_xml", "the Identify answer has no responseDate")
        return Identity(granularity, response_date)

    def pages(
        self, prefix: str, *, from_: str | None, set_spec: str | None, token: str | None
    ) -> Iterator[Page]:
        """ListRecords page by page, from a resumption token when one is given.

        Raises HarvestError; NoRecordsMatch (nothing changed) ends the pages without one.
        """
        try:
            if token is not None:
                query = {"verb": "ListRecords", "resumptionToken": token}
                responses: Iterator[Any] = iter(OAIResponseIterator(self._scythe, query))
            else:
                responses = self._scythe.list_records(
                    from_=from_, metadata_prefix=prefix, set_=set_spec
                )
            while (response := self._answer(responses)) is not None:
                yield _page(response)
        except oai_errors.NoRecordsMatch:
            return
        except Exception as exc:
            _reraise(exc, self.url)
