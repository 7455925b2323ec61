"""Bad repositories: each stop is one clear line, keeps the pages before it, and is resumed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import HarvestSource, Item, Work
from bot.services.harvest.run import harvest_library
from bot.services.harvest.sources import connect
from tests.factories import make_library
from tests.harvest.conftest import BATCH, RECORDS
from tests.harvest.repository import Fault, TestRepository

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE OAI-PMH [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
 <responseDate>2026-12-06T00:00:00Z</responseDate>
 <request verb="ListRecords">&lol9;</request>
 <ListRecords><record><header><identifier>oai:bomb:1</identifier>
 <datestamp>2026-12-06T00:00:00Z</datestamp></header>
 <metadata><record xmlns="http://www.loc.gov/MARC21/slim">
 <datafield tag="245" ind1="0" ind2="0"><subfield code="a">&lol9;</subfield></datafield>
 </record></metadata></record></ListRecords>
</OAI-PMH>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE OAI-PMH [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
 <responseDate>2026-12-06T00:00:00Z</responseDate>
 <request verb="ListRecords">oai</request>
 <ListRecords><record><header><identifier>oai:xxe:1</identifier>
 <datestamp>2026-12-06T00:00:00Z</datestamp></header>
 <metadata><record xmlns="http://www.loc.gov/MARC21/slim">
 <controlfield tag="001">xxe1</controlfield>
 <datafield tag="245" ind1="0" ind2="0"><subfield code="a">&secret;</subfield></datafield>
 </record></metadata></record></ListRecords>
</OAI-PMH>
"""


def _on_second_page(body: bytes, status: int = 200) -> Fault:
    """A fault: the answer to the first resumption-token request."""

    def fault(query: dict[str, str]) -> tuple[int, bytes] | None:
        return (status, body) if "resumptionToken" in query else None

    return fault


async def _state(session: AsyncSession) -> tuple[int, HarvestSource]:
    await session.commit()
    items = await session.scalar(select(func.count(Item.id))) or 0
    source = await session.scalar(select(HarvestSource))
    assert source is not None
    await session.refresh(source)
    return items, source


@pytest.fixture
async def east(session: AsyncSession, repository: TestRepository) -> None:
    await make_library(session, code="EAST")
    await session.commit()
    await connect(session, "EAST", repository.url)


