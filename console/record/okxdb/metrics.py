"""Order-book imbalance (OBI) and cumulative volume delta (CVD), per book row and per bar.

Everything is numpy over whole columns. The console draws the candle arrays as a lower study
under the price chart (`STUDY_DTYPE`: one row per bar with the metric's open/high/low/close).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from console.record.okxdb.source import SqliteSource

STUDY_DTYPE = np.dtype(
    [
        ("time", "i8"),
        ("open", "f8"),
        ("high", "f8"),
        ("low", "f8"),
        ("close", "f8"),
        ("count", "i8"),
    ]
)
"""A metric as candles: bar start (epoch s), the metric's first/high/low/last value, samples."""


def obi(bid_sz: np.ndarray, ask_sz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: bid total - ask total over the levels given, and (b - a) / (b + a) in [-1, 1].

    Sizes are [rows, levels] with 0 for absent levels; an empty book has imbalance 0.
    """
    bids = bid_sz.sum(axis=1)
    asks = ask_sz.sum(axis=1)
    diff = bids - asks
    total = bids + asks
    norm = np.divide(diff, total, out=np.zeros_like(diff), where=total > 0)
    return diff, norm


def cvd(side: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Cumulative buy - sell volume after each trade (`side` +1 buy, -1 sell, 0 unknown)."""
    return np.cumsum(side * size)


def cvd_at(
    times: np.ndarray, trade_ts: np.ndarray, cvd_values: np.ndarray, *, initial: float = 0.0
) -> np.ndarray:
    """CVD as it stood at each time: over the trades strictly before it (a book row's window
    trades come after the row); `initial` before the first trade."""
    if len(cvd_values) == 0:
        return np.full(len(times), initial)
    k = np.searchsorted(trade_ts, times, "left")
    return np.where(k > 0, cvd_values[np.maximum(k - 1, 0)], initial)


def candles(ts_ns: np.ndarray, values: np.ndarray, timeframe_s: int) -> np.ndarray:
    """`values` sampled at `ts_ns` (sorted) as one candle per `timeframe_s` bar that has samples."""
    out = np.zeros(0, STUDY_DTYPE)
    if len(ts_ns) == 0:
        return out
    bar, starts = _bar_starts(ts_ns, timeframe_s)
    ends = np.append(starts[1:], len(ts_ns))
    out = np.zeros(len(starts), STUDY_DTYPE)
    out["time"] = bar[starts] * timeframe_s
    out["open"] = values[starts]
    out["close"] = values[ends - 1]
    out["high"] = np.maximum.reduceat(values, starts)
    out["low"] = np.minimum.reduceat(values, starts)
    out["count"] = ends - starts
    return out


def book_study(
    source: SqliteSource,
    timeframe_s: int,
    start_ns: int | None = None,
    end_ns: int | None = None,
    *,
    cvd_start: float = 0.0,
) -> dict[str, np.ndarray]:
    """OBI, normalized OBI and CVD of `source`, each as `STUDY_DTYPE` candles per bar.

    OBI sums the source's top-N (`source.depth`) levels per side at every book row; CVD is the
    cumulative buy - sell volume as it stood at every book row, counted from `cvd_start` at
    `start_ns`. The key "cvd_end" holds the CVD after the last trade (a 0-d array).
    """
    ts, diff, norm = [], [], []
    for rows in source.book_rows(start_ns, end_ns):
        d, n = obi(rows.bid_sz, rows.ask_sz)
        ts.append(rows.ts)
        diff.append(d)
        norm.append(n)
    t_ts, t_side, t_size = [], [], []
    for trades in source.trade_rows(start_ns, end_ns):
        t_ts.append(trades.ts)
        t_side.append(trades.side)
        t_size.append(trades.size)
    book_ts = _join(ts, np.int64)
    trade_ts = _join(t_ts, np.int64)
    flow = cvd_start + cvd(_join(t_side, np.int8), _join(t_size, np.float64))
    at_rows = cvd_at(book_ts, trade_ts, flow, initial=cvd_start)
    return {
        "obi": candles(book_ts, _join(diff, np.float64), timeframe_s),
        "obi_norm": candles(book_ts, _join(norm, np.float64), timeframe_s),
        "cvd": candles(book_ts, at_rows, timeframe_s),
        "cvd_end": np.asarray(flow[-1] if len(flow) else cvd_start),
    }


def study_of(
    parts: Sequence[SqliteSource],
    timeframe_s: int,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> dict[str, np.ndarray]:
    """`book_study` over one instrument's databases in time order, candles joined; CVD runs
    on across files."""
    out: dict[str, list[np.ndarray]] = {"obi": [], "obi_norm": [], "cvd": []}
    running = 0.0
    for part in parts:
        study = book_study(part, timeframe_s, start_ns, end_ns, cvd_start=running)
        running = float(study["cvd_end"])
        for name, bars in out.items():
            bars.append(study[name])
    return {name: _join(bars, STUDY_DTYPE) for name, bars in out.items()}


def _join(parts: list[np.ndarray], dtype: type | np.dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def _bar_starts(ts_ns: np.ndarray, timeframe_s: int) -> tuple[np.ndarray, np.ndarray]:
    if timeframe_s <= 0:
        raise ValueError(f"timeframe must be a positive number of seconds, got {timeframe_s}")
    bar = ts_ns // (timeframe_s * 1_000_000_000)
    starts = np.flatnonzero(np.diff(bar, prepend=bar[0] - 1))
    return bar, starts
