"""The evaluation report as PNG pages: a table of every member's figures, then a chart.

Blocking (matplotlib): run it in a thread. ``words`` are the translated headings, drawn in
Chinese only when a CJK font is installed (the caller picks the language).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from bot.services import charts
from bot.services.bookstores.evaluation import Evaluation, LibraryEvaluation

ROWS_PER_PAGE = 12
HEADINGS = (
    "library",
    "lent",
    "events",
    "attended",
    "reached",
    "suggestions",
    "vouchers",
    "spend",
    "wait",
    "rating",
)


def _cells(row: LibraryEvaluation, language: str) -> list[str]:
    rating = "—" if row.rating is None else f"{row.rating:.1f} ({row.feedback})"
    wait = "—" if row.hold_to_ready_hours is None else f"{row.hold_to_ready_hours:.0f}"
    library = row.library
    # An English page draws no Chinese (there may be no font for it): the code alone then.
    name = library.display_name(language) if language != "en" or library.name_en else ""
    return [
        f"{library.code} {name}".strip()[:34],
        str(row.filled_for_others),
        str(row.events),
        str(row.attended),
        str(row.reached_under_reached),
        str(row.suggestions),
        str(row.vouchers),
        f"{row.voucher_spend / 100:,.2f}",
        wait,
        rating,
    ]


def _fonts(figure: Figure) -> None:
    font = charts.cjk_font()
    if font is not None:
        for text in figure.findobj(match=Text):
            if isinstance(text, Text):
                text.set_fontfamily([font, charts.FALLBACK_FONT])


def table_page(
    rows: Sequence[LibraryEvaluation], title: str, words: Mapping[str, str], language: str
) -> bytes:
    """One page of the table (at most ROWS_PER_PAGE libraries)."""
    figure = Figure(figsize=(13, 1.2 + 0.3 * max(1, len(rows))))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.axis("off")
    axes.set_title(title, loc="left", fontsize=12)
    table = axes.table(
        cellText=[_cells(row, language) for row in rows] or [["—"] * len(HEADINGS)],
        colLabels=[textwrap.fill(words[name], 13) for name in HEADINGS],
        loc="upper left",
        cellLoc="center",
        colWidths=[0.27] + [0.081] * (len(HEADINGS) - 1),
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1, 1.4)
    for column in range(len(HEADINGS)):
        heading = table[0, column]
        heading.set_height(heading.get_height() * 1.8)
        heading.set_facecolor("#e8eef6")
    _fonts(figure)
    figure.tight_layout()
    return charts.png(figure, dpi=100)


def pages(evaluation: Evaluation, words: Mapping[str, str], language: str) -> list[bytes]:
    """The table pages, then a chart of what each member did for the alliance."""
    rows = evaluation.libraries
    chunks = [rows[i : i + ROWS_PER_PAGE] for i in range(0, len(rows), ROWS_PER_PAGE)] or [[]]
    rendered = [
        table_page(
            chunk,
            f"{words['title']} · {evaluation.period.label} · {number}/{len(chunks)}",
            words,
            language,
        )
        for number, chunk in enumerate(chunks, start=1)
    ]
    if rows:
        rendered.append(
            charts.grouped_bar_chart(
                f"{words['title']} · {evaluation.period.label}",
                [row.library.code for row in rows],
                {
                    words["lent"]: [row.filled_for_others for row in rows],
                    words["attended"]: [row.attended for row in rows],
                    words["reached"]: [row.reached_under_reached for row in rows],
                    words["vouchers"]: [row.vouchers for row in rows],
                },
            )
        )
    return rendered
