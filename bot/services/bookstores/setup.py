"""Admins set up the scheme: partner bookstores, their staff, and each paying library's rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db import write
from bot.models import Bookstore, BookstoreStaff, ChooseRules, Library, Reader
from bot.services import audit
from bot.services.bookstores.money import BadPriceError, parse_price
from bot.services.errors import DomainError, InvalidInputError

_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_RULE = re.compile(r"(cap|quota|budget|copies|days)=(\S+)", re.IGNORECASE)
RULE_NAMES = ("cap", "quota", "budget", "copies", "days")
MAX_COUNT = 10_000


class BadRulesError(InvalidInputError):
    """Rules that are not all of cap= quota= budget= copies= [days=] with sensible values."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class AlreadyStaffError(DomainError):
    """The person already confirms vouchers for that store."""


@dataclass(frozen=True)
class RulesInput:
    """Rules as an admin typed them: prices in fen, counts, loan days."""

    price_cap: int
    reader_quota: int
    monthly_budget: int
    max_copies: int
    loan_days: int = 30


def _count(field: str, text: str, low: int, high: int) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise BadRulesError(field)
    return int(text)


def parse_rules(text: str) -> RulesInput:
    """``cap=80 quota=2 budget=5000 copies=3 [days=30]`` (cap and budget in yuan)."""
    found = {name.lower(): value for name, value in _RULE.findall(text)}
    leftover = _RULE.sub("", text).strip()
    if leftover:
        raise BadRulesError(leftover.split()[0][:20])
    for name in RULE_NAMES[:4]:
        if name not in found:
            raise BadRulesError(name)
    try:
        cap = parse_price(found["cap"])
        budget = parse_price(found["budget"])
    except BadPriceError as exc:
        raise BadRulesError("cap" if exc.text == found["cap"][:40] else "budget") from None
    return RulesInput(
        price_cap=cap,
        reader_quota=_count("quota", found["quota"], 1, MAX_COUNT),
        monthly_budget=budget,
        max_copies=_count("copies", found["copies"], 1, MAX_COUNT),
        loan_days=_count("days", found.get("days", "30"), 1, 365),
    )


async def set_rules(
    session: AsyncSession, actor: Reader, library: Library, rules: RulesInput
) -> ChooseRules:
    """Store the library's rules (they apply to vouchers issued from now on)."""
    async with write(session):
        row = await session.get(ChooseRules, library.id, with_for_update=True)
        if row is None:
            row = ChooseRules(library_id=library.id)
            session.add(row)
        row.price_cap = rules.price_cap
        row.reader_quota = rules.reader_quota
        row.monthly_budget = rules.monthly_budget
        row.max_copies = rules.max_copies
        row.loan_days = rules.loan_days
        row.updated_by_id = actor.id
        audit.record(
            session,
            actor,
            "bookstore.rules",
            target_type="library",
            target_id=library.id,
            library=library.code,
            price_cap=rules.price_cap,
            reader_quota=rules.reader_quota,
            monthly_budget=rules.monthly_budget,
            max_copies=rules.max_copies,
            loan_days=rules.loan_days,
        )
    return row


@dataclass(frozen=True)
class StoreInput:
    """A bookstore as an admin or a file gives it."""

    code: str
    name: str
    latitude: float
    longitude: float
    name_en: str | None = None
    address: str = ""
    address_en: str | None = None


def check_store(store: StoreInput) -> None:
    """Refuse a bad code, an empty name or coordinates off the globe."""
    if not _CODE.fullmatch(store.code):
        raise InvalidInputError("code")
    if not store.name.strip() or len(store.name) > 200:
        raise InvalidInputError("name")
    if not -90 <= store.latitude <= 90 or not -180 <= store.longitude <= 180:
        raise InvalidInputError("coordinates")


async def add_store(
    session: AsyncSession, actor: Reader | None, store: StoreInput, library: Library
) -> Bookstore:
    """Add a partner bookstore (or update the one with that code); the library pays."""
    check_store(store)
    async with write(session):
        row = await session.scalar(
            select(Bookstore).where(func.lower(Bookstore.code) == store.code.lower())
        )
        if row is None:
            row = Bookstore(code=store.code)
            session.add(row)
        row.name, row.name_en = store.name.strip(), store.name_en
        row.address, row.address_en = store.address, store.address_en
        row.latitude, row.longitude = store.latitude, store.longitude
        row.library_id, row.active = library.id, True
        await session.flush()
        audit.record(
            session,
            actor,
            "bookstore.add",
            target_type="bookstore",
            target_id=row.id,
            code=row.code,
            library=library.code,
        )
    return row


async def add_staff(
    session: AsyncSession, actor: Reader, person: Reader, store: Bookstore
) -> BookstoreStaff:
    """Give a person the bookstore role for one store."""
    async with write(session):
        existing = await session.scalar(
            select(BookstoreStaff).where(
                BookstoreStaff.reader_id == person.id, BookstoreStaff.bookstore_id == store.id
            )
        )
        if existing is not None:
            raise AlreadyStaffError(store.code)
        grant = BookstoreStaff(reader_id=person.id, bookstore_id=store.id, granted_by_id=actor.id)
        session.add(grant)
        audit.record(
            session,
            actor,
            "bookstore.staff",
            target_type="reader",
            target_id=person.id,
            store=store.code,
        )
    return grant


@dataclass(frozen=True)
class StoreView:
    """A store for the admin list: its paying library, rules and staff count."""

    store: Bookstore
    rules: ChooseRules | None
    staff: int


async def store_views(session: AsyncSession) -> list[StoreView]:
    """Every bookstore with its rules and how many staff it has."""
    stores = list(
        await session.scalars(
            select(Bookstore).options(selectinload(Bookstore.library)).order_by(Bookstore.code)
        )
    )
    staff = dict(
        (
            await session.execute(
                select(BookstoreStaff.bookstore_id, func.count(BookstoreStaff.id)).group_by(
                    BookstoreStaff.bookstore_id
                )
            )
        ).all()
    )
    views = []
    for store in stores:
        rules = await session.get(ChooseRules, store.library_id)
        views.append(StoreView(store, rules, int(staff.get(store.id, 0))))
    return views
