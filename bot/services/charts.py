"""PNG charts for /stats and /reach with matplotlib's Agg backend: blocking, so run them in a
thread.

Chinese labels need a CJK font. matplotlib builds its font list once and caches it on disk,
so a font installed afterwards (``make test`` installs fonts-noto-cjk after the first run)
stays unknown to it; ``CjkFonts`` finds such font files and registers them with the font
manager.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from bot.services.reach import ReachReport

logger = logging.getLogger(__name__)

# Fonts that can draw Chinese, in the order they are preferred when installed.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Serif CJK SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
# Font files that can draw Chinese, by their file names.
CJK_FILE = re.compile(
    r"cjk|sourcehan|wqy|wenquanyi|droidsansfallback|uming|ukai|simhei|msyh|pingfang"
    r"|notosanssc|notoserifsc",
    re.IGNORECASE,
)
# Without a CJK font, look again this often (a font may be installed while the bot runs).
RESCAN_S = 300.0
MAX_BARS = 40
FALLBACK_FONT = "DejaVu Sans"


class CjkFonts:
    """The font family charts draw Chinese with, registering font files matplotlib missed."""

    def __init__(
        self, *, rescan_s: float = RESCAN_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rescan_s = rescan_s
        self.clock = clock
        self.found: str | None = None
        self.scanned_at: float | None = None
        self.lock = threading.Lock()

    def family(self) -> str | None:
        """The first installed family able to draw Chinese, if any."""
        with self.lock:
            stale = self.scanned_at is None or self.clock() - self.scanned_at >= self.rescan_s
            if self.found is None and stale:
                self.scanned_at = self.clock()
                self.found = self._known() or self._register_files()
            return self.found

    @staticmethod
    def _known() -> str | None:
        installed = {font.name for font in font_manager.fontManager.ttflist}
        return next((name for name in CJK_FONTS if name in installed), None)

    def _register_files(self) -> str | None:
        manager = font_manager.fontManager
        known = {font.fname for font in manager.ttflist}
        for path in font_manager.findSystemFonts():
            if path in known or not CJK_FILE.search(Path(path).name):
                continue
            try:
                manager.addfont(path)
            except (OSError, RuntimeError, ValueError) as exc:
                logger.warning("cannot read the font %s: %s", path, exc)
        return self._known()


CJK = CjkFonts()


def cjk_font() -> str | None:
    """The font family that draws Chinese on charts, if one is installed."""
    return CJK.family()


def can_draw_chinese() -> bool:
    """Whether chart labels may be in Chinese (a CJK font is installed)."""
    return cjk_font() is not None


def label_language(language: str) -> str:
    """The language chart labels can be drawn in: Chinese needs a CJK font, else English.

    It may scan the installed fonts: call it off the event loop.
    """
    return "en" if language == "zh" and not can_draw_chinese() else language


def _use_cjk_font(texts: Iterable[Text]) -> None:
    font = cjk_font()
    if font is not None:
        for text in texts:
            text.set_fontfamily([font, FALLBACK_FONT])


def png(figure: Figure, *, dpi: float = 100) -> bytes:
    """A figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def grouped_bar_figure(
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    ylabel: str = "",
) -> Figure:
    """One group of bars per category, one bar per series (at most MAX_BARS groups)."""
    categories = list(categories)[:MAX_BARS]
    figure = Figure(figsize=(max(6.0, 0.6 * len(categories) * max(1, len(series)) / 2), 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    count = max(1, len(series))
    width = 0.8 / count
    positions = range(len(categories))
    for index, (label, values) in enumerate(series.items()):
        offsets = [p - 0.4 + width * (index + 0.5) for p in positions]
        axes.bar(offsets, list(values)[: len(categories)], width=width, label=label)
    axes.set_xticks(list(positions))
    axes.set_xticklabels(categories, rotation=45 if len(categories) > 6 else 0, ha="right")
    axes.set_title(title)
    if ylabel:
        axes.set_ylabel(ylabel)
    legend = axes.legend(fontsize="small") if series else None
    axes.grid(axis="y", alpha=0.3)
    texts = [axes.title, axes.yaxis.label, *axes.get_xticklabels()]
    _use_cjk_font(texts + (legend.get_texts() if legend is not None else []))
    figure.tight_layout()
    return figure


def grouped_bar_chart(
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    ylabel: str = "",
) -> bytes:
    """The grouped bar chart as PNG."""
    return png(grouped_bar_figure(title, categories, series, ylabel=ylabel), dpi=110)


def reach_figure(
    report: ReachReport, previous: ReachReport | None = None, *, axis_label: str = "index"
) -> Figure:
    """The index per district (under-reached in red), the previous period's as dashes.

    Bars are labelled with district codes and numbers; ``axis_label`` names the index in the
    reader's language, and the caption sent with the chart explains the colours.
    """
    rows = [d for d in report.districts if d.reach_index is not None]
    before = previous.by_district() if previous is not None else {}
    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    positions = list(range(len(rows)))
    values = [d.reach_index or 0.0 for d in rows]
    colours = ["#c0392b" if d.under_reached else "#2e86c1" for d in rows]
    axes.bar(positions, values, color=colours, width=0.6)
    earlier = [
        (position, old.reach_index)
        for position, district in zip(positions, rows, strict=True)
        if (old := before.get(district.district_id)) is not None and old.reach_index is not None
    ]
    if earlier:
        axes.scatter(
            [p for p, _v in earlier], [v for _p, v in earlier], color="#333333", marker="_", s=400
        )
    if report.threshold is not None:
        axes.axhline(report.threshold, color="#c0392b", linestyle="--", linewidth=1)
    axes.axhline(100, color="#888888", linestyle=":", linewidth=1)
    axes.set_xticks(positions, [d.code for d in rows], rotation=30, ha="right")
    _use_cjk_font([axes.set_ylabel(axis_label)])
    axes.set_ylim(0, max([*values, 100.0]) * 1.15)
    for position, value in zip(positions, values, strict=True):
        axes.annotate(f"{value:.0f}", (position, value), ha="center", va="bottom", fontsize=8)
    figure.tight_layout()
    return figure


def reach_chart(
    report: ReachReport, previous: ReachReport | None = None, *, axis_label: str = "index"
) -> bytes:
    """The reach chart as PNG."""
    return png(reach_figure(report, previous, axis_label=axis_label))
