"""Pure candle-chart layout: OHLCV rows to glyph rows with colour roles, one candle per column.

No Textual here, so the glyph choice and axes are unit-tested on small arrays; the candles
pane only turns the roles into theme styles.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
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
    candles: int = 0  # candles drawn


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


def time_axis(
    times: np.ndarray, timeframe_s: int, width: int, offset: int, spacing: int = 1
) -> str:
    """A time-axis line `width` wide; candle i sits at column `offset + i * spacing`. UTC."""
    line = [" "] * width
    fmt = time_format(timeframe_s)
    label_len = len(time.strftime(fmt, time.gmtime(0)))
    step = time_step(timeframe_s, -(-(label_len + 2) // max(spacing, 1)))
    free_from = 0
    placed = False
    for i, t in enumerate(times.tolist()):
        col = offset + i * spacing
        if t % step or col < free_from or col + label_len > width:
            continue
        line[col : col + label_len] = time.strftime(fmt, time.gmtime(t))
        free_from = col + label_len + 1
        placed = True
    if not placed and len(times):
        # Too few candles to reach a round time: still date the chart by its first candle.
        col = min(offset, width - label_len)
        if col >= 0:
            first = int(times[min(max((col - offset) // max(spacing, 1), 0), len(times) - 1)])
            line[col : col + label_len] = time.strftime(fmt, time.gmtime(first))
    return "".join(line)


@dataclass(slots=True)
class StudyPanel:
    """A lower study in place of volume: one value per bar on a fixed or fitted scale."""

    name: str
    values: np.ndarray
    lo: float = math.nan  # NaN: fit to the values shown
    hi: float = math.nan
    decimals: int = 2


LINE_GLYPH = "╌"
"""Horizontal price lines (orders, stops, position): light dashes under the candles."""

OVERLAY_GLYPH = "·"
"""Overlay points (VWAP): one dot per bar, behind the candles."""


def price_row(price: float, lo: float, hi: float, height: int) -> int:
    """The row (0 at the top) holding `price`, or -1 outside the scale."""
    if not (lo <= price <= hi) or not hi > lo:
        return -1
    return min(max(int((hi - price) / (hi - lo) * height), 0), height - 1)


def level_cells(values: np.ndarray, lo: float, hi: float, height: int) -> np.ndarray:
    """Eighth-block indices filling each column from the bottom up to its value on lo..hi."""
    n = len(values)
    if height <= 0 or n == 0 or not hi > lo:
        return np.zeros((max(height, 0), n), dtype=np.int8)
    v = np.where(np.isfinite(values), values, lo)
    eighths = np.clip(np.round((v - lo) / (hi - lo) * (height * 8)), 0, height * 8)
    eighths = np.where(np.isfinite(values), np.maximum(eighths, 1), 0)  # a value always shows
    rows_from_bottom = np.arange(height)[:, None] * 8
    cells = np.clip(eighths[None, :] - rows_from_bottom, 0, 8).astype(np.int8)
    return cells[::-1]


HALF_GLYPHS: tuple[str, ...] = (" ", "▄", "▀", "█")
"""Cell glyph by filled halves, indexed by `upper * 2 + lower`."""


def signed_cells(values: np.ndarray, lo: float, hi: float, height: int) -> np.ndarray:
    """Glyphs (height, n), row 0 on top: each column filled in half cells from the zero line
    to its value, up for positive and down for negative; any non-zero value fills a half."""
    n = len(values)
    out = np.full((max(height, 0), n), " ")
    if height <= 0 or n == 0 or not hi > lo:
        return out
    halves = 2 * height
    zero = round((0.0 - lo) / (hi - lo) * halves)
    v = np.where(np.isfinite(values), values, 0.0)
    k = np.clip(np.round((v - lo) / (hi - lo) * halves), 0, halves).astype(np.int64)
    k = np.where((v > 0) & (k <= zero), zero + 1, k)
    k = np.where((v < 0) & (k >= zero), zero - 1, k)
    start = np.minimum(k, zero)
    stop = np.maximum(k, zero)
    idx = np.arange(halves)[:, None]  # half index from the bottom
    filled = (idx >= start[None, :]) & (idx < stop[None, :])
    code = filled[1::2].astype(np.int8) * 2 + filled[0::2].astype(np.int8)
    glyphs = np.array(HALF_GLYPHS)
    return np.asarray(glyphs[code[::-1]])


def study_range(panel: StudyPanel) -> tuple[float, float]:
    """The panel's scale: its fixed bounds, or the finite values' span (padded if flat)."""
    lo, hi = panel.lo, panel.hi
    if math.isfinite(lo) and math.isfinite(hi) and hi > lo:
        return lo, hi
    finite = panel.values[np.isfinite(panel.values)]
    if finite.shape[0] == 0:
        return (0.0, 1.0)
    lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        pad = max(abs(lo) * 0.01, 1.0)
        return lo - pad, hi + pad
    return lo, hi


def layout(
    bars: np.ndarray,
    width: int,
    height: int,
    *,
    timeframe_s: int,
    decimals: int,
    volume_rows: int | None = None,
    spacing: int = 1,
    lines: Sequence[tuple[float, str]] = (),
    overlay: np.ndarray | None = None,
    study: StudyPanel | None = None,
    span: tuple[float, float] | None = None,
) -> CandleFrame:
    """Lay out the newest bars that fit into a `width` x `height` chart.

    Rows: candles, then volume (or `study`) beneath, then the time axis; the price axis is on
    the right. Each candle takes `spacing` columns. `lines` are (price, kind) drawn across the
    chart in role "line-<kind>", or marked at its top or bottom edge when off the scale
    (`off_range_marks`); `overlay` is one price per bar (as many as `bars`, e.g. VWAP)
    dotted in role "vwap"; `span` fixes the price scale instead of fitting the candles.
    Roles: "up", "down", "vol-up", "vol-down", "axis", "label", "last-up", "last-down".
    """
    frame = CandleFrame(width, height)
    if width <= 0 or height <= 0:
        return frame
    spacing = max(int(spacing), 1)
    if volume_rows is None:
        volume_rows = 3 if height >= 16 else (2 if height >= 10 else 0)
    chart_h = max(height - volume_rows - 1, 1)
    volume_rows = max(min(volume_rows, height - chart_h - 1), 0)
    axis_rows = height - chart_h - volume_rows

    shown_hint = bars[-max(width // spacing, 1) :]
    lo, hi = span if span is not None else price_range(shown_hint)
    label_w = max(len(f"{lo:.{decimals}f}"), len(f"{hi:.{decimals}f}"))
    axis_w = label_w + 2  # "┤" tick, a space, then the label
    columns = max(width - axis_w, 0)
    fit = columns // spacing
    shown = bars[max(len(bars) - fit, 0) :] if fit else bars[:0]
    if len(shown) != len(shown_hint) and span is None:
        lo, hi = price_range(shown)
    frame.lo, frame.hi = lo, hi
    n = frame.candles = len(shown)
    pad = columns - n * spacing  # fewer candles than columns: right-align them, like live

    up = shown["close"] >= shown["open"]
    cells = candle_cells(
        shown["open"], shown["high"], shown["low"], shown["close"], lo, hi, chart_h
    )
    chars = _spread(_GLYPH_ARRAY[cells], spacing)
    roles = _spread(np.where(up, _ROLE["up"], _ROLE["down"])[None, :].repeat(chart_h, 0), spacing)
    roles[chars == " "] = -1
    labels: dict[int, tuple[str, str]] = {
        r: (s, "label") for r, s in price_labels(lo, hi, chart_h, decimals).items()
    }
    if overlay is not None and n:
        values = np.asarray(overlay, dtype=np.float64)[len(overlay) - n :]
        for i, v in enumerate(values.tolist()):
            row = price_row(v, lo, hi, chart_h) if math.isfinite(v) else -1
            col = i * spacing
            if row >= 0 and chars[row, col] == " ":
                chars[row, col] = OVERLAY_GLYPH
                roles[row, col] = _ROLE["vwap"]
    for price, kind in lines:
        row = price_row(price, lo, hi, chart_h)
        if row < 0:
            continue  # marked at the plot's edge instead (off_range_marks)
        blank = chars[row] == " "
        chars[row, blank] = LINE_GLYPH
        roles[row, blank] = _role(f"line-{kind}")
        labels = {r: lab for r, lab in labels.items() if abs(r - row) > 1}
        labels[row] = (f"{price:.{decimals}f}", f"line-{kind}")
    last_close = float(shown["close"][-1]) if n else math.nan
    last_row = price_row(last_close, lo, hi, chart_h) if math.isfinite(last_close) else -1
    if last_row >= 0:
        labels = {r: lab for r, lab in labels.items() if abs(r - last_row) > 1}
        labels[last_row] = (
            f"{last_close:.{decimals}f}", "last-up" if bool(up[-1]) else "last-down"
        )

    marks = off_range_marks(lines, lo, hi, chart_h, decimals, last_close, columns)
    lead: list[Run] = [(" " * pad, "axis")] if pad else []
    bare_axis: Run = ("│" + " " * (axis_w - 1), "axis")
    for y, runs in enumerate(_runs(chars, roles)):
        out = lead + runs
        mark = marks.get(y)
        if mark:
            # Painted over the oldest candles, never over the axis and its last-price label.
            out = [*mark, *_crop(out, sum(len(t) for t, _ in mark))]
        label = labels.get(y)
        if label is None:
            out.append(bare_axis)
        else:
            out.append(("┤", "axis"))
            out.append((" " + label[0][:label_w].rjust(label_w), label[1]))
        frame.rows.append(out)

    if volume_rows:
        if study is None:
            vglyphs = _VOLUME_ARRAY[volume_cells(shown["volume"], volume_rows)]
            vup = up
            note = ""
        else:
            values = np.asarray(study.values, dtype=np.float64)[len(study.values) - n :]
            s_lo, s_hi = study_range(StudyPanel(study.name, values, study.lo, study.hi))
            if s_lo < 0 < s_hi and math.isfinite(study.lo):
                # A signed scale (OBI) grows up or down from its zero line.
                vglyphs = signed_cells(values, s_lo, s_hi, volume_rows)
            else:
                vglyphs = _VOLUME_ARRAY[level_cells(values, s_lo, s_hi, volume_rows)]
            finite = values[np.isfinite(values)]
            # Fixed scales (RSI, OBI) colour by side of their middle; fitted ones (CVD) by
            # direction, so a falling CVD reads as selling even while still positive.
            if math.isfinite(study.lo):
                vup = ~(values < (s_lo + s_hi) / 2)
            else:
                vup = ~(np.diff(values, prepend=values[:1]) < 0)
            last = float(finite[-1]) if finite.shape[0] else math.nan
            note = f"{last:.{study.decimals}f}" if math.isfinite(last) else "—"
        vchars = _spread(vglyphs, spacing)
        vroles = _spread(
            np.where(vup, _ROLE["vol-up"], _ROLE["vol-down"])[None, :].repeat(volume_rows, 0),
            spacing,
        )
        vroles[vchars == " "] = -1
        for y, runs in enumerate(_runs(vchars, vroles)):
            if y == 0 and study is not None:
                tail: list[Run] = [("┤", "axis"), (" " + note[:label_w].rjust(label_w), "label")]
            else:
                tail = [bare_axis]
            frame.rows.append([*lead, *runs, *tail])

    if axis_rows:
        axis_line = time_axis(shown["time"], timeframe_s, columns, pad, spacing)
        frame.rows.append([(axis_line + " " * axis_w, "label")])
    while len(frame.rows) < height:
        frame.rows.append([(" " * width, "axis")])
    if columns == 0 or axis_w > width:
        frame.rows = [_fit(row, width) for row in frame.rows[:height]]
    return frame


ABOVE_MARK, BELOW_MARK = "▲", "▼"
"""Arrows marking price lines above and below the chart's price scale."""

