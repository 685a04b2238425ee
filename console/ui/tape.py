"""Time & sales pane: the newest prints of the active symbol, side-coloured, big sizes emphasised.

Line API: one cached Strip per row keyed by the trade shown on it (trades are immutable
events), so a frame refreshes only rows whose trade changed.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping, Sequence
from typing import Protocol

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from console.model.events import Trade
from console.model.instruments import Instrument
from console.ui.market_view import MarketView
from console.ui.palette import Palette

BIG_SIZE = 3.0
"""A print this many times the recent median size is shown bold."""
HUGE_SIZE = 10.0
"""... and this many times, in reverse video: a block worth noticing from across the room."""
MEDIAN_OF = 200
"""How many recent prints the median size is taken over."""
REPAINT_EVERY_S = 0.1
"""A busy tape scrolls every row each repaint; faster than this nobody can read it and it
costs terminal bytes (SSH), so the pane repaints at most ten times a second."""


class TapeSource(Protocol):
    """What the pane reads from one symbol's trade tape (the hub's `TradeTape`)."""

    @property
    def version(self) -> int: ...

    def latest(self, n: int) -> list[Trade]: ...


def size_weight(size: float, median: float) -> int:
    """0 normal, 1 big, 2 huge, relative to the recent median print size."""
    if median <= 0:
        return 0
    ratio = size / median
    return 2 if ratio >= HUGE_SIZE else (1 if ratio >= BIG_SIZE else 0)


def fmt_size(size: float, qdec: int) -> str:
    return f"{size:,.{qdec}f}" if size < 1e6 else f"{size / 1e6:,.2f}M"


class _Clock:
    """HH:MM:SS of a nanosecond time, formatted once per second rather than per print."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def __call__(self, ts_ns: int) -> str:
        second, ms = divmod(ts_ns // 1_000_000, 1000)
        if second != self._second:
            self._second = second
            self._text = time.strftime("%H:%M:%S", time.gmtime(second))
        return f"{self._text}.{ms:03d}"


class TapePane(Widget, can_focus=True):
    """Newest print on top: time, price, size and aggressor side of the charted symbol."""

    DEFAULT_CSS = """
    TapePane { width: 38; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.symbol = ""
        self._palette: Palette | None = None
        self._version = -1
        self._trades: list[Trade] = []
        self._keys: list[object] = []
        self._strips: list[Strip] = []
        self._header: Strip | None = None
        self._painted_size = (0, 0)
        self._clock = _Clock()
        self._painted_at = 0.0
        self._instrument: Instrument | None = None

    def set_palette(self, palette: Palette) -> None:
        self._palette = palette
        self._invalidate()

    def show(self, symbol: str) -> None:
        """Follow `symbol` (the pump calls this with the charted symbol)."""
        if symbol != self.symbol:
            self.symbol = symbol
            self.border_title = f"Tape · {symbol}" if symbol else "Tape"
            self._invalidate()

    def _invalidate(self) -> None:
        self._version = -1
        self._keys = []
        self._strips = []
        self._header = None
        self.refresh()

    @property
    def rows(self) -> int:
        """Trades that fit under the header."""
        return max(self.size.height - 1, 0)

    def sync(self, view: MarketView) -> bool:
        """Rebuild rows whose trade changed since the last frame; True if any did."""
        if self._palette is None or not self.symbol or not self.display:
            return False
        tapes: Mapping[str, TapeSource] | None = getattr(view, "tape", None)
        tape = tapes.get(self.symbol) if tapes is not None else None
        if tape is None:
            return False
        size = (self.size.width, self.size.height)
        if size != self._painted_size:
            self._painted_size = size
            self._invalidate()
        if tape.version == self._version:
            return False
        now = time.monotonic()
        if self._version >= 0 and now - self._painted_at < REPAINT_EVERY_S:
            return False
        self._painted_at = now
        self._version = tape.version
        self._instrument = view.instruments.get(self.symbol)
        self._trades = tape.latest(max(self.rows, MEDIAN_OF))
        return self._rebuild(self._trades[: self.rows])

    def _rebuild(self, shown: Sequence[Trade]) -> bool:
        median = statistics.median(t.size for t in self._trades) if self._trades else 0.0
        if len(self._keys) != self.rows:
            self._keys = [None] * self.rows
            self._strips = [Strip.blank(self.size.width)] * self.rows
        changed = False
        for i in range(self.rows):
            trade = shown[i] if i < len(shown) else None
            weight = size_weight(trade.size, median) if trade is not None else 0
            key = (id(trade), weight) if trade is not None else None
            if key == self._keys[i]:
                continue
            self._keys[i] = key
            self._strips[i] = self._line(trade, weight)
            self.refresh(Region(0, i + 1, self.size.width, 1))
            changed = True
        return changed

    def _line(self, trade: Trade | None, weight: int) -> Strip:
        assert self._palette is not None
        palette = self._palette
        width = self.size.width
        if trade is None:
            return Strip.blank(width, palette.base)
        inst = self._instrument
        pdec = inst.pdec if inst is not None else 2
        qdec = inst.qdec if inst is not None else 4
        role = "bid" if trade.side == "buy" else ("ask" if trade.side == "sell" else "text")
        style = palette.style(role)
        size_style = style
        if weight == 1:
            size_style = style + Style(bold=True)
        elif weight == 2:
            size_style = style + Style(bold=True, reverse=True)
        arrow = "▲" if trade.side == "buy" else ("▼" if trade.side == "sell" else "·")
        segments = [
            Segment(f" {self._clock(trade.ts)} ", palette.style("label")),
            Segment(f"{trade.price:>11,.{pdec}f} ", style),
            Segment(f"{fmt_size(trade.size, qdec):>9}", size_style),
            Segment(f" {arrow}", style),
        ]
        return Strip(segments).adjust_cell_length(width, palette.base)

    def _build_header(self) -> Strip:
        assert self._palette is not None
        text = f" {'Time':<12} {'Price':>11} {'Size':>9}"
        return Strip([Segment(text, self._palette.style("header"))]).adjust_cell_length(
            self.size.width, self._palette.base
        )

    def render_line(self, y: int) -> Strip:
        if self._palette is None:
            return Strip.blank(self.size.width)
        if y == 0:
            if self._header is None:
                self._header = self._build_header()
            return self._header
        if 0 <= y - 1 < len(self._strips):
            return self._strips[y - 1]
        return Strip.blank(self.size.width, self._palette.base)
