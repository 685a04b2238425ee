"""Orders, stops and the position's entry off the chart's price scale: marked at its edge."""

from __future__ import annotations

from pathlib import Path

from console.ui.candle_render import ABOVE_MARK, BELOW_MARK, MAX_STACKED, layout
from tests.test_ui_app import candles_show_numbers, lines, until
from tests.test_ui_candles_chart import ramp, text
from tests.test_ui_trading import console

WIDTH, HEIGHT = 60, 20
CHART_ROWS = HEIGHT - 3 - 1  # volume and time axis beneath


def runs_with(row: list[tuple[str, str]], needle: str) -> list[tuple[str, str]]:
    return [(t, role) for t, role in row if needle in t]


def test_a_stop_above_the_scale_is_marked_in_its_colour_at_the_top_left() -> None:
    frame = layout(ramp(30), WIDTH, HEIGHT, timeframe_s=1, decimals=1,
                   lines=[(200.0, "stop-sell")])
    top = text(frame.rows[0])
    assert top.startswith(f"{ABOVE_MARK} stop sell 200.0 +53.8% ")
    assert runs_with(frame.rows[0], ABOVE_MARK)[0][1] == "line-stop-sell"
    assert all(ABOVE_MARK not in text(r) and BELOW_MARK not in text(r) for r in frame.rows[1:])


def test_an_order_below_the_scale_is_marked_at_the_bottom_row_of_the_candles() -> None:
    frame = layout(ramp(30), WIDTH, HEIGHT, timeframe_s=1, decimals=1, lines=[(50.0, "buy")])
    bottom = frame.rows[CHART_ROWS - 1]
    assert text(bottom).startswith(f"{BELOW_MARK} buy 50.0 -61.5% ")
    assert runs_with(bottom, BELOW_MARK)[0][1] == "line-buy"


def test_marks_keep_the_axis_and_its_last_price_label_and_every_row_its_width() -> None:
    bars = ramp(30)
    plain = layout(bars, WIDTH, HEIGHT, timeframe_s=1, decimals=1)
    marked = layout(bars, WIDTH, HEIGHT, timeframe_s=1, decimals=1,
                    lines=[(200.0, "stop-sell"), (50.0, "buy")])
    axis_from = WIDTH - (len("130.0") + 2)
    for was, now in zip(plain.rows, marked.rows, strict=True):
        assert len(text(now)) == WIDTH
        assert text(now)[axis_from:] == text(was)[axis_from:]
    # the newest close (130.0) sits in the top row, which also holds the mark above
    assert ("┤", "axis") in marked.rows[0] and (" 130.0", "last-up") in marked.rows[0]


def test_a_mark_wider_than_the_candles_is_cut_before_the_axis() -> None:
    frame = layout(ramp(30), 20, HEIGHT, timeframe_s=1, decimals=1,
                   lines=[(200.0, "stop-sell")])
    top = text(frame.rows[0])
    assert len(top) == 20
    assert top.startswith(f"{ABOVE_MARK} stop sell 2")
    assert top.endswith("┤ 130.0")


def test_marks_stack_nearest_first_then_collapse_into_one_count() -> None:
    stacked = layout(ramp(30), WIDTH, HEIGHT, timeframe_s=1, decimals=1,
                     lines=[(300.0, "sell"), (200.0, "stop-sell")])
    assert text(stacked.rows[0]).startswith(f"{ABOVE_MARK} stop sell 200.0")
    assert text(stacked.rows[1]).startswith(f"{ABOVE_MARK} sell 300.0")
    many = [(200.0 + i, "sell") for i in range(MAX_STACKED + 1)]
    collapsed = layout(ramp(30), WIDTH, HEIGHT, timeframe_s=1, decimals=1,
                       lines=[*many, (10.0, "position")])
    assert text(collapsed.rows[0]).startswith(f"{ABOVE_MARK} 3 orders 200.0…202.0 ")
    assert runs_with(collapsed.rows[0], ABOVE_MARK)[0][1] == "line-order"
    assert ABOVE_MARK not in text(collapsed.rows[1])
    assert text(collapsed.rows[CHART_ROWS - 1]).startswith(f"{BELOW_MARK} position 10.0")
    with_position = layout(ramp(30), WIDTH, HEIGHT, timeframe_s=1, decimals=1,
                           lines=[*many[:2], (250.0, "position")])
    assert text(with_position.rows[0]).startswith(f"{ABOVE_MARK} 2 orders, position 200.0…250.0")


def test_lines_on_the_scale_leave_the_chart_without_marks() -> None:
    bars = ramp(30)
    frame = layout(bars, WIDTH, HEIGHT, timeframe_s=1, decimals=1,
                   lines=[(110.0, "buy"), (120.0, "stop-sell"), (float("nan"), "sell")])
    assert all(ABOVE_MARK not in text(r) and BELOW_MARK not in text(r) for r in frame.rows)


def test_a_one_row_chart_holds_both_edges_marks_on_its_row() -> None:
    frame = layout(ramp(30), WIDTH, 2, timeframe_s=1, decimals=1, volume_rows=0,
                   lines=[(200.0, "sell"), (50.0, "buy")])
    row = text(frame.rows[0])
    assert row.startswith(f"{ABOVE_MARK} sell 200.0 +53.8% {BELOW_MARK} buy 50.0")


async def test_a_stop_placed_far_under_the_market_shows_its_mark_on_the_chart(
    tmp_path: Path,
) -> None:
    async with console(tmp_path) as (app, pilot, session):
        pane = app.candles_pane
        await pilot.press("l")
        # ~5% under the bid: far off a chart of live candles, and it cannot trigger
        app.ladder_pane.move_cursor(-3000)
        stop = app.ladder_pane.cursor_price
        assert stop is not None
        await pilot.press("O")
        mark = f"{BELOW_MARK} stop sell {stop:.{pane._decimals}f}"
        await until(app, lambda: any(mark in row for row in lines(pane)))
        assert [o.stop for o in session.working_orders("BTC/USD")] == [stop]
        assert candles_show_numbers(app)  # candles and the price axis are still drawn
