"""The sim provider's feed: the provider contract over `SimMarket` and the synthetic history.

History and live share an anchor per symbol (seed, start time, start price) so charts join
without a jump. The feed hub loads history before it starts the stream, so a history request
fixes the anchor at the current second when none exists, and a stream starting shortly after
adopts it; a stream with a pinned `start_time` sets the anchor itself instead.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, NamedTuple

import numpy as np

from console.data.provider import (
    OHLC_DTYPE,
    Capabilities,
    DataUnavailable,
    GetOhlc,
    Send,
    TaskStatus,
    UnknownSymbol,
)
from console.model.events import ConnectorStatus
from console.model.instruments import Instrument, split_symbol
from providers.sim import history
from providers.sim.config import SimConfig, parse_config
from providers.sim.market import SimMarket
from providers.sim.specs import DEFAULT_SPECS, SymbolSpec, spec_for, start_price

NAME = "sim"
CAPABILITIES = Capabilities(
    trading=False,
    network=False,
    history_timeframes=(1, 60),
    note="seeded synthetic market, no network; 1 s history for a day, 1 m for a year",
)
ohlc_dtype = OHLC_DTYPE

BATCH_NS = 20_000_000
"""Market time generated per loop turn: 20 ms batches keep numpy draws worth their call."""
MAX_STEP_NS = 50_000_000
"""Most market time one turn generates before yielding to the event loop."""
TURN_EVENTS = 500
"""About this many events per loop turn at most: at stress rates a 50 ms turn would hold the
loop for 100+ ms and starve the frame pump, so turns shrink with the rate (down to 1 ms)."""
CATCH_UP_EVENTS = 200_000
"""A realtime stream catches up on at most about this many events (and at most a minute, at
least a second of market time); further behind (a suspended laptop, a consumer slower than
the rate) it skips ahead instead."""
ADOPT_NS = 120 * 1_000_000_000
"""A stream adopts a history anchor at most this old; older ones belong to an earlier run."""
PAGE_ROWS: dict[int, int] = {1: 86_400, 60: 7 * 1_440}
"""Bars returned when no start is given: a day of 1 s, a week of 1 m (page back for more)."""


class Anchor(NamedTuple):
    """Where one symbol's history ends and its live market starts."""

    seed: int
    start_ns: int
    price: float
    claimed: bool  # a stream has started from it


_anchors: dict[str, Anchor] = {}
_config = SimConfig()


def configure(config: Mapping[str, Any] | None) -> SimConfig:
    """Apply `[providers.sim]` settings to symbol info, search and history (the stream applies
    its own config too). Raises `ProviderError` naming the bad setting."""
    global _config
    _config = parse_config(config)
    return _config


def _listed() -> dict[str, SymbolSpec]:
    names = dict.fromkeys((*DEFAULT_SPECS, *_config.symbols))
    return {name: spec_for(name) for name in names}


def _lookup(symbol: str) -> SymbolSpec:
    listed = _listed()
    if symbol in listed:
        return listed[symbol]
    try:
        base, quote = split_symbol(symbol.strip())
    except ValueError as exc:
        raise UnknownSymbol(f"sim: {exc}") from None
    name = f"{base}/{quote}"
    if name in listed:
        return listed[name]
    raise UnknownSymbol(
        f"sim does not list {symbol!r}; it lists {', '.join(listed)}. Add it to "
        "[providers.sim] symbols to have the sim make up a market for it"
    )


async def symbol_info(symbol: str) -> Instrument:
    """Tick, lot, min size and decimals of a listed symbol; `UnknownSymbol` otherwise."""
    return _lookup(symbol).instrument()


async def search_symbols(pattern: str, limit: int = 20) -> list[Instrument]:
    """Listed symbols matching `pattern` (case-insensitive): exact, then prefix, then substring."""
    needle = pattern.strip().upper().replace("-", "/")
    ranked: list[tuple[int, str, Instrument]] = []
    for name, spec in _listed().items():
        inst = spec.instrument()
        hay = (name, inst.base, inst.quote, inst.venue_symbol)
        if not needle:
            rank = 3
        elif needle in (name, inst.base, inst.venue_symbol):
            rank = 0
        elif any(h.startswith(needle) for h in hay):
            rank = 1
        elif any(needle in h for h in hay):
            rank = 2
        else:
            continue
        ranked.append((rank, name, inst))
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [inst for _, _, inst in ranked[: max(0, limit)]]


