"""Normalized market-data events: the one shape used in memory, on the bus and in recordings.

Every event is a tagged msgspec Struct, so a stream of mixed events decodes from msgpack or
JSON into the right classes without a schema on the side. Times are integer nanoseconds since
the epoch: `ts` is the venue's time, `recv_ts` the local receive time (0 where unknown).
Prices and sizes are floats in venue units; books convert them to integer ticks and lots.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

import msgspec

Side: TypeAlias = Literal["bid", "ask"]
"""A book side."""

Aggressor: TypeAlias = Literal["buy", "sell", ""]
"""The side that took liquidity in a trade ("" where the venue does not say)."""

ConnectorState: TypeAlias = Literal[
    "connecting", "syncing", "live", "stale", "resync", "down", "error"
]
"""What a provider connection is doing; `resync` means its books cannot be trusted yet."""

Level: TypeAlias = tuple[float, float]
"""One price level: (price, size). Size 0 in a delta deletes the level."""


class _Event(msgspec.Struct, frozen=True, tag_field="k", kw_only=True):
    """Fields every market event carries."""

    symbol: str
    ts: int = 0
    recv_ts: int = 0


class BookSnapshot(_Event, tag="snap", frozen=True):
    """A full L2 book that replaces whatever the book held. Bids best-first, asks best-first."""

    bids: list[Level]
    asks: list[Level]
    seq: int = 0


class BookDelta(_Event, tag="delta", frozen=True):
    """Level changes applied on top of the book; a size of 0 deletes the level."""

    bids: list[Level] = []
    asks: list[Level] = []
    seq: int = 0


class Trade(_Event, tag="trade", frozen=True):
    """One print on the tape."""

    price: float
    size: float
    side: Aggressor = ""
    trade_id: str = ""


class Tick(msgspec.Struct, frozen=True, array_like=True):
    """One change inside a quote, e.g. ("trade", 100.5, 0.2) or ("bid", 100.4, 3.0)."""

    type: Literal["trade", "bid", "ask", "bsize", "asize", "last", "volume"]
    price: float
    size: float = 0.0


class Quote(_Event, tag="quote", frozen=True):
    """Top-of-book and last-trade state. The first quote per symbol needs only `last`."""

    last: float
    bid: float = 0.0
    ask: float = 0.0
    bsize: float = 0.0
    asize: float = 0.0
    volume: float = 0.0
    ticks: list[Tick] = []


class Bar(_Event, tag="bar", frozen=True):
    """An OHLCV bar; `time` is the bar's start in epoch seconds, `timeframe` its length in s."""

    timeframe: int
    time: int
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0
    count: int = 0
    vwap: float = 0.0


class ConnectorStatus(_Event, tag="status", frozen=True):
    """A provider's connection state; `symbol` is "" when it applies to the whole provider."""

    provider: str
    state: ConnectorState
    detail: str = ""


MarketEvent: TypeAlias = BookSnapshot | BookDelta | Trade | Quote | Bar | ConnectorStatus
"""Any normalized market-data event."""

MARKET_EVENT_TYPES: tuple[type[MarketEvent], ...] = (
    BookSnapshot,
    BookDelta,
    Trade,
    Quote,
    Bar,
    ConnectorStatus,
)
