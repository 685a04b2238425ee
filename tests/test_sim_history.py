"""Synthetic sim history: anchored to the live start, deterministic, pageable, well-formed."""

from __future__ import annotations

import numpy as np
import pytest

from console.data.provider import OHLC_DTYPE
from providers.sim.history import BLOCK, SERVED_ROWS, generate, history_end
from providers.sim.specs import DEFAULT_SPECS, start_price

END_S = 1_700_000_000
BTC = DEFAULT_SPECS["BTC/USD"]


@pytest.mark.parametrize("tf", [1, 60])
def test_last_bar_closes_at_the_live_start_price_and_ends_at_the_live_start(tf: int) -> None:
    price = start_price(BTC, 3)
    bars = generate(BTC, 3, tf, END_S, price, lo=SERVED_ROWS[tf] - 100)
    assert bars.dtype == OHLC_DTYPE
    assert bars["close"][-1] == price
    assert bars["time"][-1] + tf == END_S


def test_history_end_is_the_start_of_the_bar_holding_the_live_start() -> None:
    minute = 1_699_999_980  # a whole minute
    start_ns = (minute + 75) * 1_000_000_000 + 123
    assert history_end(start_ns, 1) == minute + 75
    assert history_end(start_ns, 60) == minute + 60


@pytest.mark.parametrize("tf", [1, 60])
def test_any_window_equals_the_same_rows_of_the_full_range(tf: int) -> None:
    n = SERVED_ROWS[tf]
    price = start_price(BTC, 1)
    full = generate(BTC, 1, tf, END_S, price)
    assert len(full) == n
    for lo, hi in [(n - 10, n), (n - BLOCK - 5, n - BLOCK + 5), (0, 50), (1_000, 40_000)]:
        assert np.array_equal(generate(BTC, 1, tf, END_S, price, lo, hi), full[lo:hi])


def test_bars_are_well_formed_and_contiguous() -> None:
    for spec in DEFAULT_SPECS.values():
        bars = generate(spec, 5, 60, END_S, start_price(spec, 5), lo=SERVED_ROWS[60] - 50_000)
        assert np.all(np.diff(bars["time"]) == 60)
        assert np.array_equal(bars["open"][1:], bars["close"][:-1])
        assert np.all(bars["high"] >= np.maximum(bars["open"], bars["close"]))
        assert np.all(bars["low"] <= np.minimum(bars["open"], bars["close"]))
        assert np.all(bars["low"] > 0)
        assert np.all((bars["bar_wap"] >= bars["low"]) & (bars["bar_wap"] <= bars["high"]))
        assert np.all(bars["volume"] > 0) and np.all(bars["count"] >= 1)
        ticks = bars["close"] / spec.tick
        assert np.allclose(ticks, np.round(ticks), atol=1e-6)


def test_history_is_deterministic_per_seed_symbol_and_timeframe() -> None:
    eth = DEFAULT_SPECS["ETH/USD"]
    a = generate(BTC, 1, 1, END_S, 60_000.0, lo=80_000)
    assert np.array_equal(a, generate(BTC, 1, 1, END_S, 60_000.0, lo=80_000))
    assert not np.array_equal(a["close"], generate(BTC, 2, 1, END_S, 60_000.0, lo=80_000)["close"])
    other = generate(eth, 1, 1, END_S, 60_000.0, lo=80_000)
    assert not np.array_equal(a["close"], other["close"])


def test_history_shows_volatility_clustering() -> None:
    bars = generate(BTC, 4, 60, END_S, 60_000.0, lo=SERVED_ROWS[60] - 100_000)
    r = np.abs(np.diff(np.log(bars["close"])))
    # big moves follow big moves: absolute returns are autocorrelated at short lags
    lagged = np.corrcoef(r[:-1], r[1:])[0, 1]
    assert lagged > 0.05


def test_rows_outside_the_served_range_are_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        generate(BTC, 1, 60, END_S, 60_000.0, lo=10, hi=SERVED_ROWS[60] + 1)


@pytest.mark.parametrize("live_start_s", [1_699_999_980, 1_700_000_037])
def test_one_second_history_adds_up_to_the_one_minute_history(live_start_s: int) -> None:
    from console.data.sampler import resample

    price = start_price(BTC, 6)
    seconds = generate(BTC, 6, 1, live_start_s, price)
    minute_end = live_start_s // 60 * 60
    minutes = generate(BTC, 6, 60, minute_end, price, lo=SERVED_ROWS[60] - 1_439)
    whole = seconds[(seconds["time"] >= minutes["time"][0]) & (seconds["time"] < minute_end)]
    rebuilt = resample(whole, 60)
    for field in ("time", "open", "high", "low", "close", "volume", "count"):
        assert np.allclose(rebuilt[field], minutes[field]), field
    # after the last whole minute the 1 s bars wait at the live start price
    assert np.all(seconds["close"][seconds["time"] >= minute_end] == price)
    assert np.array_equal(seconds["open"][1:], seconds["close"][:-1])
