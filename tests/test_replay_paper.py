"""Paper trading on a replay: the real EMS on a feed hub fed by the replay provider at speed max
fills the same orders the same way every run, on a recording and on an OKX SQLite database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from console.data.feed import FeedHub
from console.ems.journal import Journal
from console.ems.messages import Fill, NewOrder, OrderEvent
from console.ems.router import Ems
from console.model.events import ConnectorStatus, MarketEvent
from console.record.control import ReplayControl
from providers.replay import feed as replay_feed
from tests.sqlitegen import make_db
from tests.test_ui_replay import SYMBOL, sim_recording

WARM_UP_EVENTS = 400
"""Events let through before the orders go in, so the book is built and the point is fixed."""


FillRow = tuple[str, str, float, float, float, str]


async def paper_session(
    recording: Path, journal: Path, symbol: str = SYMBOL, above_ask: float = 5.0
) -> list[FillRow]:
    """Replays `recording` (or a database) at max with a market buy and a limit sell
    `above_ask` placed after the same warm-up; returns the fills as (order, side, price, size,
    fee, liquidity)."""
    control = ReplayControl("max", paused=True)
    config = {"paths": [str(recording)], "control": control}
    symbols = replay_feed.configure(config)
    hub = FeedHub("replay", symbols, config=config, clock="market", history=False)
    ems = Ems(Journal(journal), clock=lambda: hub.market_ns)
    fills: list[FillRow] = []
    seen = 0
    enough = asyncio.Event()

    def count(ev: MarketEvent) -> None:
        nonlocal seen
        if not isinstance(ev, ConnectorStatus):
            seen += 1
            if seen >= WARM_UP_EVENTS:
                enough.set()

    def on_order_event(ev: OrderEvent) -> None:
        if isinstance(ev, Fill):
            fills.append((ev.order_id, ev.side, ev.price, ev.size, round(ev.fee, 9), ev.liquidity))

    try:
        await hub.start()
        ems.attach(hub)
        ems.subscribe(on_order_event)
        hub.subscribe(count)
        control.step(WARM_UP_EVENTS)
        await asyncio.wait_for(enough.wait(), 30)
        book = hub.books[symbol]
        assert book.best_bid is not None and book.best_ask is not None
        ask = book.best_ask
        ems.submit(NewOrder(order_id="mkt-1", account="paper", symbol=symbol, side="buy",
                            size=0.05, type="market"))
        ems.submit(NewOrder(order_id="lmt-1", account="paper", symbol=symbol, side="sell",
                            size=0.02, type="limit", price=round(ask + above_ask, 1)))
        ems.poll()
        control.resume()
        await asyncio.wait_for(control.finished.wait(), 60)
        ems.poll()
    finally:
        ems.close()
        await hub.stop()
        replay_feed.close()
    return fills


@pytest.mark.parametrize("source", ["recording", "okx database"])
async def test_paper_orders_on_a_max_speed_replay_fill_the_same_way_twice(
    tmp_path: Path, source: str
) -> None:
    if source == "recording":
        path, symbol, above = sim_recording(tmp_path / "sim_BTC_USD.mdr", seconds=120), SYMBOL, 5.0
    else:
        path, symbol, above = tmp_path / "okx.sqlite", "BTC/USDT", 0.5
        make_db(path, rows=600, seed=11)
    first = await paper_session(path, tmp_path / "journal-1.sqlite", symbol, above)
    second = await paper_session(path, tmp_path / "journal-2.sqlite", symbol, above)
    assert first == second
    market = [f for f in first if f[0] == "mkt-1"]
    assert sum(f[3] for f in market) == pytest.approx(0.05)  # filled in full against the book
    assert all(f[5] == "taker" for f in market)
    resting = [f for f in first if f[0] == "lmt-1"]
    assert resting, "the limit above the ask should fill as the replayed market rises to it"
    assert all(f[5] == "maker" for f in resting)
    assert sum(f[3] for f in resting) == pytest.approx(0.02)
