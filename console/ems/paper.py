"""The paper clearing engine: fills orders against the live book and trade stream of a feed.

Marketable orders walk the displayed book level by level (never taking more than is shown,
nor the same displayed size twice); resting limit orders wait behind the size that was at
their price when they arrived, which trades and (pro-rata) cancels eat before they fill.
Works in integer ticks and lots internally; replies are order messages in venue units.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from console.ems.messages import Ack, Fill, OrderStatus, QueueMark, Reply
from console.ems.state import OrderState
from console.model.book import ASK, BID, Book
from console.model.events import BookDelta, BookSnapshot, MarketEvent, Trade

PAPER = "paper"
_WALK = 8  # levels fetched in the first step of a walk (most orders fill at the touch)
_SCAN = 32  # ticks read one by one from the touch before a walk fetches levels in bulk


class PaperConfigError(ValueError):
    """A paper-engine setting is wrong; the message names the field and the fix."""


class PaperConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fees in basis points of notional and a simulated one-way latency."""

    maker_bps: float = 1.0
    taker_bps: float = 5.0
    latency_ms: float = 0.0
    initial_cash: float = 100_000.0
    """Starting cash of a paper account, in quote currency (for balances)."""

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str = "paper") -> PaperConfig:
        names = [f.name for f in msgspec.structs.fields(cls)]
        for key, value in table.items():
            if key not in names:
                raise PaperConfigError(f"{where}.{key}: unknown paper setting; known settings: "
                                       f"{', '.join(names)}")
            if (isinstance(value, bool) or not isinstance(value, int | float)
                    or not math.isfinite(value) or value < 0):
                raise PaperConfigError(f"{where}.{key}: got {value!r}; expected a number >= 0")
        return cls(**{k: float(v) for k, v in table.items()})


class _Resting:
    """A paper order inside the engine, in ticks and lots."""

    __slots__ = ("account", "ahead", "buy", "filled", "level", "nfills", "order_id", "post_only",
                 "price", "px", "size", "symbol")

    def __init__(self, o: OrderState, px: int, size: int, filled: int) -> None:
        self.order_id = o.order_id
        self.account = o.account
        self.symbol = o.symbol
        self.buy = o.side == "buy"
        self.post_only = o.post_only
        self.price = o.price
        self.px = px
        self.size = size
        self.filled = filled
        self.nfills = o.nfills
        self.ahead = 0  # lots displayed ahead of us at our price
        self.level = 0  # displayed lots at our price when last looked


