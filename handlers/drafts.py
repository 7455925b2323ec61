"""Typed wizard drafts: a wizard's answers so far, validated whenever they are read back.

A wizard keeps one ``Draft`` in the FSM data under its own key. ``load`` raises
``FormExpired`` when the answers are gone (the FSM state can outlive its data in Redis, or a
button from an old form is pressed) or no longer fit the model; the error router answers
that the form expired, names the command that starts it again, and leaves the wizard. So a
step never has to check for missing answers itself.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from aiogram.fsm.context import FSMContext
from pydantic import BaseModel, ConfigDict, ValidationError


class FormExpired(Exception):
    """A wizard step found its draft gone or unreadable; ``command`` starts it again."""

    def __init__(self, command: str) -> None:
        super().__init__(f"the form of {command} expired")
        self.command = command


class Draft(BaseModel):
    """Base of every wizard draft: subclasses set ``key`` and ``command``."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # The FSM data key the draft is stored under, and the command that starts the wizard.
    key: ClassVar[str]
    command: ClassVar[str]

    @classmethod
    async def load(cls, state: FSMContext) -> Self:
        """The draft as stored; raises ``FormExpired`` when it is gone or malformed."""
        raw: Any = (await state.get_data()).get(cls.key)
        if not isinstance(raw, dict):
            raise FormExpired(cls.command)
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise FormExpired(cls.command) from exc

    async def save(self, state: FSMContext) -> None:
        """Store the draft (JSON-safe, so it survives Redis)."""
        await state.update_data({self.key: self.model_dump(mode="json")})

    @classmethod
    async def discard(cls, state: FSMContext) -> None:
        """Forget the draft (the wizard's state is the caller's to clear)."""
        data = await state.get_data()
        data.pop(cls.key, None)
        await state.set_data(data)
