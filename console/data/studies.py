"""Chart studies without a UI: RSI, VWAP, CVD and book imbalance per bar, plus live samplers.

The candle pane asks for one value per shown bar; everything is vectorized numpy over a few
hundred bars. The samplers collect per-second order-flow and book-imbalance figures while the
feed is live, since bars alone do not carry the aggressor side or the book.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from console.data.tape import TradeTape
from console.model.book import ASK, BID, Book

STUDIES: tuple[str, ...] = ("volume", "obi", "cvd", "rsi")
"""Lower studies in the order the study key cycles them; volume is the default."""

RSI_PERIOD = 14


def rsi(close: np.ndarray, period: int = RSI_PERIOD) -> np.ndarray:
    """Wilder's RSI of `close` (0..100); NaN until `period` changes have been seen.

    Wilder smoothing is an exponential average with alpha 1/period seeded by the simple mean of
    the first `period` changes; the recursion is evaluated in closed form so it stays vectorized.
    """
    close = np.asarray(close, dtype=np.float64)
    n = close.shape[0]
    out = np.full(n, np.nan)
    if n <= period:
        return out
    diff = np.diff(close)
    gain = np.where(diff > 0, diff, 0.0)
    loss = np.where(diff < 0, -diff, 0.0)
    avg_gain = _wilder(gain, period)
    avg_loss = _wilder(loss, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        rs = avg_gain / avg_loss
        value = 100.0 - 100.0 / (1.0 + rs)
    # No losses at all: RSI is 100 (or 50 for a flat market with no gains either).
    value = np.where(avg_loss == 0, np.where(avg_gain == 0, 50.0, 100.0), value)
    out[period:] = value
    return out


def _wilder(x: np.ndarray, period: int) -> np.ndarray:
    """Wilder averages of x from index period-1 on (len(x) - period + 1 values)."""
    alpha = 1.0 / period
    seed = x[:period].mean()
    rest = x[period:]
    m = rest.shape[0]
    decay = (1.0 - alpha) ** np.arange(1, m + 1)
    # a_k = d^k * seed + alpha * sum_{j<=k} d^(k-j) x_j ; divide by d^k to get a cumulative sum.
    # Underflow of d^k past ~10k bars would lose precision, so fall back to a loop there.
    if m > 2000:
        out = np.empty(m + 1)
        out[0] = seed
        acc = seed
        for i, v in enumerate(rest.tolist(), 1):
            acc = acc + alpha * (v - acc)
            out[i] = acc
        return out
    scaled = np.cumsum(alpha * rest / decay)
    return np.concatenate(([seed], decay * (seed + scaled)))


def vwap(bars: np.ndarray) -> np.ndarray:
    """Volume-weighted average price anchored at the first bar, one value per bar.

    Bars without volume carry the previous value (NaN before the first traded bar).
    """
    vol = np.where(np.isfinite(bars["volume"]), bars["volume"], 0.0)
    wap = np.where(np.isfinite(bars["bar_wap"]), bars["bar_wap"], bars["close"])
    pv = np.cumsum(wap * vol)
    v = np.cumsum(vol)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v > 0, pv / v, np.nan)


def per_bar(times_s: np.ndarray, values: np.ndarray, bar_times: np.ndarray, timeframe_s: int,
            how: str = "last") -> np.ndarray:
    """Values sampled at `times_s` (ascending) folded onto bars starting at `bar_times`.

    `how` is "last" (the value as the bar closed) or "sum"; bars without samples get NaN
    ("last") or 0 ("sum").
    """
    n = bar_times.shape[0]
    if how not in ("last", "sum"):
        raise ValueError(f"how must be 'last' or 'sum', got {how!r}")
    if n == 0 or times_s.shape[0] == 0:
        return np.full(n, np.nan if how == "last" else 0.0)
    edges = np.append(bar_times, bar_times[-1] + timeframe_s)
    lo = np.searchsorted(times_s, edges[:-1], side="left")
    hi = np.searchsorted(times_s, edges[1:], side="left")
    if how == "sum":
        csum = np.concatenate(([0.0], np.cumsum(values)))
        return np.asarray(csum[hi] - csum[lo], dtype=np.float64)
    out = np.full(n, np.nan)
    has = hi > lo
    out[has] = values[hi[has] - 1]
    return out


def study_close(rows: np.ndarray, bar_times: np.ndarray) -> np.ndarray:
    """A provider's study candles (`time`, `close`, ...) aligned to `bar_times` (NaN gaps)."""
    out = np.full(bar_times.shape[0], np.nan)
    if rows.shape[0] == 0:
        return out
    i = np.searchsorted(rows["time"], bar_times)
    ok = i < rows.shape[0]
    ok[ok] = rows["time"][i[ok]] == bar_times[ok]
    out[ok] = rows["close"][i[ok]]
    return out


