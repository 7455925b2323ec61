"""Browse by subject: works by top class of the Chinese Library Classification (中图法).

A work's classification numbers (``Work.clc_numbers``, from CNMARC 690) start with the letter
of its top class ("I242.4": I, literature). The 22 top classes are A-K, N-V, X and Z.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Work
from bot.services.errors import InvalidInputError
from bot.services.search.holdings import WorkFacts, work_facts

__all__ = ["CLC_CLASSES", "SUBJECT_PAGE_SIZE", "SubjectPage", "subject_page"]

CLC_CLASSES = tuple("ABCDEFGHIJKNOPQRSTUVXZ")
SUBJECT_PAGE_SIZE = 8


@dataclass(frozen=True)
class SubjectPage:
    """One page of a class's works, by title, and how many works the class has."""

    letter: str
    page: int
    total: int
    works: tuple[WorkFacts, ...]


def _in_class(letter: str) -> ColumnElement[bool]:
    # The numbers are stored as a JSON list of strings: '["I242.4", "K825.6"]'. A number of
    # the class starts right after a quote.
    return cast(Work.clc_numbers, String).like(f'%"{letter}%')


async def subject_page(session: AsyncSession, letter: str, page: int) -> SubjectPage:
    """The works of top class `letter`, `page` (from 0) of SUBJECT_PAGE_SIZE, by title."""
    letter = letter.strip().upper()
    if letter not in CLC_CLASSES:
        raise InvalidInputError(f"{letter!r} is not a top class of the classification")
    condition = _in_class(letter)
    total = await session.scalar(select(func.count(Work.id)).where(condition)) or 0
    works = await session.scalars(
        select(Work)
        .where(condition)
        .order_by(Work.title, Work.id)
        .offset(max(0, page) * SUBJECT_PAGE_SIZE)
        .limit(SUBJECT_PAGE_SIZE)
    )
    return SubjectPage(letter, page, total, tuple(work_facts(work) for work in works))
