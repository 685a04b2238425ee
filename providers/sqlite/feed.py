"""The `sqlite` provider: an OKX-schema SQLite database (or a directory of them) as a market.

Config keys: `path` (a database file or a directory of them), `instrument` (OKX id such as
BTC-USDT, for picking files in a directory), `from` / `to` (ISO time or epoch), `speed`
(1, 10, ... or "max"; default 1) and `depth` (levels per side, default 10). Every book row
is sent as a top-N `BookSnapshot` followed by a top-of-book `Quote`, the trades of its window
after it. For pause, step and seek, play the same files with the `replay` provider.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from console.data.provider import (
    OHLC_DTYPE,
    Capabilities,
    DataUnavailable,
    GetOhlc,
    ProviderError,
    Send,
    TaskStatus,
    UnknownSymbol,
)
from console.data.sampler import bars_from_trades, resample
from console.model.events import ConnectorStatus, MarketEvent, Quote, Trade
from console.model.instruments import Instrument
from console.record.okxdb.metrics import study_of
from console.record.okxdb.source import (
    SqliteSource,
    find_databases,
    in_time_order,
    list_instruments,
)
from console.record.okxdb.times import TimestampError
from console.record.playback import config_time, parse_speed

NAME = "sqlite"
CAPABILITIES = Capabilities(
    network=False,
    trading=False,
    history_timeframes=(1, 60),
    note="OKX book/trades SQLite files",
)
ohlc_dtype = OHLC_DTYPE
LIVE_ADD = False
"""A symbol cannot join a running stream: restarting the playback would rewind it."""
YIELD_EVERY = 2048


class SqliteConfigError(ProviderError):
    """A sqlite provider config value that cannot be used, naming the key."""


_parts: dict[str, list[SqliteSource]] = {}
_config: dict[str, Any] = {}


def configure(config: Mapping[str, Any]) -> list[str]:
    """Opens the databases the config names; returns the symbols they hold (BTC/USDT, ...)."""
    parts = _open(config)
    close()
    _parts.update(parts)
    _config.update(config)
    return list(parts)


def close() -> None:
    """Closes what `configure` opened."""
    for part in itertools.chain.from_iterable(_parts.values()):
        part.close()
    _parts.clear()
    _config.clear()


def _open(config: Mapping[str, Any]) -> dict[str, list[SqliteSource]]:
    raw = config.get("path") or config.get("paths")
    if not raw:
        raise SqliteConfigError("the sqlite provider needs `path`: a database file or a directory")
    roots = [Path(raw)] if isinstance(raw, str | Path) else [Path(r) for r in raw]
    instrument = config.get("instrument")
    start, end = _time(config, "from"), _time(config, "to")
    depth = config.get("depth", 10)
    if not isinstance(depth, int) or depth < 1:
        raise SqliteConfigError(
            f"sqlite `depth` must be a whole number of levels >= 1, got {depth!r}"
        )
    out: dict[str, list[SqliteSource]] = {}
    try:
        for root in roots:
            for path in find_databases(root, instrument, start, end):
                for name in [instrument] if instrument else list_instruments(path):
                    src = SqliteSource(path, name, depth=depth)
                    out.setdefault(src.symbol, []).append(src)
        return {symbol: in_time_order(parts) for symbol, parts in out.items()}
    except ProviderError:
        for part in itertools.chain.from_iterable(out.values()):
            part.close()
        raise


def _time(config: Mapping[str, Any], key: str) -> int | None:
    try:
        return config_time(config.get(key), f"sqlite `{key}`")
    except TimestampError as exc:
        raise SqliteConfigError(str(exc)) from None


def _speed(config: Mapping[str, Any]) -> float | None:
    try:
        return parse_speed(config.get("speed", 1))
    except ValueError as exc:
        raise SqliteConfigError(f"sqlite `speed`: {exc}") from None


def _events(
    parts: Sequence[SqliteSource], start: int | None, end: int | None
) -> Iterator[MarketEvent]:
    for part in parts:
        yield from part.events(start, end)


def _with_first_quote(
    symbol: str, events: Iterator[MarketEvent]
) -> tuple[Quote, Iterator[MarketEvent]]:
    """The first quote (last = the first trade or quote seen) and the events, none lost."""
    seen: list[MarketEvent] = []
    for ev in events:
        seen.append(ev)
        if isinstance(ev, Trade | Quote):
            last = ev.price if isinstance(ev, Trade) else ev.last
            return Quote(symbol=symbol, ts=ev.ts, last=last), itertools.chain(seen, events)
    raise DataUnavailable(f"{symbol}: no book rows or trades in the chosen time range")


async def stream_quotes(
    send: Send,
    symbols: Sequence[str],
    shm: Mapping[str, Any],
    feed_is_live: asyncio.Event,
    *,
    config: Mapping[str, Any],
    task_status: TaskStatus,
) -> None:
    """First quotes, then every symbol's rows and trades merged by time at `speed`."""
    parts = _open(config)
    try:
        missing = [s for s in symbols if s not in parts]
        if missing:
            raise UnknownSymbol(
                f"the sqlite database(s) hold no {', '.join(missing)}; they hold "
                f"{', '.join(parts) or 'nothing'}"
            )
        speed = _speed(config)
        start, end = _time(config, "from"), _time(config, "to")
        streams = []
        for symbol in symbols or list(parts):
            quote, events = _with_first_quote(symbol, _events(parts[symbol], start, end))
            send(quote)
            streams.append(events)
        send(ConnectorStatus(provider=NAME, symbol="", state="live"))
        feed_is_live.set()
        task_status.started()
        await _pace(heapq.merge(*streams, key=lambda ev: ev.ts), send, speed)
        send(ConnectorStatus(provider=NAME, symbol="", state="live", detail="end of data"))
    finally:
        for part in itertools.chain.from_iterable(parts.values()):
            part.close()


