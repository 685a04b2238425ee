"""Synthetic OHLC history that ends exactly where the live sim market starts.

Bars are generated backwards from the anchor (the live start time and price): the last bar
closes at the live start price and ends at the live start time, so a chart joins history and
live without a gap. The served range is cut, from its end backwards, into blocks with their
own random streams, and volatility and trend regimes come from one cheap coarse path; so a
request only generates the blocks it reaches (the latest week of 1 m bars is one block) and
rows never depend on which window was asked for: pages agree with one large request. The day
of 1 s bars is drawn inside the last day of 1 m bars, so it adds up to them exactly.
"""

from __future__ import annotations

import math

import numpy as np

from console.data.provider import OHLC_DTYPE
from providers.sim.specs import SymbolSpec, seed_word, symbol_key

SERVED_ROWS: dict[int, int] = {1: 86_400, 60: 525_600}
"""Timeframe (s) -> how many bars back the sim serves: one day of 1 s, one year of 1 m."""

BLOCK = 16_384
"""Rows per random block, counted back from the end of the served range."""

_COARSE = 64  # volatility and trend regimes change every 64 bars, interpolated between
_TREND_PHI = 0.99
# activity of the live market at its calm default rate, where price moves sweep whole levels:
# some 10-30 prints a second of about 1.5 typical orders each, so volume joins without a step
_TRADES_PER_S = 20.0
_LOTS_PER_TRADE = 1.5


