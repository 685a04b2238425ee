"""Sampler: streaming vs batch bars, wall-clock alignment, flat fill only while live, resample."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.data.buffers import OhlcBuffer
from console.data.provider import OHLC_DTYPE
from console.data.sampler import NS, Sampler, bars_from_trades, resample

T0 = 1_700_000_040  # a minute boundary (divisible by 60)
EXACT = ["time", "open", "high", "low", "close", "count"]


@pytest.fixture
def bufs() -> Iterator[tuple[OhlcBuffer, OhlcBuffer]]:
    b1 = OhlcBuffer.create("sampler.1s", 4096)
    b2 = OhlcBuffer.create("sampler.1m", 512)
    yield b1, b2
    b1.unlink()
    b2.unlink()


def assert_bars_equal(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape
    for f in EXACT:
        assert got[f].tolist() == want[f].tolist(), f
    np.testing.assert_allclose(got["volume"], want["volume"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got["bar_wap"], want["bar_wap"], rtol=1e-9)


trades_strategy = st.lists(
    st.tuples(
        st.integers(0, 150 * NS),  # offsets from T0, spanning a few minutes
        st.integers(9_990, 10_010).map(lambda t: t / 10),  # prices on a 0.1 tick grid
        st.integers(0, 5_000).map(lambda q: q / 1000),
    ),
    min_size=1,
    max_size=80,
)


@settings(max_examples=60, deadline=None)
@given(trades=trades_strategy, write_every_s=st.sampled_from([0.0, 0.05]))
def test_streaming_bars_equal_batch_bars_and_1m_equals_resampled_1s(trades, write_every_s):
    trades.sort(key=lambda t: t[0])
    ts = [T0 * NS + t for t, _, _ in trades]
    px = [p for _, p, _ in trades]
    sz = [q for _, _, q in trades]
    b1 = OhlcBuffer.create("prop.1s", 512)
    b2 = OhlcBuffer.create("prop.1m", 64)
    try:
        sampler = Sampler(b1, b2, write_every_s=write_every_s)
        for t, p, q in zip(ts, px, sz, strict=True):
            sampler.on_trade(t, p, q)
        sampler.flush()
        batch = bars_from_trades(np.array(ts), np.array(px), np.array(sz))
        assert_bars_equal(b1.read(), batch)
        assert_bars_equal(b2.read(), resample(batch, 60))
    finally:
        b1.unlink()
        b2.unlink()


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("trade"), st.integers(0, 3 * NS), st.integers(1, 50)),
            st.tuples(st.just("clock"), st.integers(0, 40 * NS), st.booleans()),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_streaming_1m_always_equals_resampled_streaming_1s_with_outages(steps):
    b1 = OhlcBuffer.create("prop2.1s", 2048)
    b2 = OhlcBuffer.create("prop2.1m", 64)
    try:
        sampler, now = Sampler(b1, b2, fill_delay_s=0.0), T0 * NS
        for kind, dt, arg in steps:
            now += dt
            if kind == "trade":
                sampler.on_trade(now, 100 + arg / 10, 1.0)
            else:
                sampler.on_clock(now, bool(arg))
        s = b1.read()
        assert_bars_equal(b2.read(), resample(s, 60))
        assert (np.diff(s["time"]) > 0).all()
    finally:
        b1.unlink()
        b2.unlink()


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(
                st.just("trades"),
                st.lists(st.tuples(st.integers(0, 3 * NS), st.integers(1, 50)), max_size=12),
            ),
            st.tuples(st.just("clock"), st.integers(0, 20 * NS), st.booleans()),
        ),
        min_size=1,
        max_size=25,
    ),
    history=st.booleans(),
)
def test_batch_ingest_makes_the_same_bars_as_trade_by_trade(steps, history):
    made = [
        OhlcBuffer.create(f"eq{i}.{tf}", cap)
        for i in (0, 1)
        for tf, cap in (("1s", 1024), ("1m", 64))
    ]
    try:
        if history:  # both continue the same forming minute from history
            hist = np.zeros(1, dtype=OHLC_DTYPE)
            hist[0] = (0, T0, 100.0, 101.0, 99.0, 100.5, 2.0, 2, 100.2)
            made[1].push(hist)
            made[3].push(hist)
        one = Sampler(made[0], made[1], fill_delay_s=0.0)
        many = Sampler(made[2], made[3], fill_delay_s=0.0)
        now = T0 * NS
        for kind, *args in steps:
            if kind == "clock":
                now += args[0]
                one.on_clock(now, args[1])
                many.on_clock(now, args[1])
                continue
            ts, px = [], []
            for dt, p in args[0]:
                now += dt
                ts.append(now)
                px.append(100 + p / 10)
            for t, p in zip(ts, px, strict=True):
                one.on_trade(t, p, 0.5)
            many.on_trades(np.array(ts, dtype=np.int64), np.array(px), np.full(len(ts), 0.5))
        assert_bars_equal(made[2].read(), made[0].read())
        assert_bars_equal(made[3].read(), made[1].read())
    finally:
        for b in made:
            b.unlink()


def test_batch_reaching_back_before_the_forming_bar_goes_trade_by_trade(bufs):
    b1, b2 = bufs
    sampler = Sampler(b1, b2)
    sampler.on_trade((T0 + 5) * NS, 10.0, 1.0)
    sampler.on_trades([(T0 + 4) * NS, (T0 + 6) * NS], [9.0, 11.0], [1.0, 1.0])
    got = b1.read()
    assert got["time"].tolist() == [T0 + 5, T0 + 6]
    assert got["volume"].tolist() == [2.0, 1.0]
    assert sampler.late_trades == 1


def test_throttled_writes_lag_until_on_clock_flushes(bufs):
    b1, b2 = bufs
    sampler = Sampler(b1, b2, write_every_s=0.1)
    sampler.on_trade(T0 * NS, 10.0, 1.0)
    sampler.on_trade(T0 * NS + 1, 11.0, 1.0)  # within 0.1 s: held back
    assert b1.read()[-1]["close"] == 10.0
    sampler.on_trade(T0 * NS + NS // 5, 12.0, 1.0)  # 0.2 s later: written through
    assert (b1.read()[-1]["close"], b2.read()[-1]["count"]) == (12.0, 3)
    sampler.on_trade(T0 * NS + NS // 5 + 1, 13.0, 1.0)
    sampler.on_clock(T0 * NS + NS // 2, live=True)
    assert (b1.read()[-1]["close"], b2.read()[-1]["close"]) == (13.0, 13.0)


def test_bar_boundaries_are_epoch_seconds_and_minutes_not_trade_relative(bufs):
    b1, b2 = bufs
    sampler = Sampler(b1, b2)
    start = (T0 + 59) * NS  # the last second of a minute
    sampler.on_trade(start + 999_999_999, 10.0, 1.0)  # 0.999 s into second T0+59
    sampler.on_trade(start + NS, 11.0, 2.0)  # exactly the next second, the next minute
    sampler.on_trade(start + NS + 400_000_000, 12.0, 1.0)
    s, m = b1.read(), b2.read()
    assert s["time"].tolist() == [T0 + 59, T0 + 60]
    assert s["count"].tolist() == [1, 2]
    assert s["close"].tolist() == [10.0, 12.0]
    assert m["time"].tolist() == [T0, T0 + 60]
    assert (m["time"] % 60 == 0).all()


def test_flat_bars_fill_silent_seconds_only_while_live(bufs):
    b1, b2 = bufs
    sampler = Sampler(b1, b2, fill_delay_s=0.0)
    sampler.on_trade(T0 * NS, 100.0, 1.0)
    sampler.on_clock((T0 + 4) * NS + 1, live=True)  # seconds T0+1..T0+3 are over and silent
    assert b1.read()["time"].tolist() == [T0, T0 + 1, T0 + 2, T0 + 3]
    sampler.on_clock((T0 + 5) * NS, live=False)  # feed drops
    sampler.on_clock((T0 + 9) * NS, live=False)
    assert b1.read()["time"].tolist() == [T0, T0 + 1, T0 + 2, T0 + 3]
    sampler.on_clock((T0 + 12) * NS, live=True)  # back: only time after the last down tick
    got = b1.read()["time"].tolist()
    assert got == [T0, T0 + 1, T0 + 2, T0 + 3, T0 + 10, T0 + 11]
    flat = b1.read()[1]
    assert (flat["open"], flat["high"], flat["low"], flat["close"]) == (100.0,) * 4
    assert (flat["volume"], flat["count"], flat["bar_wap"]) == (0.0, 0, 100.0)


def test_no_flat_bars_before_the_first_trade_or_while_never_live(bufs):
    b1, b2 = bufs
    sampler = Sampler(b1, b2, fill_delay_s=0.0)
    sampler.on_clock((T0 + 5) * NS, live=True)
    assert len(b1) == 0
    sampler.on_trade((T0 + 6) * NS, 5.0, 1.0)
    sampler.on_clock((T0 + 6) * NS, live=False)
    sampler.on_trade((T0 + 9) * NS, 6.0, 1.0)  # trades while down still make bars, no fill
    assert b1.read()["time"].tolist() == [T0 + 6, T0 + 9]


def test_fill_delay_leaves_a_just_ended_second_open_for_late_trades(bufs):
    b1, b2 = bufs
    sampler = Sampler(b1, b2, fill_delay_s=1.0)
    sampler.on_trade(T0 * NS, 100.0, 1.0)
    sampler.on_clock((T0 + 3) * NS + 500_000_000, live=True)  # T0+1 ended 1.5 s ago: filled
    assert b1.read()["time"].tolist() == [T0, T0 + 1]
    sampler.on_trade((T0 + 2) * NS + 900_000_000, 101.0, 1.0)  # T0+2 was not filled flat
    got = b1.read()
    assert got["time"].tolist() == [T0, T0 + 1, T0 + 2]
    assert got["open"][-1] == 101.0


def test_silent_minutes_while_live_get_flat_1m_bars(bufs):
    b1, b2 = bufs
    sampler = Sampler(b1, b2, fill_delay_s=0.0)
    sampler.on_trade(T0 * NS + 5, 50.0, 2.0)
    sampler.on_clock((T0 + 185) * NS, live=True)
    m = b2.read()
    assert m["time"].tolist() == [T0, T0 + 60, T0 + 120, T0 + 180]
    assert m["volume"].tolist() == [2.0, 0.0, 0.0, 0.0]
    assert (m["close"] == 50.0).all()


def test_late_trade_keeps_its_volume_in_the_forming_bar_and_is_counted(bufs):
    b1, b2 = bufs
    sampler = Sampler(b1, b2)
    sampler.on_trade((T0 + 3) * NS, 100.0, 1.0)
    sampler.on_trade((T0 + 2) * NS, 90.0, 2.0)  # older than the bar forming
    bar = b1.read()[-1]
    assert sampler.late_trades == 1
    assert (bar["time"], bar["volume"], bar["count"]) == (T0 + 3, 3.0, 2)
    assert (bar["low"], bar["close"]) == (90.0, 100.0)  # it traded, but is not the last price


def test_sampler_continues_the_newest_history_bar(bufs):
    b1, b2 = bufs
    hist = np.zeros(1, dtype=OHLC_DTYPE)
    hist[0] = (0, T0, 10.0, 12.0, 9.0, 11.0, 4.0, 3, 10.5)
    b2.push(hist)
    sampler = Sampler(b1, b2)
    sampler.on_trade((T0 + 30) * NS, 13.0, 1.0)
    m = b2.read()
    assert m.shape == (1,)
    assert (m[0]["open"], m[0]["high"], m[0]["close"], m[0]["count"]) == (10.0, 13.0, 13.0, 4)
    assert m[0]["bar_wap"] == pytest.approx((10.5 * 4 + 13.0) / 5)


def test_batch_sorts_out_of_order_trades_stably():
    ts = np.array([2 * NS, 1 * NS, 2 * NS + 1, 1 * NS])
    bars = bars_from_trades(ts, np.array([3.0, 1.0, 4.0, 2.0]), np.ones(4))
    assert bars["time"].tolist() == [1, 2]
    assert bars["open"].tolist() == [1.0, 3.0]
    assert bars["close"].tolist() == [2.0, 4.0]


def test_batch_vwap_and_volume_are_exact_for_a_known_case():
    bars = bars_from_trades(
        np.array([T0 * NS, T0 * NS + 1, T0 * NS + 2]), np.array([10.0, 20.0, 15.0]), [1, 3, 0]
    )
    assert bars.shape == (1,)
    assert bars[0]["volume"] == 4.0
    assert bars[0]["bar_wap"] == pytest.approx(17.5)
    assert (bars[0]["high"], bars[0]["low"], bars[0]["count"]) == (20.0, 10.0, 3)


def test_zero_volume_bar_reports_its_close_as_vwap():
    bars = bars_from_trades([T0 * NS], [42.0], [0.0])
    assert bars[0]["bar_wap"] == 42.0


@pytest.mark.parametrize(
    ("price", "size", "match"),
    [
        ([1.0, float("nan")], [1.0, 1.0], r"price\[1\] is nan"),
        ([1.0, 2.0], [1.0, -3.0], r"size\[1\] is -3.0"),
        ([1.0], [1.0, 1.0], "same length"),
    ],
)
def test_batch_rejects_bad_trades_naming_the_field(price, size, match):
    with pytest.raises(ValueError, match=match):
        bars_from_trades(np.arange(len(price)) * NS, price, size)


def naive_resample(bars: np.ndarray, tf: int) -> list[tuple]:
    out: dict[int, list] = {}
    for b in bars:
        key = int(b["time"]) // tf * tf
        if key not in out:
            out[key] = [key, b["open"], b["high"], b["low"], b["close"], 0.0, 0, 0.0]
        g = out[key]
        g[2], g[3], g[4] = max(g[2], b["high"]), min(g[3], b["low"]), b["close"]
        g[5] += b["volume"]
        g[6] += int(b["count"])
        g[7] += b["bar_wap"] * b["volume"]
    return [(*g[:7], g[7] / g[5] if g[5] else g[4]) for g in out.values()]


@settings(max_examples=60, deadline=None)
@given(
    tf=st.sampled_from([300, 900, 3600, 14400, 86400]),
    gaps=st.lists(st.integers(1, 400), min_size=1, max_size=60),
    seed=st.integers(0, 2**32 - 1),
)
def test_resample_matches_a_naive_reference(tf, gaps, seed):
    rng = np.random.default_rng(seed)
    n = len(gaps)
    bars = np.zeros(n, dtype=OHLC_DTYPE)
    bars["time"] = T0 + 60 * np.cumsum(gaps)  # 1 m bars with holes (outages)
    bars["index"] = np.arange(n)
    o = rng.integers(900, 1100, n) / 10
    c = rng.integers(900, 1100, n) / 10
    bars["open"], bars["close"] = o, c
    bars["high"] = np.maximum(o, c) + rng.integers(0, 20, n) / 10
    bars["low"] = np.minimum(o, c) - rng.integers(0, 20, n) / 10
    bars["volume"] = rng.integers(0, 3, n) * rng.random(n)
    bars["count"] = rng.integers(0, 9, n)
    bars["bar_wap"] = (bars["high"] + bars["low"]) / 2
    got = resample(bars, tf)
    want = naive_resample(bars, tf)
    assert got.shape[0] == len(want)
    assert (got["time"] % tf == 0).all()
    for i, w in enumerate(want):
        g = got[i]
        assert (g["time"], g["open"], g["high"], g["low"], g["close"], g["count"]) == (
            w[0],
            w[1],
            w[2],
            w[3],
            w[4],
            w[6],
        )
        assert g["volume"] == pytest.approx(w[5], rel=1e-12, abs=1e-12)
        assert g["bar_wap"] == pytest.approx(w[7], rel=1e-9)


def test_daily_bars_start_at_utc_midnight():
    bars = np.zeros(3, dtype=OHLC_DTYPE)
    midnight = 1_700_006_400  # 2023-11-15 00:00 UTC
    bars["time"] = [midnight - 60, midnight, midnight + 86_340]
    bars["close"] = [1.0, 2.0, 3.0]
    daily = resample(bars, 86_400)
    assert daily["time"].tolist() == [midnight - 86_400, midnight]
    assert daily["close"].tolist() == [1.0, 3.0]


def test_resample_rejects_unsorted_bars_and_bad_timeframes():
    bars = np.zeros(2, dtype=OHLC_DTYPE)
    bars["time"] = [120, 60]
    with pytest.raises(ValueError, match="sorted by time"):
        resample(bars, 300)
    with pytest.raises(ValueError, match="timeframe_s"):
        resample(bars, 0)