MAX_STACKED = 2
"""Off-scale marks stacked at one edge before they collapse into one ("▲ 3 orders …")."""

LINE_NAMES: dict[str, str] = {"stop-buy": "stop buy", "stop-sell": "stop sell"}
"""How a line kind reads in an off-scale mark, where it differs from the kind."""


def off_range_marks(
    lines: Sequence[tuple[float, str]],
    lo: float,
    hi: float,
    chart_h: int,
    decimals: int,
    last: float,
    columns: int,
) -> dict[int, list[Run]]:
    """Row -> runs marking the price lines off the lo..hi scale, at most `columns` wide.

    Lines above are marked from the top row down, lines below from the bottom row up, nearest
    first: "▲ stop sell 65200.00 +3.1%" in the line's role (the distance from `last`). More
    than fit (MAX_STACKED, or half the rows) collapse into one "▲ 3 orders 65200.00…66000.00"
    (", position" added if the position's entry is among them) in role "line-order", so a
    forgotten stop far away is never silently off screen.
    """
    out: dict[int, list[Run]] = {}
    if chart_h <= 0 or columns <= 0:
        return out
    above = sorted((p, k) for p, k in lines if math.isfinite(p) and p > hi)
    below = sorted(((p, k) for p, k in lines if math.isfinite(p) and p < lo), reverse=True)
    room = max(min(MAX_STACKED, chart_h // 2), 1)
    for marks, arrow, rows in (
        (above, ABOVE_MARK, range(chart_h)),
        (below, BELOW_MARK, range(chart_h - 1, -1, -1)),
    ):
        if not marks:
            continue
        if len(marks) > room:
            near, far = marks[0][0], marks[-1][0]
            orders = sum(1 for _, kind in marks if kind != "position")
            what = f"{orders} orders" + (", position" if orders < len(marks) else "")
            texts = [(f"{arrow} {what} {near:.{decimals}f}…{far:.{decimals}f}", "line-order")]
        else:
            texts = []
            for price, kind in marks:
                away = f" {(price / last - 1) * 100:+.1f}%" if last > 0 else ""
                name = LINE_NAMES.get(kind, kind)
                texts.append((f"{arrow} {name} {price:.{decimals}f}{away}", f"line-{kind}"))
        for row, (text, role) in zip(rows, texts, strict=False):
            runs = out.setdefault(row, [])  # a one-row chart holds both edges' marks
            room_left = columns - sum(len(t) for t, _ in runs)
            piece = (text + " ")[:room_left]
            if piece:
                runs.append((piece, role))
    return out


def _crop(row: list[Run], start: int) -> list[Run]:
    """The runs of `row` from cell `start` on."""
    out: list[Run] = []
    pos = 0
    for text, role in row:
        end = pos + len(text)
        if end > start:
            out.append((text[max(start - pos, 0) :], role))
        pos = end
    return out


_GLYPH_ARRAY = np.array(GLYPHS)
_VOLUME_ARRAY = np.array(list(VOLUME_GLYPHS))
_ROLE_NAMES: list[str] = ["up", "down", "vol-up", "vol-down", "vwap"]
_ROLE: dict[str, int] = {name: i for i, name in enumerate(_ROLE_NAMES)}


def _role(name: str) -> int:
    """The code of a colour role, registering new ones (line kinds) on first use."""
    code = _ROLE.get(name)
    if code is None:
        code = _ROLE[name] = len(_ROLE_NAMES)
        _ROLE_NAMES.append(name)
    return code


def _spread(grid: np.ndarray, spacing: int) -> np.ndarray:
    """Columns of `grid` placed `spacing` apart (blank or -1 between), a writable copy."""
    if spacing == 1:
        return grid.copy()
    rows, n = grid.shape
    out = np.full((rows, n * spacing), " " if grid.dtype.kind == "U" else -1, dtype=grid.dtype)
    out[:, ::spacing] = grid
    return out


def _runs(chars: np.ndarray, roles: np.ndarray) -> list[list[Run]]:
    """Rows of runs from a character grid and a role-code grid (-1 = blank).

    A blank cell takes the role of the cell before it, so a row breaks into runs only where
    two drawn cells of different roles meet: a handful of segments instead of one per candle.
    """
    rows, n = chars.shape
    if n == 0:
        return [[] for _ in range(rows)]
    cols = np.arange(n)
    drawn = roles >= 0
    source = np.maximum.accumulate(np.where(drawn, cols, -1), axis=1)
    first = np.where(drawn.any(axis=1), drawn.argmax(axis=1), 0)
    source = np.where(source < 0, first[:, None], source)
    filled = np.take_along_axis(roles, source, axis=1)
    filled = np.where(filled < 0, 0, filled)
    out: list[list[Run]] = []
    for y in range(rows):
        text = "".join(chars[y].tolist())
        row_role = filled[y]
        cuts = (np.flatnonzero(row_role[1:] != row_role[:-1]) + 1).tolist()
        bounds = [0, *cuts, n]
        codes = row_role[bounds[:-1]].tolist()
        out.append(
            [
                (text[a:b], _ROLE_NAMES[c])
                for a, b, c in zip(bounds[:-1], bounds[1:], codes, strict=True)
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
