"""The delivery worker alone (no handlers imported) can render every campus notice."""

from __future__ import annotations

import subprocess
import sys

CAMPUS_KINDS = (
    "humanlibrary.reminder",
    "humanlibrary.given",
    "humanlibrary.booked",
    "humanlibrary.feedback",
    "quiz.question",
    "quiz.board",
    "quiz.cancelled",
    "volunteer.reminder",
    "contest.consent",
)


def test_rendering_registers_every_campus_kind() -> None:
    program = (
        "import bot.notices.render\n"
        "from bot.notices.intents import known_kinds\n"
        "from bot.notices.registry import _RENDERERS as renderers\n"
        f"kinds = {CAMPUS_KINDS!r}\n"
        "missing = [k for k in kinds if k not in known_kinds() or k not in renderers]\n"
        "print(missing)\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]", found.stdout + found.stderr
