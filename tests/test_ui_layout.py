"""Layout: panes by terminal width, zoom and pane cycling, and the state kept between runs."""

from __future__ import annotations

from pathlib import Path

import msgspec

from console.ui.app import MDConsoleApp
from console.ui.layout import LayoutState, load_state, merge_watchlist, save_state, state_path
from tests.test_ui_app import quotes_show_numbers, sim_hub, until


def side_shown(app: MDConsoleApp) -> bool:
    side = app.query_one("#side")
    return bool(side.display) and side.size.width > 0


async def test_wide_terminal_shows_the_side_column_with_the_tape() -> None:
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: quotes_show_numbers(app))
        assert app.query_one("#side").size.width == 40
        assert app.query_one("#tape").display
        await pilot.press("q")


async def test_medium_terminal_narrows_the_side_column_and_drops_the_tape() -> None:
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(app, lambda: quotes_show_numbers(app))
        assert app.query_one("#side").size.width == 32
        assert not app.query_one("#tape").display
        await pilot.press("q")


async def test_narrow_terminal_hides_the_side_column_and_widens_the_chart() -> None:
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(90, 30)) as pilot:
        await until(app, lambda: quotes_show_numbers(app))
        assert not side_shown(app)
        assert app.candles_pane.size.width == 88
        await pilot.resize_terminal(160, 50)
        await until(app, lambda: side_shown(app))
        await pilot.press("q")


async def test_zoom_key_maximizes_the_focused_pane_and_restores_it() -> None:
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: quotes_show_numbers(app))
        app.quotes_pane.focus()
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is app.quotes_pane
        assert app.layout_state.maximized == "quotes"
        visible = {w for w in app.screen._compositor.visible_widgets}
        assert app.status_line in visible and app.candles_pane not in visible
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is None
        await pilot.press("q")


async def test_cycle_key_moves_focus_to_the_next_pane_and_keeps_zoom_on_it() -> None:
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: quotes_show_numbers(app))
        app.quotes_pane.focus()
        await pilot.press("z")
        order = [pane.id for pane in app.visible_panes()
                 if app._focus_target(pane) is not None]
        await pilot.press("f6")
        await pilot.pause()
        assert app.pane_with_focus() is not app.quotes_pane
        assert app.pane_with_focus().id == order[1]  # type: ignore[union-attr]
        assert app.screen.maximized is app.pane_with_focus()
        await pilot.press("shift+f6")
        await pilot.pause()
        assert app.pane_with_focus() is app.quotes_pane
        await pilot.press("q")


async def test_symbol_timeframe_and_zoom_persist_to_the_next_run(tmp_path: Path) -> None:
    path = tmp_path / "state" / "layout.json"
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    app.load_layout(path)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: quotes_show_numbers(app))
        app.chart("ETH/USD", 300)
        app.quotes_pane.focus()
        await pilot.press("z")
        await until(app, lambda: path.exists() and load_state(path)[0].symbol == "ETH/USD")
        await until(app, lambda: load_state(path)[0].maximized == "quotes")
        await pilot.press("q")
    state, warning = load_state(path)
    assert warning == ""
    assert (state.symbol, state.timeframe_s, state.maximized) == ("ETH/USD", 300, "quotes")

    again = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    again.load_layout(path)
    async with again.run_test(size=(160, 50)) as pilot:
        await until(again, lambda: again.candles_pane.symbol == "ETH/USD")
        assert "ETH/USD · 5m" in str(again.candles_pane.border_title)
        await until(again, lambda: again.screen.maximized is again.quotes_pane)
        await pilot.press("q")


def test_damaged_state_file_gives_defaults_and_a_warning_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "layout.json"
    path.write_text("{not json")
    state, warning = load_state(path)
    assert state == LayoutState()
    assert str(path) in warning and "damaged" in warning


def test_missing_state_file_gives_defaults_silently(tmp_path: Path) -> None:
    assert load_state(tmp_path / "nope.json") == (LayoutState(), "")


def test_save_is_atomic_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "layout.json"
    state = LayoutState(symbol="SOL/USD", timeframe_s=60, watchlist=["ADA/USD"])
    assert save_state(path, state) == ""
    assert msgspec.json.decode(path.read_bytes(), type=LayoutState) == state
    assert [p.name for p in path.parent.iterdir()] == ["layout.json"]


def test_state_dir_comes_from_the_environment(tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("MDCONSOLE_STATE_DIR", str(tmp_path))
    assert state_path() == tmp_path / "layout.json"


def test_watchlist_keeps_config_symbols_first_and_each_once() -> None:
    assert merge_watchlist(["BTC/USD", "ETH/USD"], ["ADA/USD", "BTC/USD"]) == [
        "BTC/USD", "ETH/USD", "ADA/USD"]


async def test_saved_additions_the_provider_no_longer_lists_are_left_out_with_a_note() -> None:
    from console.ui.layout import listed_additions

    kept, note = await listed_additions("sim", {"seed": 1}, ["DOGE/USD", "NOPE/USD"])
    assert kept == ["DOGE/USD"]
    assert "NOPE/USD" in note and "DOGE/USD" not in note
    assert await listed_additions("sim", {}, []) == ([], "")
