"""EMS state as a pure function of the journal: orders, alerts, kill switches and the ledger.

`EmsState.apply` is the only code that changes state, live and on recovery alike, so a
rebuilt EMS is the one that wrote the journal, and replaying twice gives identical state.
Invalid transitions are logged with the order id and leave the order as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from console.ems.ledger import Ledger
from console.ems.messages import (
    TERMINAL,
    Ack,
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
    OrderStatusName,
    Position,
    QueueMark,
    SetAlert,
    Triggered,
)

log = logging.getLogger("console.ems")


class OrderState:
    """One order as the EMS knows it. Sizes and prices in venue units."""

    __slots__ = (
        "account",
        "avg_price",
        "created_ns",
        "filled",
        "nfills",
        "order_id",
        "pending_amend",
        "pending_cancel",
        "post_only",
        "price",
        "queue_ahead",
        "reason",
        "reduce_only",
        "side",
        "size",
        "status",
        "stop",
        "symbol",
        "tif",
        "triggered",
        "type",
        "updated_ns",
        "venue_id",
    )

    def __init__(self, req: NewOrder) -> None:
        self.order_id = req.order_id
        self.account = req.account
        self.symbol = req.symbol
        self.side = req.side
        self.type = req.type
        self.tif = req.tif
        self.size = req.size
        self.price = req.price
        self.stop = req.stop
        self.reduce_only = req.reduce_only
        self.post_only = req.post_only
        self.status: OrderStatusName = "pending"
        self.filled = 0.0
        self.avg_price = 0.0
        self.nfills = 0
        self.venue_id = ""
        self.reason = ""
        self.queue_ahead = 0.0
        self.triggered = False
        self.pending_cancel = False
        self.pending_amend: AmendOrder | None = None
        self.created_ns = req.ts
        self.updated_ns = req.ts

    @property
    def remaining(self) -> float:
        return max(0.0, round(self.size - self.filled, 9))

    @property
    def working(self) -> bool:
        return self.status not in TERMINAL

    @property
    def dark(self) -> bool:
        """A stop the EMS itself holds until the market reaches its trigger."""
        return self.type in ("stop", "stop-limit") and not self.triggered

    def message(self, ts: int = 0) -> OrderStatus:
        return OrderStatus(order_id=self.order_id, status=self.status, size=self.size,
                           price=self.price, filled=self.filled, reason=self.reason, ts=ts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id, "account": self.account, "symbol": self.symbol,
            "side": self.side, "type": self.type, "tif": self.tif, "size": self.size,
            "price": self.price, "stop": self.stop, "status": self.status,
            "filled": self.filled, "remaining": self.remaining, "avg_price": self.avg_price,
            "venue_id": self.venue_id, "reason": self.reason, "reduce_only": self.reduce_only,
            "post_only": self.post_only, "triggered": self.triggered,
            "created_ns": self.created_ns, "updated_ns": self.updated_ns,
        }


class EmsState:
    """Everything the EMS knows, rebuilt from journal events by `apply`."""

    def __init__(self) -> None:
        self.orders: dict[str, OrderState] = {}
        self.working: dict[str, OrderState] = {}
        self.alerts: dict[str, SetAlert] = {}
        self.killed: dict[str, str] = {}  # account ("" = all) -> reason
        self.open_count: dict[str, int] = {}  # account -> working orders
        self.ledger = Ledger()
        self.anomalies = 0
        self._dispatch: dict[type, Callable[[Any], None]] = {
            NewOrder: self._new,
            CancelOrder: self._cancel,
            AmendOrder: self._amend,
            Ack: self._ack,
            OrderStatus: self._status,
            Fill: self._fill,
            Triggered: self._triggered,
            QueueMark: self._queue,
            SetAlert: self._alert,
            CancelAlert: self._alert_gone,
            AlertTriggered: self._alert_gone,
            KillSwitch: self._kill,
            CancelAll: _nothing,
            Flatten: _nothing,
            Error: _nothing,
            Position: _nothing,
            Balance: _nothing,
        }

    def apply(self, ev: OrderEvent) -> None:
        self._dispatch[type(ev)](ev)

    def apply_many(self, events: Iterable[OrderEvent]) -> None:
        dispatch = self._dispatch
        for ev in events:
            dispatch[type(ev)](ev)

    def _anomaly(self, order_id: str, what: str) -> None:
        self.anomalies += 1
        log.warning("order %s: %s; ignored", order_id, what)

    def _new(self, ev: NewOrder) -> None:
        if ev.order_id in self.orders:
            self._anomaly(ev.order_id, "a second new-order request with the same id")
            return
        o = self.orders[ev.order_id] = OrderState(ev)
        self.working[ev.order_id] = o
        self.open_count[ev.account] = self.open_count.get(ev.account, 0) + 1

    def _cancel(self, ev: CancelOrder) -> None:
        o = self.working.get(ev.order_id)
        if o is not None and not o.venue_id:
            o.pending_cancel = True  # held until the venue acks the order

    def _amend(self, ev: AmendOrder) -> None:
        o = self.working.get(ev.order_id)
        if o is None:
            return
        if o.dark:
            # nothing outside the EMS holds the stop: the amend itself is the change
            if ev.stop:
                o.stop = ev.stop
            if ev.price:
                o.price = ev.price
            if ev.size:
                o.size = ev.size
            o.updated_ns = ev.ts
        elif not o.venue_id:
            o.pending_amend = ev

    def _ack(self, ev: Ack) -> None:
        o = self.orders.get(ev.order_id)
        if o is None:
            self._anomaly(ev.order_id, "ack for an unknown order")
            return
        o.venue_id = ev.venue_id
        o.queue_ahead = ev.queue_ahead
        o.updated_ns = ev.ts

    def _status(self, ev: OrderStatus) -> None:
        o = self.orders.get(ev.order_id)
        if o is None:
            self._anomaly(ev.order_id, f"status {ev.status} for an unknown order")
            return
        if o.status in TERMINAL:
            if ev.status != o.status:
                self._anomaly(ev.order_id, f"status {ev.status} after {o.status}")
            return
        o.status = ev.status
        o.size = ev.size
        if ev.price:
            o.price = ev.price
        o.reason = ev.reason
        o.updated_ns = ev.ts
        if ev.status in TERMINAL:
            if self.working.pop(ev.order_id, None) is not None:
                self.open_count[o.account] -= 1
            o.pending_cancel = False
            o.pending_amend = None

    def _fill(self, ev: Fill) -> None:
        # money moved whatever the order's state says, so the position always takes the fill
        self.ledger.apply(ev)
        o = self.orders.get(ev.order_id)
        if o is None:
            self._anomaly(ev.order_id, f"fill {ev.fill_id} for an unknown order")
            return
        if o.status in ("canceled", "rejected", "expired"):
            self._anomaly(ev.order_id, f"fill {ev.fill_id} after {o.status}")
            return
        filled = round(o.filled + ev.size, 9)
        if filled > o.size + 1e-9:
            self._anomaly(ev.order_id, f"fill {ev.fill_id} overfills {o.size} to {filled}")
            filled = o.size
        o.avg_price = (o.avg_price * o.filled + ev.price * (filled - o.filled)) / filled \
            if filled else 0.0
        o.filled = filled
        o.nfills += 1
        o.updated_ns = ev.ts

    def _triggered(self, ev: Triggered) -> None:
        o = self.orders.get(ev.order_id)
        if o is not None:
            o.triggered = True
            o.updated_ns = ev.ts

    def _queue(self, ev: QueueMark) -> None:
        o = self.orders.get(ev.order_id)
        if o is not None:
            o.queue_ahead = ev.ahead

    def _alert(self, ev: SetAlert) -> None:
        self.alerts[ev.alert_id] = ev

    def _alert_gone(self, ev: CancelAlert | AlertTriggered) -> None:
        self.alerts.pop(ev.alert_id, None)

    def _kill(self, ev: KillSwitch) -> None:
        if ev.engaged:
            self.killed[ev.account] = ev.reason
        else:
            self.killed.pop(ev.account, None)

    def fingerprint(self) -> tuple[object, ...]:
        """Everything observable, for comparing two rebuilds."""
        return (
            sorted((k, tuple(sorted(o.as_dict().items()))) for k, o in self.orders.items()),
            sorted(self.working),
            sorted(self.alerts.items(), key=lambda kv: kv[0]),
            sorted(self.killed.items()),
            sorted((k, p.size, p.avg_price, p.realized, p.fees)
                   for k, p in self.ledger.positions.items()),
        )


def _nothing(ev: object) -> None:
    return None
