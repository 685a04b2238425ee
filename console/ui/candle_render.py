"""Pure candle-chart layout: OHLCV rows to glyph rows with colour roles, one candle per column.

No Textual here, so the glyph choice and axes are unit-tested on small arrays; the candles
pane only turns the roles into theme styles.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

EMPTY, WICK, BODY = 0, 1, 2
"""What occupies one half of a cell (upper or lower)."""

GLYPHS: tuple[str, ...] = (" ", "╷", "╻", "╵", "│", "╽", "╹", "╿", "┃")
"""Glyph for a cell, indexed by `upper * 3 + lower` with halves EMPTY/WICK/BODY.

Splitting each cell into two halves doubles the vertical resolution while staying inside
box-drawing glyphs that every terminal font has.
"""

VOLUME_GLYPHS = " ▁▂▃▄▅▆▇█"
"""Eighth blocks for volume bars, index = filled eighths."""

_NICE_STEPS_S = (
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200,
    86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400,
)  # fmt: skip

Run = tuple[str, str]
"""A stretch of text and the colour role it is painted with."""


@dataclass(slots=True)
class CandleFrame:
    """One laid-out chart: `rows[y]` is a list of runs covering the full width."""

    width: int
    height: int
    rows: list[list[Run]] = field(default_factory=list)
    lo: float = math.nan
    hi: float = math.nan


def glyph_for(upper: int, lower: int) -> str:
    """The glyph drawing a cell whose upper and lower halves hold `upper` and `lower`."""
    return GLYPHS[upper * 3 + lower]


def price_range(bars: np.ndarray) -> tuple[float, float]:
    """Lowest low and highest high of the bars (NaN rows ignored), never an empty range."""
    if len(bars) == 0:
        return (0.0, 1.0)
    lows = bars["low"][np.isfinite(bars["low"])]
    highs = bars["high"][np.isfinite(bars["high"])]
    if len(lows) == 0 or len(highs) == 0:
        return (0.0, 1.0)
    lo, hi = float(lows.min()), float(highs.max())
    if hi <= lo:
        # A flat market still needs a scale; centre the line.
        pad = max(abs(lo) * 0.001, 1e-9)
        return (lo - pad, hi + pad)
    return (lo, hi)


def candle_cells(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    lo: float,
    hi: float,
    height: int,
) -> np.ndarray:
    """Glyph indices (into GLYPHS), shape (height, n), row 0 at the top.

    Each cell has two halves; a half is BODY where the open-close range covers its middle,
    WICK where the low-high range does. A body thinner than a half still shows in the half
    holding its middle, so dojis never vanish.
    """
    n = len(open_)
    if height <= 0 or n == 0:
        return np.zeros((max(height, 0), n), dtype=np.int8)
    halves = 2 * height
    scale = halves / (hi - lo)
    top = (np.maximum(open_, close) - lo) * scale
    bottom = (np.minimum(open_, close) - lo) * scale
    wick_hi = (high - lo) * scale
    wick_lo = (low - lo) * scale
    mid = np.arange(halves, dtype=np.float64)[:, None] + 0.5  # half k, counted from the bottom
    state = np.where((wick_lo <= mid) & (mid <= wick_hi), WICK, EMPTY).astype(np.int8)
    state[(bottom <= mid) & (mid <= top)] = BODY
    valid = np.isfinite(top) & np.isfinite(bottom)
    body_half = np.clip(np.floor((top + bottom) / 2), 0, halves - 1)
    thin = valid & ~((bottom[None, :] <= mid) & (mid <= top[None, :])).any(axis=0)
    cols = np.nonzero(thin)[0]
    state[body_half[cols].astype(np.intp), cols] = BODY
    state[:, ~valid] = EMPTY
    # Halves 2k+1 (upper) and 2k (lower) make cell k from the bottom; flip so row 0 is on top.
    upper = state[1::2][::-1]
    lower = state[0::2][::-1]
    return (upper * 3 + lower).astype(np.int8)


def volume_cells(volume: np.ndarray, height: int) -> np.ndarray:
    """Eighth-block indices (into VOLUME_GLYPHS), shape (height, n), row 0 at the top.

    Scaled to the largest volume shown; any traded volume gets at least one eighth.
    """
    n = len(volume)
    if height <= 0 or n == 0:
        return np.zeros((max(height, 0), n), dtype=np.int8)
    vol = np.where(np.isfinite(volume) & (volume > 0), volume, 0.0)
    peak = float(vol.max())
    if peak <= 0:
        return np.zeros((height, n), dtype=np.int8)
    eighths = np.ceil(vol / peak * (height * 8))
    rows_from_bottom = np.arange(height)[:, None] * 8
    cells = np.clip(eighths[None, :] - rows_from_bottom, 0, 8).astype(np.int8)
    return cells[::-1]


def price_step(lo: float, hi: float, labels: int, decimals: int) -> float:
    """A round price step (1, 2, 2.5 or 5 times a power of ten) giving about `labels` labels.

    Never finer than the last shown decimal, so two labels never print the same number.
    """
    span = hi - lo
    raw = span / max(labels, 1)
    if not raw > 0 or not math.isfinite(raw):
        return 10.0**-decimals
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = 10 * magnitude
    for mult in (1.0, 2.0, 2.5, 5.0):
        if mult * magnitude >= raw:
            step = mult * magnitude
            break
    return max(step, 10.0**-decimals)


def price_labels(
    lo: float, hi: float, height: int, decimals: int, every: int = 4
) -> dict[int, str]:
    """Row -> round price label in that row, roughly one label every `every` rows."""
    labels: dict[int, str] = {}
    if height <= 0 or not hi > lo:
        return labels
    step = price_step(lo, hi, height // every, decimals)
    k = math.ceil(lo / step - 1e-9)
    while (price := k * step) <= hi + 1e-9 * step:
        row = min(max(int((hi - price) / (hi - lo) * height), 0), height - 1)
        if all(abs(row - r) >= 2 for r in labels):
            labels[row] = f"{price:.{decimals}f}"
        k += 1
    return labels


def time_step(timeframe_s: int, min_columns: int) -> int:
    """Seconds between time labels: a round step at least `min_columns` candles apart."""
    for step in _NICE_STEPS_S:
        if step % timeframe_s == 0 and step // timeframe_s >= min_columns:
            return step
    return timeframe_s * min_columns


def time_format(timeframe_s: int) -> str:
    """strftime format for time labels of a timeframe."""
    if timeframe_s < 60:
        return "%H:%M:%S"
    if timeframe_s < 86400:
        return "%H:%M"
    return "%m-%d"


def time_axis(times: np.ndarray, timeframe_s: int, width: int, offset: int) -> str:
    """A time-axis line `width` wide; candle i sits at column `offset + i`. Times are UTC."""
    line = [" "] * width
    fmt = time_format(timeframe_s)
    label_len = len(time.strftime(fmt, time.gmtime(0)))
    step = time_step(timeframe_s, label_len + 2)
    free_from = 0
    placed = False
    for i, t in enumerate(times.tolist()):
        col = offset + i
        if t % step or col < free_from or col + label_len > width:
            continue
        line[col : col + label_len] = time.strftime(fmt, time.gmtime(t))
        free_from = col + label_len + 1
        placed = True
    if not placed and len(times):
        # Too few candles to reach a round time: still date the chart by its first candle.
        col = min(offset, width - label_len)
        if col >= 0:
            first = int(times[max(col - offset, 0)])
            line[col : col + label_len] = time.strftime(fmt, time.gmtime(first))
    return "".join(line)


def layout(
    bars: np.ndarray,
    width: int,
    height: int,
    *,
    timeframe_s: int,
    decimals: int,
    volume_rows: int | None = None,
) -> CandleFrame:
    """Lay out the newest bars that fit into a `width` x `height` chart.

    Rows: candles, then volume beneath, then the time axis; the price axis is on the right.
    Roles: "up", "down", "vol-up", "vol-down", "axis", "label", "last-up", "last-down".
    """
    frame = CandleFrame(width, height)
    if width <= 0 or height <= 0:
        return frame
    if volume_rows is None:
        volume_rows = 3 if height >= 16 else (2 if height >= 10 else 0)
    chart_h = max(height - volume_rows - 1, 1)
    volume_rows = max(min(volume_rows, height - chart_h - 1), 0)
    axis_rows = height - chart_h - volume_rows

    shown_hint = bars[-max(width, 1) :]
    lo, hi = price_range(shown_hint)
    label_w = max(len(f"{lo:.{decimals}f}"), len(f"{hi:.{decimals}f}"))
    axis_w = label_w + 2  # "┤" tick, a space, then the label
    columns = max(width - axis_w, 0)
    shown = bars[-columns:] if columns else bars[:0]
    if len(shown) != len(shown_hint):
        lo, hi = price_range(shown)
    frame.lo, frame.hi = lo, hi
    n = len(shown)
    pad = columns - n  # fewer candles than columns: right-align them, like a live chart

    up = shown["close"] >= shown["open"]
    cells = candle_cells(
        shown["open"], shown["high"], shown["low"], shown["close"], lo, hi, chart_h
    )
    labels = price_labels(lo, hi, chart_h, decimals)
    last_row = -1
    last_up = True
    if n:
        last_close = float(shown["close"][-1])
        if math.isfinite(last_close):
            last_row = min(max(int((hi - last_close) / (hi - lo) * chart_h), 0), chart_h - 1)
            last_up = bool(up[-1])
            labels = {r: s for r, s in labels.items() if abs(r - last_row) > 1}
            labels[last_row] = f"{last_close:.{decimals}f}"

    lead: list[Run] = [(" " * pad, "axis")] if pad else []
    bare_axis: Run = ("│" + " " * (axis_w - 1), "axis")
    candle_rows = _coloured_rows(cells, _GLYPH_ARRAY, up, "up", "down")
    for y in range(chart_h):
        row = lead + candle_rows[y]
        label = labels.get(y)
        if label is None:
            row.append(bare_axis)
        else:
            role = ("last-up" if last_up else "last-down") if y == last_row else "label"
            row.append(("┤", "axis"))
            row.append((" " + label.rjust(label_w), role))
        frame.rows.append(row)

    if volume_rows:
        vcells = volume_cells(shown["volume"], volume_rows)
        for row in _coloured_rows(vcells, _VOLUME_ARRAY, up, "vol-up", "vol-down"):
            frame.rows.append([*lead, *row, bare_axis])

    if axis_rows:
        axis_line = time_axis(shown["time"], timeframe_s, columns, pad)
        frame.rows.append([(axis_line + " " * axis_w, "label")])
    while len(frame.rows) < height:
        frame.rows.append([(" " * width, "axis")])
    if columns == 0 or axis_w > width:
        frame.rows = [_fit(row, width) for row in frame.rows[:height]]
    return frame


_GLYPH_ARRAY = np.array(GLYPHS)
_VOLUME_ARRAY = np.array(list(VOLUME_GLYPHS))


def _coloured_rows(
    cells: np.ndarray, glyphs: np.ndarray, up: np.ndarray, up_role: str, down_role: str
) -> list[list[Run]]:
    """Rows of runs for a (rows, n) glyph-index array coloured per column by direction.

    A blank cell takes the colour of the cell before it, so a row breaks into runs only where
    two drawn cells of opposite direction meet: a handful of segments instead of one per
    candle.
    """
    rows, n = cells.shape
    if n == 0:
        return [[] for _ in range(rows)]
    cols = np.arange(n)
    source = np.maximum.accumulate(np.where(cells != 0, cols, -1), axis=1)
    colour = up[np.maximum(source, 0)]
    texts = glyphs[cells]
    out: list[list[Run]] = []
    for y in range(rows):
        text = "".join(texts[y].tolist())
        row_colour = colour[y]
        cuts = (np.flatnonzero(row_colour[1:] != row_colour[:-1]) + 1).tolist()
        bounds = [0, *cuts, n]
        flags = row_colour[bounds[:-1]].tolist()
        out.append(
            [
                (text[a:b], up_role if is_up else down_role)
                for a, b, is_up in zip(bounds[:-1], bounds[1:], flags, strict=True)
            ]
        )
    return out


def _fit(row: list[Run], width: int) -> list[Run]:
    """Crop or pad a row to exactly `width` cells (a narrow pane cuts the price axis)."""
    out: list[Run] = []
    room = width
    for text, role in row:
        if room <= 0:
            break
        out.append((text[:room], role))
        room -= len(out[-1][0])
    if room > 0:
        out.append((" " * room, "axis"))
    return _merge(out)


def _merge(row: list[Run]) -> list[Run]:
    """Join neighbouring runs of one role, so a row is as few segments as possible."""
    merged: list[Run] = []
    for text, role in row:
        if not text:
            continue
        if merged and merged[-1][1] == role:
            merged[-1] = (merged[-1][0] + text, role)
        else:
            merged.append((text, role))
    return merged
