"""Blotter tabs on the sim feed with a real EMS: working orders, fills, positions with PnL,
balances; the command palette's account choice reaches the ticket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from console.config import parse_config
from console.data.feed import FeedHub
from console.ui.app import MDConsoleApp
from console.ui.session import TradingSession


async def test_blotter_tabs_show_fills_positions_with_pnl_and_balances(tmp_path: Path) -> None:
    config = parse_config("[accounts.paper]\n[accounts.scalp]\n")
    session = TradingSession.from_config(config, tmp_path / "journal.sqlite")
    hub = FeedHub("sim", ["BTC/USD"], config={"seed": 4, "rate": 500}, history=False)
    app = MDConsoleApp(hub, provider="sim", trading=session)
    blotter_lines: Callable[[], list[str]] = lambda: app.blotter_pane.lines()  # noqa: E731

    async def until(cond: Callable[[], bool]) -> None:
        async def wait() -> None:
            while not cond():
                await app.next_frame()
        await asyncio.wait_for(wait(), 30)

    try:
        async with app.run_test(size=(160, 50)) as pilot:
            await until(lambda: app.ladder_pane.cursor_tick is not None)
            assert app.accounts == ["paper", "scalp"]
            await pilot.press("B", "B")  # two market buys of one lot
            await until(lambda: session.position_size("BTC/USD") > 0.00015)
            await pilot.press("w", "right")  # fills tab
            await until(lambda: sum("BTC/USD" in row and "buy" in row
                                    for row in blotter_lines()) == 2)
            await pilot.press("right")  # positions tab
            await until(lambda: any("paper" in row and "0.0002" in row
                                    for row in blotter_lines()))
            header = blotter_lines()[1]
            assert "Realized" in header and "Unrealized" in header
            await pilot.press("right")  # balances tab
            await until(lambda: any(row.startswith("paper") for row in blotter_lines()))
            assert any(row.startswith("scalp") and "100,000.00" in row
                       for row in blotter_lines())
            # the palette's account choice moves the ticket and the banner
            app.select_account("scalp")
            await until(lambda: "scalp" in app.entry_pane.render_line(0).text)
            await pilot.press("left", "left", "left")  # back to working orders
            await until(lambda: any("no working" in row for row in blotter_lines()))
            await app.stop_view()
    finally:
        session.close()
