"""Trade tape: a bounded ring of one symbol's recent prints for the time & sales pane."""

from __future__ import annotations

from collections import deque
from itertools import islice

import numpy as np

from console.model.events import Trade

TAPE_DTYPE = np.dtype([("ts", "i8"), ("price", "f8"), ("size", "f8"), ("side", "i1")])
"""Columns of `TradeTape.arrays`; `side` is +1 buy aggressor, -1 sell, 0 unknown."""

_SIDE = {"buy": 1, "sell": -1, "": 0}


class TradeTape:
    """The newest `capacity` trades of one symbol, oldest dropped first.

    It keeps the `Trade` events themselves: they already exist and are immutable, so an
    append is one pointer store, which matters at tens of thousands of prints a second.
    """

    __slots__ = ("_ring", "capacity", "total", "version")

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError(f"trade tape capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._ring: deque[Trade] = deque(maxlen=capacity)
        self.total = 0  # prints ever appended, including those already dropped
        self.version = 0

    def append(self, trade: Trade) -> None:
        self._ring.append(trade)
        self.total += 1
        self.version += 1

    def __len__(self) -> int:
        return len(self._ring)

    def latest(self, n: int) -> list[Trade]:
        """Up to `n` newest trades, newest first (the order a tape is shown in)."""
        if n <= 0:
            return []
        return list(islice(reversed(self._ring), n))

    def arrays(self, n: int | None = None) -> np.ndarray:
        """Up to `n` newest trades (all when None) as a `TAPE_DTYPE` array, oldest first."""
        ring = self._ring
        count = len(ring) if n is None else max(0, min(n, len(ring)))
        out = np.empty(count, dtype=TAPE_DTYPE)
        if count == 0:
            return out
        recent = list(islice(reversed(ring), count))
        recent.reverse()
        out["ts"] = [t.ts for t in recent]
        out["price"] = [t.price for t in recent]
        out["size"] = [t.size for t in recent]
        out["side"] = [_SIDE.get(t.side, 0) for t in recent]
        return out

    def clear(self) -> None:
        self._ring.clear()
        self.version += 1
