"""The console on the sim provider, driven with Pilot: quotes, candles, symbol switch, quit."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from multiprocessing import shared_memory

import pytest
from textual.widget import Widget

from console.data.feed import FeedHub
from console.data.provider import ProviderError
from console.ui.app import MDConsoleApp, run_console
from console.ui.palette import Palette

SYMBOLS = ["BTC/USD", "ETH/USD", "SOL/USD", "DOGE/USD"]
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
AXIS_LABEL = re.compile(r"┤ +\d+(?:\.\d+)?")


def lines(widget: Widget) -> list[str]:
    """The text a Line-API pane currently paints, one string per row."""
    return ["".join(seg.text for seg in widget.render_line(y)) for y in range(widget.size.height)]


async def until(app: MDConsoleApp, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Await frames until `condition` holds (the pump repaints from state once per frame)."""

    async def wait() -> None:
        while not condition():
            await app.next_frame()

    await asyncio.wait_for(wait(), timeout)


def quotes_show_numbers(app: MDConsoleApp) -> bool:
    rows = lines(app.quotes_pane)[1:]
    return all(any(sym in row and len(NUMBER.findall(row)) >= 4 for row in rows) for sym in SYMBOLS)


def candles_show_numbers(app: MDConsoleApp) -> bool:
    rows = lines(app.candles_pane)
    has_candle = any(ch in row for row in rows for ch in "┃│╿╽╻╹")
    has_axis = sum(1 for row in rows if AXIS_LABEL.search(row)) >= 2
    return app.candles_pane.candle_count > 0 and has_candle and has_axis


def unlinked(name: str) -> bool:
    try:
        shm = shared_memory.SharedMemory(name=name)
    except FileNotFoundError:
        return True
    shm.close()
    return False


def sim_hub(seed: int = 11) -> FeedHub:
    return FeedHub("sim", SYMBOLS, config={"seed": seed, "rate": 2000})


async def test_console_on_sim_shows_quotes_and_candles_switches_symbol_and_quits() -> None:
    hub = sim_hub()
    app = MDConsoleApp(hub, provider="sim", timeframe_s=1)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(app, lambda: quotes_show_numbers(app) and candles_show_numbers(app))
        assert app.candles_pane.symbol == "BTC/USD"
        assert "BTC/USD · 1s" in str(app.candles_pane.border_title)

        await pilot.press("down", "down", "up", "enter")
        await until(app, lambda: app.candles_pane.symbol == "ETH/USD")
        await until(app, lambda: candles_show_numbers(app))
        assert "ETH/USD" in str(app.candles_pane.border_title)
        marked = [row for row in lines(app.quotes_pane) if "▶" in row]
        assert len(marked) == 1 and "ETH/USD" in marked[0]

        buffer_names = [b.name for b in (*hub.bars_1s.values(), *hub.bars_1m.values())]
        await pilot.press("q")
    assert app.return_code == 0
    assert buffer_names and all(unlinked(name) for name in buffer_names)
    assert all(task.done() for task in asyncio.all_tasks() if task.get_name().startswith("feed"))


async def test_layout_at_100x30_shows_every_symbol_and_a_usable_chart() -> None:
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(app, lambda: quotes_show_numbers(app) and candles_show_numbers(app))
        assert app.candles_pane.size.height >= 12
        # The narrowed side column (ladder, order entry) takes 32 columns at this width.
        assert app.candles_pane.size.width >= 60
        await pilot.press("q")


async def test_timeframe_key_moves_the_chart_to_the_next_timeframe() -> None:
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(app, lambda: candles_show_numbers(app))
        await pilot.press("t")
        await until(app, lambda: "· 1m" in str(app.candles_pane.border_title))
        await until(app, lambda: candles_show_numbers(app))
        await pilot.press("T")
        await until(app, lambda: "· 1s" in str(app.candles_pane.border_title))
        await pilot.press("q")


async def test_theme_switch_repaints_panes_in_the_new_theme_colours() -> None:
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(app, lambda: quotes_show_numbers(app))
        header_before = next(iter(app.quotes_pane.render_line(0))).style
        await pilot.press("f2")
        await until(app, lambda: app.theme == "mdconsole-light")
        await until(app, lambda: quotes_show_numbers(app))
        header_after = next(iter(app.quotes_pane.render_line(0))).style
        assert header_before is not None and header_after is not None
        assert header_before.bgcolor != header_after.bgcolor
        await pilot.press("q")


async def test_unknown_symbol_ends_the_app_with_the_providers_error_not_a_traceback() -> None:
    app = MDConsoleApp(FeedHub("sim", ["NOPE/USD"], config={"seed": 1}), provider="sim")
    async with app.run_test(size=(100, 30)):
        await asyncio.wait_for(app.workers.wait_for_complete(), 15)
    assert app.return_code == 1
    assert app.failure is not None and "NOPE/USD" in str(app.failure)