def _truncated(repository: TestRepository) -> Fault:
    def fault(query: dict[str, str]) -> tuple[int, bytes] | None:
        if "resumptionToken" not in query:
            return None
        body = repository.answer(query)
        return 200, body[: len(body) // 2]

    return fault


def _refused_token(repository: TestRepository) -> Fault:
    def fault(query: dict[str, str]) -> tuple[int, bytes] | None:
        if "resumptionToken" not in query:
            return None
        # pyoai's own answer to a token it cannot read.
        return 200, repository.answer({"verb": "ListRecords", "resumptionToken": "expired"})

    return fault


CASES = {
    "http_500": (lambda repo: _on_second_page(b"<html>Internal Server Error</html>", 500), "http"),
    "invalid_xml": (_truncated, "invalid_xml"),
    "xml_bomb": (lambda repo: _on_second_page(BILLION_LAUGHS), "unsafe_xml"),
    "external_entity": (lambda repo: _on_second_page(EXTERNAL_ENTITY), "unsafe_xml"),
    "bad_resumption_token": (_refused_token, "bad_resumption_token"),
}


@pytest.mark.usefixtures("east")
@pytest.mark.parametrize("case", list(CASES))
async def test_a_stop_part_way_keeps_the_pages_before_it_and_the_next_harvest_resumes(
    case: str,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    repository: TestRepository,
) -> None:
    make_fault, kind = CASES[case]
    repository.faults.append(make_fault(repository))
    report = await harvest_library(sessionmaker, harvest_settings, "EAST")
    assert report.error is not None and report.error.kind == kind
    assert "\n" not in str(report.error)
    assert not report.complete and report.pages == 1
    items, source = await _state(session)
    assert items == BATCH  # the first page, stored whole; nothing of the bad one
    assert source.last_error_kind == kind and source.last_error == str(report.error)
    assert source.harvested_from is None and source.last_success_at is None
    titles = list(await session.scalars(select(Work.title)))
    assert not any("lol" in title or "root:" in title for title in titles)
    if kind == "bad_resumption_token":
        assert source.resume_token is None  # starts again from the last complete harvest
    else:
        assert source.resume_token is not None  # resumes after the stored page

    repository.requests.clear()
    report = await harvest_library(sessionmaker, harvest_settings, "EAST")
    assert report.error is None and report.complete
    items, source = await _state(session)
    assert items == RECORDS
    assert source.last_error is None and source.harvested_from is not None
    listed = [q for q in repository.requests if q.get("verb") == "ListRecords"]
    if kind == "bad_resumption_token":
        assert "metadataPrefix" in listed[0]
        assert report.records == RECORDS
    else:
        assert all("resumptionToken" in q for q in listed)  # page one is not fetched again
        assert report.records == RECORDS - BATCH


@pytest.mark.usefixtures("east")
async def test_an_unreachable_repository_changes_nothing_and_is_harvested_when_back(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    repository: TestRepository,
) -> None:
    port = repository.port
    repository.stop()
    report = await harvest_library(sessionmaker, harvest_settings, "EAST")
    assert report.error is not None and report.error.kind == "unreachable"
    assert repository.url in str(report.error)
    items, source = await _state(session)
    assert items == 0 and source.last_error_kind == "unreachable"

    repository.start(port)
    report = await harvest_library(sessionmaker, harvest_settings, "EAST")
    assert report.error is None and report.records == RECORDS
    items, source = await _state(session)
    assert items == RECORDS and source.last_error is None


async def test_connect_refuses_bad_urls_and_prefixes(
    session: AsyncSession, repository: TestRepository
) -> None:
    from bot.services.errors import InvalidInputError

    await make_library(session, code="EAST")
    await session.commit()
    for url in ("ftp://example.org/oai", "not a url", "http://"):
        with pytest.raises(InvalidInputError):
            await connect(session, "EAST", url)
    with pytest.raises(InvalidInputError, match="unknown metadata prefix"):
        await connect(session, "EAST", repository.url, prefix="oai_dc")
    with pytest.raises(InvalidInputError, match="setSpec"):
        await connect(session, "EAST", repository.url, set_spec="two words")
    assert await session.scalar(select(func.count(HarvestSource.id))) == 0


@pytest.mark.usefixtures("east")
async def test_unreadable_records_are_reported_one_by_one_and_the_others_land(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    repository: TestRepository,
) -> None:
    marc = "http://www.loc.gov/MARC21/slim"
    no_code = (
        f'<record xmlns="{marc}"><datafield tag="245" ind1="0" ind2="0">'
        "<subfield>no code</subfield></datafield></record>"
    )
    huge = (
        f'<record xmlns="{marc}"><controlfield tag="001">big1</controlfield>'
        f'<datafield tag="245" ind1="0" ind2="0"><subfield code="a">{"x" * 300_000}'
        "</subfield></datafield></record>"
    )
    repository.catalogue.add("oai:test:zz-no-code", no_code.encode())
    repository.catalogue.add("oai:test:zz-huge", huge.encode())
    report = await harvest_library(sessionmaker, harvest_settings, "EAST")
    assert report.error is None and report.complete
    assert report.records == RECORDS + 2 and report.skipped == 2
    reasons = [problem.reason for problem in report.imported.problems]
    assert any("oai:test:zz-no-code" in r and "has no code" in r for r in reasons), reasons
    assert any("oai:test:zz-huge" in r and "longer than" in r for r in reasons), reasons
    items, source = await _state(session)
    assert items == RECORDS and source.records_skipped == 2


def test_from_follows_the_repository_s_granularity() -> None:
    from bot.services.harvest.protocol import from_stamp

    assert from_stamp("2026-12-06T07:20:40Z", "YYYY-MM-DDThh:mm:ssZ") == "2026-12-06T07:20:40Z"
    assert from_stamp("2026-12-06T07:20:40Z", "YYYY-MM-DD") == "2026-12-06"


@pytest.mark.usefixtures("east")
@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["bomb", "entity"])
async def test_an_unsafe_first_answer_is_refused_before_anything_is_stored(
    body: bytes,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    repository: TestRepository,
) -> None:
    repository.faults.append(lambda query: (200, body) if query.get("verb") == "Identify" else None)
    report = await harvest_library(sessionmaker, harvest_settings, "EAST")
    assert report.error is not None and report.error.kind == "unsafe_xml"
    items, source = await _state(session)
    assert items == 0 and source.last_error_kind == "unsafe_xml"
