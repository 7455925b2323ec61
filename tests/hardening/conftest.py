"""A small alliance with one person per role, and what the hardening tests check after input.

Entry points are discovered, not listed: commands from bot.commands.COMMANDS, callback data
from every CallbackData subclass in the handlers package (and bot), FSM states from every
StatesGroup there. Features added later are fuzzed and checked without touching these tests.
"""

from __future__ import annotations

import enum
import importlib
import logging
import os
import pkgutil
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message, Update
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import handlers
from bot.models import Base, Library, Reader, Role, RoleGrant
from sandbox.core import SandboxError
from tests.conftest import ADMIN_TELEGRAM_ID, HarnessFactory
from tests.harness import BotHarness, ChatUser
from tests.search_chat.conftest import build_catalogue

# Examples per fuzz test; raise it for a deeper run (BOOKBRIDGE_FUZZ_SCALE=20 multiplies by 20).
FUZZ_SCALE = float(os.environ.get("BOOKBRIDGE_FUZZ_SCALE", "1"))


def examples(count: int) -> int:
    """How many examples a fuzz test runs: bounded by default, scalable for a long run."""
    return max(1, int(count * FUZZ_SCALE))


# Columns that change on every update (the middleware records when a reader was last seen).
VOLATILE_COLUMNS = {("readers", "last_seen_at"), ("readers", "updated_at")}
TELEGRAM_ID_BY_ROLE = {
    Role.READER: 7101,
    Role.LIBRARIAN: 7102,
    Role.ORGANISER: 7103,
    Role.ADMIN: ADMIN_TELEGRAM_ID,
}


def _import_feature_modules() -> None:
    for module in pkgutil.iter_modules(handlers.__path__):
        importlib.import_module(f"handlers.{module.name}")
    importlib.import_module("bot.delivery")


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def callback_data_classes() -> list[type[CallbackData]]:
    """Every CallbackData subclass the bot defines (handlers and bot packages)."""
    _import_feature_modules()
    found = {
        cls
        for cls in _subclasses(CallbackData)
        if cls.__module__.startswith(("handlers.", "bot."))
        and "__pydantic_generic" not in vars(cls)
    }
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def guarded_callback_classes() -> dict[type[CallbackData], Role]:
    """Callback data that declares the role its handler needs (``required_role``)."""
    return {
        cls: role
        for cls in callback_data_classes()
        if isinstance(role := getattr(cls, "required_role", None), Role) and role is not Role.READER
    }


def all_states() -> list[State]:
    """Every FSM state of every StatesGroup the handlers define."""
    _import_feature_modules()
    groups = {
        group for group in _subclasses(StatesGroup) if group.__module__.startswith("handlers.")
    }
    return sorted(
        (state for group in groups for state in group.__states__),
        key=lambda state: state.state or "",
    )


def lesser_roles(needed: Role) -> list[Role]:
    """The roles (reader included) that do not grant ``needed``."""
    return [role for role in (Role.READER, Role.LIBRARIAN, Role.ORGANISER) if role is not needed]


# --- strategies -------------------------------------------------------------------------

# Any Unicode a client can send: astral planes, combining marks, RTL, controls, NUL.
unicode_text = st.text(st.characters(codec="utf-8"), max_size=200)
huge_text = st.builds(
    lambda chunk, times: (chunk * times)[:4096],
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=8),
    st.integers(min_value=200, max_value=4096),
)
tricky_text = st.sampled_from(
    [
        "<b>",
        "</i>&amp;<a href='x'>",
        "%s %d {0} {name}",
        "' OR 1=1 --",
        "\u202e\u200f\u0000\ufeff",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀👩‍👩‍👧",
        "红楼梦 hongloumeng 978-7-02-000220-7",
        "@",
        "@" * 40,
        "9" * 40,
        "-1",
        "0",
        "/",
        "//start",
        "https://example.org/" + "a" * 400,
    ]
)
any_text = st.one_of(unicode_text, huge_text, tricky_text)


def _field_strategy(annotation: Any) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_field_strategy(arg) for arg in typing.get_args(annotation)))
    if annotation is type(None):
        return st.none()
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return st.sampled_from(list(annotation))
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.one_of(
            st.integers(min_value=-3, max_value=40),
            st.integers(min_value=-(2**63), max_value=2**63),
        )
    if annotation is float:
        return st.floats(allow_nan=True, allow_infinity=True)
    return st.text(st.characters(codec="utf-8", exclude_characters=":"), max_size=24)


def callback_instances(cls: type[CallbackData]) -> st.SearchStrategy[str]:
    """Packed callback data of this class with random field values (within 64 bytes)."""
    fields = {name: _field_strategy(info.annotation) for name, info in cls.model_fields.items()}

    def pack(values: dict[str, Any]) -> str | None:
        try:
            packed = cls(**values).pack()
        except ValueError:
            return None
        return packed if len(packed.encode()) <= 64 else None

    return st.fixed_dictionaries(fields).map(pack).filter(lambda packed: packed is not None)  # type: ignore[return-value]


