"""Saved watchlists and live additions: `/` streams a new symbol now, `W` switches lists."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from console.config import ConsoleSection
from console.data.feed import FeedHub
from console.ui.app import MDConsoleApp
from console.ui.commands import console_commands
from console.ui.layout import load_state
from console.ui.search import Listing, SymbolSearch
from console.ui.watchlists import start_lists
from tests.test_ui_app import lines, until

ALTS = ["SOL/USD", "DOGE/USD"]


def hub(*symbols: str) -> FeedHub:
    return FeedHub("sim", list(symbols), config={"seed": 4, "rate": 1000})


def messages(app: MDConsoleApp) -> list[str]:
    return [n.message for n in app._notifications]


def row_has_price(app: MDConsoleApp, symbol: str) -> bool:
    return any(symbol in row and any(ch.isdigit() for ch in row.split(symbol, 1)[1])
               for row in lines(app.quotes_pane)[1:])


async def search_and_pick(app: MDConsoleApp, pilot: object, query: str, symbol: str) -> None:
    press = pilot.press  # type: ignore[attr-defined]
    await press("slash")
    await until(app, lambda: isinstance(app.screen, SymbolSearch) and bool(app.screen.listings))
    await press(*query)
    await until(app, lambda: app.screen.query_one(Input).value == query
                and isinstance(app.screen, SymbolSearch)
                and app.screen.shown[:1] == [Listing(symbol, "sim")])
    await press("enter")


async def test_search_streams_an_unwatched_symbol_now_and_charts_it(tmp_path: Path) -> None:
    path = tmp_path / "layout.json"
    feed = hub("BTC/USD", "ETH/USD")
    app = MDConsoleApp(feed, provider="sim", timeframe_s=1)
    app.load_layout(path)
    app.set_watchlists({"": ["BTC/USD", "ETH/USD"]}, "")
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: app.candles_pane.symbol == "BTC/USD")
        await search_and_pick(app, pilot, "doge", "DOGE/USD")
        await until(app, lambda: app.candles_pane.symbol == "DOGE/USD")
        assert "DOGE/USD" in feed.symbols and feed.quotes["DOGE/USD"].last > 0
        await until(app, lambda: row_has_price(app, "DOGE/USD"))
        assert app.quotes_pane.symbols == ["BTC/USD", "ETH/USD", "DOGE/USD"]
        assert app.quotes_pane.selected == "DOGE/USD"
        # The old symbols keep streaming after the feed restarted with the longer list.
        before = feed.quotes["BTC/USD"].version
        await until(app, lambda: feed.quotes["BTC/USD"].version > before)
        await until(app, lambda: path.exists() and load_state(path)[0].lists
                    == {"": ["BTC/USD", "ETH/USD", "DOGE/USD"]})
        await pilot.press("q")


async def test_watchlist_key_switches_saved_lists_streaming_their_symbols() -> None:
    feed = hub("BTC/USD")
    app = MDConsoleApp(feed, provider="sim", timeframe_s=1)
    app.set_watchlists({"": ["BTC/USD"], "alts": ALTS}, "")
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: app.candles_pane.symbol == "BTC/USD")
        assert app.quotes_pane.symbols == ["BTC/USD"]
        await pilot.press("W")
        await until(app, lambda: app.quotes_pane.symbols == ALTS)
        await until(app, lambda: app.candles_pane.symbol == "SOL/USD")
        assert app.watchlist_name == "alts"
        assert "alts" in str(app.quotes_pane.border_title)
        assert set(ALTS) <= set(feed.symbols)
        await until(app, lambda: row_has_price(app, "DOGE/USD"))
        await pilot.press("W")
        await until(app, lambda: app.quotes_pane.symbols == ["BTC/USD"])
        await until(app, lambda: app.candles_pane.symbol == "BTC/USD")
        assert app.watchlist_name == ""
        assert feed.symbols == ("BTC/USD", *ALTS)  # switching back streams nothing twice
        await pilot.press("q")


async def test_search_appends_to_the_current_saved_list_in_layout_state_only() -> None:
    feed = hub("SOL/USD", "DOGE/USD")
    app = MDConsoleApp(feed, provider="sim", timeframe_s=1)
    app.set_watchlists({"": ["BTC/USD"], "alts": ALTS}, "alts")
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: app.candles_pane.symbol == "SOL/USD")
        await search_and_pick(app, pilot, "eth/usd", "ETH/USD")
        await until(app, lambda: app.quotes_pane.symbols == [*ALTS, "ETH/USD"])
        assert app.layout_state.lists == {"alts": [*ALTS, "ETH/USD"]}
        assert app.watchlists["alts"] == ALTS  # the configured list is not rewritten
        await pilot.press("W")  # to the plain list: ETH/USD was added to "alts" only
        await until(app, lambda: app.quotes_pane.symbols == ["BTC/USD"])
        await pilot.press("q")


async def test_palette_offers_each_saved_watchlist_and_switches_to_it() -> None:
    app = MDConsoleApp(hub("BTC/USD"), provider="sim", timeframe_s=1)
    app.set_watchlists({"": ["BTC/USD"], "alts": ALTS}, "")
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: app.candles_pane.symbol == "BTC/USD")
        commands = {title: call for title, _help, call in console_commands(app)}
        assert "Watchlist symbols" in commands
        commands["Watchlist alts"]()
        await until(app, lambda: app.quotes_pane.symbols == ALTS)
        await pilot.press("q")


async def test_unlisted_symbol_in_a_saved_list_is_reported_and_the_rest_stream() -> None:
    feed = hub("BTC/USD")
    app = MDConsoleApp(feed, provider="sim", timeframe_s=1)
    app.set_watchlists({"": ["BTC/USD"], "odd": ["NOPE/USD", "ETH/USD"]}, "")
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: app.candles_pane.symbol == "BTC/USD")
        await pilot.press("W")
        await until(app, lambda: app.quotes_pane.symbols == ["ETH/USD"])
        await until(app, lambda: any("does not list NOPE/USD" in m for m in messages(app)))
        assert "NOPE/USD" not in feed.quotes
        await pilot.press("q")


async def test_watchlist_key_with_one_list_says_how_to_save_more() -> None:
    app = MDConsoleApp(hub("BTC/USD"), provider="sim", timeframe_s=1)
    app.set_watchlists({"": ["BTC/USD"]}, "")
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: app.candles_pane.symbol == "BTC/USD")
        await pilot.press("W")
        await until(app, lambda: any("[console.watchlists]" in m for m in messages(app)))
        await pilot.press("q")


def test_console_opens_on_the_configured_list_and_command_line_symbols_win() -> None:
    console = ConsoleSection(symbols=["BTC/USD"], watchlists={"alts": ALTS}, watchlist="alts")
    assert start_lists(console) == ({"": ["BTC/USD"], "alts": ALTS}, "alts")
    assert start_lists(console, ["ETH/USD"]) == ({"": ["ETH/USD"], "alts": ALTS}, "")
