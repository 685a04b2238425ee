"""The sim provider through its contract: startup order, determinism, history join, search."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

import providers
from console.data.provider import DataUnavailable, ProviderError, TaskStatus, UnknownSymbol
from console.model.codec import many_to_msgpack
from console.model.events import BookSnapshot, ConnectorStatus, MarketEvent, Quote, Trade
from providers.sim import feed

START_S = 1_700_000_000
SYMBOLS = ["BTC/USD", "ETH/USD", "SOL/USD", "DOGE/USD"]


@pytest.fixture(autouse=True)
def fresh_sim_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Anchors and settings are module state shared by stream and history: start clean."""
    monkeypatch.setattr(feed, "_anchors", {})
    feed.configure(None)
    yield
    feed.configure(None)


async def collect(config: Mapping[str, Any], n: int, symbols: list[str] | None = None,
                  ) -> tuple[list[MarketEvent], list[int], TaskStatus]:
    """Run the real stream until it has sent at least `n` events (all are returned, the last
    batch may run past `n`); also note when it went live."""
    events: list[MarketEvent] = []
    live_at: list[int] = []
    enough = asyncio.Event()
    live = asyncio.Event()

    def send(event: MarketEvent) -> None:
        if live.is_set() and not live_at:
            live_at.append(len(events))
        events.append(event)
        if len(events) >= n:
            enough.set()

    status = TaskStatus()
    task = asyncio.create_task(feed.stream_quotes(
        send, SYMBOLS if symbols is None else symbols, {}, live, config=config,
        task_status=status))
    try:
        await asyncio.wait_for(enough.wait(), 20)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return events, live_at, status


FAST = {"seed": 3, "start_time": START_S, "realtime": False, "rate": 5_000}


async def test_first_message_per_symbol_is_a_quote_with_last_before_going_live() -> None:
    events, live_at, status = await collect(FAST, 2_000)
    assert status.started_event.is_set()
    first: dict[str, MarketEvent] = {}
    for e in events:
        if e.symbol:
            first.setdefault(e.symbol, e)
    assert set(first) == set(SYMBOLS)
    assert all(isinstance(e, Quote) and e.last > 0 for e in first.values())
    # every first quote was sent before feed_is_live was set
    assert live_at and live_at[0] == 1 + len(SYMBOLS)
    states = [e.state for e in events if isinstance(e, ConnectorStatus)]
    assert states == ["connecting", "live"]
    assert isinstance(events[0], ConnectorStatus)
    snaps = [e for e in events if isinstance(e, BookSnapshot)]
    assert {s.symbol for s in snaps} == set(SYMBOLS)
    assert all(len(s.bids) >= 50 and len(s.asks) >= 50 for s in snaps)


async def test_stream_with_seed_and_start_time_is_deterministic() -> None:
    a, _, _ = await collect(FAST, 3_000)
    b, _, _ = await collect(FAST, 3_000)
    assert many_to_msgpack(a[:3_000]) == many_to_msgpack(b[:3_000])
    c, _, _ = await collect({**FAST, "seed": 4}, 3_000)
    assert many_to_msgpack(a[:3_000]) != many_to_msgpack(c[:3_000])


async def test_virtual_clock_starts_at_start_time() -> None:
    events, _, _ = await collect(FAST, 500)
    stamps = [e.ts for e in events]
    assert stamps[0] == START_S * 1_000_000_000
    assert stamps == sorted(stamps)


async def test_realtime_stream_stamps_events_with_the_wall_clock() -> None:
    before = time.time_ns()
    events, _, _ = await collect({"rate": 2_000}, 200, ["BTC/USD"])
    after = time.time_ns()
    assert all(before <= e.ts <= after for e in events)


async def test_history_ends_where_a_pinned_stream_starts() -> None:
    events, _, _ = await collect(FAST, 50)
    first = {e.symbol: e.last for e in events if isinstance(e, Quote)}
    for sym in SYMBOLS:
        async with feed.open_history_client(sym) as (get_ohlc, _hints):
            for tf in (1, 60):
                bars, start, end = await get_ohlc(tf)
                assert bars["close"][-1] == first[sym]
                assert bars["time"][-1] + tf == START_S - START_S % tf
                assert end == datetime.fromtimestamp(START_S - START_S % tf, UTC)
                assert start == datetime.fromtimestamp(int(bars["time"][0]), UTC)


async def test_pinned_history_is_the_same_after_an_earlier_stream_in_the_process() -> None:
    feed.configure({"start_time": START_S, "seed": 3})
    async with feed.open_history_client("BTC/USD") as (get_ohlc, _):
        first, _, _ = await get_ohlc(60)
    await collect({"rate": 5_000}, 400, ["BTC/USD"])  # an unpinned stream leaves its anchor
    feed.configure({"start_time": START_S, "seed": 3})
    async with feed.open_history_client("BTC/USD") as (get_ohlc, _):
        again, _, _ = await get_ohlc(60)
    assert np.array_equal(first, again)


