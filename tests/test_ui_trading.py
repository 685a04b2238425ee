"""Keyboard trading on the sim feed with a real EMS on a temporary journal, driven with Pilot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widget import Widget

from console.config import TradingConfigError, TradingSettings, parse_config
from console.data.feed import FeedHub
from console.ems.journal import Journal
from console.ems.risk import RiskLimits
from console.ems.router import Ems
from console.ui.app import MDConsoleApp
from console.ui.session import TradingSession
from console.ui.trading import ConfirmOrderScreen

SYMBOLS = ["BTC/USD", "ETH/USD"]


def lines(widget: Widget) -> list[str]:
    return ["".join(seg.text for seg in widget.render_line(y)) for y in range(widget.size.height)]


async def until(app: MDConsoleApp, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    async def wait() -> None:
        while not condition():
            await app.next_frame()

    await asyncio.wait_for(wait(), timeout)


@asynccontextmanager
async def console(
    tmp_path: Path,
    settings: TradingSettings | None = None,
    risk: dict[str, RiskLimits] | None = None,
) -> AsyncIterator[tuple[MDConsoleApp, Pilot[int], TradingSession]]:
    """The console at 160x50 on a seeded sim, trading through an Ems on a tmp journal."""
    hub = FeedHub("sim", SYMBOLS, config={"seed": 11, "rate": 500}, history=False)
    session = TradingSession(Ems(Journal(tmp_path / "journal.sqlite"), risk=risk), settings,
                             risk=risk)
    app = MDConsoleApp(hub, provider="sim", trading=session)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            await until(app, lambda: app.ladder_pane.cursor_tick is not None)
            try:
                yield app, pilot, session
            finally:
                await app.stop_view()  # feed tasks end and bar buffers are unlinked
    finally:
        session.close()


async def rest_below(pilot: Pilot[int], ticks: int = 400) -> None:
    """Focus the ladder and put its cursor well under the bid, where a buy rests unfilled.

    (The paging keys themselves are covered by the ladder and terminal tests.)
    """
    await pilot.press("l")
    app = pilot.app
    assert isinstance(app, MDConsoleApp)
    app.ladder_pane.move_cursor(-ticks)


def working(session: TradingSession) -> list[str]:
    return [o.order_id for o in session.working_orders("BTC/USD")]


async def test_buy_key_places_limit_at_cursor_shown_working_in_blotter_and_ladder(
        tmp_path: Path) -> None:
    async with console(tmp_path) as (app, pilot, session):
        await rest_below(pilot)
        cursor = app.ladder_pane.cursor_price
        await pilot.press("b")
        await until(app, lambda: len(working(session)) == 1)
        order = session.working_orders("BTC/USD")[0]
        assert (order.side, order.type, order.price) == ("buy", "limit", cursor)
        await until(app, lambda: any(order.order_id in row for row in lines(app.blotter_pane)))
        await until(app, lambda: any("●" in row and f"{cursor:,.0f}" in row
                                     for row in lines(app.ladder_pane)))


async def test_sell_key_places_sell_limit_at_cursor(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, pilot, session):
        await pilot.press("l")
        app.ladder_pane.move_cursor(400)
        cursor = app.ladder_pane.cursor_price
        await pilot.press("s")
        await until(app, lambda: len(working(session)) == 1)
        order = session.working_orders("BTC/USD")[0]
        assert (order.side, order.price) == ("sell", cursor)


async def test_shift_arrows_amend_the_selected_order_by_one_tick(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, pilot, session):
        await rest_below(pilot)
        await pilot.press("b")
        await until(app, lambda: len(working(session)) == 1)
        oid = working(session)[0]
        placed = session.ems.state.orders[oid].price
        await pilot.press("shift+up", "shift+up")
        await until(app, lambda: session.ems.state.orders[oid].price == placed + 2.0)
        await pilot.press("shift+down")
        await until(app, lambda: session.ems.state.orders[oid].price == placed + 1.0)


async def test_shift_arrows_move_the_trigger_of_a_stop_waiting_for_it(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, pilot, session):
        await rest_below(pilot, ticks=1500)  # far enough under the bid that it cannot trigger
        await pilot.press("O")
        await until(app, lambda: len(working(session)) == 1)
        oid = working(session)[0]
        placed = session.ems.state.orders[oid].stop
        await pilot.press("shift+up", "shift+up")
        await until(app, lambda: session.ems.state.orders[oid].stop == placed + 2.0)
        await pilot.press("shift+down")
        await until(app, lambda: session.ems.state.orders[oid].stop == placed + 1.0)
        assert session.ems.state.orders[oid].dark


async def test_x_cancels_order_at_cursor_and_shift_x_cancels_all_for_symbol(
        tmp_path: Path) -> None:
    async with console(tmp_path) as (app, pilot, session):
        await rest_below(pilot)
        await pilot.press("b", "down", "b", "down", "b")
        await until(app, lambda: len(working(session)) == 3)
        lowest = min(session.working_orders("BTC/USD"), key=lambda o: o.price)
        await pilot.press("x")
        await until(app, lambda: len(working(session)) == 2)
        assert session.ems.state.orders[lowest.order_id].status == "canceled"
        await pilot.press("X")
        await until(app, lambda: not working(session))


async def test_blotter_cancels_the_selected_working_order(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, pilot, session):
        await rest_below(pilot)
        await pilot.press("b", "down", "b")
        await until(app, lambda: len(working(session)) == 2)
        await pilot.press("w", "down")
        await until(app, lambda: app.blotter_pane.selected_order is not None)
        chosen = app.blotter_pane.selected_order
        assert chosen == session.working_orders("BTC/USD")[1].order_id
        await pilot.press("x")
        await until(app, lambda: len(working(session)) == 1)
        assert chosen not in working(session)


async def test_market_buy_then_flatten_closes_the_position(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, pilot, session):
        await pilot.press("B")
        await until(app, lambda: session.position_size("BTC/USD") > 0)
        await pilot.press("F")
        await until(app, lambda: session.position_size("BTC/USD") == 0)
        fills = [f for f in session.fills if f.symbol == "BTC/USD"]
        assert [f.side for f in fills][-1] == "sell"


async def test_join_bid_buys_at_best_bid_and_join_ask_sells_at_best_ask(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, pilot, session):
        book = session.ems.books["BTC/USD"]
        await pilot.press("j")
        await until(app, lambda: len(session.ems.state.orders) == 1)
        buy = next(iter(session.ems.state.orders.values()))
        assert buy.side == "buy" and buy.type == "limit"
        # the touch may have moved since the key; the order joined a bid near the touch
        assert abs(buy.price - (book.best_bid or 0)) < 50
        await pilot.press("k")
        await until(app, lambda: len(session.ems.state.orders) == 2)
        sell = next(o for o in session.ems.state.orders.values() if o.side == "sell")
        assert sell.type == "limit" and abs(sell.price - (book.best_ask or 0)) < 50


async def test_stop_keys_place_dark_stops_at_the_cursor(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, pilot, session):
        await pilot.press("l")
        app.ladder_pane.move_cursor(400)
        above = app.ladder_pane.cursor_price
        await pilot.press("o")
        await until(app, lambda: len(working(session)) == 1)
        stop = session.working_orders("BTC/USD")[0]
        assert (stop.type, stop.side, stop.stop, stop.dark) == ("stop", "buy", above, True)
        await until(app, lambda: any("◆" in row for row in lines(app.ladder_pane)))


async def test_kill_switch_cancels_everything_and_blocks_orders_until_rearmed(
        tmp_path: Path) -> None:
    async with console(tmp_path) as (app, pilot, session):
        await rest_below(pilot)
        await pilot.press("b", "down", "b")
        await until(app, lambda: len(working(session)) == 2)
        await pilot.press("ctrl+k")
        await until(app, lambda: not working(session) and session.killed)
        await until(app, lambda: "KILL SWITCH" in lines(app.entry_pane)[0])
        await pilot.press("b")
        await app.next_frame()
        assert len(session.ems.state.orders) == 2  # nothing new was sent
        await pilot.press("ctrl+r")
        await until(app, lambda: not session.killed)
        await pilot.press("b")
        await until(app, lambda: len(working(session)) == 1)


async def test_order_above_confirm_notional_waits_for_the_modal(tmp_path: Path) -> None:
    settings = TradingSettings(confirm_notional=1.0)  # 0.0001 BTC is about 6.8 USD
    async with console(tmp_path, settings) as (app, pilot, session):
        await rest_below(pilot)
        await pilot.press("b")
        await until(app, lambda: isinstance(app.screen, ConfirmOrderScreen))
        assert not session.ems.state.orders
        await pilot.press("n")
        await until(app, lambda: not isinstance(app.screen, ConfirmOrderScreen))
        assert not session.ems.state.orders
        await pilot.press("b")
        await until(app, lambda: isinstance(app.screen, ConfirmOrderScreen))
        await pilot.press("y")
        await until(app, lambda: len(working(session)) == 1)


async def test_size_keys_step_by_lot_and_by_size_ladder(tmp_path: Path) -> None:
    settings = TradingSettings(size_ladder=[0.001, 0.01, 0.1])
    async with console(tmp_path, settings) as (app, pilot, _):
        ticket = app.entry_pane.ticket
        await until(app, lambda: ticket.size == 0.001)
        await pilot.press("plus", "plus")
        assert ticket.size == pytest.approx(0.0012)
        await pilot.press("minus")
        assert ticket.size == pytest.approx(0.0011)
        await pilot.press("right_square_bracket")
        assert ticket.size == pytest.approx(0.01)
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert ticket.size == pytest.approx(0.1)
        await pilot.press("left_square_bracket")
        assert ticket.size == pytest.approx(0.01)


async def test_ticket_shows_why_an_order_would_be_rejected_and_does_not_send_it(
        tmp_path: Path) -> None:
    risk = {"paper": RiskLimits(max_order_size=0.0002)}
    async with console(tmp_path, risk=risk) as (app, pilot, session):
        await until(app, lambda: any("✓" in row for row in lines(app.entry_pane)))
        await pilot.press("plus", "plus")
        await until(app, lambda: any("✗ max_order_size" in row for row in lines(app.entry_pane)))
        await rest_below(pilot)
        await pilot.press("b")
        await app.next_frame()
        assert not session.ems.state.orders
        assert "PAPER" in lines(app.entry_pane)[0]


async def test_order_entry_pane_sends_the_edited_ticket(tmp_path: Path) -> None:
    async with console(tmp_path) as (app, pilot, session):
        await rest_below(pilot)
        # focus the ticket; side field: toggle to sell, then price field down 3 ticks
        await pilot.press("e", "up")
        assert app.entry_pane.ticket.side == "sell"
        await pilot.press("l", "up", "e")
        await pilot.press(*["right"] * 3, "down", "down", "down", "left", "up", "enter")
        await until(app, lambda: len(session.ems.state.orders) == 1)
        order = next(iter(session.ems.state.orders.values()))
        assert order.side == "sell" and order.type == "limit"
        assert order.size == pytest.approx(0.0002)


def test_trading_settings_reject_bad_values_with_the_key_named() -> None:
    with pytest.raises(TradingConfigError, match=r"trading\.size_ladder"):
        TradingSettings.from_mapping({"size_ladder": [0.1, -1]})
    with pytest.raises(TradingConfigError, match=r"trading\.confirm_notional"):
        TradingSettings.from_mapping({"confirm_notional": "lots"})
    with pytest.raises(TradingConfigError, match="unknown trading setting"):
        TradingSettings.from_mapping({"confirm": True})
    ok = TradingSettings.from_mapping({"size_ladder": [1, 0.5], "confirm_notional": 5000})
    assert ok.ladder_for(0.1) == [0.5, 1]


def test_live_account_confirms_every_order_unless_turned_off(tmp_path: Path) -> None:
    config = parse_config('[accounts.paper]\n[accounts.venue]\ndestination = "kraken"\n')
    session = TradingSession.from_config(config, tmp_path / "j.sqlite")
    try:
        from console.ems.messages import NewOrder

        order = NewOrder(order_id="x", account="venue", symbol="BTC/USD", side="buy", size=1.0,
                         price=1.0)
        session.account = "venue"
        assert session.mode == "LIVE"
        assert session.needs_confirm(order) is not None
        session.settings = TradingSettings(confirm_live=False)
        assert session.needs_confirm(order) is None
        session.account = "paper"
        assert session.mode == "PAPER"
    finally:
        session.close()


async def test_configured_ladder_group_is_the_ladders_starting_grouping(tmp_path: Path) -> None:
    async with console(tmp_path, TradingSettings(ladder_group=5)) as (app, pilot, _):
        assert app.ladder_pane.group == 5
        await until(app, lambda: app.ladder_pane.top_tick is not None
                    and app.ladder_pane.top_tick % 5 == 0)
        await pilot.press("l", "full_stop")
        assert app.ladder_pane.group == 10
