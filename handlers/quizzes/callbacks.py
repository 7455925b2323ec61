"""The callback data of quiz buttons (answers and certificates: ``bot.notices.quizzes``)."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData

from bot.models import DbInt


class ContestAction(enum.StrEnum):
    """What a reader does in /contests."""

    LIST = "l"
    OPEN = "o"
    JOIN = "j"
    NEXT = "n"
    RESULTS = "r"


class ContestData(CallbackData, prefix="qz"):
    """One action on a quiz (``quiz_id`` 0 for the list)."""

    action: ContestAction
    quiz_id: DbInt = 0


class ManageAction(enum.StrEnum):
    """What an organiser does in /myquizzes."""

    ASK_CANCEL = "a"
    CANCEL = "c"
    KEEP = "k"


class QuizManage(CallbackData, prefix="qm"):
    """One organiser action on a quiz."""

    action: ManageAction
    quiz_id: DbInt


class BuildAction(enum.StrEnum):
    """The buttons of the /newquiz form."""

    LIVE = "l"
    WINDOW = "w"
    PUBLISH = "p"


class QuizBuild(CallbackData, prefix="qb"):
    """A choice in the /newquiz form."""

    action: BuildAction
