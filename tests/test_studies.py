"""Chart studies against naive references: RSI, VWAP, per-bar folding, CVD and book imbalance."""

from __future__ import annotations

import itertools
import math
from typing import Literal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.data.provider import OHLC_DTYPE
from console.data.studies import (
    FlowSampler,
    SecondSeries,
    imbalance,
    per_bar,
    provider_study,
    rsi,
    study_close,
    vwap,
)
from console.data.tape import TradeTape
from console.model.book import Book
from console.model.events import BookSnapshot, Trade

NS = 1_000_000_000


def naive_rsi(close: list[float], period: int = 14) -> list[float]:
    """Wilder's RSI the textbook way, one step at a time."""
    out = [math.nan] * len(close)
    if len(close) <= period:
        return out
    gains = [max(b - a, 0.0) for a, b in itertools.pairwise(close)]
    losses = [max(a - b, 0.0) for a, b in itertools.pairwise(close)]
    g = sum(gains[:period]) / period
    lo = sum(losses[:period]) / period

    def value(g: float, lo: float) -> float:
        if lo == 0:
            return 50.0 if g == 0 else 100.0
        return 100.0 - 100.0 / (1.0 + g / lo)

    out[period] = value(g, lo)
    for i in range(period, len(gains)):
        g = (g * (period - 1) + gains[i]) / period
        lo = (lo * (period - 1) + losses[i]) / period
        out[i + 1] = value(g, lo)
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(1.0, 1000.0, allow_nan=False), min_size=0, max_size=120),
    st.integers(2, 20),
)
def test_rsi_matches_wilders_step_by_step_definition(close: list[float], period: int) -> None:
    got = rsi(np.array(close), period)
    want = naive_rsi(close, period)
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-7)


def test_rsi_long_series_takes_the_loop_path_and_still_agrees() -> None:
    rng = np.random.default_rng(3)
    close = 100 + np.cumsum(rng.normal(0, 1, 5000))
    np.testing.assert_allclose(rsi(close), naive_rsi(close.tolist()), rtol=1e-7, atol=1e-7)


def test_rsi_of_a_rising_market_is_100_and_of_a_flat_one_50() -> None:
    assert rsi(np.arange(30.0))[-1] == 100.0
    assert rsi(np.full(30, 5.0))[-1] == 50.0
    assert np.isnan(rsi(np.arange(10.0))).all()


def bars_of(rows: list[tuple[float, float, float]]) -> np.ndarray:
    """(close, volume, bar_wap) rows as OHLC bars one second apart."""
    out = np.zeros(len(rows), dtype=OHLC_DTYPE)
    for i, (c, v, w) in enumerate(rows):
        out[i]["time"] = 1000 + i
        out[i]["open"] = out[i]["high"] = out[i]["low"] = out[i]["close"] = c
        out[i]["volume"], out[i]["bar_wap"] = v, w
    return out


def test_vwap_is_the_running_volume_weighted_mean_of_bar_vwaps() -> None:
    rows = [(10.0, 0.0, 10.0), (11.0, 2.0, 10.5), (12.0, 0.0, 12.0), (13.0, 1.0, 12.5)]
    got = vwap(bars_of(rows))
    assert np.isnan(got[0])  # nothing traded yet
    assert got[1] == pytest.approx(10.5)
    assert got[2] == pytest.approx(10.5)  # an empty bar carries the value
    assert got[3] == pytest.approx((10.5 * 2 + 12.5) / 3)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 50), st.floats(-5, 5, allow_nan=False)), max_size=60),
    st.integers(0, 50),
    st.integers(1, 8),
    st.integers(1, 12),
)
def test_per_bar_folds_samples_like_a_loop_over_bars(
    samples: list[tuple[int, float]], first: int, tf: int, n: int
) -> None:
    samples.sort(key=lambda s: s[0])
    t = np.array([s[0] for s in samples], dtype=np.int64)
    v = np.array([s[1] for s in samples])
    bar_times = np.arange(n, dtype=np.int64) * tf + first
    last = per_bar(t, v, bar_times, tf, "last")
    total = per_bar(t, v, bar_times, tf, "sum")
    for i, b in enumerate(bar_times.tolist()):
        inside = [val for ts, val in samples if b <= ts < b + tf]
        if inside:
            assert last[i] == inside[-1]
        else:
            assert np.isnan(last[i])
        assert total[i] == pytest.approx(sum(inside), abs=1e-9)


