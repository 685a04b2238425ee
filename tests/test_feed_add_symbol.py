"""Adding symbols to a running feed hub: the new one streams with history, the others go on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from console.data.feed import FeedError, FeedHub
from console.model.events import MarketEvent, Trade
from providers.sqlite import feed as sqlite_feed
from tests.sqlitegen import make_db


def _trades_seen(hub: FeedHub, symbols: set[str]) -> asyncio.Event:
    """An event set once a trade of every one of `symbols` has been ingested from now on."""
    flag = asyncio.Event()
    waiting = set(symbols)

    def check(ev: MarketEvent) -> None:
        if isinstance(ev, Trade):
            waiting.discard(ev.symbol)
            if not waiting:
                flag.set()

    hub.subscribe(check)
    return flag


@pytest.fixture
async def sim() -> AsyncIterator[FeedHub]:
    hub = FeedHub("sim", ["BTC/USD"], config={"seed": 11, "rate": 4_000},
                  capacity_1s=600, capacity_1m=600)
    await hub.start()
    yield hub
    await hub.stop()


async def test_added_symbol_has_history_and_a_price_when_add_returns(sim: FeedHub) -> None:
    await sim.add_symbol("ETH/USD")
    assert sim.symbols == ("BTC/USD", "ETH/USD")
    assert sim.instruments["ETH/USD"].symbol == "ETH/USD"
    assert sim.quotes["ETH/USD"].last > 0
    assert len(sim.bars("ETH/USD", 60)) == 600  # backfilled, not only live bars
    assert len(sim.bars("ETH/USD", 1)) >= 599


async def test_added_and_existing_symbols_both_keep_trading(sim: FeedHub) -> None:
    btc_bars = len(sim.bars("BTC/USD", 60))
    await sim.add_symbol("ETH/USD")
    # Trades after the add reach both books and tapes; the old symbol kept its history.
    await asyncio.wait_for(_trades_seen(sim, {"BTC/USD", "ETH/USD"}).wait(), 10)
    assert sim.tape["ETH/USD"].latest(1)
    assert sim.tape["BTC/USD"].latest(1)
    book = sim.books["ETH/USD"]
    assert book.best_bid is not None and book.best_ask is not None
    assert book.best_bid < book.best_ask
    assert len(sim.bars("BTC/USD", 60)) >= btc_bars
    assert sim.live


async def test_adding_several_symbols_at_once_and_again_is_idempotent(sim: FeedHub) -> None:
    await asyncio.gather(sim.add_symbols(["ETH/USD", "SOL/USD"]), sim.add_symbol("ETH/USD"))
    await sim.add_symbol("BTC/USD")
    assert sim.symbols == ("BTC/USD", "ETH/USD", "SOL/USD")
    assert all(sim.quotes[s].last > 0 for s in sim.symbols)


async def test_unknown_symbol_is_refused_with_its_name_and_the_feed_goes_on(
    sim: FeedHub,
) -> None:
    with pytest.raises(FeedError, match=r"'sim' does not list NOPE/USD; check the spelling"):
        await sim.add_symbol("NOPE/USD")
    assert "NOPE/USD" not in sim.quotes
    assert sim.symbols == ("BTC/USD",)
    await asyncio.wait_for(_trades_seen(sim, {"BTC/USD"}).wait(), 10)


async def test_malformed_symbol_is_refused_before_asking_the_provider(sim: FeedHub) -> None:
    with pytest.raises(FeedError, match="BTCUSD"):
        await sim.add_symbol("BTCUSD")


async def test_adding_to_a_feed_that_is_not_running_says_so() -> None:
    hub = FeedHub("sim", ["BTC/USD"])
    with pytest.raises(FeedError, match="not running; cannot add ETH/USD"):
        await hub.add_symbol("ETH/USD")


async def test_recording_provider_refuses_unlisted_and_listed_additions_clearly(
    tmp_path: Path,
) -> None:
    path = tmp_path / "okx.sqlite"
    make_db(path, rows=60, seed=5, instruments=("BTC-USDT", "ETH-USDT"))
    config = {"path": str(path), "speed": 1.0}
    try:
        sqlite_feed.configure(config)
        hub = FeedHub("sqlite", ["BTC/USDT"], config=config, first_quote_timeout=20,
                      history=False)
        await hub.start()
        try:
            with pytest.raises(FeedError, match="'sqlite' does not list SOL/USDT"):
                await hub.add_symbol("SOL/USDT")
            # In the files, but a restart would rewind the playback: say how to get it instead.
            with pytest.raises(FeedError, match=r"plays a fixed set of symbols \(BTC/USDT\); "
                               "restart the console with ETH/USDT"):
                await hub.add_symbol("ETH/USDT")
            assert list(hub.quotes) == ["BTC/USDT"]
        finally:
            await hub.stop()
    finally:
        sqlite_feed.close()
