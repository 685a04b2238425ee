"""Candles pane: the selected symbol's OHLCV as one candle per column, Line API.

The frame pump calls `sync`; it reads the newest bars, and only when they differ from the last
frame lays the chart out again and refreshes the lines whose content changed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from rich.segment import Segment
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from console.data.provider import TIMEFRAMES
from console.data.sampler import resample
from console.ui.candle_render import Run, layout
from console.ui.market_view import MarketView
from console.ui.palette import Palette
from console.ui.quotes import fmt_volume

TIMEFRAME_NAMES: dict[int, str] = {seconds: name for name, seconds in TIMEFRAMES.items()}


def recent_bars(view: MarketView, symbol: str, timeframe_s: int, n: int) -> np.ndarray:
    """The newest `n` bars of a symbol, oldest first.

    Where the view exposes its 1 s / 1 m buffers (the FeedHub does), only their tail is read:
    a full day of 1 s rows copied 25 times a second would cost more than everything else.
    """
    base = 60 if timeframe_s % 60 == 0 else 1
    buffers = getattr(view, "bars_1m" if base == 60 else "bars_1s", None)
    if isinstance(buffers, Mapping) and symbol in buffers:
        per = timeframe_s // base
        # One extra bucket's worth of rows, so the oldest derived bar is complete.
        rows: np.ndarray = buffers[symbol].read(n * per + per if per > 1 else n)
        if per == 1:
            return rows
        return resample(rows, timeframe_s)[-n:]
    return view.bars(symbol, timeframe_s)[-n:]


def ohlc_summary(bar: np.void, decimals: int) -> str:
    """The newest candle's numbers for the pane's subtitle: O H L C and volume."""
    o, h, lo, c = (f"{float(bar[k]):.{decimals}f}" for k in ("open", "high", "low", "close"))
    return f"O {o}  H {h}  L {lo}  C {c}  V {fmt_volume(float(bar['volume']))}"


class CandlesPane(Widget):
    """A candle chart with price axis, volume beneath and time axis."""

    DEFAULT_CSS = """
    CandlesPane { height: 1fr; min-height: 8; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.symbol = ""
        self.timeframe_s = 1
        self._palette: Palette | None = None
        self._bars: np.ndarray | None = None
        self._rows: list[list[Run]] = []
        self._strips: list[Strip] = []
        self._shape = (0, 0)
        self._decimals = 2

    def set_palette(self, palette: Palette) -> None:
        self._palette = palette
        self._invalidate()

    def show(self, symbol: str, timeframe_s: int) -> None:
        """Chart another symbol or timeframe from the next frame on."""
        if (symbol, timeframe_s) == (self.symbol, self.timeframe_s):
            return
        self.symbol, self.timeframe_s = symbol, timeframe_s
        self.border_title = f"{symbol} · {TIMEFRAME_NAMES.get(timeframe_s, f'{timeframe_s}s')}"
        self._invalidate()

    def _invalidate(self) -> None:
        self._bars = None
        self._rows = []
        self._strips = []
        self.refresh()

    @property
    def candle_count(self) -> int:
        """Candles on screen (for tests and the status line)."""
        return 0 if self._bars is None else len(self._bars)

    def sync(self, view: MarketView) -> bool:
        """Re-lay the chart if its bars or size changed; True if any line was refreshed."""
        if self._palette is None or not self.symbol:
            return False
        width, height = self.size
        if width <= 0 or height <= 0:
            return False
        bars = recent_bars(view, self.symbol, self.timeframe_s, width)
        shape = (width, height)
        if (
            shape == self._shape
            and self._bars is not None
            and len(bars) == len(self._bars)
            and np.array_equal(bars.view(np.uint8), self._bars.view(np.uint8))
        ):
            return False
        if shape != self._shape:
            self._rows = []
            self._shape = shape
        instrument = view.instruments.get(self.symbol)
        self._decimals = instrument.pdec if instrument is not None else 2
        self._bars = bars.copy()
        frame = layout(bars, width, height, timeframe_s=self.timeframe_s, decimals=self._decimals)
        subtitle = ohlc_summary(bars[-1], self._decimals) if len(bars) else ""
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle
        if len(self._rows) != len(frame.rows):
            self._rows = [[] for _ in frame.rows]
            self._strips = [Strip.blank(width)] * len(frame.rows)
        changed = False
        for y, row in enumerate(frame.rows):
            if row == self._rows[y]:
                continue
            self._rows[y] = row
            self._strips[y] = self._to_strip(row, width)
            self.refresh(Region(0, y, width, 1))
            changed = True
        return changed

    def _to_strip(self, row: list[Run], width: int) -> Strip:
        assert self._palette is not None
        style = self._palette.style
        # Layout rows are exactly `width` single-cell glyphs, so the length need not be measured.
        return Strip([Segment(text, style(role)) for text, role in row], width)

    def render_line(self, y: int) -> Strip:
        if self._palette is None:
            return Strip.blank(self.size.width)
        if 0 <= y < len(self._strips):
            return self._strips[y]
        if y == 0 and not self._strips:
            note = "waiting for bars…" if self.symbol else "pick a symbol (enter)"
            return Strip([Segment(" " + note, self._palette.style("stale"))]).adjust_cell_length(
                self.size.width, self._palette.base
            )
        return Strip.blank(self.size.width, self._palette.base)
