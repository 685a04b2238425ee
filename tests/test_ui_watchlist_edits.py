"""Editing watchlists: delete removes, ctrl+up/down reorder, and the edits, the list shown and a
reset to the config survive a restart with the same state directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.config import ConsoleSection
from console.data.feed import FeedHub
from console.ems.journal import Journal
from console.ems.router import Ems
from console.ui.app import MDConsoleApp
from console.ui.layout import LayoutState, load_state, save_state
from console.ui.search import Listing
from console.ui.session import TradingSession
from console.ui.watchlists import fold_additions, moved, plan_opening
from tests.test_ui_app import until

SIM = {"seed": 4, "rate": 200}
PLAIN = ["BTC/USD", "ETH/USD", "SOL/USD"]
ALTS = ["SOL/USD", "DOGE/USD"]
CONSOLE = ConsoleSection(symbols=PLAIN, watchlists={"alts": ALTS})


def messages(app: MDConsoleApp) -> list[str]:
    return [n.message for n in app._notifications]


async def open_console(path: Path, symbols: list[str] | None = None,
                       trading: TradingSession | None = None) -> MDConsoleApp:
    """The console as `run_console` opens it on `path`'s state (and `symbols` from the CLI)."""
    saved, warning = load_state(path)
    opening = await plan_opening(CONSOLE, symbols, saved, "sim", SIM)
    app = MDConsoleApp(FeedHub("sim", opening.symbols, config=SIM), provider="sim",
                       timeframe_s=1, trading=trading)
    app.load_layout(path, saved)
    app.set_watchlists(opening.lists, opening.current, unsaved=opening.unsaved)
    app.startup_notes = [n for n in (warning, opening.note) if n]
    return app


async def test_delete_removes_the_cursor_symbol_and_its_neighbour_takes_chart_and_ladder(
    tmp_path: Path,
) -> None:
    session = TradingSession(Ems(Journal(tmp_path / "j.sqlite")))
    app = await open_console(tmp_path / "layout.json", trading=session)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            quotes = app.quotes_pane
            await until(app, lambda: app.candles_pane.symbol == "BTC/USD"
                        and quotes.symbols == PLAIN and app.ladder_pane.cursor_tick is not None)
            await pilot.press("l")
            app.ladder_pane.move_cursor(-400)  # well under the bid: the buy rests unfilled
            await pilot.press("b")
            await until(app, lambda: len(session.working_orders("BTC/USD")) == 1)
            quotes.focus()
            await until(app, lambda: quotes.has_focus)
            await pilot.press("delete")  # the charted symbol: the next one is charted
            assert quotes.symbols == ["ETH/USD", "SOL/USD"] and quotes.cursor == 0
            await until(app, lambda: app.candles_pane.symbol == "ETH/USD"
                        and app.ladder_pane.symbol == "ETH/USD")
            assert quotes.selected == "ETH/USD"
            assert any("BTC/USD removed from watchlist symbols; it keeps streaming for its 1 "
                       "working order" in m for m in messages(app))
            assert "BTC/USD" in app.view.quotes  # the paper engine still gets its book
            await pilot.press("down", "backspace")  # the last line: the cursor moves up
            assert quotes.symbols == ["ETH/USD"] and quotes.cursor == 0
            assert app.candles_pane.symbol == "ETH/USD"  # SOL/USD was not charted
            await pilot.press("delete")  # the last symbol stays, with the reason
            assert quotes.symbols == ["ETH/USD"]
            await until(app, lambda: any("ETH/USD is the last symbol" in m
                                         for m in messages(app)))
            assert app.watchlists[""] == PLAIN  # the configured list is kept as it was
            assert app.layout_state.lists == {"": ["ETH/USD"]}
            await app.stop_view()
    finally:
        session.close()


async def test_ctrl_up_and_down_move_the_cursor_symbol_and_stop_at_the_ends(
    tmp_path: Path,
) -> None:
    app = await open_console(tmp_path / "layout.json")
    async with app.run_test(size=(160, 50)) as pilot:
        quotes = app.quotes_pane
        await until(app, lambda: quotes.symbols == PLAIN)
        await pilot.press("ctrl+up")  # already first: nothing moves
        assert quotes.symbols == PLAIN
        await pilot.press("ctrl+down")
        assert quotes.symbols == ["ETH/USD", "BTC/USD", "SOL/USD"] and quotes.cursor == 1
        await pilot.press("ctrl+down", "ctrl+down")
        assert quotes.symbols == ["ETH/USD", "SOL/USD", "BTC/USD"] and quotes.cursor == 2
        await pilot.press("up", "ctrl+up")
        assert quotes.symbols == ["SOL/USD", "ETH/USD", "BTC/USD"] and quotes.cursor == 0
        assert app.layout_state.lists == {"": ["SOL/USD", "ETH/USD", "BTC/USD"]}
        await app.stop_view()


def test_a_move_among_shown_symbols_jumps_over_ones_not_streaming() -> None:
    # NOPE/USD is on the list but not shown: moving ETH up puts it before BTC, as seen.
    assert moved(["BTC/USD", "NOPE/USD", "ETH/USD"], "ETH/USD", "BTC/USD", after=False) == [
        "ETH/USD", "BTC/USD", "NOPE/USD"]
    assert moved(["BTC/USD", "NOPE/USD", "ETH/USD"], "BTC/USD", "ETH/USD", after=True) == [
        "NOPE/USD", "ETH/USD", "BTC/USD"]


