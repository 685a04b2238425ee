"""Candle chart layout: glyph choice per half cell, volume blocks, axes, on small fixed arrays."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.data.provider import OHLC_DTYPE
from console.ui.candle_render import (
    BODY,
    EMPTY,
    GLYPHS,
    WICK,
    candle_cells,
    glyph_for,
    layout,
    price_labels,
    price_range,
    price_step,
    time_axis,
    time_step,
    volume_cells,
)
from console.ui.candles import ohlc_summary


def glyphs(
    open_: float, high: float, low: float, close: float, lo: float, hi: float, h: int
) -> list[str]:
    """The column of glyphs drawing one candle, top row first."""
    cells = candle_cells(
        np.array([open_]), np.array([high]), np.array([low]), np.array([close]), lo, hi, h
    )
    return [GLYPHS[c] for c in cells[:, 0]]


def bars(
    rows: list[tuple[float, float, float, float, float]], t0: int = 1_700_000_040
) -> np.ndarray:
    out = np.zeros(len(rows), dtype=OHLC_DTYPE)
    for i, (o, h, lo, c, v) in enumerate(rows):
        out[i]["time"] = t0 + i
        out[i]["open"], out[i]["high"], out[i]["low"], out[i]["close"] = o, h, lo, c
        out[i]["volume"] = v
    return out


def text(row: list[tuple[str, str]]) -> str:
    return "".join(t for t, _ in row)


def test_glyph_table_maps_half_states_to_heavy_body_and_light_wick_strokes() -> None:
    assert glyph_for(BODY, BODY) == "┃"
    assert glyph_for(WICK, WICK) == "│"
    assert glyph_for(BODY, WICK) == "╿"
    assert glyph_for(WICK, BODY) == "╽"
    assert glyph_for(BODY, EMPTY) == "╹"
    assert glyph_for(EMPTY, BODY) == "╻"
    assert glyph_for(WICK, EMPTY) == "╵"
    assert glyph_for(EMPTY, WICK) == "╷"
    assert glyph_for(EMPTY, EMPTY) == " "


def test_body_spanning_the_whole_scale_fills_every_cell_with_heavy_stroke() -> None:
    assert glyphs(0.0, 4.0, 0.0, 4.0, 0.0, 4.0, 2) == ["┃", "┃"]


def test_body_in_upper_half_and_wick_below_draws_heavy_over_light() -> None:
    assert glyphs(1.0, 2.0, 0.0, 2.0, 0.0, 2.0, 1) == ["╿"]


def test_body_in_lower_half_and_wick_above_draws_light_over_heavy() -> None:
    assert glyphs(1.0, 2.0, 0.0, 0.0, 0.0, 2.0, 1) == ["╽"]


def test_long_upper_wick_over_small_body_at_two_rows() -> None:
    # Scale 0..4 over 2 rows = 4 halves of 1.0; body covers the bottom half only.
    assert glyphs(0.2, 3.9, 0.1, 0.8, 0.0, 4.0, 2) == ["│", "╽"]


def test_wick_ending_below_a_half_middle_leaves_that_half_empty() -> None:
    # The high (2.4) does not reach the middle (2.5) of half 2, so the top row shows nothing.
    assert glyphs(0.0, 2.4, 0.0, 2.0, 0.0, 4.0, 2) == [" ", "┃"]


def test_doji_thinner_than_a_half_still_shows_a_body_in_its_half() -> None:
    # open == close at 1.3: no half middle lies inside the body, so its own half gets it.
    assert glyphs(1.3, 3.6, 0.4, 1.3, 0.0, 4.0, 2) == ["│", "╿"]


def test_nan_bar_draws_an_empty_column() -> None:
    nan = float("nan")
    assert glyphs(nan, nan, nan, nan, 0.0, 1.0, 3) == [" ", " ", " "]


def test_volume_blocks_scale_to_the_peak_and_keep_small_volume_visible() -> None:
    cells = volume_cells(np.array([8.0, 4.0, 0.01, 0.0]), 2)
    # Peak fills both rows; half the peak fills the bottom row; tiny volume gets one eighth.
    assert cells[:, 0].tolist() == [8, 8]
    assert cells[:, 1].tolist() == [0, 8]
    assert cells[:, 2].tolist() == [0, 1]
    assert cells[:, 3].tolist() == [0, 0]


def test_flat_prices_get_a_non_empty_range_around_the_price() -> None:
    lo, hi = price_range(bars([(100.0, 100.0, 100.0, 100.0, 1.0)]))
    assert lo < 100.0 < hi


def test_time_step_picks_a_round_interval_at_least_the_label_apart() -> None:
    assert time_step(1, 10) == 10
    assert time_step(1, 11) == 15
    assert time_step(60, 7) == 600
    assert time_step(3600, 7) == 43200


def test_time_axis_labels_round_times_without_overlap() -> None:
    times = np.arange(1_700_000_040, 1_700_000_040 + 40)  # 40 s starting at hh:mm:00
    line = time_axis(times, 1, 40, 0)
    assert line.startswith("22:14:00")
    assert "22:14:10" in line
    assert line.index("22:14:10") == 10
    assert len(line) == 40


def test_layout_rows_are_exactly_the_requested_width() -> None:
    b = bars([(10.0, 12.0, 9.0, 11.0, 5.0), (11.0, 11.5, 8.0, 8.5, 2.0)])
    frame = layout(b, 30, 12, timeframe_s=1, decimals=1)
    assert len(frame.rows) == 12
    assert all(len(text(r)) == 30 for r in frame.rows)


def test_layout_right_aligns_few_candles_and_colours_them_by_direction() -> None:
    b = bars([(10.0, 12.0, 9.0, 11.0, 5.0), (11.0, 11.5, 8.0, 8.5, 2.0)])
    frame = layout(b, 30, 12, timeframe_s=1, decimals=1)
    axis_w = len("12.0") + 2
    first_candle_col = 30 - axis_w - 2
    top_row = frame.rows[0]
    assert text(top_row)[:first_candle_col].strip() == ""
    roles = [role for _, role in frame.rows[2]]
    assert "up" in roles and "down" in roles
    assert roles.index("up") < roles.index("down")


def test_layout_labels_the_last_close_on_the_price_axis() -> None:
    b = bars([(10.0, 12.0, 9.0, 11.0, 5.0), (11.0, 11.5, 8.0, 8.5, 2.0)])
    frame = layout(b, 30, 12, timeframe_s=1, decimals=1)
    last_rows = [r for r in frame.rows if any(role == "last-down" for _, role in r)]
    assert len(last_rows) == 1
    assert "8.5" in text(last_rows[0])


def test_layout_shows_only_the_newest_bars_that_fit() -> None:
    rows = [(float(i), float(i) + 1, float(i) - 1, float(i) + 0.5, 1.0) for i in range(100)]
    frame = layout(bars(rows), 40, 10, timeframe_s=1, decimals=1)
    # The visible range is that of the newest candles only, not the whole history.
    assert frame.lo > 50.0
    assert frame.hi == pytest.approx(100.0)


def test_layout_puts_volume_beneath_candles_and_time_axis_last() -> None:
    rows = [(10.0, 11.0, 9.0, 10.5, float(v)) for v in range(1, 61)]
    frame = layout(bars(rows, t0=1_700_000_040), 60, 20, timeframe_s=1, decimals=1)
    assert any("█" in text(r) for r in frame.rows[-4:-1])
    assert "22:14:" in text(frame.rows[-1])
    assert not any("█" in text(r) for r in frame.rows[:-4])


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 30),
    width=st.integers(1, 50),
    height=st.integers(1, 25),
    seed=st.integers(0, 2**16),
)
def test_layout_always_fills_the_frame_exactly(n: int, width: int, height: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    open_ = np.r_[100.0, close[:-1]][:n]
    b = bars(
        [
            (o, max(o, c) + abs(d), min(o, c) - abs(d), c, v)
            for o, c, d, v in zip(open_, close, rng.normal(0, 1, n), rng.random(n), strict=True)
        ]
    )
    frame = layout(b, width, height, timeframe_s=60, decimals=2)
    assert len(frame.rows) == height
    assert all(len(text(r)) == width for r in frame.rows)


def test_time_axis_dates_a_short_chart_that_reaches_no_round_time() -> None:
    times = np.arange(1_700_000_041, 1_700_000_041 + 5)  # 22:14:01 .. 22:14:05
    line = time_axis(times, 1, 20, 10)
    assert line[10:18] == "22:14:01"


def test_ohlc_summary_shows_the_newest_candle_with_price_decimals() -> None:
    b = bars([(10.0, 12.0, 9.0, 11.0, 5.0), (11.0, 11.5, 8.0, 8.5, 2500.0)])
    assert ohlc_summary(b[-1], 2) == "O 11.00  H 11.50  L 8.00  C 8.50  V 2.50k"


def test_price_step_is_a_round_number_near_the_wanted_spacing() -> None:
    assert price_step(58_400.0, 59_050.0, 5, 0) == 200.0
    assert price_step(99.0, 101.0, 4, 2) == 0.5
    assert price_step(1.0, 1.0001, 10, 2) == 0.01  # never finer than the shown decimals


def test_price_labels_are_round_multiples_of_the_step_top_row_highest() -> None:
    labels = price_labels(58_400.0, 59_050.0, 20, 0)
    prices = [float(labels[row]) for row in sorted(labels)]
    assert prices == sorted(prices, reverse=True)
    assert all(p % 200 == 0 for p in prices)
    assert len(prices) >= 3
