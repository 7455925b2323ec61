"""Wizard drafts: read back typed, and a gone or malformed draft is a FormExpired."""

from __future__ import annotations

import pytest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage

from handlers.drafts import Draft, FormExpired


class ShelfDraft(Draft):
    key = "shelf"
    command = "/newshelf"

    title: str
    capacity: int | None = None


def context() -> FSMContext:
    return FSMContext(MemoryStorage(), StorageKey(bot_id=1, chat_id=2, user_id=2))


async def test_a_saved_draft_is_read_back_typed() -> None:
    state = context()
    await ShelfDraft(title="Poetry").save(state)
    draft = await ShelfDraft.load(state)
    draft.capacity = 12
    await draft.save(state)
    assert await ShelfDraft.load(state) == ShelfDraft(title="Poetry", capacity=12)
    await ShelfDraft.discard(state)
    with pytest.raises(FormExpired) as gone:
        await ShelfDraft.load(state)
    assert gone.value.command == "/newshelf"


async def test_a_malformed_draft_is_an_expired_form() -> None:
    state = context()
    await state.update_data(shelf={"title": "Poetry", "capacity": "lots"})
    with pytest.raises(FormExpired):
        await ShelfDraft.load(state)
    await state.update_data(shelf=["not", "a", "draft"])
    with pytest.raises(FormExpired):
        await ShelfDraft.load(state)
