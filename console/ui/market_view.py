"""What the console reads from its market-data source: the FeedHub's plain-state surface.

The app takes anything of this shape, so the live hub, a replay or a test fixture can drive it.
Members are read-only properties so plain attributes of narrower types satisfy them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np

from console.model.events import ConnectorStatus
from console.model.instruments import Instrument


class QuoteView(Protocol):
    """One symbol's quote state, mutated in place by ingest; `version` bumps on change."""

    @property
    def symbol(self) -> str: ...
    @property
    def last(self) -> float: ...
    @property
    def change_pct(self) -> float: ...
    @property
    def bid(self) -> float: ...
    @property
    def ask(self) -> float: ...
    @property
    def volume(self) -> float: ...
    @property
    def version(self) -> int: ...


class MarketView(Protocol):
    """The FeedHub surface the console panes and the frame pump use."""

    @property
    def instruments(self) -> Mapping[str, Instrument]: ...
    @property
    def quotes(self) -> Mapping[str, QuoteView]: ...
    @property
    def status(self) -> Mapping[str, ConnectorStatus]: ...
    @property
    def events_per_s(self) -> float: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def bars(self, symbol: str, timeframe_s: int) -> np.ndarray: ...

    def staleness_s(self, symbol: str) -> float: ...
