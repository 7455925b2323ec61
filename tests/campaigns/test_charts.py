"""Charts for /stats and /reach: Chinese labels are drawn with a CJK font when one exists."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from matplotlib import font_manager

from bot.services import charts


def _cjk_font_files() -> list[str]:
    return [
        path for path in font_manager.findSystemFonts() if charts.CJK_FILE.search(Path(path).name)
    ]


def test_a_chinese_label_picks_a_cjk_font_installed_after_matplotlib_cached_its_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not _cjk_font_files():
        pytest.skip("no CJK font file on this machine (fonts-noto-cjk is not installed)")
    # As on a fresh machine: matplotlib's cached font list was built before the CJK font
    # was installed, so it knows none of them.
    manager = font_manager.fontManager
    known = [f for f in manager.ttflist if not charts.CJK_FILE.search(Path(f.fname).name)]
    monkeypatch.setattr(manager, "ttflist", known)
    monkeypatch.setattr(charts, "CJK", charts.CjkFonts())

    assert charts.label_language("zh") == "zh"
    figure = charts.grouped_bar_figure("按区", ["A", "B"], {"活跃读者": [3, 1]}, ylabel="人数")
    label = figure.axes[0].yaxis.label
    path = font_manager.findfont(label.get_fontproperties(), fallback_to_default=False)
    assert charts.CJK_FILE.search(Path(path).name), path
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Glyph .* missing from font")
        assert charts.png(figure).startswith(b"\x89PNG")


def test_without_a_cjk_font_labels_fall_back_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    files = _cjk_font_files()
    manager = font_manager.fontManager
    known = [f for f in manager.ttflist if not charts.CJK_FILE.search(Path(f.fname).name)]
    monkeypatch.setattr(manager, "ttflist", known)
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *args, **kwargs: [])
    clock = [0.0]
    fonts = charts.CjkFonts(rescan_s=300, clock=lambda: clock[0])
    monkeypatch.setattr(charts, "CJK", fonts)
    assert charts.label_language("zh") == "en"
    assert charts.label_language("en") == "en"
    # A font installed while the bot runs is found at the next look, not on every chart.
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *args, **kwargs: files)
    assert fonts.family() is None
    clock[0] = 301.0
    assert (fonts.family() is not None) is bool(files)
