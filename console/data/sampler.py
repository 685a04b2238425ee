"""Trades to bars: streaming 1 s and 1 m bars into buffers, batch 1 s bars, vectorized resampling.

Bars are wall-clock aligned: a bar's `time` is the epoch second its interval starts at, a
multiple of its length (1 d bars start at UTC midnight, 4 h bars at 00/04/08... UTC), whatever
the trade timing. While the feed is live, seconds without trades get flat bars (open = high =
low = close = previous close, no volume) once they are over; while it is down they stay
missing, so a chart shows the outage instead of a made-up flat line.

The streaming 1 m bars equal `resample(1 s bars, 60)` at all times, and the streaming 1 s bars
equal `bars_from_trades` of the same trades (when no flat bars were filled in between).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from console.data.buffers import OhlcBuffer
from console.data.provider import OHLC_DTYPE

NS = 1_000_000_000


def _as_1d(values: Any, dtype: str, field: str) -> np.ndarray:
    arr = np.asarray(values, dtype=dtype)
    if arr.ndim != 1:
        raise ValueError(f"{field} must be a 1-d array, got shape {arr.shape}")
    return arr


def _bad_index(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _reduce(
    time: np.ndarray,
    starts: np.ndarray,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    count: np.ndarray,
    pv: np.ndarray,
    index: np.ndarray,
) -> np.ndarray:
    """Bars for the groups beginning at `starts` (sorted, first is 0) of the input rows."""
    n = open_.shape[0]
    out = np.empty(starts.shape[0], dtype=OHLC_DTYPE)
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:] - 1
    ends[-1] = n - 1
    out["index"] = index
    out["time"] = time
    out["open"] = open_[starts]
    out["high"] = np.maximum.reduceat(high, starts)
    out["low"] = np.minimum.reduceat(low, starts)
    out["close"] = close[ends]
    vol = np.add.reduceat(volume, starts)
    out["volume"] = vol
    out["count"] = count
    pvs = np.add.reduceat(pv, starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        wap = pvs / vol
    # rounding can push a VWAP a hair outside the bar; a bar with no volume trades at its close
    np.clip(wap, out["low"], out["high"], out=wap)
    out["bar_wap"] = np.where(vol > 0, wap, out["close"])
    return out


def bars_from_trades(ts_ns: Any, price: Any, size: Any) -> np.ndarray:
    """1 s bars (OHLC_DTYPE, oldest first) of trades; only seconds with trades get a bar.

    Trades out of time order are sorted first (stably, so equal times keep their order).
    """
    ts = _as_1d(ts_ns, "i8", "ts_ns")
    px = _as_1d(price, "f8", "price")
    sz = _as_1d(size, "f8", "size")
    if not ts.shape[0] == px.shape[0] == sz.shape[0]:
        raise ValueError(
            f"ts_ns, price and size must be the same length, got {ts.shape[0]}, "
            f"{px.shape[0]} and {sz.shape[0]}"
        )
    n = ts.shape[0]
    if n == 0:
        return np.empty(0, dtype=OHLC_DTYPE)
    if not np.isfinite(px).all():
        i = _bad_index(~np.isfinite(px))
        raise ValueError(f"price[{i}] is {px[i]}; trade prices must be finite numbers")
    if not (sz >= 0).all():
        i = _bad_index(~(sz >= 0))
        raise ValueError(f"size[{i}] is {sz[i]}; trade sizes must be finite and >= 0")
    if n > 1 and (ts[1:] < ts[:-1]).any():
        order = np.argsort(ts, kind="stable")
        ts, px, sz = ts[order], px[order], sz[order]
    sec = ts // NS
    change = np.flatnonzero(sec[1:] != sec[:-1]) + 1
    starts = np.empty(change.shape[0] + 1, dtype=np.intp)
    starts[0] = 0
    starts[1:] = change
    counts = np.diff(np.append(starts, n))
    return _reduce(
        sec[starts],
        starts,
        px,
        px,
        px,
        px,
        sz,
        counts,
        px * sz,
        np.arange(starts.shape[0]),
    )


def resample(bars: np.ndarray, timeframe_s: int) -> np.ndarray:
    """Bars of `timeframe_s` seconds, epoch aligned, from finer bars sorted by time.

    `index` of each result is that of its first source bar; `count` and `volume` add up and
    `bar_wap` is the volume-weighted mean of the source bars' VWAPs.
    """
    if not isinstance(timeframe_s, int | np.integer) or timeframe_s < 1:
        raise ValueError(f"timeframe_s must be a positive number of seconds, got {timeframe_s!r}")
    missing = [f for f in OHLC_DTYPE.names or () if f not in (bars.dtype.names or ())]
    if missing:
        raise ValueError(f"resample needs bars with field(s) {', '.join(missing)}")
    n = bars.shape[0]
    if n == 0:
        return np.empty(0, dtype=OHLC_DTYPE)
    t = bars["time"].astype(np.int64, copy=False)
    if n > 1 and (t[1:] < t[:-1]).any():
        i = _bad_index(t[1:] < t[:-1]) + 1
        raise ValueError(f"bars must be sorted by time; bar {i} starts before bar {i - 1}")
    bucket = t - t % timeframe_s
    change = np.flatnonzero(bucket[1:] != bucket[:-1]) + 1
    starts = np.empty(change.shape[0] + 1, dtype=np.intp)
    starts[0] = 0
    starts[1:] = change
    vol = bars["volume"].astype(np.float64, copy=False)
    return _reduce(
        bucket[starts],
        starts,
        bars["open"],
        bars["high"],
        bars["low"],
        bars["close"],
        vol,
        np.add.reduceat(bars["count"].astype(np.int64, copy=False), starts),
        bars["bar_wap"] * vol,
        bars["index"][starts],
    )


class _Forming:
    """The newest bar of one timeframe, kept in Python numbers and written to its buffer."""

    __slots__ = ("buf", "c", "dirty", "due", "every", "h", "l", "n", "o", "pv", "t", "tf", "v")

    def __init__(self, buf: OhlcBuffer, tf: int, every_ns: int) -> None:
        self.buf = buf
        self.tf = tf
        self.every = every_ns
        self.due = 0
        self.dirty = False
        self.t = -1  # no bar yet
        self.o = self.h = self.l = self.c = self.v = self.pv = 0.0
        self.n = 0

    def adopt(self) -> None:
        """Continues the buffer's newest bar (e.g. the current minute from history)."""
        rows = self.buf.read(1)
        if rows.shape[0]:
            self.load(rows[0])

    def load(self, r: np.void) -> None:
        """Takes `r` (already in the buffer) as the forming bar."""
        self.t = int(r["time"])
        self.o, self.h, self.l, self.c = (float(r[f]) for f in ("open", "high", "low", "close"))
        self.v, self.n = float(r["volume"]), int(r["count"])
        self.pv = float(r["bar_wap"]) * self.v
        self.dirty = False

    def merge(self, r: np.void) -> None:
        """Folds a later bar of the same interval into the forming one and writes it."""
        self.h = max(self.h, float(r["high"]))
        self.l = min(self.l, float(r["low"]))
        self.c = float(r["close"])
        self.v += float(r["volume"])
        self.n += int(r["count"])
        self.pv += float(r["bar_wap"]) * float(r["volume"])
        self.dirty = False
        self.buf.set_last(self.row())

    def extend(self, bars: np.ndarray) -> None:
        """Appends later bars: the first merges if it is the forming interval, the rest push."""
        if bars.shape[0] == 0:
            return
        if int(bars["time"][0]) == self.t:
            self.merge(bars[0])
            bars = bars[1:]
            if bars.shape[0] == 0:
                return
        self.flush()
        self.buf.push(bars)
        self.load(bars[-1])

    def row(self) -> tuple[int, int, float, float, float, float, float, int, float]:
        wap = self.pv / self.v if self.v > 0 else self.c
        wap = min(max(wap, self.l), self.h)
        return (0, self.t, self.o, self.h, self.l, self.c, self.v, self.n, wap)

    def flush(self) -> None:
        if self.dirty:
            self.dirty = False
            self.buf.set_last(self.row())

    def start(self, t: int, price: float, size: float, ts_ns: int) -> None:
        self.flush()  # the closing bar's final state goes out before the next row
        self.due = ts_ns + self.every
        self.t = t
        self.o = self.h = self.l = self.c = price
        self.v = size
        self.pv = price * size
        self.n = 1
        self.buf.push(np.array([self.row()], dtype=OHLC_DTYPE))

    def add(self, price: float, size: float, ts_ns: int, *, newest: bool = True) -> None:
        if price > self.h:
            self.h = price
        elif price < self.l:
            self.l = price
        if newest:
            self.c = price
        self.v += size
        self.pv += price * size
        self.n += 1
        if self.every == 0:
            self.buf.set_last(self.row())
        elif ts_ns >= self.due:
            self.due = ts_ns + self.every
            self.dirty = False
            self.buf.set_last(self.row())
        else:
            self.dirty = True

    def flat(self, t0: int, count: int) -> None:
        """Pushes `count` flat bars starting at t0, one per `tf`, at the current close."""
        self.flush()
        keep = min(count, self.buf.capacity)
        first_t = t0 + (count - keep) * self.tf
        rows = np.zeros(keep, dtype=OHLC_DTYPE)
        rows["time"] = np.arange(first_t, first_t + keep * self.tf, self.tf)
        for f in ("open", "high", "low", "close", "bar_wap"):
            rows[f] = self.c
        self.buf.push(rows)
        self.t = t0 + (count - 1) * self.tf
        self.o = self.h = self.l = self.c
        self.v = self.pv = 0.0
        self.n = 0


