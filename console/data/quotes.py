"""Per-symbol quote state (last, change %, top of book, volume) that the UI reads every frame."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from console.model.events import Quote, Trade


class TopOfBook(Protocol):
    """What quote state needs from a book: its best levels and a change counter."""

    @property
    def version(self) -> int: ...

    def top(self, side: int, n: int) -> tuple[np.ndarray, np.ndarray]: ...


class QuoteState:
    """Mutable, plain quote state for one symbol, updated by the feed hub on every event.

    `version` changes whenever anything here (or the attached book) changes, so a frame pump
    repaints only what moved. Top of book is read lazily from the attached book: book deltas
    arrive far faster than frames, so deriving bid/ask per delta would be wasted work.
    """

    __slots__ = (
        "_asize",
        "_ask",
        "_bid",
        "_book",
        "_book_seen",
        "_bsize",
        "_version",
        "last",
        "open",
        "symbol",
        "trades",
        "updated_ns",
        "volume",
    )

    def __init__(self, symbol: str, *, book: TopOfBook | None = None) -> None:
        self.symbol = symbol
        self.last: float = 0.0
        self.open: float = 0.0  # reference price for change %; 0 until known
        self.volume: float = 0.0
        self.trades: int = 0
        self.updated_ns: int = 0  # local receive time of the newest event, epoch ns
        self._bid = 0.0
        self._ask = 0.0
        self._bsize = 0.0
        self._asize = 0.0
        self._version = 0
        self._book = book
        self._book_seen = -1

    # --- reads -----------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """Bumps whenever a quote, trade or book change touches this symbol."""
        book = self._book
        return self._version + (book.version if book is not None else 0)

    @property
    def has_price(self) -> bool:
        """Whether a first price (quote or trade) has arrived."""
        return self.last > 0.0

    @property
    def change_pct(self) -> float:
        """Change of `last` against the reference price, in percent (0 while unknown)."""
        ref = self.open
        if ref <= 0.0 or self.last <= 0.0:
            return 0.0
        return (self.last / ref - 1.0) * 100.0

    @property
    def bid(self) -> float:
        self._sync_book()
        return self._bid

    @property
    def ask(self) -> float:
        self._sync_book()
        return self._ask

    @property
    def bsize(self) -> float:
        self._sync_book()
        return self._bsize

    @property
    def asize(self) -> float:
        self._sync_book()
        return self._asize

    @property
    def spread(self) -> float:
        """Ask minus bid, or 0 while either side is empty."""
        bid, ask = self.bid, self.ask
        return ask - bid if bid > 0.0 and ask > 0.0 else 0.0

    def _sync_book(self) -> None:
        book = self._book
        if book is None or book.version == self._book_seen:
            return
        self._book_seen = book.version
        bpx, bsz = book.top(0, 1)
        apx, asz = book.top(1, 1)
        # An empty book side keeps the last quoted value: providers without depth still
        # send bid/ask in their quotes.
        if len(bpx):
            self._bid = float(bpx[0])
            self._bsize = float(bsz[0])
        if len(apx):
            self._ask = float(apx[0])
            self._asize = float(asz[0])

    # --- writes (called by the feed hub) ---------------------------------------------------

    def on_quote(self, q: Quote, now_ns: int) -> None:
        """Take a venue quote; zero fields mean "not given" and keep the previous value."""
        if q.last > 0.0:
            self.last = q.last
            if self.open <= 0.0:
                self.open = q.last
        if q.bid > 0.0:
            self._bid = q.bid
        if q.ask > 0.0:
            self._ask = q.ask
        if q.bsize > 0.0:
            self._bsize = q.bsize
        if q.asize > 0.0:
            self._asize = q.asize
        if q.volume > 0.0:
            self.volume = q.volume
        for tick in q.ticks:
            kind = tick.type
            if kind == "bid":
                self._bid = tick.price
                if tick.size:
                    self._bsize = tick.size
            elif kind == "ask":
                self._ask = tick.price
                if tick.size:
                    self._asize = tick.size
            elif kind == "bsize":
                self._bsize = tick.size or tick.price
            elif kind == "asize":
                self._asize = tick.size or tick.price
            elif kind == "last" and tick.price > 0.0:
                self.last = tick.price
        self.updated_ns = now_ns
        self._version += 1

    def on_trade(self, t: Trade, now_ns: int) -> None:
        """Take one print: it sets `last` and adds to the session volume."""
        self.last = t.price
        if self.open <= 0.0:
            self.open = t.price
        self.volume += t.size
        self.trades += 1
        self.updated_ns = now_ns
        self._version += 1

    def touch(self, now_ns: int) -> None:
        """Record that a book event for this symbol arrived (for staleness)."""
        self.updated_ns = now_ns

    def set_reference(self, price: float) -> None:
        """Use `price` (e.g. the price 24 h ago) as the base of change %."""
        if price > 0.0:
            self.open = price
            self._version += 1

    def __repr__(self) -> str:
        return (
            f"QuoteState({self.symbol!r}, last={self.last}, bid={self.bid}, ask={self.ask}, "
            f"change_pct={self.change_pct:.2f}, volume={self.volume})"
        )
