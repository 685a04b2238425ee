"""Chart upgrades: spacing, price lines, VWAP overlay, lower studies, and their keys in the app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from console.data.provider import OHLC_DTYPE
from console.ui.app import MDConsoleApp
from console.ui.candle_render import (
    LINE_GLYPH,
    OVERLAY_GLYPH,
    StudyPanel,
    layout,
    level_cells,
    price_row,
    signed_cells,
    time_axis,
)
from console.ui.candles import DEFAULT_ZOOM, ZOOMS, CandlesPane
from tests.test_ui_app import lines, sim_hub, until
from tests.test_ui_trading import console


def ramp(n: int, t0: int = 1_700_000_000, tf: int = 1) -> np.ndarray:
    """n rising candles, close = open + 1, one per `tf` seconds."""
    out = np.zeros(n, dtype=OHLC_DTYPE)
    out["time"] = t0 + np.arange(n) * tf
    out["open"] = 100.0 + np.arange(n)
    out["close"] = out["open"] + 1.0
    out["high"] = out["close"] + 0.5
    out["low"] = out["open"] - 0.5
    out["volume"] = 1.0 + np.arange(n)
    out["bar_wap"] = out["open"] + 0.5
    return out


def text(row: list[tuple[str, str]]) -> str:
    return "".join(t for t, _ in row)


def roles_of(row: list[tuple[str, str]], glyph: str) -> set[str]:
    return {role for t, role in row if glyph in t}


# -- renderer -----------------------------------------------------------------------------------


def test_spacing_puts_one_candle_every_n_columns_and_fits_fewer() -> None:
    bars = ramp(200)
    one = layout(bars, 60, 20, timeframe_s=1, decimals=1)
    two = layout(bars, 60, 20, timeframe_s=1, decimals=1, spacing=2)
    assert two.candles == one.candles // 2
    columns = 60 - (len(f"{two.hi:.1f}") + 2)
    pad = columns - two.candles * 2  # right-aligned: blank lead columns first
    chart = [text(r)[pad:columns] for r in two.rows[:10]]
    # odd columns (between candles) are blank in every candle row
    assert all(row[1::2].strip() == "" for row in chart)
    assert any(row[0::2].strip() for row in chart)


def test_price_line_draws_dashes_across_blank_cells_with_its_role_and_labels_the_axis() -> None:
    bars = ramp(30)
    frame = layout(bars, 50, 20, timeframe_s=1, decimals=1, lines=[(110.0, "buy")])
    row = price_row(110.0, frame.lo, frame.hi, 20 - 3 - 1)
    assert LINE_GLYPH in text(frame.rows[row])
    assert roles_of(frame.rows[row], LINE_GLYPH) == {"line-buy"}
    assert text(frame.rows[row]).rstrip().endswith("110.0")
    assert all(LINE_GLYPH not in text(r) for i, r in enumerate(frame.rows) if i != row)


def test_price_line_outside_the_scale_is_not_drawn() -> None:
    frame = layout(ramp(30), 50, 20, timeframe_s=1, decimals=1, lines=[(5.0, "sell")])
    assert all(LINE_GLYPH not in text(r) for r in frame.rows)


def test_overlay_puts_one_dot_per_bar_at_its_price_row_behind_candles() -> None:
    bars = ramp(20)
    overlay = np.full(20, 112.0)
    frame = layout(bars, 40, 20, timeframe_s=1, decimals=1, overlay=overlay)
    row = price_row(112.0, frame.lo, frame.hi, 16)
    dots = text(frame.rows[row]).count(OVERLAY_GLYPH)
    # each bar gets a dot unless its own candle covers that cell
    assert 0 < dots <= frame.candles
    assert roles_of(frame.rows[row], OVERLAY_GLYPH) == {"vwap"}


def test_fixed_span_keeps_the_scale_whatever_the_bars() -> None:
    frame = layout(ramp(30), 50, 20, timeframe_s=1, decimals=1, span=(50.0, 200.0))
    assert (frame.lo, frame.hi) == (50.0, 200.0)


def test_study_panel_replaces_volume_and_prints_its_last_value_on_the_axis() -> None:
    bars = ramp(30)
    values = np.linspace(0, 100, 30)
    frame = layout(
        bars, 50, 20, timeframe_s=1, decimals=1, study=StudyPanel("RSI", values, 0, 100, 1)
    )
    study_top = frame.rows[20 - 3 - 1]
    assert text(study_top).rstrip().endswith("100.0")
    plain = layout(bars, 50, 20, timeframe_s=1, decimals=1)
    assert [text(r) for r in frame.rows[16:19]] != [text(r) for r in plain.rows[16:19]]


def test_level_cells_fill_from_the_bottom_in_eighths_like_a_naive_loop() -> None:
    values = np.array([0.0, 0.5, 1.0, np.nan, 0.26])
    cells = level_cells(values, 0.0, 1.0, 2)
    for col, v in enumerate(values.tolist()):
        eighths = 0 if np.isnan(v) else max(round(v * 16), 1)
        bottom, top = min(eighths, 8), max(eighths - 8, 0)
        assert (cells[1, col], cells[0, col]) == (bottom, top)


def test_signed_cells_grow_up_or_down_from_the_zero_line_in_half_cells() -> None:
    values = np.array([1.0, 0.5, 0.1, 0.0, -0.1, -0.5, -1.0, np.nan])
    rows = ["".join(r) for r in signed_cells(values, -1.0, 1.0, 3)]
    # zero is the middle of row 1; +1 fills the 3 halves above it, -1 the 3 below
    assert rows == ["█       ", "▀▀▀ ▄▄▄ ", "      █ "]


def test_obi_study_draws_about_its_zero_line() -> None:
    values = np.array([0.8, -0.8] * 5)
    frame = layout(ramp(10), 40, 20, timeframe_s=1, decimals=1,
                   study=StudyPanel("OBI", values, -1.0, 1.0, 2))
    study = [text(r) for r in frame.rows[16:19]]
    # +0.8 fills from the zero line (mid row 1) into the lower half of row 0, -0.8 down into
    # the upper half of row 2
    assert study[0].count("▄") == 5 and study[2].count("▀") == 5


def test_time_axis_with_spacing_labels_candles_at_their_columns() -> None:
    times = np.arange(0, 600, 60) + 1_700_000_040 - 1_700_000_040 % 3600
    line = time_axis(times, 60, 40, 0, spacing=4)
    first = line.index(":") - 2
    assert first % 4 == 0


# -- keys in the app ------------------------------------------------------------------------------


def titled(pane: CandlesPane, part: str) -> Callable[[], bool]:
    return lambda: part in str(pane.border_title)


def ends_in_a_number(pane: CandlesPane, row: int) -> Callable[[], bool]:
    return lambda: any(ch.isdigit() for ch in lines(pane)[row].rstrip()[-4:])


@pytest.fixture
def app() -> MDConsoleApp:
    return MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)


async def test_digit_keys_pick_each_timeframe_directly(app: MDConsoleApp) -> None:
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: app.candles_pane.candle_count > 0)
        for key, name in (("3", "5m"), ("7", "1d"), ("2", "1m"), ("1", "1s")):
            await pilot.press(key)
            await until(app, titled(app.candles_pane, f"· {name} ·"))
        await pilot.press("q")


async def test_pan_moves_back_through_history_and_end_returns_to_the_live_edge(
    app: MDConsoleApp,
) -> None:
    async with app.run_test(size=(160, 50)) as pilot:
        pane = app.candles_pane
        await until(app, lambda: pane.candle_count > 40)
        await pilot.press("less_than_sign", "less_than_sign")
        assert pane.back > 0
        await until(app, lambda: "◀" in str(pane.border_title))
        shown = pane.bars_shown
        assert shown is not None
        newest = int(app.view.bars(pane.symbol, 1)["time"][-1])
        assert int(shown["time"][-1]) <= newest - pane.back
        await pilot.press("greater_than_sign")
        await pilot.press("end")
        assert pane.back == 0
        await until(app, lambda: "◀" not in str(pane.border_title))
        await pilot.press("q")


async def test_zoom_widens_candles_in_and_merges_bars_out(app: MDConsoleApp) -> None:
    async with app.run_test(size=(160, 50)) as pilot:
        pane = app.candles_pane
        await until(app, lambda: pane.candle_count > 40)
        wide = pane.candle_count
        await pilot.press("right_parenthesis")
        assert ZOOMS[pane.zoom] == (1, 2)
        await until(app, lambda: pane.candle_count <= wide // 2 + 1)
        await pilot.press("left_parenthesis", "left_parenthesis")
        assert ZOOMS[pane.zoom] == (2, 1)
        await until(app, lambda: "×2" in str(pane.border_title))

        def merged_bars() -> bool:
            shown = pane.bars_shown
            return shown is not None and len(shown) > 1 and bool(
                (np.diff(shown["time"]) % 2 == 0).all() and (shown["time"] % 2 == 0).all()
            )

        await until(app, merged_bars)
        await pilot.press("right_parenthesis")
        assert pane.zoom == DEFAULT_ZOOM
        await pilot.press("q")


async def test_study_key_cycles_volume_obi_cvd_rsi_and_each_draws(app: MDConsoleApp) -> None:
    async with app.run_test(size=(160, 50)) as pilot:
        pane = app.candles_pane
        await until(app, lambda: pane.candle_count > 20)
        assert pane.study == "volume"
        for study, title in (("obi", "OBI"), ("cvd", "CVD"), ("rsi", "RSI(14)")):
            await pilot.press("i")
            assert pane.study == study
            await until(app, titled(pane, title))
            # the study's top row ends in its latest value on the price axis
            top = pane.size.height - 3 - 1  # three study rows above the time axis
            await until(app, ends_in_a_number(pane, top))
        await pilot.press("i")
        assert pane.study == "volume"
        await pilot.press("q")


async def test_vwap_key_dots_the_vwap_across_the_chart(app: MDConsoleApp) -> None:
    async with app.run_test(size=(160, 50)) as pilot:
        pane = app.candles_pane
        await until(app, lambda: pane.candle_count > 20)
        assert not any(OVERLAY_GLYPH in row for row in lines(pane))
        await pilot.press("v")
        await until(app, lambda: any(OVERLAY_GLYPH in row for row in lines(pane)))
        await pilot.press("v")
        await until(app, lambda: not any(OVERLAY_GLYPH in row for row in lines(pane)))
        await pilot.press("q")


async def test_working_order_lines_from_the_source_are_drawn_and_follow_it(
    app: MDConsoleApp,
) -> None:
    orders: list[tuple[float, str]] = []
    async with app.run_test(size=(160, 50)) as pilot:
        pane = app.candles_pane
        pane.line_source = lambda symbol: list(orders)
        await until(app, lambda: pane.candle_count > 20)
        assert not any(LINE_GLYPH in row for row in lines(pane))
        shown = pane.bars_shown
        assert shown is not None
        orders.append((float(shown["close"][-1]), "buy"))
        await until(app, lambda: any(LINE_GLYPH in row for row in lines(pane)))
        orders.clear()
        await until(app, lambda: not any(LINE_GLYPH in row for row in lines(pane)))
        await pilot.press("q")


async def test_autoscale_key_freezes_the_price_scale_and_again_fits_it(app: MDConsoleApp) -> None:
    async with app.run_test(size=(160, 50)) as pilot:
        pane = app.candles_pane
        await until(app, lambda: pane.candle_count > 20)
        await pilot.press("y")
        assert not pane.autoscale
        await until(app, lambda: "fixed scale" in str(pane.border_title))
        await app.next_frame()
        frozen = pane._span
        assert frozen is not None
        for _ in range(5):
            await app.next_frame()
        assert pane._span == frozen
        await pilot.press("y")
        assert pane.autoscale and pane._span is None
        await pilot.press("q")


def test_obi_and_cvd_come_from_the_providers_study_where_it_has_one() -> None:
    """A replay of SQLite databases computes OBI/CVD from its files; the pane takes those."""
    bars = ramp(4, t0=1_700_000_040, tf=60)
    rows = np.zeros(3, dtype=[("time", "i8"), ("close", "f8")])
    rows["time"] = bars["time"][1:]
    rows["close"] = [0.25, -0.5, 0.75]
    calls: list[tuple[str, int]] = []

    class Module:
        @staticmethod
        def study(symbol: str, timeframe_s: int) -> dict[str, np.ndarray]:
            calls.append((symbol, timeframe_s))
            return {"obi_norm": rows, "obi": rows, "cvd": rows}

    view = SimpleNamespace(module=Module(), instruments={})

    pane = CandlesPane()
    pane.symbol = "BTC/USDT"
    pane.set_study("obi")
    obi = pane._study_values(view, bars, 60)
    assert obi is not None and (obi.lo, obi.hi) == (-1.0, 1.0)
    np.testing.assert_array_equal(obi.values, [np.nan, 0.25, -0.5, 0.75])
    pane.set_study("cvd")
    cvd = pane._study_values(view, bars, 60)
    assert cvd is not None
    np.testing.assert_array_equal(cvd.values, [np.nan, 0.25, -0.5, 0.75])
    assert calls == [("BTC/USDT", 60)]  # read once, not every frame
    with pytest.raises(ValueError, match="unknown study 'macd'"):
        pane.set_study("macd")


async def test_command_palette_offers_studies_and_chart_toggles_that_work(
    app: MDConsoleApp,
) -> None:
    async with app.run_test(size=(160, 50)) as pilot:
        pane = app.candles_pane
        await until(app, lambda: pane.candle_count > 0)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert {"Study RSI(14)", "Study OBI", "Toggle VWAP", "Chart live"} <= set(commands)
        commands["Study RSI(14)"].callback()
        commands["Toggle VWAP"].callback()
        assert pane.study == "rsi" and pane.show_vwap
        await until(app, titled(pane, "VWAP · RSI(14)"))
        await pilot.press("q")


async def test_a_working_order_placed_from_the_keyboard_is_drawn_on_the_chart(
    tmp_path: Path,
) -> None:
    async with console(tmp_path) as (app, pilot, session):
        pane = app.candles_pane
        await until(app, lambda: pane.candle_count > 0)
        # ladder cursor well under the bid, so a busy market does not fill the order at once
        await pilot.press("l", "pagedown", "pagedown", "pagedown", "pagedown")
        price = app.ladder_pane.cursor_price
        assert price is not None
        await pilot.press("b")
        await until(app, lambda: len(session.working_orders("BTC/USD")) == 1)
        assert (price, "buy") in pane._order_lines()
        pane.toggle_autoscale()  # freeze a scale around the order so its row is on screen
        pane._span = (price - 50.0, price + 50.0)
        await until(app, lambda: any(LINE_GLYPH in row for row in lines(pane)))
        await pilot.press("x")  # cancel at the cursor: the line goes with the order
        await until(app, lambda: not session.working_orders("BTC/USD"))
        await until(app, lambda: not any(LINE_GLYPH in row for row in lines(pane)))