async def _pace(events: Iterator[MarketEvent], send: Send, speed: float | None) -> None:
    """Sends events at `speed` times their recorded pace (None: as fast as possible)."""
    loop = asyncio.get_running_loop()
    anchor: tuple[float, int] | None = None
    for n, ev in enumerate(events):
        if speed is None:
            if n % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)
        else:
            if anchor is None:
                anchor = (loop.time(), ev.ts)
            delay = anchor[0] + (ev.ts - anchor[1]) / 1e9 / speed - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        send(ev)


@contextlib.asynccontextmanager
async def open_history_client(symbol: str) -> AsyncIterator[tuple[GetOhlc, dict[str, float]]]:
    """Bars of the trades before `from` (all trades when no `from` is set)."""
    parts = _configured(symbol)
    before = _time(_config, "from")

    async def get_ohlc(
        timeframe_s: int, end_dt: datetime | None = None, start_dt: datetime | None = None
    ) -> tuple[np.ndarray, datetime, datetime]:
        lo = None if start_dt is None else int(start_dt.timestamp() * 1e9)
        hi = before if end_dt is None else int(end_dt.timestamp() * 1e9)
        if before is not None and hi is not None:
            hi = min(hi, before)
        ts, px, sz = [], [], []
        for part in parts:
            for rows in part.trade_rows(lo, hi):
                ts.append(rows.ts)
                px.append(rows.price)
                sz.append(rows.size)
        if not ts:
            raise DataUnavailable(f"{symbol}: no trades in the requested range")
        bars = bars_from_trades(np.concatenate(ts), np.concatenate(px), np.concatenate(sz))
        if timeframe_s != 1:
            bars = resample(bars, timeframe_s)
        return (
            bars,
            datetime.fromtimestamp(int(bars["time"][0]), UTC),
            datetime.fromtimestamp(int(bars["time"][-1]), UTC),
        )

    yield get_ohlc, {"requests_per_s": 1e9}


def study(symbol: str, timeframe_s: int) -> dict[str, np.ndarray]:
    """OBI, normalized OBI and CVD of `symbol` as `STUDY_DTYPE` candles per bar, for a lower
    study under the chart (keys "obi", "obi_norm", "cvd"); within `from`/`to` if set."""
    return study_of(_configured(symbol), timeframe_s, _time(_config, "from"), _time(_config, "to"))


async def symbol_info(symbol: str) -> Instrument:
    return _configured(symbol)[0].instrument_info


async def search_symbols(pattern: str, limit: int = 20) -> list[Instrument]:
    pat = pattern.upper().replace("-", "/")
    return [p[0].instrument_info for name, p in _parts.items() if pat in name][:limit]


def _configured(symbol: str) -> list[SqliteSource]:
    try:
        return _parts[symbol]
    except KeyError:
        raise UnknownSymbol(
            f"the sqlite provider has no {symbol}"
            + ("" if _parts else "; call providers.sqlite.feed.configure(config) first")
        ) from None
