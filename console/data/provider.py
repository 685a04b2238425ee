"""The provider contract: what a backend in `providers/<name>/feed.py` exposes to the feed hub.

After piker's backend spec, in asyncio. A provider module has:

- `NAME: str` and `CAPABILITIES: Capabilities` (what it supports; optional parts declared off),
- `ohlc_dtype: np.dtype` (at least the fields of `OHLC_DTYPE`),
- `async def stream_quotes(send, symbols, shm, feed_is_live, *, config, task_status)`: calls
  `send(event)` with normalized events. Startup: as soon as possible one first `Quote` per
  requested symbol with `symbol` and `last`, then `feed_is_live.set()`. Later quotes keep that
  shape and carry `ticks`. `shm` maps symbol -> that symbol's bar buffers where the provider
  wants to write venue bars itself (most just emit `Trade`s and let the hub sample them).
  Raw frames (optional, venue providers): a provider declaring `CAPABILITIES.raw_frames` also
  accepts the keyword `raw: RawSink | None = None` and, when it is given, calls
  `raw(symbol, frame, recv_ns)` once per websocket frame it receives, before parsing it:
  `symbol` is the console symbol the frame is about, or "" for connection-wide frames
  (status, subscribe acks, heartbeats, frames for several symbols); `frame` is the exact wire
  payload (`str` for text frames, `bytes` for binary ones, never re-serialized); `recv_ns` is
  the local receive time, epoch ns. The hub passes `raw` only when something asked for raw
  frames and the provider declares the capability, so providers without it are unaffected.
- `open_history_client(symbol)`: async context manager yielding `(get_ohlc, rate_hints)`;
  `await get_ohlc(timeframe_s, end_dt=None, start_dt=None)` returns `(array, start_dt, end_dt)`
  with `array` of `ohlc_dtype`, oldest first, or raises `DataUnavailable`.
- `async def symbol_info(symbol) -> Instrument` (raises `UnknownSymbol`) and
  `async def search_symbols(pattern, limit=20) -> list[Instrument]`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol, TypeAlias

import msgspec
import numpy as np

from console.model.events import MarketEvent
from console.model.instruments import Instrument

OHLC_DTYPE = np.dtype(
    [
        ("index", "i8"),
        ("time", "i8"),  # bar start, epoch seconds
        ("open", "f8"),
        ("high", "f8"),
        ("low", "f8"),
        ("close", "f8"),
        ("volume", "f8"),
        ("count", "i8"),
        ("bar_wap", "f8"),
    ]
)
"""The seed bar layout every provider's `ohlc_dtype` must contain."""

TIMEFRAMES: dict[str, int] = {
    "1s": 1, "1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400
}
"""Timeframe names the console offers, in seconds."""


class ProviderError(Exception):
    """A provider problem worth one clear line to the user (what, where, what to do)."""


class DataUnavailable(ProviderError):
    """The provider has no history for that symbol, timeframe or range."""


class UnknownSymbol(ProviderError):
    """The provider does not list that symbol."""


class Capabilities(msgspec.Struct, frozen=True, kw_only=True):
    """What a provider supports; the hub and `mdconsole providers` read it."""

    quotes: bool = True
    book: bool = True
    trades: bool = True
    history: bool = True
    search: bool = True
    trading: bool = False
    network: bool = True
    history_timeframes: tuple[int, ...] = (1, 60)
    raw_frames: bool = False  # stream_quotes accepts `raw=` and reports every wire frame
    note: str = ""


class TaskStatus:
    """Lets a provider task tell its starter it is up (trio's `task_status`, for asyncio)."""

    def __init__(self) -> None:
        self.started_event = asyncio.Event()
        self.value: Any = None

    def started(self, value: Any = None) -> None:
        self.value = value
        self.started_event.set()


Send: TypeAlias = Callable[[MarketEvent], None]
"""Hands one event to the hub. Synchronous and non-blocking: ingest does no awaiting."""

RawSink: TypeAlias = Callable[[str, bytes | str, int], None]
"""`raw(symbol or "", exact wire frame, receive time ns)`: one raw frame, synchronous."""

GetOhlc: TypeAlias = Callable[..., Awaitable[tuple[np.ndarray, datetime, datetime]]]
"""`await get_ohlc(timeframe_s, end_dt=None, start_dt=None) -> (array, start_dt, end_dt)`."""


class ProviderModule(Protocol):
    """The shape of a provider's `feed` module (checked by the registry at load time)."""

    NAME: str
    CAPABILITIES: Capabilities
    ohlc_dtype: np.dtype

    async def stream_quotes(
        self,
        send: Send,
        symbols: Sequence[str],
        shm: Mapping[str, Any],
        feed_is_live: asyncio.Event,
        *,
        config: Mapping[str, Any],
        task_status: TaskStatus,
    ) -> None: ...

    def open_history_client(
        self, symbol: str
    ) -> AbstractAsyncContextManager[tuple[GetOhlc, dict[str, float]]]: ...

    async def symbol_info(self, symbol: str) -> Instrument: ...

    async def search_symbols(self, pattern: str, limit: int = 20) -> list[Instrument]: ...
