"""Candles pane: the selected symbol's OHLCV as one candle per column, Line API.

The frame pump calls `sync`; it reads the newest bars, and only when they differ from the last
frame lays the chart out again and refreshes the lines whose content changed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar, Protocol

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from console.data.provider import TIMEFRAMES
from console.data.sampler import resample
from console.data.studies import STUDIES, FlowSampler, provider_study, rsi, study_close, vwap
from console.ui.candle_render import Run, StudyPanel, layout, price_range
from console.ui.market_view import MarketView
from console.ui.palette import Palette
from console.ui.quotes import fmt_volume
from themes.trading import TRADING_VARIABLES

TIMEFRAME_NAMES: dict[int, str] = {seconds: name for name, seconds in TIMEFRAMES.items()}

ZOOMS: tuple[tuple[int, int], ...] = ((16, 1), (8, 1), (4, 1), (2, 1), (1, 1), (1, 2), (1, 3))
"""Zoom levels as (bars per candle, columns per candle): out by merging bars, in by widening."""
DEFAULT_ZOOM = ZOOMS.index((1, 1))

STUDY_TITLES: dict[str, str] = {"volume": "Vol", "obi": "OBI", "cvd": "CVD", "rsi": "RSI(14)"}

LINE_ROLES: dict[str, str] = {
    "line-buy": "bid",
    "line-sell": "ask",
    "line-stop": "working",
    "line-stop-buy": "working",
    "line-stop-sell": "working",
    "line-position": "fill",
    "line-order": "working",
    "vwap": "fill",
}
"""Chart-only colour roles -> the trading theme variable they take their colour from."""


class OrderLines(Protocol):
    """Where the chart reads working orders, stops and position price for a symbol:
    (price, kind) with kind "buy", "sell", "stop-buy", "stop-sell" or "position"."""

    def __call__(self, symbol: str) -> Sequence[tuple[float, str]]: ...


CHART_BINDINGS: list[BindingType] = [
    *(
        Binding(str(i), f"chart_timeframe({seconds})", name, show=False, id=f"timeframe.{name}")
        for i, (name, seconds) in enumerate(TIMEFRAMES.items(), 1)
    ),
    Binding("less_than_sign", "chart_pan(1)", "Pan back", show=False, id="chart.pan_back"),
    Binding("greater_than_sign", "chart_pan(-1)", "Pan fwd", show=False, id="chart.pan_forward"),
    Binding("end", "chart_live", "Chart live", show=False, id="chart.live"),
    Binding("right_parenthesis", "chart_zoom(1)", "Zoom in", show=False, id="chart.zoom_in"),
    Binding("left_parenthesis", "chart_zoom(-1)", "Zoom out", show=False, id="chart.zoom_out"),
    Binding("y", "chart_autoscale", "Auto-scale", show=False, id="chart.autoscale"),
    Binding("v", "chart_vwap", "VWAP", show=False, id="chart.vwap"),
    Binding("i", "chart_study", "Study", id="chart.study"),
]
"""Chart keys the app lists among its bindings (ids remappable from config `[keys]`)."""


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
    """The newest candle's numbers for the chart's top row: O H L C and volume."""
    o, h, lo, c = (f"{float(bar[k]):.{decimals}f}" for k in ("open", "high", "low", "close"))
    return f"O {o}  H {h}  L {lo}  C {c}  V {fmt_volume(float(bar['volume']))}"


class CandlesPane(Widget):
    """A candle chart with price axis, a lower study (volume by default) and time axis."""

    DEFAULT_CSS = """
    CandlesPane { height: 1fr; min-height: 8; }
    """

    can_focus = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "pan(1)", "Pan back", show=False, id="chart.focus.pan_back"),
        Binding("right", "pan(-1)", "Pan fwd", show=False, id="chart.focus.pan_forward"),
        Binding("up", "zoom(1)", "Zoom in", show=False, id="chart.focus.zoom_in"),
        Binding("down", "zoom(-1)", "Zoom out", show=False, id="chart.focus.zoom_out"),
    ]

    PAN_FRACTION = 4
    """A pan key moves the chart by a quarter of the candles on screen."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.symbol = ""
        self.timeframe_s = 1
        self.back = 0  # candles back from the newest; 0 follows the market
        self.zoom = DEFAULT_ZOOM
        self.autoscale = True
        self.show_vwap = False
        self.study = "volume"
        self.line_source: OrderLines | None = None
        self.flow = FlowSampler()
        self._span: tuple[float, float] | None = None  # frozen price scale (autoscale off)
        self._palette: Palette | None = None
        self._styles: dict[str, Style] = {}
        self._bars: np.ndarray | None = None
        self._key: tuple[Any, ...] = ()
        self._rows: list[list[Run]] = []
        self._strips: list[Strip] = []
        self._shape = (0, 0)
        self._decimals = 2
        self._shown = 0
        self._available = 0
        self._sampled_s = 0
        self._seeks = 0
        self._provider_rows: dict[tuple[str, int], Mapping[str, np.ndarray]] = {}

    def set_palette(self, palette: Palette) -> None:
        self._palette = palette
        try:
            variables = {**TRADING_VARIABLES, **self.app.current_theme.variables}
        except Exception:  # not mounted yet (unit use): the fallbacks are good enough
            variables = dict(TRADING_VARIABLES)
        self._styles = {
            role: palette.base + Style(color=(palette.background + Color.parse(
                variables.get(var, TRADING_VARIABLES[var]))).rich_color)
            for role, var in LINE_ROLES.items()
        }
        self._invalidate()

    def show(self, symbol: str, timeframe_s: int) -> None:
        """Chart another symbol or timeframe from the next frame on."""
        if (symbol, timeframe_s) == (self.symbol, self.timeframe_s):
            return
        self.symbol, self.timeframe_s = symbol, timeframe_s
        self.back = 0
        self._span = None
        self._retitle()
        self._invalidate()

    def _retitle(self) -> None:
        bars_per, _ = ZOOMS[self.zoom]
        tf = TIMEFRAME_NAMES.get(self.timeframe_s, f"{self.timeframe_s}s")
        parts = [f"{self.symbol} · {tf}"]
        if bars_per > 1:
            parts.append(f"×{bars_per}")
        if self.back:
            parts.append(f"◀ {self.back}")
        if not self.autoscale:
            parts.append("fixed scale")
        if self.show_vwap:
            parts.append("VWAP")
        parts.append(STUDY_TITLES[self.study])
        self.border_title = " · ".join(parts)

    def _invalidate(self) -> None:
        self._bars = None
        self._key = ()
        self._rows = []
        self._strips = []
        self.refresh()

    # -- view controls (keys call these through the app) --------------------------------------

    def pan(self, direction: int) -> None:
        """Scroll back (+1) or forward (-1) by a fraction of the candles on screen."""
        step = max(self._shown // self.PAN_FRACTION, 1) * ZOOMS[self.zoom][0]
        most = max(self._available - 1, 0)
        self.back = min(max(self.back + direction * step, 0), most)
        self._retitle()
        self._key = ()

    def action_pan(self, direction: int) -> None:
        self.pan(direction)

    def action_zoom(self, step: int) -> None:
        self.zoom_by(step)

    def go_live(self) -> None:
        self.back = 0
        self._retitle()
        self._key = ()

    def zoom_by(self, step: int) -> None:
        self.zoom = min(max(self.zoom + step, 0), len(ZOOMS) - 1)
        self._retitle()
        self._key = ()

    def toggle_autoscale(self) -> None:
        """Off freezes the price scale where it is (to watch a level); on fits the candles."""
        self.autoscale = not self.autoscale
        self._span = None
        self._retitle()
        self._key = ()

    def toggle_vwap(self) -> None:
        self.show_vwap = not self.show_vwap
        self._retitle()
        self._key = ()

    def set_study(self, name: str | None = None) -> None:
        """Show study `name` beneath the candles, or the next one in `STUDIES` when None."""
        if name is None:
            name = STUDIES[(STUDIES.index(self.study) + 1) % len(STUDIES)]
        if name not in STUDIES:
            raise ValueError(f"unknown study {name!r}; choose one of {', '.join(STUDIES)}")
        self.study = name
        self._retitle()
        self._key = ()

    @property
    def candle_count(self) -> int:
        """Candles on screen (for tests and the status line)."""
        return self._shown

    @property
    def bars_shown(self) -> np.ndarray | None:
        """The bars laid out in the last frame (newest last), for tests."""
        return self._bars

    # -- the frame -------------------------------------------------------------------------------

    def _sample_flow(self, view: MarketView) -> None:
        """Feeds book imbalance and signed volume of the charted symbol, once per frame."""
        seeks = int(getattr(view, "seeks", 0))
        if seeks != self._seeks:
            self._seeks = seeks
            self.flow.reset()
        books = getattr(view, "books", None)
        tapes = getattr(view, "tape", None)
        book = books.get(self.symbol) if isinstance(books, Mapping) else None
        tape = tapes.get(self.symbol) if isinstance(tapes, Mapping) else None
        market_ns = int(getattr(view, "market_ns", 0) or 0)
        now_s = market_ns // 1_000_000_000 if market_ns else int(time.time())
        self.flow.sample(self.symbol, book, tape, now_s)

    def _study_values(self, view: MarketView, bars: np.ndarray, tf: int) -> StudyPanel | None:
        name = self.study
        if name == "volume":
            return None
        times = bars["time"].astype(np.int64)
        if name == "rsi":
            return StudyPanel("RSI", rsi(bars["close"]), 0.0, 100.0, 1)
        key = (self.symbol, tf)
        rows = self._provider_rows.get(key)
        if rows is None:
            # Computed from whole files: once per symbol and timeframe, not once per frame.
            rows = self._provider_rows[key] = provider_study(
                getattr(view, "module", None), self.symbol, tf
            )
        if name == "obi":
            values = (
                study_close(rows["obi_norm"], times)
                if "obi_norm" in rows
                else self.flow.obi_per_bar(self.symbol, times, tf)
            )
            return StudyPanel("OBI", values, -1.0, 1.0, 2)
        if "cvd" in rows:
            values = study_close(rows["cvd"], times)
        else:
            values = self.flow.cvd_per_bar(self.symbol, times, tf)
        return StudyPanel("CVD", values, math.nan, math.nan, self._decimals_qty(view))

    def _decimals_qty(self, view: MarketView) -> int:
        instrument = view.instruments.get(self.symbol)
        return int(getattr(instrument, "qdec", 2)) if instrument is not None else 2

    def _order_lines(self) -> Sequence[tuple[float, str]]:
        source = self.line_source
        if source is None:
            # The app's trading session, where there is one, knows the working orders.
            session = getattr(self.app, "trading", None) or getattr(self.app, "session", None)
            source = getattr(session, "working_order_lines", None) or getattr(
                self.app, "working_order_lines", None
            )
        if not callable(source):
            return ()
        try:
            return list(source(self.symbol))
        except Exception:  # a broken source must not take the chart down
            return ()

    def sync(self, view: MarketView) -> bool:
        """Re-lay the chart if its bars, lines or size changed; True if any line was refreshed."""
        if self._palette is None or not self.symbol:
            return False
        width, height = self.size
        if width <= 0 or height <= 0:
            return False
        self._sample_flow(view)
        bars_per, spacing = ZOOMS[self.zoom]
        tf = self.timeframe_s * bars_per
        want = width // spacing + 1
        # VWAP and RSI need more than the visible bars to be settled at the left edge.
        extra = want if (self.show_vwap or self.study == "rsi") else 0
        raw = recent_bars(view, self.symbol, self.timeframe_s, (want + extra) * bars_per
                          + self.back)
        self._available = len(raw)
        if self.back:
            raw = raw[: max(len(raw) - self.back, 0)]
        bars = resample(raw, tf) if bars_per > 1 and len(raw) else raw
        lines = tuple(self._order_lines())
        key = (width, height, tf, spacing, self.study, self.show_vwap, self.autoscale, lines)
        if (
            key == self._key
            and self._bars is not None
            and len(bars) == len(self._bars)
            and np.array_equal(bars.view(np.uint8), self._bars.view(np.uint8))
        ):
            return False
        shape = (width, height)
        if shape != self._shape:
            self._rows = []
            self._shape = shape
        self._key = key
        instrument = view.instruments.get(self.symbol)
        self._decimals = instrument.pdec if instrument is not None else 2
        self._bars = bars.copy()
        overlay = vwap(bars) if self.show_vwap and len(bars) else None
        study = self._study_values(view, bars, tf) if len(bars) else None
        span = None
        if not self.autoscale:
            if self._span is None:
                self._span = price_range(bars[-max(width // spacing, 1) :])
            span = self._span
        # Row 0 carries the newest candle's numbers: a border subtitle would repaint the whole
        # pane (and resend it over SSH) on every price change; a row repaints one line.
        frame = layout(
            bars, width, height - 1, timeframe_s=tf, decimals=self._decimals, spacing=spacing,
            lines=lines, overlay=overlay, study=study, span=span,
        )
        self._shown = frame.candles
        summary = ohlc_summary(bars[-1], self._decimals) if len(bars) else ""
        rows = [[(summary[: width - 1].rjust(width - 1) + " ", "label")], *frame.rows]
        if len(self._rows) != len(rows):
            self._rows = [[] for _ in rows]
            self._strips = [Strip.blank(width)] * len(rows)
        changed = False
        for y, row in enumerate(rows):
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
        extra = self._styles
        # Layout rows are exactly `width` single-cell glyphs, so the length need not be measured.
        return Strip(
            [Segment(text, extra[role] if role in extra else style(role)) for text, role in row],
            width,
        )

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


def chart_commands(pane: CandlesPane) -> Iterator[SystemCommand]:
    """Command-palette entries for the chart's studies, VWAP, scale and zoom."""
    for name in STUDIES:
        yield SystemCommand(
            f"Study {STUDY_TITLES[name]}",
            f"Show {STUDY_TITLES[name]} beneath the candles",
            partial(pane.set_study, name),
        )
    yield SystemCommand("Toggle VWAP", "Dot the VWAP over the candles", pane.toggle_vwap)
    yield SystemCommand("Toggle auto-scale", "Fit or freeze the price scale",
                        pane.toggle_autoscale)
    yield SystemCommand("Chart live", "Back to the newest candles", pane.go_live)


class ChartActions:
    """The chart key actions; the app mixes this in and lists `CHART_BINDINGS`."""

    @property
    def candles_pane(self) -> CandlesPane:
        raise NotImplementedError

    def chart(self, symbol: str | None = None, timeframe_s: int | None = None) -> None:
        raise NotImplementedError

    def action_chart_timeframe(self, seconds: int) -> None:
        self.chart(timeframe_s=seconds)

    def action_chart_pan(self, direction: int) -> None:
        self.candles_pane.pan(direction)

    def action_chart_live(self) -> None:
        self.candles_pane.go_live()

    def action_chart_zoom(self, step: int) -> None:
        self.candles_pane.zoom_by(step)

    def action_chart_autoscale(self) -> None:
        self.candles_pane.toggle_autoscale()

    def action_chart_vwap(self) -> None:
        self.candles_pane.toggle_vwap()

    def action_chart_study(self) -> None:
        self.candles_pane.set_study()