def _history_anchor(spec: SymbolSpec) -> Anchor:
    seed = _config.seed
    if _config.start_time is not None:
        # A pinned clock is reproducible: its history always ends at the pinned start, whatever
        # an earlier stream in this process left behind.
        return Anchor(seed, round(_config.start_time * 1e9), start_price(spec, seed), False)
    anchor = _anchors.get(spec.symbol)
    if anchor is None or anchor.seed != seed:
        start_ns = time.time_ns() // 1_000_000_000 * 1_000_000_000
        anchor = Anchor(seed, start_ns, start_price(spec, seed), False)
        _anchors[spec.symbol] = anchor
    return anchor


def _claim_anchors(cfg: SimConfig, specs: Sequence[SymbolSpec]) -> tuple[int, dict[str, float]]:
    """The stream's start time and the start prices it continues from.

    A stream adopting history starts its clock where that history ends, a moment in the past:
    its first realtime step then covers the startup time, so live bars join without a gap.
    """
    if cfg.start_time is not None:
        start_ns = round(cfg.start_time * 1e9)
        for spec in specs:
            _anchors[spec.symbol] = Anchor(cfg.seed, start_ns, start_price(spec, cfg.seed), True)
        return start_ns, {}
    now = time.time_ns()
    adopted = [
        a for spec in specs
        if (a := _anchors.get(spec.symbol)) is not None
        and not a.claimed and 0 <= now - a.start_ns <= ADOPT_NS
    ]
    start_ns = max((a.start_ns for a in adopted), default=now)
    prices: dict[str, float] = {}
    for spec in specs:
        old = _anchors.get(spec.symbol)
        if old is not None and old in adopted:
            prices[spec.symbol] = old.price
            _anchors[spec.symbol] = old._replace(claimed=True)
        else:
            price = start_price(spec, cfg.seed)
            _anchors[spec.symbol] = Anchor(cfg.seed, start_ns, price, True)
    return start_ns, prices


async def stream_quotes(
    send: Send,
    symbols: Sequence[str],
    shm: Mapping[str, Any],
    feed_is_live: asyncio.Event,
    *,
    config: Mapping[str, Any],
    task_status: TaskStatus,
) -> None:
    """Stream the sim market until cancelled.

    Sends a connecting status, one Quote per symbol, sets `feed_is_live`, then a BookSnapshot
    per symbol, a live status, and the market's deltas, trades and quotes batch by batch.
    `shm` is unused: the hub samples bars from the trades.
    """
    cfg = configure(config)
    specs = [_lookup(s) for s in symbols] or [_lookup(s) for s in cfg.symbols]
    specs = list({s.symbol: s for s in specs}.values())
    start_ns, prices = _claim_anchors(cfg, specs)
    now_ns = time.time_ns()
    market = SimMarket(specs, cfg.seed, start_ns, rate=cfg.rate, start_prices=prices)
    names = ", ".join(market.symbols)
    send(ConnectorStatus(symbol="", ts=start_ns, recv_ts=start_ns, provider=NAME,
                         state="connecting", detail=f"sim market for {names}"))
    for quote in market.first_quotes():
        send(quote)
    feed_is_live.set()
    task_status.started()
    for snap in market.snapshots():
        send(snap)
    send(ConnectorStatus(symbol="", ts=start_ns, recv_ts=start_ns, provider=NAME,
                         state="live", detail=f"seed {cfg.seed}, {cfg.rate:g} events/s"))
    try:
        if cfg.realtime:
            # a pinned clock runs at wall speed from its start; otherwise it is the wall clock
            catch_up_ns = round(1e9 * max(1.0, min(60.0, CATCH_UP_EVENTS / cfg.rate)))
            await _run_realtime(market, send, None if cfg.start_time is not None else now_ns,
                                catch_up_ns, turn_ns(cfg.rate))
        else:
            step_ns = min(BATCH_NS, turn_ns(cfg.rate))
            while True:
                for event in market.step(step_ns):
                    send(event)
                await asyncio.sleep(0)  # let the consumers run between batches
    finally:
        if cfg.start_time is None:
            # a restarted stream continues from where this one stopped; a pinned one replays
            for sim_symbol in market.symbols:
                last = market.last_price(sim_symbol)
                _anchors[sim_symbol] = Anchor(cfg.seed, market.now_ns, last, False)


def turn_ns(rate: float) -> int:
    """Market time per loop turn for `rate` events/s: about TURN_EVENTS, within 1..50 ms."""
    return int(min(MAX_STEP_NS, max(1_000_000, 1e9 * TURN_EVENTS / rate)))