async def test_edits_and_the_list_shown_survive_a_restart_and_reset_brings_the_config_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "layout.json"
    app = await open_console(path)
    async with app.run_test(size=(160, 50)) as pilot:
        quotes = app.quotes_pane
        await until(app, lambda: quotes.symbols == PLAIN and app.candles_pane.symbol != "")
        await pilot.press("down", "delete", "ctrl+up")  # drop ETH/USD, then SOL/USD first
        assert quotes.symbols == ["SOL/USD", "BTC/USD"]
        await pilot.press("W")
        await until(app, lambda: quotes.symbols == ALTS)
        app.add_to_watchlist(Listing("ETH/USD", "sim"))  # what `/` hands over
        await until(app, lambda: quotes.symbols == [*ALTS, "ETH/USD"])
        await until(app, lambda: load_state(path)[0].watchlist_name == "alts")
        await until(app, lambda: load_state(path)[0].lists == {
            "": ["SOL/USD", "BTC/USD"], "alts": [*ALTS, "ETH/USD"]})
        await app.stop_view()

    again = await open_console(path)
    feed = again.view
    assert isinstance(feed, FeedHub) and list(feed.symbols) == [*ALTS, "ETH/USD"]
    async with again.run_test(size=(160, 50)) as pilot:
        quotes = again.quotes_pane
        await until(again, lambda: quotes.symbols == [*ALTS, "ETH/USD"])
        assert again.watchlist_name == "alts"
        await pilot.press("W")
        await until(again, lambda: quotes.symbols == ["SOL/USD", "BTC/USD"])
        commands = {c.title: c.callback for c in again.get_system_commands(again.screen)}
        commands["Reset watchlist symbols to config"]()
        await until(again, lambda: quotes.symbols == PLAIN)
        assert any("reset to the config's 3 symbols" in m for m in messages(again))
        await until(again, lambda: load_state(path)[0].lists == {"alts": [*ALTS, "ETH/USD"]})
        await again.stop_view()


@pytest.mark.parametrize("damage", [b'{"lists": {"": ["SOL/USD"', b'{"lists": {"": 5}}',
                                    b"\xff\x00"], ids=["torn", "wrong-type", "binary"])
async def test_a_damaged_state_file_is_reported_and_the_config_lists_are_used(
    tmp_path: Path, damage: bytes,
) -> None:
    path = tmp_path / "layout.json"
    path.write_bytes(damage)
    app = await open_console(path)
    assert tuple(app.view.symbols) == tuple(PLAIN)
    async with app.run_test(size=(160, 50)):
        await until(app, lambda: app.quotes_pane.symbols == PLAIN)
        assert any("is damaged" in m and "using defaults" in m for m in messages(app))
        await app.stop_view()


async def test_an_emptied_list_or_an_unknown_list_name_in_the_state_opens_the_config(
    tmp_path: Path,
) -> None:
    path = tmp_path / "layout.json"
    save_state(path, LayoutState(lists={"": []}, watchlist_name="gone"))
    app = await open_console(path)
    async with app.run_test(size=(160, 50)):
        await until(app, lambda: app.quotes_pane.symbols == PLAIN)
        assert app.watchlist_name == ""
        await app.stop_view()


async def test_symbols_from_the_command_line_are_edited_for_this_run_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "layout.json"
    save_state(path, LayoutState(lists={"": ["SOL/USD", "BTC/USD"]}))
    app = await open_console(path, symbols=["ETH/USD", "BTC/USD"])
    async with app.run_test(size=(160, 50)) as pilot:
        quotes = app.quotes_pane
        await until(app, lambda: quotes.symbols == ["ETH/USD", "BTC/USD"])
        await pilot.press("delete")
        assert quotes.symbols == ["BTC/USD"]
        assert app.layout_state.lists == {"": ["SOL/USD", "BTC/USD"]}  # the saved list
        await app.stop_view()


def test_older_state_files_search_additions_become_edited_lists() -> None:
    state = LayoutState(watchlist=["DOGE/USD", "BTC/USD"], watchlists={"alts": ["ETH/USD"]})
    fold_additions(state, CONSOLE)
    assert state.lists == {"": [*PLAIN, "DOGE/USD"], "alts": [*ALTS, "ETH/USD"]}
    assert state.watchlist == [] and state.watchlists == {}


async def test_restored_orders_and_positions_off_the_watchlist_still_stream(
    tmp_path: Path,
) -> None:
    from console.ems.messages import Ack, Fill, NewOrder, OrderStatus
    from console.ui.app import streamed_symbols

    journal = Journal(tmp_path / "j.sqlite")
    ts = 1_700_000_000_000_000_000
    for oid, symbol in (("o1", "ETH/USD"), ("o2", "NOPE/USD")):  # NOPE/USD: sim lists no such
        journal.write([
            NewOrder(order_id=oid, account="paper", symbol=symbol, side="buy", size=1.0,
                     price=10.0, ts=ts),
            Ack(order_id=oid, venue_id=f"P-{oid}", ts=ts),
            OrderStatus(order_id=oid, status="open", size=1.0, price=10.0, ts=ts),
        ])
    journal.write([Fill(fill_id="f1", order_id="x", account="paper", symbol="SOL/USD",
                        side="buy", price=100.0, size=2.0, ts=ts)])
    journal.close()
    session = TradingSession(Ems(Journal(tmp_path / "j.sqlite")))
    try:
        assert await streamed_symbols(["BTC/USD", "ETH/USD"], None, "sim", SIM) == [
            "BTC/USD", "ETH/USD"]
        assert await streamed_symbols(["BTC/USD"], session, "sim", SIM) == [
            "BTC/USD", "ETH/USD", "SOL/USD"]
    finally:
        session.close()