class PaperEngine:
    """The `paper` destination. Replies go to `emit`; the EMS journals and applies them."""

    name = PAPER

    def __init__(
        self,
        books: Mapping[str, Book],
        emit: Callable[[Reply], None],
        clock: Callable[[], int],
        config: PaperConfig | None = None,
    ) -> None:
        self.books = books
        self.emit = emit
        self.clock = clock
        self.config = config or PaperConfig()
        self._latency_ns = int(self.config.latency_ms * 1e6)
        self._maker = self.config.maker_bps / 1e4
        self._taker = self.config.taker_bps / 1e4
        self.resting: dict[str, dict[str, _Resting]] = {}  # symbol -> order id -> order
        self._inflight: list[tuple[int, OrderState]] = []
        # displayed lots we already took, per symbol and (side, tick), until the venue
        # updates that level: the same displayed size never fills twice
        self._taken: dict[str, dict[tuple[int, int], int]] = {}

    # ------------------------------------------------------------------ destination API

    @property
    def symbols(self) -> set[str]:
        """Symbols this engine needs market events for."""
        out = {s for s, d in self.resting.items() if d}
        if self._inflight:
            out.update(o.symbol for _, o in self._inflight)
        out.update(s for s, t in self._taken.items() if t)  # to see those levels refresh
        return out

    def submit(self, o: OrderState) -> None:
        if self._latency_ns:
            self._inflight.append((self.clock() + self._latency_ns, o))
        else:
            self._arrive(o)

    def poll(self, now_ns: int) -> None:
        """Deliver orders whose simulated latency has passed."""
        if not self._inflight or self._inflight[0][0] > now_ns:
            return
        due = [o for t, o in self._inflight if t <= now_ns]
        self._inflight = [(t, o) for t, o in self._inflight if t > now_ns]
        for o in due:
            self._arrive(o)

    def cancel(self, o: OrderState, reason: str = "canceled") -> None:
        r = self.resting.get(o.symbol, {}).pop(o.order_id, None)
        for i, (_, x) in enumerate(self._inflight):
            if x.order_id == o.order_id:
                del self._inflight[i]
                break
        filled = self._size(o.symbol, r.filled) if r is not None else o.filled
        self.emit(OrderStatus(order_id=o.order_id, status="canceled", size=o.size,
                              price=o.price, filled=filled, reason=reason, ts=self.clock()))

    def amend(self, o: OrderState, price: float, size: float) -> str | None:
        """Change a resting order; returns why not where it cannot, else None."""
        r = self.resting.get(o.symbol, {}).get(o.order_id)
        book = self.books.get(o.symbol)
        if r is None or book is None:
            return "the order is not resting in the paper engine"
        new_px = round(price / book.tick_size) if price else r.px
        new_size = round(size / book.lot_size) if size else r.size
        if new_size <= r.filled:
            return (f"new size {size:g} is not above the filled size "
                    f"{self._size(o.symbol, r.filled):g}")
        if r.post_only and self._crosses(book, r.buy, new_px):
            return f"post-only: price {price:g} would take liquidity"
        if new_px != r.px or new_size > r.size:
            r.level = book.lots_at(BID if r.buy else ASK, new_px)
            r.ahead = r.level  # a new price or a larger size goes to the back of the queue
        r.px = new_px
        r.price = round(new_px * book.tick_size, 12)
        r.size = new_size
        ts = self.clock()
        self.emit(OrderStatus(order_id=o.order_id, status=self._open_status(r),
                              size=self._size(o.symbol, r.size), price=r.price,
                              filled=self._size(o.symbol, r.filled), ts=ts))
        if self._crosses(book, r.buy, r.px):
            before = r.filled  # amended to a marketable price: takes like a new order
            self._take(book, r, r.px, ts)
            if r.filled != before:
                r.ahead = 0
                self._after_fill(r, ts)
        return None

    def restore(self, o: OrderState) -> None:
        """Take back a working order after a restart (queue position as last journaled)."""
        book = self.books.get(o.symbol)
        if book is None:
            return
        if not o.venue_id:
            self.submit(o)
            return
        r = _Resting(o, round(o.price / book.tick_size), round(o.size / book.lot_size),
                     round(o.filled / book.lot_size))
        r.ahead = round(o.queue_ahead / book.lot_size)
        r.level = book.lots_at(BID if r.buy else ASK, r.px)
        self.resting.setdefault(o.symbol, {})[o.order_id] = r

    def checkpoint(self) -> None:
        """Emit each resting order's queue position so a restart keeps it."""
        ts = self.clock()
        for sym, orders in self.resting.items():
            for r in orders.values():
                self.emit(QueueMark(order_id=r.order_id, ahead=self._size(sym, r.ahead), ts=ts))

    # ------------------------------------------------------------------ arrival

    def _size(self, symbol: str, lots: int) -> float:
        return round(lots * self.books[symbol].lot_size, 12)

    @staticmethod
    def _crosses(book: Book, buy: bool, px: int) -> bool:
        if buy:
            ba = book.best_ask_ticks
            return ba is not None and px >= ba
        bb = book.best_bid_ticks
        return bb is not None and px <= bb

    def _reject(self, o: OrderState, reason: str, ts: int) -> None:
        self.emit(OrderStatus(order_id=o.order_id, status="rejected", size=o.size,
                              price=o.price, filled=o.filled, reason=reason, ts=ts))

    def _arrive(self, o: OrderState) -> None:
        ts = self.clock()
        book = self.books.get(o.symbol)
        if book is None:
            self._reject(o, f"paper: no market data for {o.symbol}; start its feed first", ts)
            return
        buy = o.side == "buy"
        market = o.type in ("market", "stop")
        size = round(o.size / book.lot_size)
        filled = round(o.filled / book.lot_size) if o.filled else 0
        px = 0 if market else round(o.price / book.tick_size)
        limit = None if market else px
        if o.post_only and not market and self._crosses(book, buy, px):
            best = book.best_ask if buy else book.best_bid
            self._reject(o, f"post-only: price {o.price:g} would take liquidity at {best:g}", ts)
            return
        if o.tif == "fok":
            avail = self._available(book, o.symbol, buy, limit, size - filled)
            if avail < size - filled:
                self.emit(Ack(order_id=o.order_id, venue_id=f"P-{o.order_id}", ts=ts))
                self.emit(OrderStatus(
                    order_id=o.order_id, status="expired", size=o.size, price=o.price,
                    filled=o.filled, ts=ts,
                    reason=f"FOK: only {self._size(o.symbol, avail):g} of "
                           f"{self._size(o.symbol, size - filled):g} available"
                           + ("" if market else f" at {o.price:g} or better")))
                return
        r = _Resting(o, px, size, filled)
        self.emit(Ack(order_id=o.order_id, venue_id=f"P-{o.order_id}", ts=ts))
        self._take(book, r, limit, ts)
        if r.filled >= r.size:
            self.emit(OrderStatus(order_id=o.order_id, status="filled", size=o.size,
                                  price=o.price, filled=o.size, ts=ts))
            return
        if market or o.tif != "gtc":
            why = "book exhausted" if market else f"no more liquidity at {o.price:g} or better"
            self.emit(OrderStatus(order_id=o.order_id, status="expired", size=o.size,
                                  price=o.price, filled=self._size(o.symbol, r.filled),
                                  reason=f"{o.tif.upper() if not market else 'market'}: "
                                         f"{why}; the rest is canceled", ts=ts))
            return
        r.level = r.ahead = book.lots_at(BID if buy else ASK, px)
        self.resting.setdefault(o.symbol, {})[o.order_id] = r
        if r.ahead:
            self.emit(QueueMark(order_id=o.order_id, ahead=self._size(o.symbol, r.ahead), ts=ts))
        self.emit(OrderStatus(order_id=o.order_id, status=self._open_status(r), size=o.size,
                              price=o.price, filled=self._size(o.symbol, r.filled), ts=ts))

    @staticmethod
    def _open_status(r: _Resting) -> Any:
        return "partially_filled" if r.filled else "open"

    def _available(self, book: Book, symbol: str, buy: bool, limit: int | None, need: int) -> int:
        side = ASK if buy else BID
        taken = self._taken.get(symbol, {})
        total = 0
        n = _WALK
        while True:
            pxs, qtys = book.top_ticks(side, n)
            total = 0
            for p, q in zip(pxs.tolist(), qtys.tolist(), strict=True):
                if limit is not None and (p > limit if buy else p < limit):
                    return total
                total += max(0, int(q) - taken.get((side, p), 0))
                if total >= need:
                    return total
            if len(pxs) < n:
                return total
            n *= 4

    def _take(self, book: Book, r: _Resting, limit: int | None, ts: int) -> None:
        """Walk the opposite side as taker, level by level, within `limit`."""
        side = ASK if r.buy else BID
        taken = self._taken.setdefault(r.symbol, {})
        # most orders fill at the touch: try it without building arrays
        best = book.best_ask_ticks if r.buy else book.best_bid_ticks
        if best is None or (limit is not None and (best > limit if r.buy else best < limit)):
            return
        key = (side, best)
        avail = book.lots_at(side, best) - taken.get(key, 0)
        if avail >= r.size - r.filled:
            lots = r.size - r.filled
            taken[key] = taken.get(key, 0) + lots
            self._fill(r, best, lots, book, "taker", ts)
            return
        # then tick by tick near the touch, where levels are dense: a few dict and memoryview
        # reads instead of numpy arrays; the walk below skips what this already took
        step = 1 if r.buy else -1
        for p in range(best, best + _SCAN * step, step):
            if limit is not None and (p > limit if r.buy else p < limit):
                return
            key = (side, p)
            avail = book.lots_at(side, p) - taken.get(key, 0)
            if avail <= 0:
                continue
            lots = min(avail, r.size - r.filled)
            taken[key] = taken.get(key, 0) + lots
            self._fill(r, p, lots, book, "taker", ts)
            if r.filled >= r.size:
                return
        n = _WALK
        done = 0
        while r.filled < r.size:
            pxs, qtys = book.top_ticks(side, n)
            for p, q in zip(pxs.tolist()[done:], qtys.tolist()[done:], strict=True):
                if limit is not None and (p > limit if r.buy else p < limit):
                    return
                key = (side, p)
                avail = q - taken.get(key, 0)
                if avail <= 0:
                    continue
                lots = min(avail, r.size - r.filled)
                taken[key] = taken.get(key, 0) + lots
                self._fill(r, p, lots, book, "taker", ts)
                if r.filled >= r.size:
                    return
            if len(pxs) < n:
                return
            done = n
            n *= 4

    def _fill(self, r: _Resting, px: int, lots: int, book: Book, liq: Any, ts: int) -> None:
        r.filled += lots
        r.nfills += 1
        price = round(px * book.tick_size, 12)
        size = round(lots * book.lot_size, 12)
        fee = price * size * (self._taker if liq == "taker" else self._maker)
        self.emit(Fill(fill_id=f"{r.order_id}.{r.nfills}", order_id=r.order_id,
                       account=r.account, symbol=r.symbol, side="buy" if r.buy else "sell",
                       price=price, size=size, fee=fee, liquidity=liq, ts=ts))

    def _after_fill(self, r: _Resting, ts: int) -> None:
        book = self.books[r.symbol]
        done = r.filled >= r.size
        if done:
            self.resting[r.symbol].pop(r.order_id, None)
        self.emit(OrderStatus(order_id=r.order_id, status="filled" if done else "partially_filled",
                              size=round(r.size * book.lot_size, 12), price=r.price,
                              filled=round(r.filled * book.lot_size, 12), ts=ts))

    # ------------------------------------------------------------------ market events

    def on_event(self, ev: MarketEvent) -> None:
        """Match resting orders against one market event (the book already reflects it)."""
        if self._inflight:
            self.poll(self.clock())
        sym = ev.symbol
        if isinstance(ev, BookDelta):
            taken = self._taken.get(sym)
            if taken:
                for p, _ in ev.bids:
                    taken.pop((BID, round(p / self.books[sym].tick_size)), None)
                for p, _ in ev.asks:
                    taken.pop((ASK, round(p / self.books[sym].tick_size)), None)
        elif isinstance(ev, BookSnapshot):
            self._taken.pop(sym, None)
        resting = self.resting.get(sym)
        if not resting:
            return
        book = self.books.get(sym)
        if book is None:
            return
        ts = ev.ts or self.clock()
        if isinstance(ev, Trade):
            self._on_trade(book, resting, ev, ts)
        elif isinstance(ev, BookDelta | BookSnapshot):
            self._on_book(book, resting, ts)

    def _on_trade(self, book: Book, resting: dict[str, _Resting], t: Trade, ts: int) -> None:
        tpx = round(t.price / book.tick_size)
        left = round(t.size / book.lot_size)
        for r in list(resting.values()):
            if left <= 0:
                break
            if r.buy:
                through = tpx < r.px
                at = tpx == r.px and t.side != "buy"
            else:
                through = tpx > r.px
                at = tpx == r.px and t.side != "sell"
            if not (through or at):
                continue
            avail = left
            if at and not through:
                eaten = min(r.ahead, left)
                r.ahead -= eaten
                # the book update that follows shows this trade; it must not count as a cancel
                r.level = max(0, r.level - eaten)
                avail = left - eaten
            else:
                r.ahead = 0
            lots = min(avail, r.size - r.filled)
            if lots > 0:
                left -= lots
                self._fill(r, r.px, lots, book, "maker", ts)
                self._after_fill(r, ts)

    def _on_book(self, book: Book, resting: dict[str, _Resting], ts: int) -> None:
        for r in list(resting.values()):
            level = book.lots_at(BID if r.buy else ASK, r.px)
            if level < r.level:
                # size left the level without a trade: cancels, spread pro-rata ahead/behind us
                gone = r.level - level
                r.ahead = max(0, r.ahead - round(gone * r.ahead / r.level))
            r.ahead = min(r.ahead, level)
            r.level = level
            if self._crosses(book, r.buy, r.px):
                self._match_resting_cross(book, r, ts)

    def _match_resting_cross(self, book: Book, r: _Resting, ts: int) -> None:
        """The other side reached our price: we were there first, so we fill as maker."""
        side = ASK if r.buy else BID
        taken = self._taken.setdefault(r.symbol, {})
        pxs, qtys = book.top_ticks(side, _WALK)
        before = r.filled
        for p, q in zip(pxs.tolist(), qtys.tolist(), strict=True):
            if p > r.px if r.buy else p < r.px:
                break
            avail = q - taken.get((side, p), 0)
            if avail <= 0:
                continue
            lots = min(avail, r.size - r.filled)
            taken[(side, p)] = taken.get((side, p), 0) + lots
            self._fill(r, r.px, lots, book, "maker", ts)
            if r.filled >= r.size:
                break
        if r.filled != before:
            r.ahead = 0
            self._after_fill(r, ts)
