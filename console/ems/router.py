"""The EMS: routes requests through risk and the journal to a destination, holds dark stops.

Synchronous core: each call (a request, a market event) stages everything it causes in the
journal, applies it to `EmsState`, commits once, and only then publishes to subscribers, so
nothing shown as accepted can be lost by a killed process. Accounts map to destinations:
`paper` always exists; venue brokers plug in with the same `Destination` shape.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any, Protocol

import msgspec

from console.ems.journal import Journal
from console.ems.messages import (
    TERMINAL,
    Ack,
    AlertCondition,
    AlertTriggered,
    AmendOrder,
    Balance,
    CancelAlert,
    CancelAll,
    CancelOrder,
    Error,
    Fill,
    Flatten,
    KillSwitch,
    NewOrder,
    OrderEvent,
    OrderStatus,
    Position,
    QueueMark,
    Reply,
    SetAlert,
    Triggered,
)
from console.ems.paper import PAPER, PaperConfig, PaperEngine
from console.ems.risk import RiskGate, RiskLimits, RiskReject
from console.ems.state import EmsState, OrderState
from console.model.book import Book
from console.model.events import MarketEvent, Quote, Trade
from console.model.instruments import Instrument

log = logging.getLogger("console.ems")


class Destination(Protocol):
    """Where an account's orders go (the paper engine, a venue broker)."""

    name: str

    def submit(self, o: OrderState) -> None: ...
    def cancel(self, o: OrderState, reason: str = ...) -> None: ...
    def amend(self, o: OrderState, price: float, size: float) -> str | None: ...
    def restore(self, o: OrderState) -> None: ...


class MarketHub(Protocol):
    """What the EMS needs from a feed hub."""

    books: dict[str, Book]
    instruments: dict[str, Instrument]

    def subscribe(self, callback: Callable[[MarketEvent], None]) -> Callable[[], None]: ...


_ids = itertools.count(1)


def new_order_id(prefix: str = "O") -> str:
    """A client order id unique across processes: time in µs, process id, counter."""
    return f"{prefix}{time.time_ns() // 1000:x}{os.getpid() % 4096:03x}{next(_ids) % 4096:03x}"