def test_study_close_aligns_provider_rows_to_bar_times_with_gaps() -> None:
    rows = np.zeros(3, dtype=[("time", "i8"), ("close", "f8")])
    rows["time"] = [10, 20, 40]
    rows["close"] = [1.0, 2.0, 4.0]
    got = study_close(rows, np.array([10, 20, 30, 40, 50]))
    np.testing.assert_array_equal(got, [1.0, 2.0, np.nan, 4.0, np.nan])


def book_with(bids: list[tuple[float, float]], asks: list[tuple[float, float]]) -> Book:
    book = Book(0.1, 0.001, symbol="BTC/USD")
    book.apply_snapshot(BookSnapshot(symbol="BTC/USD", ts=1, bids=bids, asks=asks))
    return book


def test_imbalance_is_bid_minus_ask_size_over_their_sum_within_depth() -> None:
    book = book_with([(100.0, 3.0), (99.9, 1.0), (99.0, 50.0)], [(100.1, 1.0), (100.2, 1.0)])
    assert imbalance(book, depth=2) == pytest.approx((4 - 2) / 6)
    assert imbalance(book, depth=3) == pytest.approx((54 - 2) / 56)
    assert math.isnan(imbalance(Book(0.1, 0.001), depth=5))


def trade(ts_s: float, size: float, side: Literal["buy", "sell"]) -> Trade:
    return Trade(symbol="BTC/USD", ts=int(ts_s * NS), price=100.0, size=size, side=side)


def test_flow_sampler_counts_each_print_once_and_cvd_accumulates_signed_volume() -> None:
    tape = TradeTape(100)
    flow = FlowSampler()
    flow.sample("BTC/USD", None, tape, 0)  # starts counting from what the tape holds now
    for t in (trade(100.1, 2, "buy"), trade(100.5, 1, "sell"), trade(101.2, 3, "buy")):
        tape.append(t)
    flow.sample("BTC/USD", None, tape, 101)
    flow.sample("BTC/USD", None, tape, 101)  # nothing new: nothing counted twice
    tape.append(trade(103.0, 5, "sell"))
    flow.sample("BTC/USD", None, tape, 103)
    cvd = flow.cvd_per_bar("BTC/USD", np.array([99, 100, 101, 102, 103]), 1)
    assert np.isnan(cvd[0])  # before the first print seen
    np.testing.assert_allclose(cvd[1:], [1.0, 4.0, 4.0, -1.0])


def test_flow_sampler_samples_book_imbalance_per_second_last_value_wins() -> None:
    flow = FlowSampler(depth=1)
    flow.sample("X", book_with([(100.0, 3.0)], [(100.1, 1.0)]), None, 50)
    flow.sample("X", book_with([(100.0, 1.0)], [(100.1, 1.0)]), None, 50)
    flow.sample("X", book_with([(100.0, 1.0)], [(100.1, 3.0)]), None, 52)
    obi = flow.obi_per_bar("X", np.array([50, 51, 52]), 1)
    np.testing.assert_allclose(obi, [0.0, np.nan, -0.5])
    flow.reset()
    assert np.isnan(flow.obi_per_bar("X", np.array([50]), 1)).all()


def test_second_series_keeps_the_newest_half_when_full_and_ignores_late_seconds() -> None:
    series = SecondSeries(capacity=4, how="sum")
    for sec in range(6):
        series.put(sec, 1.0)
    series.put(5, 2.0)
    series.put(1, 9.0)  # late: its bar has moved on
    t, v = series.arrays()
    assert t.tolist() == [2, 3, 4, 5]
    assert v.tolist() == [1.0, 1.0, 1.0, 3.0]


def test_provider_study_returns_nothing_for_providers_without_one_or_failing() -> None:
    class NoStudy:
        pass

    class Failing:
        @staticmethod
        def study(symbol: str, timeframe_s: int) -> dict[str, np.ndarray]:
            raise RuntimeError("no sqlite source")

    assert provider_study(NoStudy(), "X", 60) == {}
    assert provider_study(Failing(), "X", 60) == {}
