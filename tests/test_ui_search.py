"""`/` symbol search: fuzzy ranking over provider listings, picking charts or saves a symbol."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from console.data.feed import FeedHub
from console.ui.app import MDConsoleApp
from console.ui.layout import load_state
from console.ui.search import Listing, SymbolSearch, provider_listings, rank
from tests.test_ui_app import quotes_show_numbers, until

LISTINGS = [Listing("BTC/USD", "sim"), Listing("ETH/USD", "sim"), Listing("ETH/BTC", "sim"),
            Listing("SOL/USD", "sim")]


def test_rank_puts_closest_fuzzy_matches_first() -> None:
    assert [x.symbol for x in rank("eth", LISTINGS)][:2] == ["ETH/USD", "ETH/BTC"]
    assert rank("ethbtc", LISTINGS)[0].symbol == "ETH/BTC"
    assert rank("zzz", LISTINGS) == []
    assert rank("", LISTINGS) == LISTINGS


async def test_sim_lists_its_symbols_for_search() -> None:
    listings, notes = await provider_listings(["sim"])
    assert Listing("BTC/USD", "sim") in listings
    assert notes == []


async def test_unknown_provider_is_a_note_not_a_failure() -> None:
    listings, notes = await provider_listings(["sim", "nosuch"])
    assert listings and len(notes) == 1 and notes[0].startswith("nosuch:")


def two_symbol_hub() -> FeedHub:
    return FeedHub("sim", ["BTC/USD", "ETH/USD"], config={"seed": 2, "rate": 1000})


async def test_slash_search_picks_a_watched_symbol_and_charts_it() -> None:
    app = MDConsoleApp(two_symbol_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: app.candles_pane.symbol == "BTC/USD")
        await pilot.press("slash")
        await until(app, lambda: isinstance(app.screen, SymbolSearch) and bool(app.screen.listings))
        await pilot.press(*"eth")
        await until(app, lambda: app.screen.query_one(Input).value == "eth")
        assert isinstance(app.screen, SymbolSearch)
        assert app.screen.shown[0] == Listing("ETH/USD", "sim")
        await pilot.press("enter")
        await until(app, lambda: app.candles_pane.symbol == "ETH/USD")
        assert not isinstance(app.screen, SymbolSearch)
        await pilot.press("q")


async def test_search_adds_an_unwatched_symbol_to_the_saved_watchlist(tmp_path: Path) -> None:
    path = tmp_path / "layout.json"
    app = MDConsoleApp(two_symbol_hub(), provider="sim", timeframe_s=1)
    app.load_layout(path)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: app.candles_pane.symbol == "BTC/USD")
        await pilot.press("slash")
        await until(app, lambda: isinstance(app.screen, SymbolSearch) and bool(app.screen.listings))
        await pilot.press(*"doge")
        await until(app, lambda: isinstance(app.screen, SymbolSearch)
                    and app.screen.shown[:1] == [Listing("DOGE/USD", "sim")])
        await pilot.press("enter")
        await until(app, lambda: path.exists() and load_state(path)[0].lists
                    == {"": ["BTC/USD", "ETH/USD", "DOGE/USD"]})
        await pilot.press("q")


async def test_escape_closes_search_without_changing_anything() -> None:
    app = MDConsoleApp(two_symbol_hub(), provider="sim", timeframe_s=1)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: quotes_show_numbers(app) or app.candles_pane.symbol != "")
        await pilot.press("slash")
        await until(app, lambda: isinstance(app.screen, SymbolSearch))
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SymbolSearch)
        assert app.layout_state.lists == {}
        await pilot.press("q")
