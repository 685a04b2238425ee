"""Feed hub on a replay seek: bars after the new position and the tape are dropped, not doubled;
staleness follows the market clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest

from console.data.feed import FeedHub
from console.model.events import BookSnapshot, ConnectorStatus, Trade
from tests.test_feed import FakeProvider, _hub

NS = 1_000_000_000
T0 = 1_767_225_600  # a virtual day long past, on a minute boundary (epoch s)


def trade(sec: float, price: float, size: float = 1.0) -> Trade:
    return Trade(symbol="BTC/USD", price=price, size=size, side="buy", ts=int(sec * NS))


def seek(hub: FeedHub) -> None:
    hub.ingest(ConnectorStatus(symbol="", provider=hub.provider_name, state="resync",
                               detail="seek", ts=0))


@pytest.fixture
async def hub() -> AsyncIterator[FeedHub]:
    h = _hub(FakeProvider(), clock="market", history=False)
    await h.start()
    yield h
    await h.stop()


async def test_seek_back_cuts_bars_at_the_first_trade_after_it_and_clears_the_tape(
    hub: FeedHub,
) -> None:
    for s in range(130):  # one trade a second for 2m10s, price = seconds in
        hub.ingest(trade(T0 + s + 0.5, 100.0 + s))
    assert len(hub.bars("BTC/USD", 1)) == 130
    seek(hub)
    assert hub.seeks == 1
    assert len(hub.tape["BTC/USD"]) == 0
    hub.ingest(trade(T0 + 70.25, 500.0, 2.0))  # the replay plays on from 1m10s
    seconds = hub.bars("BTC/USD", 1)
    assert seconds["time"].tolist() == [T0 + s for s in range(71)]
    assert seconds["close"][-1] == 500.0 and seconds["count"][-1] == 1
    minutes = hub.bars("BTC/USD", 60)
    assert minutes["time"].tolist() == [T0, T0 + 60]
    # the second minute keeps its 10 trades before the seek point plus the new one
    assert minutes["count"].tolist() == [60, 11]
    assert minutes["open"][-1] == 160.0 and minutes["close"][-1] == 500.0
    assert minutes["high"][-1] == 500.0
    assert [t.price for t in hub.tape["BTC/USD"].latest(5)] == [500.0]
    assert hub.market_ns == int((T0 + 70.25) * NS)
    hub.ingest(trade(T0 + 71.5, 501.0))
    assert hub.bars("BTC/USD", 1)["time"][-1] == T0 + 71


async def test_seek_forward_keeps_earlier_bars_and_continues_after_the_gap(
    hub: FeedHub,
) -> None:
    for s in range(10):
        hub.ingest(trade(T0 + s, 100.0))
    seek(hub)
    hub.ingest(trade(T0 + 300, 200.0))
    times = hub.bars("BTC/USD", 1)["time"]
    assert times[:10].tolist() == [T0 + s for s in range(10)]
    assert times[-1] == T0 + 300
    assert (np.diff(times) > 0).all()


async def test_other_symbols_are_cut_at_their_own_next_trade(hub: FeedHub) -> None:
    for s in range(20):
        hub.ingest(trade(T0 + s, 100.0))
        hub.ingest(Trade(symbol="ETH/USD", price=10.0, size=1.0, ts=(T0 + s) * NS))
    seek(hub)
    hub.ingest(trade(T0 + 5.5, 1.0))
    assert hub.bars("BTC/USD", 1)["time"][-1] == T0 + 5
    assert hub.bars("ETH/USD", 1)["time"][-1] == T0 + 19  # untouched until it trades
    hub.ingest(Trade(symbol="ETH/USD", price=11.0, size=1.0, ts=(T0 + 6) * NS))
    assert hub.bars("ETH/USD", 1)["time"][-1] == T0 + 6


async def test_staleness_on_the_market_clock_is_market_time_since_the_symbols_last_event(
    hub: FeedHub,
) -> None:
    hub.ingest(trade(T0, 100.0))
    hub.ingest(BookSnapshot(symbol="ETH/USD", ts=T0 * NS, bids=[(9.9, 1.0)], asks=[(10.1, 1.0)]))
    hub.ingest(trade(T0 + 40, 100.0))
    assert hub.staleness_s("BTC/USD") == 0.0
    assert hub.staleness_s("ETH/USD") == pytest.approx(40.0)
    hub.tick()  # wall time is years later; the feed is not stale by it
    assert hub.status[hub.provider_name].state != "stale"


async def test_after_a_seek_the_clock_follows_the_rebuilt_book_until_trades_resume(
    hub: FeedHub,
) -> None:
    for s in range(100):
        hub.ingest(trade(T0 + s, 100.0))
    seek(hub)
    # the replay rebuilds the book up to 30 s in and waits there (paused)
    hub.ingest(BookSnapshot(symbol="BTC/USD", ts=(T0 + 29) * NS, bids=[(99.9, 1.0)],
                            asks=[(100.1, 1.0)]))
    hub.ingest(BookSnapshot(symbol="ETH/USD", ts=(T0 + 28) * NS, bids=[(9.9, 1.0)],
                            asks=[(10.1, 1.0)]))
    hub.tick()
    assert hub.market_ns == (T0 + 29) * NS
    assert hub.status[hub.provider_name].state != "stale"