async def _run_realtime(
    market: SimMarket, send: Send, wall_ns: int | None, catch_up_ns: int, max_step_ns: int
) -> None:
    """Step the market to keep its clock at `wall_ns` (or its own start) plus elapsed time.

    One turn generates at most `max_step_ns` of market time, so a consumer slower than the
    configured rate never blocks the event loop for long; it falls behind instead, and past
    `catch_up_ns` the clock skips ahead (a venue's feed would drop the consumer too).
    """
    loop = asyncio.get_running_loop()
    wall0 = loop.time()
    origin = market.now_ns if wall_ns is None else wall_ns
    step_ns = max_step_ns
    while True:
        behind = origin + round((loop.time() - wall0) * 1e9) - market.now_ns
        if behind > catch_up_ns:
            market.skip(behind - max_step_ns)
            behind = max_step_ns
        stepped = min(behind, step_ns)
        events = market.step(stepped)
        for event in events:
            send(event)
        step_ns = next_turn_ns(step_ns, stepped, len(events), max_step_ns)
        # keep stepping at once while behind; otherwise wait for the next batch's worth
        await asyncio.sleep(0 if behind > stepped else BATCH_NS / 1e9)


def next_turn_ns(step_ns: int, stepped_ns: int, events: int, max_step_ns: int) -> int:
    """Market time for the turn after one of `stepped_ns` (at most `step_ns`) made `events`.

    Bursts multiply the order flow many times over for seconds: a turn sized for the
    configured rate would then hold the event loop for tens of ms, so turns shrink with the
    events the last one made (down to 1 ms) and grow back, at most doubling per turn, up to
    `max_step_ns` when it calms.
    """
    if stepped_ns <= 0:
        return step_ns
    want = stepped_ns * TURN_EVENTS / max(events, 1)  # about TURN_EVENTS at the last turn's rate
    return int(min(max_step_ns, 2 * step_ns, max(1_000_000, want)))


@asynccontextmanager
async def open_history_client(symbol: str) -> AsyncIterator[tuple[GetOhlc, dict[str, float]]]:
    """Yields `(get_ohlc, rate_hints)` for a listed symbol; `UnknownSymbol` otherwise.

    `await get_ohlc(timeframe_s, end_dt=None, start_dt=None)` returns the bars with
    `start_dt <= time < end_dt` as `(array, first_bar_start, range_end)`; without `start_dt`
    one page (`PAGE_ROWS`) ending at `end_dt` (default: the live start). Page back by passing
    the returned start as the next `end_dt`. 1 s bars reach a day back, 1 m bars a year;
    anything else raises `DataUnavailable`.
    """
    spec = _lookup(symbol)

    async def get_ohlc(
        timeframe_s: int, end_dt: datetime | None = None, start_dt: datetime | None = None
    ) -> tuple[np.ndarray, datetime, datetime]:
        if isinstance(timeframe_s, bool) or timeframe_s not in history.SERVED_ROWS:
            raise DataUnavailable(
                f"sim serves 1 s and 1 m history, not {timeframe_s!r} s; "
                "longer timeframes are built from those"
            )
        anchor = _history_anchor(spec)
        tf = int(timeframe_s)  # 60.0 is as good as 60
        n = history.SERVED_ROWS[tf]
        end_s = history.history_end(anchor.start_ns, tf)
        first_s = end_s - n * tf
        hi = n if end_dt is None else _row_at(_epoch(end_dt), first_s, tf, n)
        if start_dt is None:
            lo = max(0, hi - PAGE_ROWS[tf])
        else:
            lo = _row_at(_epoch(start_dt), first_s, tf, n)
        if lo >= hi:
            raise DataUnavailable(
                f"sim has {tf} s history for {spec.symbol} from {_iso(first_s)} to "
                f"{_iso(end_s)} only; nothing in [{_iso_dt(start_dt)}, {_iso_dt(end_dt)})"
            )
        rows = await asyncio.to_thread(
            history.generate, spec, anchor.seed, tf, end_s, anchor.price, lo, hi
        )
        return rows, _dt(first_s + lo * tf), _dt(first_s + hi * tf)

    yield get_ohlc, {"requests_per_s": math.inf, "page_rows_1": 86_400.0, "page_rows_60": 10_080.0}


def _row_at(t: float, first_s: int, tf: int, n: int) -> int:
    """Index of the first bar starting at or after `t`, clamped to the served rows."""
    return min(n, max(0, math.ceil((t - first_s) / tf)))


def _epoch(dt: datetime) -> float:
    # naive datetimes are taken as UTC: the console keeps every time in UTC
    return (dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)).timestamp()


def _dt(epoch_s: int) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def _iso(epoch_s: int) -> str:
    return _dt(epoch_s).isoformat(timespec="seconds")


def _iso_dt(dt: datetime | None) -> str:
    return "…" if dt is None else _iso(round(_epoch(dt)))
