"""A small alliance with a partner bookstore: City Library pays for what readers choose at
Page One; Campus Library holds one copy of the Red Chamber."""

from __future__ import annotations

import io
from dataclasses import dataclass

import barcode
import barcode.writer
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    AuditLog,
    Bookstore,
    BookstoreStaff,
    ChooseBudget,
    ChooseRules,
    Item,
    Library,
    Reader,
    Voucher,
    Work,
    WorkIsbn,
)
from tests.factories import make_district, make_library, make_work
from tests.harness import BotHarness, ChatUser

RED_CHAMBER = "9787020002207"
NEW_BOOK = "9787302104872"  # no library holds it
OTHER_NEW_BOOK = "9780747532699"


@dataclass
class City:
    city: Library
    campus: Library
    store: Bookstore
    other_store: Bookstore
    work: Work


async def build_city(session: AsyncSession) -> City:
    district = await make_district(session, latitude=31.2, longitude=121.4)
    city = await make_library(
        session,
        district,
        code="CITY",
        name="市图书馆",
        name_en="City Library",
        latitude=31.2,
        longitude=121.4,
    )
    campus = await make_library(
        session,
        district,
        code="UNI",
        name="大学图书馆",
        name_en="Campus Library",
        latitude=31.245,
        longitude=121.4,
    )
    store = Bookstore(
        code="PAGE",
        name="页一书店",
        name_en="Page One",
        address="2 Book Street",
        latitude=31.21,
        longitude=121.4,
        library_id=city.id,
    )
    # Riverside Books is paid by the campus library (which has set no rules).
    other_store = Bookstore(
        code="RIVER",
        name="河畔书店",
        name_en="Riverside Books",
        latitude=31.3,
        longitude=121.5,
        library_id=campus.id,
    )
    session.add_all([store, other_store])
    session.add(
        ChooseRules(
            library_id=city.id,
            price_cap=8000,
            reader_quota=2,
            monthly_budget=20000,
            max_copies=2,
            loan_days=30,
        )
    )
    work = await make_work(session, title="The Dream of the Red Chamber", libraries=(campus,))
    session.add(WorkIsbn(isbn=RED_CHAMBER, work_id=work.id))
    await session.commit()
    return City(city, campus, store, other_store, work)


async def city_in(harness: BotHarness) -> City:
    async with harness.app.sessionmaker() as session:
        return await build_city(session)


async def chat_user(harness: BotHarness, user_id: int, language: str = "en") -> ChatUser:
    user = harness.user(user_id, f"User{user_id}", language_code=language)
    await user.onboard(language)
    return user


async def reader_of(harness: BotHarness, user: ChatUser) -> Reader:
    async with harness.app.sessionmaker() as session:
        reader = await session.scalar(select(Reader).where(Reader.telegram_id == user.user_id))
        assert reader is not None
        return reader


async def make_staff(harness: BotHarness, user: ChatUser, store: Bookstore) -> None:
    reader = await reader_of(harness, user)
    async with harness.app.sessionmaker() as session:
        session.add(BookstoreStaff(reader_id=reader.id, bookstore_id=store.id))
        await session.commit()


async def vouchers(harness: BotHarness) -> list[Voucher]:
    async with harness.app.sessionmaker() as session:
        return list(await session.scalars(select(Voucher).order_by(Voucher.id)))


async def counts(harness: BotHarness) -> dict[str, object]:
    """What a refused action must leave as it was."""
    async with harness.app.sessionmaker() as session:
        return {
            "vouchers": [
                (v.code, v.status, v.price, v.item_id)
                for v in await session.scalars(select(Voucher).order_by(Voucher.id))
            ],
            "items": await session.scalar(select(func.count(Item.id))),
            "works": await session.scalar(select(func.count(Work.id))),
            "spent": list(await session.scalars(select(ChooseBudget.spent))),
            "confirmations": await session.scalar(
                select(func.count(AuditLog.id)).where(AuditLog.action == "voucher.confirm")
            ),
        }


def ean13_png(digits: str) -> bytes:
    """An EAN-13 barcode picture, as a phone would photograph the back cover."""
    buffer = io.BytesIO()
    barcode.get("ean13", digits, writer=barcode.writer.ImageWriter()).write(buffer)
    return buffer.getvalue()


def blank_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), "white").save(buffer, format="PNG")
    return buffer.getvalue()
