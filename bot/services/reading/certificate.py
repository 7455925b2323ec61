"""The certificate a reader gets for completing a challenge: a PNG in Chinese and English.

Drawing takes tens of milliseconds of CPU: callers run it off the event loop
(``asyncio.to_thread``). Chinese is drawn with a CJK font when one is installed (the same
ones charts look for); without one the image is in English only, and the message that
carries it says the rest in the reader's language.
"""

from __future__ import annotations

import io
from datetime import date

from matplotlib import font_manager
from PIL import Image, ImageDraw, ImageFont

from bot.services.charts import FALLBACK_FONT, cjk_font

WIDTH, HEIGHT = 1200, 850
PAPER = (253, 248, 236)
INK = (60, 44, 30)
ACCENT = (176, 58, 46)


def _font(family: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = font_manager.findfont(family or FALLBACK_FONT, fallback_to_default=True)
    try:
        return ImageFont.truetype(path, size)
    except OSError:
        return ImageFont.load_default()


def _centred(
    draw: ImageDraw.ImageDraw, y: int, text: str, font: object, fill: tuple[int, ...]
) -> None:
    box = draw.textbbox((0, 0), text, font=font)  # type: ignore[arg-type]
    draw.text(((WIDTH - (box[2] - box[0])) / 2, y), text, font=font, fill=fill)  # type: ignore[arg-type]


def certificate_png(
    *,
    name: str,
    title: str,
    title_en: str | None,
    goal: int,
    completed_on: date,
) -> bytes:
    """The certificate as PNG bytes."""
    chinese = cjk_font()
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((30, 30, WIDTH - 30, HEIGHT - 30), outline=ACCENT, width=8)
    draw.rectangle((50, 50, WIDTH - 50, HEIGHT - 50), outline=INK, width=2)
    heading = _font(chinese, 64)
    body = _font(chinese, 40)
    small = _font(FALLBACK_FONT, 30)
    y = 110
    if chinese:
        _centred(draw, y, "阅读挑战证书", heading, ACCENT)
        y += 90
    _centred(draw, y, "Reading Challenge Certificate", _font(FALLBACK_FONT, 48), ACCENT)
    y += 110
    _centred(draw, y, name or "Reader", body, INK)
    y += 80
    if chinese:
        _centred(draw, y, f"完成了「{title}」：读完 {goal} 本书", body, INK)
        y += 70
    english = title_en or (title if not chinese else "")
    line = f'completed "{english}": {goal} books read' if english else f"read {goal} books"
    _centred(draw, y, line, small, INK)
    y += 120
    _centred(draw, y, completed_on.isoformat(), small, INK)
    output = io.BytesIO()
    image.save(output, format="PNG")
    return output.getvalue()