class Ems:
    """One per process. All methods are synchronous and return the events they caused."""

    def __init__(
        self,
        journal: Journal,
        *,
        books: Mapping[str, Book] | None = None,
        instruments: Mapping[str, Instrument] | None = None,
        risk: Mapping[str, RiskLimits] | None = None,
        paper: PaperConfig | None = None,
        accounts: Mapping[str, Destination] | None = None,
        paper_accounts: Iterable[str] = (),
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.journal = journal
        self.books: Mapping[str, Book] = books if books is not None else {}
        self.instruments: Mapping[str, Instrument] = instruments if instruments is not None else {}
        self.clock = clock
        self.state = EmsState()
        self.paper = PaperEngine(self.books, self._emit, clock, paper)
        self.accounts: dict[str, Destination] = {PAPER: self.paper, **(accounts or {})}
        for name in paper_accounts:  # more paper accounts, e.g. one per strategy
            self.accounts[name] = self.paper
        self._risk = dict(risk or {})
        self._gates: dict[str, RiskGate] = {}
        self._batch: list[OrderEvent] = []
        self._acked: list[str] = []
        self._subs: list[Callable[[OrderEvent], None]] = []
        self._dark: dict[str, dict[str, OrderState]] = {}  # symbol -> stops the EMS holds
        # paper orders and stops to match or watch here once their market is known
        self._unrestored: dict[str, OrderState] = {}
        # working orders another live process matches or watches (and amends of them
        # applies): order id -> its writer
        self._pending: dict[str, str] = {}
        self._derived: dict[str, Instrument] = {}  # from the book where no Instrument is known
        # symbols whose market events matter; None after a flush, rebuilt at the next event
        # (a burst of requests between two market events rebuilds it once, not per request)
        self._watch: set[str] | None = None
        self._unsub: Callable[[], None] | None = None
        self.faults = 0  # market events the EMS failed on (logged)
        self._synced = 0  # journal id up to which this EMS has applied every event
        self.recover()

    # ------------------------------------------------------------------ wiring

    def attach(self, hub: MarketHub) -> None:
        """Use a feed hub's books and instruments and take its market events."""
        self.books = hub.books
        self.paper.books = hub.books
        self.instruments = hub.instruments
        self._unsub = hub.subscribe(self.on_event)
        self._restore_ready()

    def subscribe(self, callback: Callable[[OrderEvent], None]) -> Callable[[], None]:
        """Call `callback` with every event after it is journaled; returns the unsubscriber."""
        self._subs.append(callback)
        return lambda: self._subs.remove(callback) if callback in self._subs else None

    async def updates(self) -> AsyncIterator[OrderEvent]:
        """The EMS's events as an async stream, for asyncio code (the UI's order panes)."""
        queue: asyncio.Queue[OrderEvent] = asyncio.Queue()
        unsub = self.subscribe(queue.put_nowait)
        try:
            while True:
                yield await queue.get()
        finally:
            unsub()

    def close(self) -> None:
        """Checkpoint paper queue positions and close the journal."""
        self.paper.checkpoint()
        self._flush()
        if self._unsub is not None:
            self._unsub()
        self.journal.close()

    # ------------------------------------------------------------------ recovery

    def recover(self) -> int:
        """Rebuild state from the journal alone; returns the number of events replayed."""
        n = 0
        # a million new objects would trigger many full collections; none of them are garbage
        enabled = gc.isenabled()
        gc.disable()
        last = self.journal.last_id()
        try:
            for chunk in self.journal.replay(upto=last):
                self.state.apply_many(chunk)
                n += len(chunk)
        finally:
            if enabled:
                gc.enable()
        self._synced = last
        for o in self.state.working.values():
            if o.dark or self.accounts.get(o.account) is self.paper:
                self._unrestored[o.order_id] = o
        self._restore_ready()
        self._flush()
        return n

    def sync(self) -> list[OrderEvent]:
        """Take in what other processes (e.g. `mdconsole order|cancel`) wrote to the journal.

        Their orders join this EMS, their cancels take orders out of this paper engine, and
        a resting order they filled is taken back as the journal now has it. One live process
        matches a resting paper order or watches a held stop: the writer of its newest row
        (amends and errors aside); an order whose writer is gone is claimed here. Their
        amends of orders held here are applied here, as a venue applies one.
        Call it from a timer.
        """
        events, owners, self._synced = self.journal.foreign(self._synced)
        if not events and not self._pending:
            return []
        alive: dict[str, bool] = {}  # one lock check per writer and call

        def live(writer: str) -> bool:
            if writer not in alive:
                alive[writer] = self.journal.alive(writer)
            return alive[writer]

        touched: dict[str, None] = {}
        changed: set[str] = set()  # resting orders whose size or fills moved elsewhere
        amends: list[AmendOrder] = []  # requests to whichever process holds the order
        for ev in events:
            self.state.apply(ev)
            self._batch.append(ev)
            oid = getattr(ev, "order_id", None)
            if oid is not None:
                touched[oid] = None
                if type(ev) is AmendOrder:
                    amends.append(ev)
                elif type(ev) in (OrderStatus, Fill):
                    changed.add(oid)
        for oid, writer in list(self._pending.items()):
            if oid not in touched and not live(writer):
                self._take_back(oid)
        for oid in touched:
            o = self.state.orders.get(oid)
            if o is None or not (o.dark or self.accounts.get(o.account) is self.paper):
                continue
            if not o.working:
                self._release(o)
                self._pending.pop(oid, None)
                continue
            # only error rows of others: whoever held it still does
            writer = owners.get(oid) or self._pending.get(oid) or self.journal.writer
            if writer != self.journal.writer:
                self._release(o)
                if live(writer):
                    self._pending[oid] = writer
                else:
                    self._take_back(oid)
            elif oid in changed and not o.dark and o.venue_id:
                # ours, but changed elsewhere before our last row: rebuilt from the journal
                self._release(o)
                self._take_back(oid)
        self._restore_ready(flush=False)
        for am in amends:
            self._apply_amend(am)
        return self._flush()

    def _apply_amend(self, am: AmendOrder) -> None:
        """Apply another process's amend to an order matched or watched here."""
        o = self.state.working.get(am.order_id)
        if o is None:
            return
        now = self.clock()
        if o.dark:
            if am.order_id in self._dark.get(o.symbol, {}):
                # the state took the new trigger in already: say so, and fire it if the
                # market is through it now, as a local amend does
                self._record(OrderStatus(order_id=o.order_id, status=o.status, size=o.size,
                                         price=o.price, filled=o.filled, ts=now))
                self._check_stops(o.symbol, None)
        elif am.order_id in self.paper.resting.get(o.symbol, {}):
            why = self.paper.amend(o, am.price, am.size)
            if why:
                self._record(Error(order_id=o.order_id, message=f"amend: {why}", ts=now))

    def holder(self, order_id: str) -> str | None:
        """The live other process (journal writer) holding an order; this one leaves it alone.

        Asks the journal, so a command that has not claimed anything yet learns it too.
        """
        writer = self.journal.holder(order_id)
        if writer is not None:
            o = self.state.orders.get(order_id)
            if o is not None:
                self._release(o)
            self._pending[order_id] = writer
        return writer

    def _release(self, o: OrderState) -> None:
        """Stop matching or watching an order here."""
        self.paper.resting.get(o.symbol, {}).pop(o.order_id, None)
        self._dark.get(o.symbol, {}).pop(o.order_id, None)
        self._unrestored.pop(o.order_id, None)
        self._watch = None

    def _take_back(self, order_id: str) -> None:
        """Queue a working order to be claimed and matched (or watched) here."""
        self._pending.pop(order_id, None)
        o = self.state.working.get(order_id)
        if o is not None:
            self._unrestored[order_id] = o

    def _restore_ready(self, flush: bool = True) -> None:
        """Claim and start matching (or watching) the queued orders whose market is known."""
        if not self._unrestored:
            return
        ready = [o for o in self._unrestored.values() if o.symbol in self.books]
        if not ready:
            return
        now = self.clock()
        try:
            held = self.journal.claim([QueueMark(order_id=o.order_id, ahead=o.queue_ahead,
                                                 ts=now) for o in ready])
        except (sqlite3.Error, OSError):
            # the file is busy or failing: the orders stay queued for the next try
            log.exception("claiming %d orders failed", len(ready))
            return
        for o in ready:
            del self._unrestored[o.order_id]
            if o.order_id in held:
                self._pending[o.order_id] = held[o.order_id]
            elif o.dark:
                self._dark.setdefault(o.symbol, {})[o.order_id] = o
            else:
                self.paper.restore(o)
        self._watch = None
        if flush:
            self._flush()

    # ------------------------------------------------------------------ plumbing

    def _emit(self, ev: Reply) -> None:
        self.journal.append(ev)
        self.state.apply(ev)
        self._batch.append(ev)
        if type(ev) is Ack:
            o = self.state.orders.get(ev.order_id)
            if o is not None and (o.pending_cancel or o.pending_amend is not None):
                self._acked.append(ev.order_id)

    def _record(self, ev: OrderEvent) -> None:
        self.journal.append(ev)
        self.state.apply(ev)
        self._batch.append(ev)

    def _flush(self) -> list[OrderEvent]:
        while self._acked:
            self._release_held(self._acked.pop(0))
        self._watch = None
        batch = self._batch
        if not batch:
            return batch
        self._batch = []
        self.journal.commit()
        touched = {(ev.account, ev.symbol) for ev in batch if type(ev) is Fill}
        batch.extend(self.position(a, s) for a, s in sorted(touched))
        for cb in self._subs:
            for ev in batch:
                try:
                    cb(ev)
                except Exception:
                    log.exception("an EMS subscriber failed on %s", type(ev).__name__)
        return batch

    def _release_held(self, order_id: str) -> None:
        """The venue acked an order that has a cancel or amend waiting: send it now."""
        o = self.state.working.get(order_id)
        if o is None:
            return
        dest = self.accounts[o.account]
        if o.pending_cancel:
            o.pending_cancel = False
            o.pending_amend = None
            dest.cancel(o)
        elif o.pending_amend is not None:
            am, o.pending_amend = o.pending_amend, None
            why = dest.amend(o, am.price, am.size)
            if why:
                self._record(Error(order_id=order_id, message=f"amend: {why}", ts=self.clock()))

    def _error(self, order_id: str, message: str) -> list[OrderEvent]:
        self._record(Error(order_id=order_id, message=message, ts=self.clock()))
        return self._flush()

    def _gate(self, account: str) -> RiskGate:
        gate = self._gates.get(account)
        if gate is None:
            gate = self._gates[account] = RiskGate(account, self._risk.get(account, RiskLimits()))
        return gate

    def set_risk(self, account: str, limits: RiskLimits) -> None:
        self._risk[account] = limits
        self._gates.pop(account, None)

    def _mid(self, symbol: str) -> float | None:
        book = self.books.get(symbol)
        return book.mid if book is not None else None

    # ------------------------------------------------------------------ requests

    def submit(self, req: NewOrder) -> list[OrderEvent]:
        """Place an order: duplicate check, kill switch, risk, journal, route."""
        self._submit(req)
        return self._flush()

    def submit_many(self, reqs: Iterable[NewOrder]) -> list[OrderEvent]:
        """Place several orders with one journal commit (group commit for bursts)."""
        for req in reqs:
            self._submit(req)
        return self._flush()

    def _submit(self, req: NewOrder) -> None:
        now = self.clock()
        if not req.ts:
            req = msgspec.structs.replace(req, ts=now)
        known = self.state.orders.get(req.order_id)
        if known is not None:
            self._record(Error(order_id=req.order_id, ts=now, message=(
                f"duplicate order id {req.order_id}: already {known.status}; not sent again")))
            return
        reason = self._refuse(req, now)
        if isinstance(reason, str):
            self._record(req)
            self._record(OrderStatus(order_id=req.order_id, status="rejected", size=req.size,
                                     price=req.price, reason=reason, ts=now))
            return
        req = reason
        self._record(req)
        o = self.state.orders[req.order_id]
        if o.dark:
            self._record(Ack(order_id=o.order_id, venue_id="", ts=now))
            self._record(OrderStatus(order_id=o.order_id, status="open", size=o.size,
                                     price=o.price, ts=now))
            self._dark.setdefault(o.symbol, {})[o.order_id] = o
            self._check_stops(o.symbol, None)
        else:
            dest = self.accounts[o.account]
            if dest is not self.paper:
                # a venue must never hold an order the journal does not: commit it first
                self.journal.commit()
            dest.submit(o)

    def _refuse(self, req: NewOrder, now: int) -> str | NewOrder:
        """Why the order may not go (a string), or the order on the tick/lot grid."""
        if req.account not in self.accounts:
            return (f"account: unknown account {req.account!r}; configured accounts: "
                    f"{', '.join(self.accounts)}")
        for key in (req.account, ""):
            if key in self.state.killed:
                why = self.state.killed[key]
                return (f"kill_switch: trading is halted for "
                        f"{'every account' if not key else 'account ' + key}"
                        f"{' (' + why + ')' if why else ''}; re-arm it to trade again")
        inst = self.instruments.get(req.symbol) or self._derived.get(req.symbol)
        if inst is None:
            book = self.books.get(req.symbol)
            if book is None:
                return f"symbol: no instrument data for {req.symbol}; is its feed running?"
            inst = self._derived[req.symbol] = Instrument(
                symbol=req.symbol, base="", quote="", tick_size=book.tick_size,
                lot_size=book.lot_size)
        pos = self.state.ledger.size(req.account, req.symbol)
        if req.reduce_only:
            signed = req.size if req.side == "buy" else -req.size
            if pos == 0 or (pos > 0) == (signed > 0) or abs(signed) > abs(pos) + 1e-12:
                return (f"reduce_only: a {req.side} of {req.size:g} does not reduce the "
                        f"position of {pos:g} {req.symbol}")
        try:
            return self._gate(req.account).check(
                req, inst, mid=self._mid(req.symbol), position=pos,
                open_orders=self.state.open_count.get(req.account, 0), now_ns=now)
        except RiskReject as exc:
            return str(exc)

    def cancel(self, order_id: str, reason: str = "canceled") -> list[OrderEvent]:
        """Cancel one order; before the venue's ack the cancel is held and sent with it."""
        self._cancel_one(order_id, reason)
        return self._flush()

    def _cancel_one(self, order_id: str, reason: str) -> None:
        now = self.clock()
        o = self.state.orders.get(order_id)
        if o is None:
            self._record(Error(order_id=order_id, message=f"cancel: unknown order {order_id}",
                               ts=now))
            return
        if o.status in TERMINAL:
            self._record(Error(order_id=order_id, ts=now,
                               message=f"cancel: order {order_id} is already {o.status}"))
            return
        self._record(CancelOrder(order_id=order_id, ts=now))
        self._pending.pop(order_id, None)
        self._unrestored.pop(order_id, None)
        if o.dark:
            self._dark.get(o.symbol, {}).pop(order_id, None)
            self._record(OrderStatus(order_id=order_id, status="canceled", size=o.size,
                                     price=o.price, filled=o.filled, reason=reason, ts=now))
        elif o.venue_id:
            self.accounts[o.account].cancel(o, reason)
        # else: held (pending_cancel) until the ack lands

    def amend(self, order_id: str, *, price: float = 0.0, size: float = 0.0,
              stop: float = 0.0) -> list[OrderEvent]:
        """Change a working order's price and/or size, or a held stop's trigger (0 keeps it).

        For a stop still waiting for its trigger, `stop` moves the trigger and `price` the
        limit of a stop-limit; a plain stop has no limit, so there `price` moves the trigger
        (what moving any order on the ladder means). An order another live process matches
        or watches is only journaled here: that process applies the amend at its next sync.
        """
        now = self.clock()
        o = self.state.orders.get(order_id)
        if o is None:
            return self._error(order_id, f"amend: unknown order {order_id}")
        if o.status in TERMINAL:
            return self._error(order_id, f"amend: order {order_id} is {o.status}; only working "
                                         "orders can be amended")
        if stop and not o.dark:
            return self._error(order_id, f"amend: order {order_id} is not a stop waiting for "
                                         "its trigger; it has no trigger to move")
        if o.dark and o.type == "stop" and price:
            if stop:
                return self._error(order_id, f"amend: stop order {order_id} has no limit price; "
                                             "give only the new trigger (stop)")
            price, stop = 0.0, price
        if price and o.type == "market":
            return self._error(order_id, "amend: a market order has no price to change")
        inst = self.instruments.get(o.symbol)
        book = self.books.get(o.symbol)
        tick = inst.tick_size if inst else book.tick_size if book else 0.0
        lot = inst.lot_size if inst else book.lot_size if book else 0.0
        if tick and price:
            price = round(round(price / tick) * tick, 12)
        if tick and stop:
            stop = round(round(stop / tick) * tick, 12)
        if lot and size:
            size = round(round(size / lot) * lot, 12)
        limits = self._gate(o.account).limits
        mid = self._mid(o.symbol)
        # the band guards limit prices, as for new orders: a protective stop often sits far
        # from the market and must stay movable
        if price and mid and limits.price_band_pct:
            off = abs(price - mid) / mid * 100.0
            if off > limits.price_band_pct + 1e-9:
                return self._error(order_id, f"price_band_pct: limit price {price:g} is "
                                             f"{off:.2f}% from mid {mid:g}, beyond the "
                                             f"limit {limits.price_band_pct:g}%")
        if size and limits.max_order_size and size > limits.max_order_size + 1e-12:
            return self._error(order_id, f"max_order_size: size {size:g} exceeds the limit "
                                         f"{limits.max_order_size:g} for account {o.account}")
        self._record(AmendOrder(order_id=order_id, price=price, size=size, stop=stop, ts=now))
        if order_id in self._pending:
            # another live process matches or watches it: the row is a request it applies
            # at its next sync, as a venue would
            return self._flush()
        if o.dark:
            self._record(OrderStatus(order_id=order_id, status=o.status, size=o.size,
                                     price=o.price, filled=o.filled, ts=now))
            # a trigger moved through the market fires now, as a new stop would
            self._check_stops(o.symbol, None)
        elif o.venue_id:
            why = self.accounts[o.account].amend(o, price, size)
            if why:
                self._record(Error(order_id=order_id, message=f"amend: {why}", ts=now))
        return self._flush()

    def cancel_all(self, account: str = "", symbol: str = "") -> list[OrderEvent]:
        """Cancel every working order (including dark stops) of an account and/or symbol."""
        self._record(CancelAll(account=account, symbol=symbol, ts=self.clock()))
        for o in list(self.state.working.values()):
            if (not account or o.account == account) and (not symbol or o.symbol == symbol):
                self._cancel_one(o.order_id, "cancel-all")
        return self._flush()

    def flatten(self, account: str, symbol: str, order_id: str = "") -> list[OrderEvent]:
        """Close the position at market with a reduce-only order."""
        order_id = order_id or new_order_id("F")
        self._record(Flatten(order_id=order_id, account=account, symbol=symbol, ts=self.clock()))
        pos = self.state.ledger.size(account, symbol)
        if not pos:
            return self._error(order_id, f"flatten: account {account} has no {symbol} position")
        self._flush()
        return self.submit(NewOrder(order_id=order_id, account=account, symbol=symbol,
                                    side="sell" if pos > 0 else "buy", size=abs(pos),
                                    type="market", tif="ioc", reduce_only=True))

    def kill(self, account: str = "", reason: str = "") -> list[OrderEvent]:
        """Engage the kill switch: cancel all working orders and block new ones."""
        self._record(KillSwitch(account=account, engaged=True, reason=reason, ts=self.clock()))
        self._flush()
        return self.cancel_all(account)

    def rearm(self, account: str = "") -> list[OrderEvent]:
        self._record(KillSwitch(account=account, engaged=False, ts=self.clock()))
        return self._flush()

    def set_alert(self, alert_id: str, symbol: str, condition: AlertCondition, price: float,
                  note: str = "") -> list[OrderEvent]:
        self._record(SetAlert(alert_id=alert_id, symbol=symbol, condition=condition,
                              price=price, note=note, ts=self.clock()))
        return self._flush()

    def cancel_alert(self, alert_id: str) -> list[OrderEvent]:
        self._record(CancelAlert(alert_id=alert_id, ts=self.clock()))
        return self._flush()

    def poll(self, now_ns: int | None = None) -> list[OrderEvent]:
        """Deliver paper orders whose simulated latency passed (call from a timer)."""
        self.paper.poll(self.clock() if now_ns is None else now_ns)
        return self._flush()

    # ------------------------------------------------------------------ market data

    def on_event(self, ev: MarketEvent) -> None:
        """Feed-hub subscriber: match paper orders, trigger stops and alerts.

        Never raises: the hub drops a subscriber that does, which would silently stop all
        paper matching; a failure is logged and counted in `faults` instead.
        """
        try:
            self._on_event(ev)
        except Exception:
            self.faults += 1
            log.exception("EMS failed on %s for %s", type(ev).__name__, ev.symbol)

    def _on_event(self, ev: MarketEvent) -> None:
        if self._unrestored:
            self._restore_ready()
        if self.paper._inflight:
            self.paper.poll(self.clock())
        sym = ev.symbol
        watch = self._watch
        if watch is None:
            watch = self._watch = self.paper.symbols
            if self._dark:
                watch.update(s for s, d in self._dark.items() if d)
            if self.state.alerts:
                watch.update(a.symbol for a in self.state.alerts.values())
        if sym in watch:
            self.paper.on_event(ev)
            if sym in self._dark:
                self._check_stops(sym, ev)
            if self.state.alerts:
                self._check_alerts(sym, ev)
        if self._batch or self._acked:
            self._flush()

    def _check_stops(self, sym: str, ev: MarketEvent | None) -> None:
        stops = self._dark.get(sym)
        if not stops:
            return
        book = self.books.get(sym)
        bid = book.best_bid if book is not None else None
        ask = book.best_ask if book is not None else None
        last = None
        if isinstance(ev, Trade):
            last = ev.price
        elif isinstance(ev, Quote):
            bid = ev.bid or bid
            ask = ev.ask or ask
            last = ev.last or None
        for o in list(stops.values()):
            s = o.stop
            if o.side == "buy":
                hit = ask if ask is not None and ask >= s else last if last and last >= s else None
            else:
                hit = bid if bid is not None and bid <= s else last if last and last <= s else None
            if hit is None:
                continue
            del stops[o.order_id]
            self._record(Triggered(order_id=o.order_id, price=hit, ts=self.clock()))
            self.accounts[o.account].submit(o)

    def _check_alerts(self, sym: str, ev: MarketEvent) -> None:
        if isinstance(ev, Trade):
            ref: float | None = ev.price
        elif isinstance(ev, Quote):
            ref = ev.last
        else:
            ref = self._mid(sym)
        if ref is None:
            return
        for a in list(self.state.alerts.values()):
            if a.symbol == sym and (ref >= a.price if a.condition == "above" else ref <= a.price):
                self._record(AlertTriggered(alert_id=a.alert_id, symbol=sym, price=ref,
                                            ts=self.clock()))

    # ------------------------------------------------------------------ reads

    def position(self, account: str, symbol: str) -> Position:
        p = self.state.ledger.get(account, symbol)
        if p is None:
            return Position(account=account, symbol=symbol, size=0.0, avg_price=0.0,
                            realized_pnl=0.0, ts=self.clock())
        return p.message(self._mid(symbol), ts=self.clock())

    def positions(self) -> list[Position]:
        return [self.position(a, s) for (a, s) in self.state.ledger.positions]

    def balance(self, account: str = PAPER, currency: str = "USD") -> Balance:
        cash = self.paper.config.initial_cash
        unreal = 0.0
        for (acc, sym), p in self.state.ledger.positions.items():
            if acc == account:
                cash += p.realized - p.fees
                unreal += p.unrealized(self._mid(sym))
        return Balance(account=account, currency=currency, cash=cash, equity=cash + unreal,
                       ts=self.clock())

    def working_orders(self, symbol: str = "") -> list[OrderState]:
        return [o for o in self.state.working.values() if not symbol or o.symbol == symbol]

    def describe(self) -> dict[str, Any]:
        return {"orders": len(self.state.orders), "working": len(self.state.working),
                "alerts": len(self.state.alerts), "killed": dict(self.state.killed)}
