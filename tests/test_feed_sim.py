"""Feed hub end to end on the real sim provider: history, quotes, books, trades and bars."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from console.data.feed import FeedError, FeedHub
from console.model.events import BookDelta, MarketEvent, Trade

SYMBOLS = ("BTC/USD", "ETH/USD")


def _until(hub: FeedHub, done: Callable[[MarketEvent], bool]) -> asyncio.Event:
    """An event set once `done(event)` is true for an ingested event."""
    flag = asyncio.Event()

    def check(ev: MarketEvent) -> None:
        if not flag.is_set() and done(ev):
            flag.set()

    hub.subscribe(check)
    return flag


@pytest.fixture
async def sim() -> AsyncIterator[FeedHub]:
    hub = FeedHub("sim", SYMBOLS, config={"seed": 3, "rate": 4_000},
                  capacity_1s=600, capacity_1m=600)
    await hub.start()
    yield hub
    await hub.stop()


async def test_sim_feed_starts_with_full_history_and_first_quotes(sim: FeedHub) -> None:
    now_s = time.time()
    for sym in SYMBOLS:
        assert sim.quotes[sym].last > 0
        assert sim.instruments[sym].symbol == sym
        assert len(sim.bars(sym, 1)) >= 600 - 1
        bars_1m = sim.bars(sym, 60)
        assert len(bars_1m) == 600
        assert now_s - 180 <= bars_1m["time"][-1] <= now_s
    assert sim.live
    assert sim.status["sim"].state == "live"
    assert sim.status["sim"].detail.startswith("seed 3")  # the provider's own word is kept


async def test_sim_books_and_quote_top_follow_the_stream(sim: FeedHub) -> None:
    deltas: set[str] = set()

    def deltas_for_both(ev: MarketEvent) -> bool:
        if isinstance(ev, BookDelta):
            deltas.add(ev.symbol)
        return deltas == set(SYMBOLS)

    await asyncio.wait_for(_until(sim, deltas_for_both).wait(), 10)
    for sym in SYMBOLS:
        book = sim.books[sym]
        assert book.version > 1  # the snapshot and at least one delta
        assert book.best_bid is not None and book.best_ask is not None
        assert book.best_bid < book.best_ask
        q = sim.quotes[sym]
        assert q.bid == pytest.approx(book.best_bid)
        assert q.ask == pytest.approx(book.best_ask)


async def test_sim_trades_reach_tape_quote_and_one_second_bars(sim: FeedHub) -> None:
    trades: list[Trade] = []

    def twenty_btc_trades(ev: MarketEvent) -> bool:
        return len(trades) >= 20

    sim.subscribe(lambda ev: trades.append(ev) if isinstance(ev, Trade)
                  and ev.symbol == "BTC/USD" else None)
    await asyncio.wait_for(_until(sim, twenty_btc_trades).wait(), 20)
    tape = sim.tape["BTC/USD"].latest(len(trades))
    assert tape[0] is trades[-1]
    assert sim.quotes["BTC/USD"].last == trades[-1].price
    newest = sim.bars("BTC/USD", 1)[-1]
    assert newest["time"] == trades[-1].ts // 1_000_000_000
    assert newest["close"] == trades[-1].price
    assert sim.events > len(trades)


async def test_sim_on_a_virtual_clock_closes_bars_in_market_time() -> None:
    start = 1_767_225_600  # 2026-01-01, pinned
    # a symbol only this test streams: the sim keeps a per-symbol anchor between streams
    hub = FeedHub("sim", ["FEED/USD"], config={"seed": 5, "rate": 50_000, "realtime": False,
                                               "start_time": start, "symbols": ["FEED/USD"]},
                  capacity_1s=600, capacity_1m=600)
    await hub.start()
    try:
        trades = 0

        def many_trades(ev: MarketEvent) -> bool:
            nonlocal trades
            trades += isinstance(ev, Trade)
            return trades >= 2_000

        await asyncio.wait_for(_until(hub, many_trades).wait(), 30)
        assert hub.bar_clock == "market"
        hub.tick()
        times = hub.bars("FEED/USD", 1)["time"]
        assert times[-1] >= start  # live bars continue the history, which ends at the start
        assert times[-1] <= hub.market_ns // 1_000_000_000
        assert times[-1] < time.time() - 86_400  # nothing filled up to the wall clock
        assert (times[1:] > times[:-1]).all()
    finally:
        await hub.stop()


async def test_sim_config_error_is_one_feed_error_naming_the_key() -> None:
    hub = FeedHub("sim", ["BTC/USD"], config={"rate": -1})
    with pytest.raises(FeedError, match=r"'rate' must be .*\[providers\.sim\]"):
        await hub.start()


async def test_sim_unknown_symbol_is_one_feed_error() -> None:
    hub = FeedHub("sim", ["BTC/USD", "NOPE/USD"])
    with pytest.raises(FeedError, match="provider 'sim' does not list NOPE/USD"):
        await hub.start()
