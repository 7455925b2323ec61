"""PNG bar charts with matplotlib's Agg backend: blocking, so call them in a thread."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from functools import lru_cache

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Fonts that can draw Chinese, in the order they are preferred when installed.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
MAX_BARS = 40


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first installed font able to draw Chinese, if any."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def can_draw_chinese() -> bool:
    """Whether chart labels may be in Chinese (a CJK font is installed)."""
    return cjk_font() is not None


def label_language(language: str) -> str:
    """The language chart labels can be drawn in: Chinese needs a CJK font, else English."""
    return "en" if language == "zh" and not can_draw_chinese() else language


def grouped_bar_chart(
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    ylabel: str = "",
) -> bytes:
    """A PNG: one group of bars per category, one bar per series (at most MAX_BARS groups)."""
    categories = list(categories)[:MAX_BARS]
    font = cjk_font()
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
    if font is not None:
        texts = [axes.title, axes.yaxis.label, *axes.get_xticklabels()]
        texts += legend.get_texts() if legend is not None else []
        for text in texts:
            text.set_fontfamily([font, "DejaVu Sans"])
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()