async def test_stream_started_after_history_continues_from_its_last_close() -> None:
    feed.configure({"seed": 9})
    async with feed.open_history_client("ETH/USD") as (get_ohlc, _):
        bars, _, end = await get_ohlc(1)
    events, _, _ = await collect({"seed": 9, "rate": 500}, 5, ["ETH/USD"])
    quote = next(e for e in events if isinstance(e, Quote))
    assert quote.last == bars["close"][-1]
    # the live clock starts where the history ends; the first step covers the startup time
    assert quote.ts == round(end.timestamp()) * 1_000_000_000
    assert bars["time"][-1] + 1 == round(end.timestamp())


async def test_restarted_stream_continues_from_the_last_price() -> None:
    events, _, _ = await collect({"rate": 5_000}, 400, ["BTC/USD"])
    last = [e.price for e in events if isinstance(e, Trade)][-1]
    again, _, _ = await collect({"rate": 5_000}, 5, ["BTC/USD"])
    quote = next(e for e in again if isinstance(e, Quote))
    assert quote.last == last


async def test_history_pages_back_without_gaps_or_overlap() -> None:
    async with feed.open_history_client("SOL/USD") as (get_ohlc, _):
        latest, start, end = await get_ohlc(60)
        assert len(latest) == feed.PAGE_ROWS[60]
        older, start2, end2 = await get_ohlc(60, end_dt=start)
        assert end2 == start
        assert older["time"][-1] + 60 == latest["time"][0]
        assert older["close"][-1] == latest["open"][0]
        both, _, _ = await get_ohlc(60, end_dt=end, start_dt=start2)
        assert np.array_equal(both, np.concatenate([older, latest]))


async def test_history_beyond_what_the_sim_serves_is_data_unavailable() -> None:
    feed.configure({"start_time": START_S})
    async with feed.open_history_client("BTC/USD") as (get_ohlc, _):
        with pytest.raises(DataUnavailable, match="1 s and 1 m"):
            await get_ohlc(300)
        with pytest.raises(DataUnavailable, match="not True s"):
            await get_ohlc(True)
        assert np.array_equal((await get_ohlc(60.0))[0], (await get_ohlc(60))[0])
        year_ago = datetime.fromtimestamp(START_S, UTC) - timedelta(days=366)
        with pytest.raises(DataUnavailable, match="BTC/USD"):
            await get_ohlc(60, end_dt=year_ago)
        two_days_ago = datetime.fromtimestamp(START_S, UTC) - timedelta(days=2)
        with pytest.raises(DataUnavailable, match="from"):
            await get_ohlc(1, end_dt=two_days_ago)
        # the oldest page stops at the served range instead of failing
        bars, start, _ = await get_ohlc(60, end_dt=year_ago + timedelta(days=2))
        assert 0 < len(bars) <= 2 * 1_440
        assert start > year_ago


async def test_naive_datetimes_are_taken_as_utc() -> None:
    feed.configure({"start_time": START_S})
    async with feed.open_history_client("BTC/USD") as (get_ohlc, _):
        aware = datetime.fromtimestamp(START_S - 3_600, UTC)
        a, _, _ = await get_ohlc(60, end_dt=aware)
        b, _, _ = await get_ohlc(60, end_dt=aware.replace(tzinfo=None))
        assert np.array_equal(a, b)


async def test_symbol_info_describes_tick_lot_and_decimals() -> None:
    inst = await feed.symbol_info("BTC/USD")
    assert (inst.tick_size, inst.lot_size, inst.provider) == (1.0, 0.0001, "sim")
    assert (inst.pdec, inst.qdec) == (0, 4)
    doge = await feed.symbol_info("doge/usd")
    assert doge.symbol == "DOGE/USD" and doge.min_size >= doge.lot_size


async def test_unknown_symbol_names_what_the_sim_lists() -> None:
    with pytest.raises(UnknownSymbol, match="BTC/USD"):
        await feed.symbol_info("BTC/UDS")
    with pytest.raises(UnknownSymbol, match="BASE/QUOTE"):
        await feed.symbol_info("BTCUSD")


async def test_configured_symbols_are_listed_and_streamed() -> None:
    feed.configure({"symbols": ["ADA/EUR"]})
    inst = await feed.symbol_info("ADA/EUR")
    assert inst.tick_size > 0
    events, _, _ = await collect({"symbols": ["ADA/EUR"], "realtime": False}, 20, [])
    assert {e.symbol for e in events if e.symbol} == {"ADA/EUR"}