def imbalance(book: Book, depth: int = 10) -> float:
    """(bid size - ask size) / (bid size + ask size) over the top `depth` levels; NaN if empty."""
    b = float(book.top_ticks(BID, depth)[1].sum())
    a = float(book.top_ticks(ASK, depth)[1].sum())
    total = b + a
    return (b - a) / total if total > 0 else float("nan")


class SecondSeries:
    """One number per second, newest `capacity` seconds kept; a later write to a second wins
    ("last") or adds ("sum")."""

    def __init__(self, capacity: int = 86_400, *, how: str = "last") -> None:
        if how not in ("last", "sum"):
            raise ValueError(f"how must be 'last' or 'sum', got {how!r}")
        self.how = how
        self.capacity = capacity
        self._t = np.zeros(capacity, dtype=np.int64)
        self._v = np.zeros(capacity, dtype=np.float64)
        self._n = 0  # rows held (ring not needed: we compact when full)

    def __len__(self) -> int:
        return self._n

    def put(self, sec: int, value: float) -> None:
        n = self._n
        if n and self._t[n - 1] == sec:
            self._v[n - 1] = value if self.how == "last" else self._v[n - 1] + value
            return
        if n and sec < self._t[n - 1]:
            return  # out of order (a late print): the bar it belongs to has moved on
        if n == self.capacity:
            half = self.capacity // 2
            self._t[:half] = self._t[n - half : n]
            self._v[:half] = self._v[n - half : n]
            n = self._n = half
        self._t[n] = sec
        self._v[n] = value
        self._n = n + 1

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(seconds, values), oldest first (views; copy before keeping)."""
        return self._t[: self._n], self._v[: self._n]

    def clear(self) -> None:
        self._n = 0


class FlowSampler:
    """Per symbol, book imbalance and signed traded volume per second, fed at the frame rate.

    `sample(symbol, book, tape, now_s)` reads only the prints added since the last call (the
    tape counts every print in `total`), so the cost follows the trade rate, not the history.
    """

    def __init__(self, depth: int = 10) -> None:
        self.depth = depth
        self.obi: dict[str, SecondSeries] = {}
        self.flow: dict[str, SecondSeries] = {}
        self._seen: dict[str, int] = {}

    def reset(self) -> None:
        """Forget everything (after a replay seek: the samples belong to the old timeline)."""
        self.obi.clear()
        self.flow.clear()
        self._seen.clear()

    def sample(self, symbol: str, book: Book | None, tape: TradeTape | None, now_s: int) -> None:
        if book is not None and book.best_bid_ticks is not None:
            value = imbalance(book, self.depth)
            if value == value:
                self.obi.setdefault(symbol, SecondSeries()).put(now_s, value)
        if tape is None:
            return
        total = tape.total
        seen = self._seen.get(symbol)
        self._seen[symbol] = total
        if seen is None or total <= seen:
            return
        prints = tape.arrays(total - seen)
        if prints.shape[0] == 0:
            return
        signed = prints["size"] * prints["side"]
        secs = prints["ts"] // 1_000_000_000
        series = self.flow.setdefault(symbol, SecondSeries(how="sum"))
        # group consecutive prints of one second so put() runs once per second, not per print
        cuts = np.flatnonzero(np.diff(secs)) + 1
        starts = np.concatenate(([0], cuts))
        sums = np.add.reduceat(signed, starts)
        for sec, v in zip(secs[starts].tolist(), sums.tolist(), strict=True):
            series.put(int(sec), float(v))

    def obi_per_bar(self, symbol: str, bar_times: np.ndarray, timeframe_s: int) -> np.ndarray:
        series = self.obi.get(symbol)
        if series is None:
            return np.full(bar_times.shape[0], np.nan)
        t, v = series.arrays()
        return per_bar(t, v, bar_times, timeframe_s, "last")

    def cvd_per_bar(self, symbol: str, bar_times: np.ndarray, timeframe_s: int) -> np.ndarray:
        """Cumulative buy - sell volume at each bar's close, counted from the first shown bar
        that has flow; NaN before the sampler saw any print."""
        series = self.flow.get(symbol)
        n = bar_times.shape[0]
        if series is None or len(series) == 0 or n == 0:
            return np.full(n, np.nan)
        t, v = series.arrays()
        delta = per_bar(t, v, bar_times, timeframe_s, "sum")
        out = np.cumsum(delta)
        out[bar_times + timeframe_s <= t[0]] = np.nan  # before sampling began: unknown
        return out


def provider_study(module: object, symbol: str, timeframe_s: int) -> Mapping[str, np.ndarray]:
    """The provider's `study(symbol, timeframe_s)` (sqlite and replay have one) or {}."""
    fn = getattr(module, "study", None)
    if fn is None:
        return {}
    try:
        result = fn(symbol, timeframe_s)
    except Exception:  # DataUnavailable and friends: the live samplers stand in
        return {}
    return result if isinstance(result, Mapping) else {}
