"""Callback data of the search buttons (all ids are re-checked against the reader who taps)."""

from __future__ import annotations

from typing import Self

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton

from bot.services.search.query import KindFilter, LanguageFilter, SearchFilters
from bot.services.search.results import SearchPage


def _without_subject(cls: type[CallbackData], value: str) -> str:
    """A button sent before the subject filter (its last field) existed reads as any subject."""
    if value.count(cls.__separator__) == len(cls.model_fields) - 1:
        return value + cls.__separator__
    return value


class ResultsPage(CallbackData, prefix="sr"):
    """A page of one of the reader's logged searches, with its filters."""

    search_id: int
    page: int
    available: bool = False
    language: LanguageFilter = LanguageFilter.ANY
    kind: KindFilter = KindFilter.ANY
    author: bool = False
    subject: str = ""

    @classmethod
    def unpack(cls, value: str) -> Self:
        return super().unpack(_without_subject(cls, value))

    @property
    def filters(self) -> SearchFilters:
        return SearchFilters(
            available=self.available, language=self.language, kind=self.kind, subject=self.subject
        )

    @classmethod
    def of(cls, results: SearchPage, *, page: int, filters: SearchFilters) -> ResultsPage:
        """A button target for another page or other filters of the same search."""
        return cls(
            search_id=results.search_id,
            page=page,
            available=filters.available,
            language=filters.language,
            kind=filters.kind,
            author=results.author,
            subject=filters.subject,
        )


class WorkOpen(CallbackData, prefix="wk"):
    """Open a work's card; the rest says which results page "Back" returns to (0: none)."""

    work_id: int
    search_id: int = 0
    page: int = 0
    available: bool = False
    language: LanguageFilter = LanguageFilter.ANY
    kind: KindFilter = KindFilter.ANY
    author: bool = False
    subject: str = ""

    @classmethod
    def unpack(cls, value: str) -> Self:
        return super().unpack(_without_subject(cls, value))

    def back(self) -> ResultsPage | None:
        """Where "Back to results" goes, if the card was opened from results."""
        if not self.search_id:
            return None
        return ResultsPage(
            search_id=self.search_id,
            page=self.page,
            available=self.available,
            language=self.language,
            kind=self.kind,
            author=self.author,
            subject=self.subject,
        )


class AuthorWorks(CallbackData, prefix="au"):
    """More by the first author of a work."""

    work_id: int


class DidYouMean(CallbackData, prefix="dy"):
    """Search for the index's correction of a logged search."""

    search_id: int


class SuggestPurchase(CallbackData, prefix="ps"):
    """Suggest for purchase what a logged search did not find."""

    search_id: int


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    """An inline button (plain-text label) carrying the callback data."""
    return InlineKeyboardButton(text=text, callback_data=data.pack())