def raw_callback_data() -> st.SearchStrategy[str]:
    """Callback data no button carries: junk, and known prefixes with junk after them."""
    prefixes = sorted({cls.__prefix__ for cls in callback_data_classes()})
    junk = st.text(st.characters(codec="utf-8"), min_size=1, max_size=64)
    prefixed = st.builds(
        lambda prefix, rest: f"{prefix}:{rest}", st.sampled_from(prefixes), junk | st.just("")
    )
    return st.one_of(junk, prefixed).filter(lambda data: 0 < len(data.encode()) <= 64)


# --- the world --------------------------------------------------------------------------


@dataclass
class World:
    """The harness, one person per role, and the database."""

    harness: BotHarness
    sessionmaker: async_sessionmaker[AsyncSession]
    people: dict[Role, ChatUser]
    # Started the bot but never finished onboarding.
    stranger: ChatUser
    errors: list[logging.LogRecord]

    def __repr__(self) -> str:
        return "World(reader, librarian, organiser, admin, stranger)"

    async def send(self, user: ChatUser, text: str) -> list[Message] | None:
        """Send text as Telegram would: the bot's replies (None if Telegram would not send it)."""
        try:
            update = self.harness.sandbox.send_text(user.user_id, text)
        except SandboxError:
            return None
        return await self._feed(user, update)

    async def forge(self, user: ChatUser, data: str) -> tuple[dict[str, Any] | None, list[Message]]:
        """Press a button carrying ``data`` on the user's newest bot message: answer, replies."""
        update = self.harness.sandbox.forge_callback(user.user_id, data)
        replies = await self._feed(user, update)
        assert update.callback_query is not None
        return self.harness.sandbox.callback_answer(update.callback_query.id), replies

    async def _feed(self, user: ChatUser, update: Update) -> list[Message]:
        await self.harness.feed(update)
        return user.new_bot_messages()

    async def set_state(self, user: ChatUser, state: State | None) -> None:
        """Put the user in an FSM state directly (as a stale or expired dialog would)."""
        context = self.harness.app.dispatcher.fsm.get_context(
            self.harness.bot, chat_id=user.user_id, user_id=user.user_id
        )
        await context.clear()
        await context.set_state(state)

    def assert_no_errors(self, what: object) -> None:
        """No handler failed (the error router logs every failure before apologising)."""
        if self.errors:
            record = self.errors[0]
            self.errors.clear()
            cause = record.exc_info[1] if record.exc_info else None
            raise AssertionError(
                f"{what!r} made a handler fail: {record.getMessage()} ({cause!r})"
            ) from cause

    async def counts(self) -> dict[str, int]:
        """Rows per table."""
        async with self.sessionmaker() as session:
            return {
                table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
                for table in Base.metadata.sorted_tables
            }

    async def snapshot(self) -> dict[str, list[str]]:
        """Every row of every table (volatile columns left out), to compare before and after."""
        async with self.sessionmaker() as session:
            result: dict[str, list[str]] = {}
            for table in Base.metadata.sorted_tables:
                columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE_COLUMNS]
                rows = await session.execute(select(*columns))
                result[table.name] = sorted(repr(tuple(row)) for row in rows)
            return result


class _ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def error_records() -> Iterator[list[logging.LogRecord]]:
    """ERROR records from any logger while the test runs."""
    collector = _ErrorCollector()
    logging.getLogger().addHandler(collector)
    try:
        yield collector.records
    finally:
        logging.getLogger().removeHandler(collector)


async def _grant(session: AsyncSession, telegram_id: int, role: Role, library: Library) -> None:
    reader = await session.scalar(select(Reader).where(Reader.telegram_id == telegram_id))
    assert reader is not None
    bound = library.id if role in (Role.LIBRARIAN, Role.ORGANISER) else None
    session.add(RoleGrant(reader_id=reader.id, role=role, library_id=bound))


@pytest.fixture
async def world(
    harness_factory: HarnessFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    error_records: list[logging.LogRecord],
) -> World:
    """An indexed catalogue and an onboarded reader, librarian, organiser and admin."""
    harness = await harness_factory(throttle_burst=1_000_000)
    catalogue = await build_catalogue(harness)
    people = {}
    for role, telegram_id in TELEGRAM_ID_BY_ROLE.items():
        person = harness.user(
            telegram_id, role.value.title(), username=f"{role.value}_{telegram_id}"
        )
        await person.onboard()
        people[role] = person
    async with sessionmaker() as session:
        for role in (Role.LIBRARIAN, Role.ORGANISER):
            await _grant(session, TELEGRAM_ID_BY_ROLE[role], role, catalogue.city)
        await session.commit()
    stranger = harness.user(7199, "Stranger")
    await stranger.send("/start")
    world = World(harness, sessionmaker, people, stranger, error_records)
    world.assert_no_errors("setting up")
    return world
