"""Feed hub ingest throughput: sim events (and the reference stream) through books, bars, quotes.

Events are generated first (SimMarket at a stress rate), then pushed through `FeedHub.ingest`
one by one, the way a provider's `send` delivers them; the figure is events ingested per
second of wall time. The reference stream (`../shared/bench/stream.py`, BENCH_N_DELTAS) is
run the same way as single-level deltas and trades when it is present.

The sim provider is also run end to end (its own task generating on a virtual clock as fast
as it can, into a started hub) for BENCH_FEED_SECONDS.

    python bench/feed.py            # BENCH_FEED_N sim events (default 300000)
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from console.data.feed import FeedHub  # noqa: E402
from console.data.provider import OHLC_DTYPE, Capabilities, DataUnavailable, TaskStatus  # noqa: E402
from console.model.events import BookDelta, BookSnapshot, MarketEvent, Quote, Trade  # noqa: E402
from console.model.instruments import Instrument  # noqa: E402
from providers.sim.market import SimMarket  # noqa: E402

N_SIM = int(os.environ.get("BENCH_FEED_N", 300_000))
SECONDS = float(os.environ.get("BENCH_FEED_SECONDS", 3.0))
SYMBOLS = ("BTC/USD", "ETH/USD", "SOL/USD", "DOGE/USD")
START_NS = 1_767_225_600 * 1_000_000_000  # 2026-01-01, a fixed virtual start


class _Quoter:
    """A provider that sends the first quotes and idles: the bench pushes events itself."""

    NAME = "bench"
    CAPABILITIES = Capabilities(network=False, history=False, search=False)
    ohlc_dtype = OHLC_DTYPE

    def __init__(self, instruments: Mapping[str, Instrument], first: Sequence[Quote]) -> None:
        self.instruments = instruments
        self.first = first

    async def stream_quotes(
        self, send: Any, symbols: Sequence[str], shm: Any, feed_is_live: asyncio.Event,
        *, config: Mapping[str, Any], task_status: TaskStatus,
    ) -> None:
        for q in self.first:
            send(q)
        feed_is_live.set()
        await asyncio.Event().wait()

    @asynccontextmanager
    async def open_history_client(self, symbol: str) -> AsyncIterator[tuple[Any, dict[str, float]]]:
        async def get_ohlc(timeframe: int, end_dt: Any = None, start_dt: Any = None) -> Any:
            raise DataUnavailable("bench provider has no history")

        yield get_ohlc, {}

    async def symbol_info(self, symbol: str) -> Instrument:
        return self.instruments[symbol]

    async def search_symbols(self, pattern: str, limit: int = 20) -> list[Instrument]:
        return []


SimRun = tuple[SimMarket, list[BookSnapshot], list[Quote], list[MarketEvent], float]


def _sim_events(n: int) -> SimRun:
    market = SimMarket(SYMBOLS, seed=7, start_ns=START_NS, rate=200_000.0)
    first = market.first_quotes()
    snaps = market.snapshots()
    events: list[MarketEvent] = []
    t0 = time.perf_counter()
    while len(events) < n:
        events.extend(market.step(50_000_000))
    gen_s = time.perf_counter() - t0
    return market, snaps, first, events[:n], len(events) / gen_s


def _ingest(hub: FeedHub, events: Sequence[MarketEvent]) -> float:
    ingest = hub.ingest
    t0 = time.perf_counter()
    for ev in events:
        ingest(ev)
    return time.perf_counter() - t0


async def _bench_sim() -> dict[str, Any]:
    market, snaps, first, events, gen_rate = _sim_events(N_SIM)
    instruments = {s: market.instrument(s) for s in SYMBOLS}
    provider: Any = _Quoter(instruments, first)
    hub = FeedHub(provider, SYMBOLS, capacity_1s=3_600, capacity_1m=1_440)
    await hub.start()
    try:
        for snap in snaps:
            hub.ingest(snap)
        kinds = {"delta": 0, "trade": 0, "quote": 0, "snap": 0}
        for ev in events:
            kinds[type(ev).__name__.replace("Book", "").lower().replace("snapshot", "snap")] += 1
        elapsed = _ingest(hub, events)
        bars = sum(len(hub.bars(s, 1)) for s in SYMBOLS)
    finally:
        await hub.stop()
    return {
        "ingest_events_per_s": round(len(events) / elapsed),
        "sim_generate_events_per_s": round(gen_rate),
        "sim_generate_and_ingest_events_per_s": round(1 / (1 / gen_rate + elapsed / len(events))),
        "sim_events": len(events),
        "sim_mix": kinds,
        "bars_1s_written": bars,
    }


def _reference_events() -> tuple[BookSnapshot, list[MarketEvent]] | None:
    shared = REPO.parent / "shared" / "bench"
    if not (shared / "stream.py").is_file():
        return None
    sys.path.insert(0, str(shared))
    import stream  # type: ignore[import-not-found]

    snap_bids, snap_asks, ev, _klines = stream.load()
    sym = "BTC/USDT"
    def levels(side: Any) -> list[tuple[float, float]]:
        return list(zip((side["price"] / 10).tolist(), (side["qty"] / 1000).tolist(), strict=True))

    snap = BookSnapshot(symbol=sym, bids=levels(snap_bids), asks=levels(snap_asks))
    kinds, sides = ev["kind"].tolist(), ev["side"].tolist()
    prices = (ev["price"] / 10).tolist()
    qtys = (ev["qty"] / 1000).tolist()
    ts = ev["ts"].tolist()
    out: list[MarketEvent] = []
    for k, s, p, q, t in zip(kinds, sides, prices, qtys, ts, strict=True):
        if k == stream.KIND_DELTA:
            out.append(BookDelta(symbol=sym, ts=t, bids=[(p, q)]) if s == stream.BID
                       else BookDelta(symbol=sym, ts=t, asks=[(p, q)]))
        elif k == stream.KIND_TRADE:
            side = "sell" if s == stream.BID else "buy"
            out.append(Trade(symbol=sym, ts=t, price=p, size=q, side=side))
    return snap, out


async def _bench_reference() -> dict[str, Any]:
    loaded = _reference_events()
    if loaded is None:
        return {"reference_stream": "absent"}
    snap, events = loaded
    inst = Instrument(symbol="BTC/USDT", base="BTC", quote="USDT", tick_size=0.1, lot_size=0.001)
    mid = (snap.bids[0][0] + snap.asks[0][0]) / 2
    first = [Quote(symbol="BTC/USDT", last=mid, ts=events[0].ts)]
    provider: Any = _Quoter({"BTC/USDT": inst}, first)
    hub = FeedHub(provider, ["BTC/USDT"], capacity_1s=3_600, capacity_1m=1_440)
    await hub.start()
    try:
        hub.ingest(snap)
        elapsed = _ingest(hub, events)
    finally:
        await hub.stop()
    return {"ref_ingest_events_per_s": round(len(events) / elapsed), "ref_events": len(events)}


async def _bench_provider() -> dict[str, Any]:
    """The sim provider task generating as fast as it can into a started hub, for a while."""
    hub = FeedHub("sim", SYMBOLS, config={"seed": 7, "rate": 200_000, "realtime": False},
                  capacity_1s=3_600, capacity_1m=1_440)
    await hub.start()
    try:
        e0, t0 = hub.events, time.perf_counter()
        await asyncio.sleep(SECONDS)
        events, elapsed = hub.events - e0, time.perf_counter() - t0
    finally:
        await hub.stop()
    return {"sim_provider_end_to_end_events_per_s": round(events / elapsed)}


async def main() -> None:
    result = await _bench_sim()
    result.update(await _bench_provider())
    result.update(await _bench_reference())
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