async def test_search_ranks_exact_then_prefix_then_substring() -> None:
    assert [i.symbol for i in await feed.search_symbols("sol")] == ["SOL/USD"]
    assert [i.symbol for i in await feed.search_symbols("usd", limit=2)] == ["BTC/USD", "DOGE/USD"]
    assert [i.symbol for i in await feed.search_symbols("O")][:2] == ["DOGE/USD", "SOL/USD"]
    assert await feed.search_symbols("zzz") == []
    assert len(await feed.search_symbols("")) == 4


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"rate": "fast"}, "'rate' must be events per second"),
        ({"rate": 0}, "'rate'"),
        ({"seed": 1.5}, "'seed' must be an integer"),
        ({"realtime": "yes"}, "'realtime' must be true"),
        ({"symbols": "BTC/USD"}, "'symbols' must be a list"),
        ({"symbols": ["BTCUSD"]}, "BASE/QUOTE"),
        ({"start_time": -1}, "'start_time'"),
        ({"sed": 1}, "unknown key.*'sed'.*known keys"),
    ],
)
def test_bad_config_gets_a_specific_error(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ProviderError, match=message):
        feed.configure(config)


def test_registry_loads_sim_with_the_whole_contract() -> None:
    module = providers.load("sim")
    assert module.NAME == "sim"
    assert module.CAPABILITIES.trading is False and module.CAPABILITIES.network is False
    assert set(module.CAPABILITIES.history_timeframes) == {1, 60}


async def test_slow_consumer_gets_bounded_batches_and_the_clock_skips_ahead() -> None:
    turn = 0
    seen: list[tuple[int, int]] = []
    stop = asyncio.Event()

    async def heartbeat() -> None:
        nonlocal turn
        while not stop.is_set():
            turn += 1
            await asyncio.sleep(0)

    def slow_send(event: MarketEvent) -> None:
        seen.append((turn, event.ts))
        deadline = time.perf_counter() + 20e-6  # a consumer far slower than 200k events/s
        while time.perf_counter() < deadline:
            pass

    beat = asyncio.create_task(heartbeat())
    task = asyncio.create_task(feed.stream_quotes(
        slow_send, SYMBOLS, {}, asyncio.Event(), config={"rate": 200_000},
        task_status=TaskStatus()))
    started = time.time_ns()
    while time.time_ns() - started < 1_500_000_000:
        await asyncio.sleep(0.05)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    stop.set()
    await beat
    spans: dict[int, list[int]] = {}
    for t, ts in seen[2 * len(SYMBOLS) + 2:]:  # after the startup messages
        spans.setdefault(t, []).append(ts)
    # the event loop ran between turns of about TURN_EVENTS events' worth of market time
    assert max(max(v) - min(v) for v in spans.values()) <= feed.turn_ns(200_000)
    # the market clock kept within the catch-up limit of the wall clock by skipping ahead
    catch_up_ns = 1e9 * max(1.0, feed.CATCH_UP_EVENTS / 200_000)
    assert seen[-1][1] >= time.time_ns() - catch_up_ns - 500_000_000


async def test_feed_hub_on_sim_starts_with_full_charts_that_join_live_bars() -> None:
    from console.data.feed import FeedHub

    hub = FeedHub("sim", ["BTC/USD"], config={"rate": 2_000}, capacity_1s=600,
                  capacity_1m=600)
    traded = asyncio.Event()
    await hub.start()
    try:
        unsubscribe = hub.subscribe(lambda e: traded.set() if isinstance(e, Trade) else None)
        await asyncio.wait_for(traded.wait(), 10)
        unsubscribe()
        bars = hub.bars("BTC/USD", 1)
        assert len(bars) >= 590  # history filled the buffer before any live data
        anchor = feed._anchors["BTC/USD"]
        start_s = anchor.start_ns // 1_000_000_000
        history = bars[bars["time"] < start_s]
        live = bars[bars["time"] >= start_s]
        assert history["time"][-1] == start_s - 1
        assert len(live) >= 1 and live["time"][0] == start_s
        # the first live bar opens within a few ticks of the last history close
        tick = hub.instruments["BTC/USD"].tick_size
        assert abs(live["open"][0] - history["close"][-1]) <= 10 * tick
        assert len(hub.books["BTC/USD"].levels(0)[0]) >= 50
    finally:
        await hub.stop()


def test_loop_turns_shrink_with_the_rate_so_the_ui_keeps_its_frames() -> None:
    assert feed.turn_ns(200) == feed.MAX_STEP_NS
    assert feed.turn_ns(100_000) == 5_000_000
    assert feed.turn_ns(10_000_000) == 1_000_000


def test_loop_turns_shrink_in_a_burst_and_grow_back_when_it_calms() -> None:
    full = feed.turn_ns(20_000)
    # a burst made ten times the usual events: the next turn covers a tenth of the time
    assert feed.next_turn_ns(full, full, 10 * feed.TURN_EVENTS, full) == full // 10
    assert feed.next_turn_ns(full, full, 1_000 * feed.TURN_EVENTS, full) == 1_000_000
    # calm again: at most doubling per turn, never past the rate's own turn
    assert feed.next_turn_ns(2_000_000, 2_000_000, 10, full) == 4_000_000
    assert feed.next_turn_ns(full, full, 10, full) == full
    # a turn that made no market time (the loop was early) keeps the size it had
    assert feed.next_turn_ns(4_000_000, 0, 0, full) == 4_000_000