async def test_run_console_raises_the_provider_error_for_an_unknown_symbol() -> None:
    with pytest.raises(ProviderError, match="does not list NOPE/USD"):
        await asyncio.wait_for(run_console("sim", ["NOPE/USD"], {"seed": 1}, headless=True), 20)


async def test_watchlist_scrolls_to_keep_the_cursor_visible_when_symbols_overflow() -> None:
    many = [*SYMBOLS, "ADA/USD", "XRP/USD", "LTC/USD", "DOT/USD"]
    hub = FeedHub("sim", many, config={"seed": 5, "rate": 500, "symbols": many})
    app = MDConsoleApp(hub, provider="sim", timeframe_s=1)
    async with app.run_test(size=(100, 18)) as pilot:
        await until(app, lambda: any("BTC/USD" in row for row in lines(app.quotes_pane)))
        assert not any("DOT/USD" in row for row in lines(app.quotes_pane))
        await pilot.press(*["down"] * 7, "enter")
        await until(app, lambda: app.candles_pane.symbol == "DOT/USD")
        await until(app, lambda: any("DOT/USD" in row for row in lines(app.quotes_pane)))
        assert not any("BTC/USD" in row for row in lines(app.quotes_pane))
        await pilot.press("q")


async def test_command_palette_offers_chart_and_timeframe_commands_that_work() -> None:
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(app, lambda: quotes_show_numbers(app))
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert {"Chart SOL/USD", "Timeframe 5m"} <= set(commands)
        commands["Chart SOL/USD"].callback()
        commands["Timeframe 5m"].callback()
        await until(app, lambda: "SOL/USD · 5m" in str(app.candles_pane.border_title))
        marked = [row for row in lines(app.quotes_pane) if "▶" in row]
        await until(app, lambda: any("▶SOL/USD" in row for row in lines(app.quotes_pane)))
        assert len(marked) == 1
        await pilot.press("q")


async def test_keymap_from_config_rebinds_a_binding_by_its_id() -> None:
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1, keymap={"timeframe.next": "n"})
    async with app.run_test(size=(100, 30)) as pilot:
        await until(app, lambda: "· 1s" in str(app.candles_pane.border_title))
        await pilot.press("n")
        await until(app, lambda: "· 1m" in str(app.candles_pane.border_title))
        await pilot.press("q")


async def test_clicking_a_watchlist_row_charts_that_symbol() -> None:
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(app, lambda: quotes_show_numbers(app))
        # Border row, header row, then BTC, ETH, SOL: SOL is the fifth row of the pane.
        await pilot.click("#quotes", offset=(5, 4))
        await until(app, lambda: app.candles_pane.symbol == "SOL/USD")
        await until(app, lambda: any("▶SOL/USD" in row for row in lines(app.quotes_pane)))
        await pilot.press("q")


async def test_rows_turn_the_stale_colour_past_the_hubs_stale_after() -> None:
    hub = sim_hub()
    app = MDConsoleApp(hub, provider="sim", timeframe_s=1)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(app, lambda: quotes_show_numbers(app))
        stale_style = Palette.from_theme(app.current_theme).style("stale")

        def symbol_colours() -> list[object]:
            cells = [list(app.quotes_pane.render_line(y))[1] for y in (1, 2, 3, 4)]
            return [cell.style.color if cell.style else None for cell in cells]

        assert stale_style.color not in symbol_colours()
        hub.stale_after = 0.0  # every symbol is now older than the threshold
        await until(app, lambda: all(c == stale_style.color for c in symbol_colours()))
        await pilot.press("q")


async def test_cursor_row_has_the_cursor_background_while_the_watchlist_has_focus() -> None:
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(app, lambda: quotes_show_numbers(app))
        cursor_bg = Palette.from_theme(app.current_theme).cursor_bg.bgcolor

        def backgrounds(y: int) -> set[object]:
            return {seg.style.bgcolor for seg in app.quotes_pane.render_line(y) if seg.style}

        await pilot.press("down")
        await until(app, lambda: backgrounds(2) == {cursor_bg})
        assert cursor_bg not in backgrounds(1)
        await pilot.press("q")


async def test_resizing_the_terminal_relays_the_chart_to_the_new_width() -> None:
    app = MDConsoleApp(sim_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(app, lambda: candles_show_numbers(app))
        await pilot.resize_terminal(140, 40)
        # 140 columns: the side column is 40 wide, the chart's border takes 2 more.
        await until(app, lambda: app.candles_pane.size.width == 98)
        await until(app, lambda: {len(row) for row in lines(app.candles_pane)} == {98})
        await until(app, lambda: candles_show_numbers(app))
        await pilot.press("q")
