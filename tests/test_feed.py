"""Feed hub: start-up, first quotes, failure messages, restarts, fan-out, rates, history, stop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from console.data.buffers import OhlcBuffer
from console.data.feed import FeedError, FeedHub, as_ohlc, reference_price
from console.data.provider import (
    OHLC_DTYPE,
    Capabilities,
    DataUnavailable,
    ProviderError,
    TaskStatus,
    UnknownSymbol,
)
from console.model.events import (
    BookDelta,
    BookSnapshot,
    ConnectorStatus,
    MarketEvent,
    Quote,
    Trade,
)
from console.model.instruments import Instrument, split_symbol

SYMBOLS = ("BTC/USD", "ETH/USD")


def _bars(n: int, step_s: int, end_s: int, price: float = 100.0) -> np.ndarray:
    rows = np.zeros(n, dtype=OHLC_DTYPE)
    rows["time"] = end_s - step_s * np.arange(n)[::-1]
    rows["index"] = np.arange(n)
    rows["open"] = price + np.arange(n)
    rows["high"] = rows["open"] + 1
    rows["low"] = rows["open"] - 1
    rows["close"] = rows["open"] + 0.5
    rows["volume"] = 1.0
    return rows


class FakeProvider:
    """A scriptable provider: quotes the symbols it is told to, crashes when told to."""

    NAME = "fake"
    CAPABILITIES = Capabilities(network=False, search=False, history_timeframes=(1, 60))
    ohlc_dtype = OHLC_DTYPE

    def __init__(
        self,
        *,
        quote: Sequence[str] | None = None,
        crash_runs: int = 0,
        crash_before_quotes: bool = False,
        history: Mapping[int, np.ndarray] | None = None,
        listed: Sequence[str] = SYMBOLS,
        page: int = 0,
    ) -> None:
        self.page = page
        self.quote = quote
        self.crash_runs = crash_runs
        self.crash_before_quotes = crash_before_quotes
        self.history = dict(history or {})
        self.listed = tuple(listed)
        self.runs = 0
        self.live_runs: asyncio.Queue[int] = asyncio.Queue()
        self.release_second = asyncio.Event()
        self.holding = asyncio.Event()  # set while the second symbol's quote is held back
        self.hold_second = False

    async def stream_quotes(
        self,
        send: Any,
        symbols: Sequence[str],
        shm: Mapping[str, Any],
        feed_is_live: asyncio.Event,
        *,
        config: Mapping[str, Any],
        task_status: TaskStatus,
    ) -> None:
        self.runs += 1
        if self.crash_before_quotes:
            raise ConnectionRefusedError("connection refused by 127.0.0.1:1")
        wanted = list(symbols if self.quote is None else self.quote)
        for i, sym in enumerate(wanted):
            if i == 1 and self.hold_second:
                self.holding.set()
                await self.release_second.wait()
            send(Quote(symbol=sym, last=100.0 + i, ts=time.time_ns()))
        feed_is_live.set()
        task_status.started()
        await self.live_runs.put(self.runs)
        if self.crash_runs:
            self.crash_runs -= 1
            await asyncio.sleep(0)  # let the hub see it live before it falls over
            raise ConnectionError("socket closed")
        await asyncio.Event().wait()

    @asynccontextmanager
    async def open_history_client(self, symbol: str) -> AsyncIterator[tuple[Any, dict[str, float]]]:
        async def get_ohlc(
            timeframe: int, end_dt: datetime | None = None, start_dt: datetime | None = None
        ) -> tuple[np.ndarray, datetime, datetime]:
            if timeframe not in self.history:
                raise DataUnavailable(f"no {timeframe}s history for {symbol}")
            rows = self.history[timeframe]
            if end_dt is not None:
                rows = rows[rows["time"] < end_dt.timestamp()]
            if self.page:
                rows = rows[-self.page :]
            if not len(rows):
                raise DataUnavailable(f"no {timeframe}s history for {symbol} before {end_dt}")
            return (
                rows,
                datetime.fromtimestamp(int(rows["time"][0]), UTC),
                datetime.fromtimestamp(int(rows["time"][-1]), UTC),
            )

        yield get_ohlc, {}

    async def symbol_info(self, symbol: str) -> Instrument:
        if symbol not in self.listed:
            raise UnknownSymbol(f"{symbol} is not listed")
        base, quote = split_symbol(symbol)
        return Instrument(symbol=symbol, base=base, quote=quote, tick_size=0.1, lot_size=0.001)

    async def search_symbols(self, pattern: str, limit: int = 20) -> list[Instrument]:
        return []


def _hub(provider: FakeProvider, symbols: Sequence[str] = SYMBOLS, **kw: Any) -> FeedHub:
    kw.setdefault("first_quote_timeout", 2.0)
    kw.setdefault("capacity_1s", 600)
    kw.setdefault("capacity_1m", 2_000)
    return FeedHub(provider, symbols, **kw)  # type: ignore[arg-type]


@pytest.fixture
async def hub() -> AsyncIterator[FeedHub]:
    h = _hub(FakeProvider())
    await h.start()
    yield h
    await h.stop()


async def test_start_waits_for_a_first_quote_of_every_symbol() -> None:
    provider = FakeProvider()
    provider.hold_second = True
    h = _hub(provider)
    starting = asyncio.create_task(h.start())
    await asyncio.wait_for(provider.holding.wait(), 5)
    for _ in range(5):  # give start() every chance to return early, were it wrong
        await asyncio.sleep(0)
    assert h.quotes["BTC/USD"].last == 100.0
    assert not starting.done()
    provider.release_second.set()
    await starting
    try:
        assert h.quotes["ETH/USD"].last == 101.0
        assert h.live
        assert h.status["fake"].state == "live"
    finally:
        await h.stop()


async def test_first_quote_timeout_names_provider_and_missing_symbols_and_frees_buffers() -> None:
    h = _hub(FakeProvider(quote=["BTC/USD"]), first_quote_timeout=0.2)
    with pytest.raises(FeedError) as info:
        await h.start()
    msg = str(info.value)
    assert "'fake'" in msg
    assert "no first quote for ETH/USD within 0.2 s" in msg
    assert "BTC/USD" not in msg
    for buf in (*h.bars_1s.values(), *h.bars_1m.values()):
        with pytest.raises(FileNotFoundError):
            OhlcBuffer.attach(buf.name)


async def test_unknown_provider_is_one_feed_error_listing_known_providers() -> None:
    h = FeedHub("nosuchvenue", ["BTC/USD"])
    with pytest.raises(FeedError, match=r"unknown provider 'nosuchvenue'; known providers: .*sim"):
        await h.start()


async def test_unknown_symbols_are_named_together_with_a_way_to_search() -> None:
    h = _hub(FakeProvider(), ["BTC/USD", "FOO/BAR", "BAZ/USD"])
    with pytest.raises(FeedError) as info:
        await h.start()
    msg = str(info.value)
    assert "provider 'fake' does not list FOO/BAR, BAZ/USD" in msg
    assert "mdconsole symbols fake" in msg
    assert isinstance(info.value, ProviderError)


async def test_symbol_info_failure_names_symbol_and_cause() -> None:
    class Offline(FakeProvider):
        async def symbol_info(self, symbol: str) -> Instrument:
            raise ConnectionError("name resolution failed")

    h = _hub(Offline(), ["BTC/USD"])
    with pytest.raises(FeedError) as info:
        await h.start()
    assert str(info.value).startswith(
        "provider 'fake' could not describe BTC/USD (BTC/USD: ConnectionError: name resolution"
    )
    assert "check its connection" in str(info.value)


def test_malformed_symbol_is_rejected_before_anything_starts() -> None:
    with pytest.raises(FeedError, match=r"BTCUSD.*BASE/QUOTE"):
        FeedHub("sim", ["BTCUSD"])


async def test_provider_crashing_at_start_fails_start_with_its_cause() -> None:
    provider = FakeProvider(crash_before_quotes=True)
    h = _hub(provider)
    with pytest.raises(FeedError) as info:
        await h.start()
    msg = str(info.value)
    assert "provider 'fake' stopped while starting (BTC/USD, ETH/USD)" in msg
    assert "ConnectionRefusedError: connection refused by 127.0.0.1:1" in msg
    assert provider.runs == 1


async def test_provider_crashes_are_restarted_with_doubling_backoff_and_status() -> None:
    provider = FakeProvider()
    h = _hub(provider, restart_backoff=0.01, restart_backoff_max=1.0)
    statuses: list[ConnectorStatus] = []
    h.subscribe(lambda ev: statuses.append(ev) if isinstance(ev, ConnectorStatus) else None)
    provider.crash_runs = 3  # the first run goes live, then falls over; so do the next two
    await h.start()
    try:
        runs = [await provider.live_runs.get() for _ in range(4)]
        assert runs == [1, 2, 3, 4]
        for _ in range(5):
            await asyncio.sleep(0)
        assert h.restarts == 3
        errors = [s.detail for s in statuses if s.state == "error"]
        assert errors == [
            "ConnectionError: socket closed; restarting in 0.01 s (restart 1)",
            "ConnectionError: socket closed; restarting in 0.02 s (restart 2)",
            "ConnectionError: socket closed; restarting in 0.04 s (restart 3)",
        ]
        assert h.status["fake"].state == "live"
        assert h.last_error == "ConnectionError: socket closed"
        assert h.live
    finally:
        await h.stop()
    assert h.status["fake"].state == "down"


async def test_not_live_between_a_crash_and_the_restart() -> None:
    provider = FakeProvider()
    h = _hub(provider, restart_backoff=30.0, restart_backoff_max=60.0)
    provider.crash_runs = 1
    await h.start()
    try:
        await provider.live_runs.get()
        for _ in range(5):
            await asyncio.sleep(0)
        assert h.status["fake"].state == "error"
        assert not h.live
    finally:
        await h.stop()


async def test_every_subscriber_gets_the_same_event_object_until_unsubscribed(
    hub: FeedHub,
) -> None:
    got_a: list[MarketEvent] = []
    got_b: list[MarketEvent] = []
    unsub_a = hub.subscribe(got_a.append)
    hub.subscribe(got_b.append)
    trade = Trade(symbol="BTC/USD", price=101.0, size=0.5, ts=time.time_ns())
    hub.ingest(trade)
    assert got_a == [trade] and got_b == [trade]
    assert got_a[0] is trade and got_b[0] is trade
    unsub_a()
    second = Quote(symbol="ETH/USD", last=102.0)
    hub.ingest(second)
    assert got_a == [trade]
    assert got_b[-1] is second


async def test_a_failing_subscriber_is_dropped_and_others_keep_receiving(hub: FeedHub) -> None:
    got: list[MarketEvent] = []

    def broken(ev: MarketEvent) -> None:
        raise RuntimeError("bad subscriber")

    hub.subscribe(broken)
    hub.subscribe(got.append)
    hub.ingest(Quote(symbol="BTC/USD", last=1.0))
    hub.ingest(Quote(symbol="BTC/USD", last=2.0))
    assert [e.last for e in got if isinstance(e, Quote)] == [1.0, 2.0]
    assert any("unsubscribed" in w for w in hub.warnings)


async def test_trades_reach_quote_state_tape_and_one_second_bars(hub: FeedHub) -> None:
    now = time.time_ns()
    hub.ingest(Trade(symbol="BTC/USD", price=105.0, size=0.25, side="buy", ts=now))
    hub.ingest(Trade(symbol="BTC/USD", price=106.0, size=0.75, side="sell", ts=now + 1))
    q = hub.quotes["BTC/USD"]
    assert q.last == 106.0
    assert q.volume == pytest.approx(1.0)
    assert [t.price for t in hub.tape["BTC/USD"].latest(5)] == [106.0, 105.0]
    bars = hub.bars("BTC/USD", 1)
    assert len(bars) >= 1
    assert bars["open"][-1] == 105.0
    assert bars["time"][-1] == now // 1_000_000_000
    assert len(hub.tape["ETH/USD"]) == 0


async def test_book_events_update_the_book_and_the_quote_top(hub: FeedHub) -> None:
    v0 = hub.quotes["ETH/USD"].version
    hub.ingest(BookSnapshot(symbol="ETH/USD", bids=[(99.9, 1.0), (99.8, 2.0)], asks=[(100.1, 3.0)]))
    hub.ingest(BookDelta(symbol="ETH/USD", bids=[(99.9, 0.0)], asks=[(100.0, 0.5)]))
    q = hub.quotes["ETH/USD"]
    assert (q.bid, q.bsize, q.ask, q.asize) == pytest.approx((99.8, 2.0, 100.0, 0.5))
    assert hub.books["ETH/USD"].best_bid == pytest.approx(99.8)
    assert q.version != v0


async def test_events_for_symbols_not_in_the_feed_only_reach_subscribers(hub: FeedHub) -> None:
    got: list[MarketEvent] = []
    hub.subscribe(got.append)
    hub.ingest(Trade(symbol="SOL/USD", price=1.0, size=1.0))
    assert len(got) == 1
    assert "SOL/USD" not in hub.quotes


async def test_events_per_s_is_the_ingest_rate_between_ticks(hub: FeedHub) -> None:
    t0 = time.time_ns()
    hub.tick(t0)
    for i in range(50):
        hub.ingest(Quote(symbol="BTC/USD", last=100.0 + i))
    hub.tick(t0 + 500_000_000)
    assert hub.events_per_s == pytest.approx(100.0)


async def test_staleness_counts_from_the_last_event_and_marks_the_feed_stale(hub: FeedHub) -> None:
    hub.ingest(Quote(symbol="BTC/USD", last=100.0))
    hub.ingest(Quote(symbol="ETH/USD", last=100.0))
    seen = hub.quotes["BTC/USD"].updated_ns
    assert hub.staleness_s("BTC/USD", seen + 5_000_000_000) == pytest.approx(5.0)
    assert 0.0 <= hub.staleness_s("BTC/USD") < 60.0
    newest = max(q.updated_ns for q in hub.quotes.values())
    hub.tick(newest + 16_000_000_000)  # past stale_after (15 s)
    assert hub.status["fake"].state == "stale"
    assert "no data for 16 s" in hub.status["fake"].detail
    assert hub.live  # quiet is not down: silent seconds still get flat bars
    hub.ingest(Quote(symbol="BTC/USD", last=101.0))
    hub.tick()
    assert hub.status["fake"].state == "live"


async def test_staleness_of_an_unknown_symbol_says_which_symbols_exist(hub: FeedHub) -> None:
    with pytest.raises(KeyError, match=r"'DOGE/USD' is not in this feed.*BTC/USD, ETH/USD"):
        hub.staleness_s("DOGE/USD")


async def test_history_is_in_the_buffers_when_start_returns() -> None:
    now_s = int(time.time())
    hist_1s = _bars(120, 1, now_s - 1)
    hist_1m = _bars(1_600, 60, (now_s // 60) * 60 - 60, price=50.0)  # > 24 h of minutes
    provider = FakeProvider(history={1: hist_1s, 60: hist_1m})
    h = _hub(provider)
    await h.start()
    try:
        got_1s = h.bars("BTC/USD", 1)
        assert got_1s["time"][: len(hist_1s)].tolist() == hist_1s["time"].tolist()
        got_1m = h.bars("ETH/USD", 60)
        assert got_1m["time"][: len(hist_1m)].tolist() == hist_1m["time"].tolist()
        five = h.bars("ETH/USD", 300)
        assert (np.diff(five["time"]) == 300).all()
        assert five["volume"].sum() == pytest.approx(hist_1m["volume"].sum())
        assert h.bars("ETH/USD", 5)["time"][0] % 5 == 0
        expected_ref = reference_price(hist_1m, time.time())
        assert expected_ref is not None
        assert h.quotes["BTC/USD"].open == pytest.approx(expected_ref)
    finally:
        await h.stop()


@pytest.mark.parametrize("capacity", [2_000, 1_000])
async def test_history_is_paged_back_until_the_buffer_is_full(capacity: int) -> None:
    now_s = int(time.time())
    hist_1m = _bars(1_600, 60, (now_s // 60) * 60 - 60)
    h = _hub(FakeProvider(history={60: hist_1m}, page=500), capacity_1m=capacity)
    await h.start()
    try:
        got = h.bars("BTC/USD", 60)
        assert got["time"].tolist() == hist_1m["time"][-capacity:].tolist()
    finally:
        await h.stop()


async def test_missing_history_is_not_fatal() -> None:
    h = _hub(FakeProvider(history={}))
    await h.start()
    try:
        assert len(h.bars("BTC/USD", 60)) == 0
        assert h.warnings == []  # DataUnavailable is an ordinary answer, not a problem
    finally:
        await h.stop()


async def test_stop_unlinks_every_buffer_and_reports_down() -> None:
    h = _hub(FakeProvider())
    await h.start()
    names = [b.name for b in (*h.bars_1s.values(), *h.bars_1m.values())]
    assert len(names) == 4
    await h.stop()
    for name in names:
        with pytest.raises(FileNotFoundError):
            OhlcBuffer.attach(name)
    assert h.status["fake"].state == "down"
    await h.stop()  # a second stop is harmless


async def test_async_with_starts_and_stops_the_feed() -> None:
    async with _hub(FakeProvider()) as h:
        assert h.live
        name = h.bars_1s["BTC/USD"].name
    with pytest.raises(FileNotFoundError):
        OhlcBuffer.attach(name)


async def test_stop_before_start_does_nothing() -> None:
    h = _hub(FakeProvider())
    await h.stop()
    assert h.status == {}


async def test_start_twice_is_a_clear_error(hub: FeedHub) -> None:
    with pytest.raises(FeedError, match="already started"):
        await hub.start()


def test_reference_price_needs_history_reaching_24h_back() -> None:
    now_s = 1_700_000_000
    short = _bars(100, 60, now_s - 60)
    assert reference_price(short, now_s) is None
    long = _bars(1_500, 60, now_s - 60)
    i = int(np.searchsorted(long["time"], now_s - 86_400))
    assert reference_price(long, now_s) == long["open"][i]


def test_as_ohlc_keeps_contract_fields_of_a_wider_provider_dtype() -> None:
    wide = np.dtype([*OHLC_DTYPE.descr, ("trades_buy", "i8")])
    rows = np.zeros(3, dtype=wide)
    rows["close"] = [1.0, 2.0, 3.0]
    out = as_ohlc(rows)
    assert out.dtype == OHLC_DTYPE
    assert out["close"].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(FeedError, match="lack field"):
        as_ohlc(np.zeros(1, dtype=[("time", "i8")]))


async def test_silent_seconds_get_flat_bars_only_while_live(hub: FeedHub) -> None:
    t = time.time_ns() // 1_000_000_000 * 1_000_000_000
    hub.ingest(Trade(symbol="BTC/USD", price=123.0, size=1.0, ts=t))
    assert hub.bar_clock == "wall"
    hub.tick(t + 4_000_000_000)
    bars = hub.bars("BTC/USD", 1)
    assert bars["time"][-3:].tolist() == [t // 10**9, t // 10**9 + 1, t // 10**9 + 2]
    assert bars["close"][-1] == 123.0 and bars["volume"][-1] == 0.0
    hub.ingest(ConnectorStatus(symbol="", provider="fake", state="resync", detail="gap"))
    assert not hub.live
    hub.tick(t + 10_000_000_000)
    assert len(hub.bars("BTC/USD", 1)) == len(bars)


async def test_market_clock_closes_bars_on_trade_time_not_wall_time() -> None:
    h = _hub(FakeProvider())
    await h.start()
    try:
        assert h.bar_clock == "wall"
        t = 1_767_225_600 * 1_000_000_000  # a virtual day long past
        h.ingest(Trade(symbol="BTC/USD", price=10.0, size=1.0, ts=t))
        assert h.bar_clock == "market"
        h.tick()
        h.ingest(Trade(symbol="BTC/USD", price=11.0, size=1.0, ts=t + 5_000_000_000))
        h.tick()  # wall time is years later: a wall clock would fill up to now
        times = h.bars("BTC/USD", 1)["time"]
        assert times.tolist() == [t // 10**9 + i for i in range(6)]
    finally:
        await h.stop()


def test_unknown_clock_mode_is_rejected() -> None:
    with pytest.raises(FeedError, match="clock must be 'auto', 'wall' or 'market'"):
        FeedHub("sim", ["BTC/USD"], clock="venue")  # type: ignore[arg-type]


async def test_a_malformed_event_is_counted_and_skipped_not_fatal(hub: FeedHub) -> None:
    got: list[MarketEvent] = []
    hub.subscribe(got.append)
    hub.ingest(BookDelta(symbol="BTC/USD", bids=[(100.05, 1.0)]))  # off the 0.1 tick grid
    hub.ingest(object())  # type: ignore[arg-type]
    hub.ingest(Trade(symbol="BTC/USD", price=100.1, size=1.0))
    assert hub.bad_events == 2
    assert "object is not a market event" in hub.last_bad_event
    assert any("100.05" in w and "tick size" in w for w in hub.warnings)
    assert hub.quotes["BTC/USD"].last == 100.1
    assert len(got) == 3  # subscribers still see what arrived


async def test_a_failing_history_client_only_warns() -> None:
    class Broken(FakeProvider):
        @asynccontextmanager
        async def open_history_client(
            self, symbol: str
        ) -> AsyncIterator[tuple[Any, dict[str, float]]]:
            raise OSError("history endpoint unreachable")
            yield

    h = _hub(Broken())
    await h.start()
    try:
        assert h.live
        assert any("history unavailable (OSError: history endpoint unreachable)" in w
                   for w in h.warnings)
    finally:
        await h.stop()


async def test_bar_buffers_that_cannot_be_created_are_one_feed_error() -> None:
    h = _hub(FakeProvider(), capacity_1s=0)
    with pytest.raises(FeedError, match="could not create the bar buffers for BTC/USD, ETH/USD"):
        await h.start()


async def test_an_unexpected_error_in_start_is_still_one_feed_error() -> None:
    class Buggy(FakeProvider):
        def configure(self, config: Mapping[str, Any]) -> None:
            raise RuntimeError("config hook bug")

    h = _hub(Buggy())
    with pytest.raises(FeedError, match=r"failed to start \(RuntimeError: config hook bug\)"):
        await h.start()
