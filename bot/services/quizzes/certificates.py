"""A certificate image for a top place: drawn with matplotlib (call it off the event loop)."""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from bot.services.charts import FALLBACK_FONT, cjk_font, png


@dataclass(frozen=True)
class CertificateText:
    """The lines a certificate shows, already in the reader's language."""

    heading: str
    name: str
    achievement: str
    contest: str
    footer: str


def certificate_png(text: CertificateText) -> bytes:
    """A landscape PNG certificate (Chinese is drawn when a CJK font is installed)."""
    figure = Figure(figsize=(8, 5.6))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_axis_off()
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.add_patch(Rectangle((0.03, 0.04), 0.94, 0.92, fill=False, linewidth=4, color="#8a6d1d"))
    axes.add_patch(Rectangle((0.05, 0.07), 0.90, 0.86, fill=False, linewidth=1, color="#8a6d1d"))
    font = cjk_font()
    family = [font, FALLBACK_FONT] if font else [FALLBACK_FONT]
    lines = (
        (0.80, text.heading, 30, "bold"),
        (0.60, text.name, 26, "bold"),
        (0.46, text.achievement, 16, "normal"),
        (0.36, text.contest, 16, "normal"),
        (0.16, text.footer, 11, "normal"),
    )
    for y, value, size, weight in lines:
        axes.text(
            0.5,
            y,
            value,
            ha="center",
            va="center",
            fontsize=size,
            fontweight=weight,
            fontfamily=family,
            wrap=True,
        )
    return png(figure, dpi=120)