class Sampler:
    """Streams trades into 1 s and 1 m bar buffers (wall-clock aligned, written through).

    Call `on_trade` per trade (exchange time) and `on_clock` at least once a second with local
    time and whether the feed is live. `fill_delay_s` is how long after a second ends it is
    treated as silent, so trades delayed in transit still land in their own bar.

    By default every trade is written through to both buffers. With `write_every_s` > 0 the
    forming bars are written at most that often in trade time (plus whenever a bar closes and
    on `on_clock`/`flush`), which roughly doubles ingest speed; readers then lag by up to that
    long or until the next `on_clock`, so call `on_clock` at the frame rate if you set it.
    """

    def __init__(
        self,
        buf_1s: OhlcBuffer,
        buf_1m: OhlcBuffer,
        *,
        fill_delay_s: float = 1.0,
        write_every_s: float = 0.0,
    ) -> None:
        if fill_delay_s < 0 or write_every_s < 0:
            raise ValueError("fill_delay_s and write_every_s must be >= 0 seconds")
        self.buf_1s = buf_1s
        self.buf_1m = buf_1m
        self.fill_delay_ns = int(fill_delay_s * NS)
        every = int(write_every_s * NS)
        self.live = False
        self.late_trades = 0
        """Trades older than the bar forming when they arrived; counted into that bar."""
        self._s = _Forming(buf_1s, 1, every)
        self._m = _Forming(buf_1m, 60, every)
        self._s.adopt()
        self._m.adopt()
        self._fill_from = 0  # first second flat bars may cover (after the last outage)

    def on_trade(self, ts_ns: int, price: float, size: float) -> None:
        """One trade at exchange time `ts_ns` (epoch ns)."""
        sec = ts_ns // NS
        s, m = self._s, self._m
        if sec == s.t:
            s.add(price, size, ts_ns)
            m.add(price, size, ts_ns)
            return
        if sec < s.t:
            self.late_trades += 1
            s.add(price, size, ts_ns, newest=False)
            m.add(price, size, ts_ns, newest=False)
            return
        if self.live and s.t >= 0:
            self._fill(sec)
        s.start(sec, price, size, ts_ns)
        minute = sec - sec % 60
        if minute == m.t:
            m.add(price, size, ts_ns)
        elif minute > m.t:
            m.start(minute, price, size, ts_ns)
        else:
            m.add(price, size, ts_ns, newest=False)

    def on_trades(self, ts_ns: Any, price: Any, size: Any) -> None:
        """Many trades at once, oldest first: the bars `on_trade` would make, vectorized.

        A batch out of time order, or reaching back before the forming bar, goes trade by
        trade instead so late trades are handled the same way.
        """
        ts = _as_1d(ts_ns, "i8", "ts_ns")
        n = ts.shape[0]
        if n == 0:
            return
        s, m = self._s, self._m
        if int(ts[0]) // NS < s.t or (n > 1 and (ts[1:] < ts[:-1]).any()):
            px, sz = _as_1d(price, "f8", "price"), _as_1d(size, "f8", "size")
            for t, p, q in zip(ts.tolist(), px.tolist(), sz.tolist(), strict=True):
                self.on_trade(t, p, q)
            return
        new = bars_from_trades(ts, price, size)
        if s.t >= 0 and self.live:
            new = self._with_flats(new, s.t, s.c)
        elif self.live and new.shape[0] > 1:
            new = np.concatenate(
                (new[:1], self._with_flats(new[1:], int(new["time"][0]), float(new["close"][0])))
            )
        minutes = resample(new, 60)
        s.extend(new)
        m.extend(minutes)
        s.due = m.due = int(ts[-1]) + s.every

    def _with_flats(self, bars: np.ndarray, prev_t: int, prev_c: float) -> np.ndarray:
        """`bars` with flat bars in the silent seconds before each (after `prev_t`)."""
        times = bars["time"]
        prev = np.empty_like(times)
        prev[0] = prev_t
        prev[1:] = times[:-1]
        lo = np.maximum(prev + 1, self._fill_from)
        counts = np.maximum(times - lo, 0)
        total = int(counts.sum())
        if total == 0:
            return bars
        out = np.zeros(bars.shape[0] + total, dtype=OHLC_DTYPE)
        ends = np.cumsum(counts)
        real = ends + np.arange(bars.shape[0])
        out[real] = bars
        flat = np.ones(out.shape[0], dtype=bool)
        flat[real] = False
        closes = np.empty(bars.shape[0])
        closes[0] = prev_c
        closes[1:] = bars["close"][:-1]
        where = np.flatnonzero(flat)
        out["time"][where] = (
            np.repeat(lo, counts) + np.arange(total) - np.repeat(ends - counts, counts)
        )
        price = np.repeat(closes, counts)
        for f in ("open", "high", "low", "close", "bar_wap"):
            out[f][where] = price
        return out

    def on_clock(self, now_ns: int, live: bool) -> None:
        """Local time tick: fills flat bars for finished silent seconds, only while live."""
        self.flush()
        if not live:
            self.live = False
            # nothing up to now may be filled later: those seconds passed while we were down
            self._fill_from = max(self._fill_from, now_ns // NS + 1)
            return
        self.live = True
        if self._s.t >= 0:
            self._fill((now_ns - self.fill_delay_ns) // NS)

    def flush(self) -> None:
        """Writes the forming bars out now (only needed with `write_every_s` > 0)."""
        self._s.flush()
        self._m.flush()

    def _fill(self, until: int) -> None:
        """Flat bars for the seconds after the newest bar and before `until`."""
        s, m = self._s, self._m
        lo = max(s.t + 1, self._fill_from)
        if until <= lo:
            return
        if m.t < 0:
            m.c = s.c
        s.flat(lo, until - lo)
        m_lo = max(lo - lo % 60, m.t + 60)
        m_hi = (until - 1) - (until - 1) % 60
        if m_hi >= m_lo:
            m.flat(m_lo, (m_hi - m_lo) // 60 + 1)