def history_end(start_ns: int, timeframe_s: int) -> int:
    """Epoch second where history stops: the start of the bar holding the live start."""
    return (start_ns // 1_000_000_000) // timeframe_s * timeframe_s


def _regime(rng: np.random.Generator, m: int, phi: float, sd: float) -> np.ndarray:
    """A stationary AR(1) path of `m` coarse points."""
    shocks = rng.standard_normal(m) * sd * math.sqrt(1 - phi * phi)
    path = np.empty(m)
    x = float(rng.standard_normal()) * sd
    for k in range(m):  # ~8k steps for a year of minutes: cheap even in Python
        x = phi * x + float(shocks[k])
        path[k] = x
    return path


def generate(
    spec: SymbolSpec,
    seed: int,
    timeframe_s: int,
    end_s: int,
    end_price: float,
    lo: int = 0,
    hi: int | None = None,
) -> np.ndarray:
    """Rows `lo:hi` of the bars the sim serves for this timeframe, oldest first, `OHLC_DTYPE`.

    Row `SERVED_ROWS[timeframe_s] - 1` starts at `end_s - timeframe_s` and closes at
    `end_price`; each bar opens at the previous bar's close. 1 s bars are drawn inside the
    1 m bars that end at the same minute, so both timeframes tell one story.
    """
    n = SERVED_ROWS[timeframe_s]
    hi = n if hi is None else hi
    if not 0 <= lo <= hi <= n:
        raise ValueError(f"rows {lo}:{hi} are outside 0:{n}")
    if timeframe_s == 1:
        return _seconds(spec, seed, end_s, end_price)[lo:hi]
    return _path_bars(spec, seed, timeframe_s, end_s, end_price, lo, hi)


def _path_bars(
    spec: SymbolSpec, seed: int, timeframe_s: int, end_s: int, end_price: float, lo: int, hi: int
) -> np.ndarray:
    """Bars of a random path walked back from (end_s, end_price), generated block by block."""
    n = SERVED_ROWS[timeframe_s]
    key = symbol_key(spec.symbol)
    seed_w = seed_word(seed)
    # regimes for the whole range (coarse points are cheap); the rows take what they need
    m = n // _COARSE + 2
    regime_rng = np.random.default_rng([seed_w, key, timeframe_s, 0x52])
    lv_coarse = _regime(regime_rng, m, 0.97, 0.35)
    trend_coarse = _regime(regime_rng, m, _TREND_PHI, 1.0)

    first_block = (n - 1 - lo) // BLOCK if lo < n else 0
    a = max(0, n - (first_block + 1) * BLOCK)  # generate rows a..n-1
    rows = n - a
    z = np.empty(rows)
    jump = np.empty(rows)
    wick = np.empty((2, rows))
    noise = np.empty((2, rows))
    for k in range(first_block, -1, -1):
        s, e = max(0, n - (k + 1) * BLOCK), n - k * BLOCK
        brng = np.random.default_rng([seed_w, key, timeframe_s, 0x42, k])
        ln = e - s
        z[s - a : e - a] = brng.standard_normal(ln)
        jump[s - a : e - a] = (brng.random(ln) < 2e-4 * timeframe_s**0.5) * brng.standard_normal(ln)
        wick[:, s - a : e - a] = np.abs(brng.standard_normal((2, ln)))
        noise[:, s - a : e - a] = brng.random((2, ln))

    x = np.arange(a, n) / _COARSE
    lv = np.interp(x, np.arange(m), lv_coarse)
    sigma_base = spec.daily_vol / math.sqrt(86_400.0 / timeframe_s)
    sigma_bar = sigma_base * np.exp(lv)
    # a trend lasting T bars moves the price about a third as much as the noise does over T
    trend_bars = _COARSE / (1 - _TREND_PHI)
    trend = np.interp(x, np.arange(m), trend_coarse) * (0.3 * sigma_base / math.sqrt(trend_bars))
    r = trend + sigma_bar * (z + 5.0 * jump)

    # close[i] = end_price * exp(-(r[i+1] + ... + r[n-1])), summed from the end so that every
    # row's value is the same however far back a request reaches
    csum = np.cumsum(r[::-1])[::-1]
    tail = np.empty(rows)
    tail[:-1] = csum[1:]
    tail[-1] = 0.0
    tick = spec.tick
    close_t = np.maximum(1, np.round(end_price * np.exp(-tail) / tick)).astype(np.int64)
    close_t[-1] = max(1, round(end_price / tick))
    open_t = np.empty_like(close_t)
    open_t[1:] = close_t[:-1]
    open_t[0] = max(1, round(end_price * math.exp(-float(csum[0])) / tick))
    hi_c = np.maximum(open_t, close_t)
    lo_c = np.minimum(open_t, close_t)
    # wicks scale with the bar's volatility
    high_t = np.maximum(hi_c, np.round(hi_c * np.exp(0.6 * wick[0] * sigma_bar)).astype(np.int64))
    low_t = np.maximum(1, np.minimum(lo_c, np.round(lo_c * np.exp(-0.6 * wick[1] * sigma_bar))))
    low_t = low_t.astype(np.int64)
    wap_t = np.clip(np.round((open_t + high_t + low_t + close_t) / 4.0), low_t, high_t)

    # activity follows volatility, as on real venues; Poisson-like counts from uniforms keep
    # the draws per row fixed in number
    mean_trades = _TRADES_PER_S * timeframe_s * np.exp(1.5 * lv)
    trades = 1 + np.floor(mean_trades * (0.5 + noise[0])).astype(np.int64)
    lots = trades * (_LOTS_PER_TRADE * spec.order_lots) * np.exp(noise[1] - 0.5)
    lots = np.maximum(1.0, np.round(lots))

    sl = slice(lo - a, hi - a)
    out = np.empty(hi - lo, dtype=OHLC_DTYPE)
    times = end_s - timeframe_s * (n - np.arange(lo, hi, dtype=np.int64))
    out["time"] = times
    out["index"] = times // timeframe_s
    frac = spec.tick_frac
    num, den = frac.numerator, frac.denominator
    out["open"] = open_t[sl] * num / den
    out["high"] = high_t[sl] * num / den
    out["low"] = low_t[sl] * num / den
    out["close"] = close_t[sl] * num / den
    out["bar_wap"] = wap_t[sl] * num / den
    lot = spec.lot_frac
    out["volume"] = lots[sl] * lot.numerator / lot.denominator
    out["count"] = trades[sl]
    return out


def _seconds(spec: SymbolSpec, seed: int, end_s: int, end_price: float) -> np.ndarray:
    """The day of 1 s bars ending at `end_s`, drawn inside the 1 m history.

    Each minute's 60 closes are a Brownian bridge from its open to its close, stretched so
    the highest and lowest reach the minute's high and low; its volume and trade count are
    split over its seconds. Seconds after the last whole minute (before the live start) stay
    at `end_price`, where the minute history ends.
    """
    n = SERVED_ROWS[1]
    m_end = end_s // 60 * 60
    n_min = n // 60
    minutes = _path_bars(spec, seed, 60, m_end, end_price, SERVED_ROWS[60] - n_min,
                         SERVED_ROWS[60])
    tick = spec.tick
    lot = spec.lot_frac
    o = np.round(minutes["open"] / tick).astype(np.int64)
    c = np.round(minutes["close"] / tick).astype(np.int64)
    h = np.round(minutes["high"] / tick).astype(np.int64)
    lw = np.round(minutes["low"] / tick).astype(np.int64)
    vol = np.round(minutes["volume"] * lot.denominator / lot.numerator).astype(np.int64)
    cnt = minutes["count"]

    rng = np.random.default_rng([seed_word(seed), symbol_key(spec.symbol), 1, 0x53])
    walk = np.cumsum(rng.standard_normal((n_min, 60)), axis=1)
    frac = np.arange(1, 61) / 60.0
    bridge = walk - frac * walk[:, -1:]  # zero at both ends
    amp = (h - lw) / 8.0 + 0.3  # a 60-step bridge spans about 8 steps
    path = np.empty((n_min, 61))
    path[:, 0] = o
    path[:, 1:] = o[:, None] + (c - o)[:, None] * frac + bridge * amp[:, None]
    path[:, 60] = c
    # stretch the excursions beyond the open/close so the extremes land on high and low
    top = np.maximum(o, c)[:, None].astype(float)
    bottom = np.minimum(o, c)[:, None].astype(float)
    pmax = path.max(axis=1, keepdims=True)
    pmin = path.min(axis=1, keepdims=True)
    up = np.where(pmax > top, (h[:, None] - top) / np.maximum(pmax - top, 1e-12), 0.0)
    down = np.where(pmin < bottom, (bottom - lw[:, None]) / np.maximum(bottom - pmin, 1e-12), 0.0)
    path = np.where(path > top, top + (path - top) * up, path)
    path = np.where(path < bottom, bottom - (bottom - path) * down, path)
    ticks = np.clip(np.round(path), lw[:, None], h[:, None]).astype(np.int64)

    s_open = ticks[:, :-1]
    s_close = ticks[:, 1:]
    wicks = np.floor(np.abs(rng.standard_normal((2, n_min, 60))) * 0.7).astype(np.int64)
    s_high = np.minimum(np.maximum(s_open, s_close) + wicks[0], h[:, None])
    s_low = np.maximum(np.minimum(s_open, s_close) - wicks[1], lw[:, None])
    rows = np.arange(n_min)
    s_high[rows, np.argmax(s_high, axis=1)] = h  # the minute's high and low happen somewhere
    s_low[rows, np.argmin(s_low, axis=1)] = lw

    weights = rng.gamma(2.0, 1.0, (n_min, 60))
    weights /= weights.sum(axis=1, keepdims=True)
    s_vol = np.floor(vol[:, None] * weights).astype(np.int64)
    s_vol[:, -1] += vol - s_vol.sum(axis=1)  # rounding leftovers go to the minute's last second
    s_cnt = np.floor(cnt[:, None] * weights).astype(np.int64)
    s_cnt[:, -1] += cnt - s_cnt.sum(axis=1)

    tail = end_s - m_end  # seconds between the last whole minute and the live start
    end_t = round(end_price / tick)
    flat_lots = max(1, round(_LOTS_PER_TRADE * spec.order_lots))

    def column(minute_part: np.ndarray, seam: int) -> np.ndarray:
        flat = minute_part.reshape(-1)[tail:]
        return np.concatenate([flat, np.full(tail, seam, dtype=flat.dtype)])

    o_t = column(s_open, end_t)
    h_t = column(s_high, end_t)
    l_t = column(s_low, end_t)
    c_t = column(s_close, end_t)
    out = np.empty(n, dtype=OHLC_DTYPE)
    times = end_s - np.arange(n, 0, -1, dtype=np.int64)
    out["time"] = times
    out["index"] = times
    frac_t = spec.tick_frac
    num, den = frac_t.numerator, frac_t.denominator
    out["open"] = o_t * num / den
    out["high"] = h_t * num / den
    out["low"] = l_t * num / den
    out["close"] = c_t * num / den
    out["bar_wap"] = np.clip(np.round((o_t + h_t + l_t + c_t) / 4.0), l_t, h_t) * num / den
    out["volume"] = column(s_vol, flat_lots) * lot.numerator / lot.denominator
    out["count"] = column(s_cnt, 1)
    return out
