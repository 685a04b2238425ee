"""The replay and sqlite providers driving the real feed hub: books, quotes and bars fill in."""

from __future__ import annotations

import asyncio

import pytest

from console.data.feed import FeedHub
from console.model.events import ConnectorStatus, MarketEvent
from console.record.control import ReplayControl
from providers.replay import feed as replay_feed
from providers.sqlite import feed as sqlite_feed
from tests.sqlitegen import LOTS, TICKS, make_db

NS = 1_000_000_000


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "okx.sqlite"
    return path, make_db(path, rows=120, seed=21)["BTC-USDT"]


async def test_replay_through_the_hub_ends_with_the_last_book_and_all_bars(db):
    path, truth = db
    control = ReplayControl("max")
    cut = truth.book_ts[40]
    config = {"paths": [str(path)], "control": control, "from": cut}
    try:
        symbols = replay_feed.configure(config)
        hub = FeedHub("replay", symbols, config=config, first_quote_timeout=20)
        await hub.start()
        try:
            await control.finished.wait()
            book = hub.books["BTC/USDT"]
            assert book.best_bid == truth.bids[-1][0][0] / TICKS
            assert book.best_ask == truth.asks[-1][0][0] / TICKS
            bars = hub.bars("BTC/USDT", 1)
            # history before `from` plus the replayed trades: every trade counted once
            assert int(bars["count"].sum()) == len(truth.trade_ts)
            assert bars["volume"].sum() == pytest.approx(sum(truth.trade_sz) / LOTS)
        finally:
            await hub.stop()
    finally:
        replay_feed.close()


async def test_sqlite_provider_through_the_hub_reaches_the_last_row(db):
    path, truth = db
    config = {"path": str(path), "speed": "max"}
    ended = asyncio.Event()

    def watch(ev: MarketEvent) -> None:
        if isinstance(ev, ConnectorStatus) and ev.detail == "end of data":
            ended.set()

    try:
        symbols = sqlite_feed.configure(config)
        hub = FeedHub("sqlite", symbols, config=config, first_quote_timeout=20, history=False)
        hub.subscribe(watch)
        await hub.start()
        try:
            await ended.wait()
            assert hub.books["BTC/USDT"].best_bid == truth.bids[-1][0][0] / TICKS
            assert hub.quotes["BTC/USDT"].last == truth.trade_px[-1] / TICKS
        finally:
            await hub.stop()
    finally:
        sqlite_feed.close()
