"""The order protocol: typed, tagged msgspec messages between the UI, the EMS and its venues.

Requests flow in (new, cancel, amend, cancel-all, flatten, alerts, kill switch); replies flow
out (ack, status, fill, position, balance, error, triggers). Every one of them is journaled,
so the same classes are the journal's record format. Prices and sizes are floats in venue
units; times are integer nanoseconds since the epoch.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

import msgspec

OrderSide: TypeAlias = Literal["buy", "sell"]
OrderType: TypeAlias = Literal["market", "limit", "stop", "stop-limit"]
TimeInForce: TypeAlias = Literal["gtc", "ioc", "fok"]
OrderStatusName: TypeAlias = Literal[
    "pending", "open", "partially_filled", "filled", "canceled", "rejected", "expired"
]
Liquidity: TypeAlias = Literal["maker", "taker"]
AlertCondition: TypeAlias = Literal["above", "below"]

ORDER_SIDES: tuple[str, ...] = ("buy", "sell")
ORDER_TYPES: tuple[str, ...] = ("market", "limit", "stop", "stop-limit")
TIFS: tuple[str, ...] = ("gtc", "ioc", "fok")
TERMINAL: frozenset[str] = frozenset({"filled", "canceled", "rejected", "expired"})
"""States an order never leaves."""


class _Msg(
    msgspec.Struct, frozen=True, tag_field="k", kw_only=True, omit_defaults=True, gc=False
):
    """Fields every order-side message carries (scalars only: no GC tracking needed)."""

    ts: int = 0


# --- requests -----------------------------------------------------------------------------


class NewOrder(_Msg, tag="new", frozen=True):
    """Place an order. `order_id` is ours and unique; `price` is the limit, `stop` the trigger."""

    order_id: str
    account: str
    symbol: str
    side: OrderSide
    size: float
    type: OrderType = "limit"
    price: float = 0.0
    stop: float = 0.0
    tif: TimeInForce = "gtc"
    reduce_only: bool = False
    post_only: bool = False


class CancelOrder(_Msg, tag="cancel", frozen=True):
    """Cancel one order."""

    order_id: str


class AmendOrder(_Msg, tag="amend", frozen=True):
    """Change a working order's price, size and/or, for a stop the EMS still holds, its
    trigger `stop` (0 leaves that field as it is)."""

    order_id: str
    price: float = 0.0
    size: float = 0.0
    stop: float = 0.0


class CancelAll(_Msg, tag="cancel_all", frozen=True):
    """Cancel every working order of an account and/or symbol ("" = any)."""

    account: str = ""
    symbol: str = ""


class Flatten(_Msg, tag="flatten", frozen=True):
    """Close the position of `account` in `symbol` at market, with a new order `order_id`."""

    order_id: str
    account: str
    symbol: str


class SetAlert(_Msg, tag="alert", frozen=True):
    """Notify (never trade) when `symbol` trades or quotes above/below `price`."""

    alert_id: str
    symbol: str
    condition: AlertCondition
    price: float
    note: str = ""


class CancelAlert(_Msg, tag="alert_cancel", frozen=True):
    alert_id: str


class KillSwitch(_Msg, tag="kill", frozen=True):
    """Engage (cancel all, block new orders) or re-arm an account ("" = every account)."""

    account: str = ""
    engaged: bool = True
    reason: str = ""


# --- replies ------------------------------------------------------------------------------


class Ack(_Msg, tag="ack", frozen=True):
    """The venue (or the EMS, for dark orders) accepted the order: our id <-> venue id.

    `queue_ahead` is the displayed size ahead of a resting paper order at its price.
    """

    order_id: str
    venue_id: str
    queue_ahead: float = 0.0


class OrderStatus(_Msg, tag="ord", frozen=True):
    """An order's state. `size` and `price` are the order's current ones (after amends)."""

    order_id: str
    status: OrderStatusName
    size: float
    price: float = 0.0
    filled: float = 0.0
    reason: str = ""

    @property
    def remaining(self) -> float:
        return max(0.0, round(self.size - self.filled, 9))


class Fill(_Msg, tag="fill", frozen=True):
    """One execution. Carries account, symbol and side so positions derive from fills alone."""

    fill_id: str
    order_id: str
    account: str
    symbol: str
    side: OrderSide
    price: float
    size: float
    fee: float = 0.0
    liquidity: Liquidity = "taker"


class Position(_Msg, tag="pos", frozen=True):
    """Signed size (negative = short) at average cost; PnL in quote currency, fees apart."""

    account: str
    symbol: str
    size: float
    avg_price: float
    realized_pnl: float
    unrealized_pnl: float = 0.0
    fees: float = 0.0


class Balance(_Msg, tag="bal", frozen=True):
    account: str
    currency: str
    cash: float
    equity: float


class Error(_Msg, tag="err", frozen=True):
    """A request that changed nothing (duplicate id, unknown order, invalid transition)."""

    order_id: str
    message: str


class Triggered(_Msg, tag="trig", frozen=True):
    """A dark stop order triggered at `price` and is being routed as a real order."""

    order_id: str
    price: float


class AlertTriggered(_Msg, tag="alert_hit", frozen=True):
    alert_id: str
    symbol: str
    price: float


class QueueMark(_Msg, tag="queue", frozen=True):
    """Checkpoint of a resting paper order's queue position, so it survives restart."""

    order_id: str
    ahead: float


Request: TypeAlias = (
    NewOrder | CancelOrder | AmendOrder | CancelAll | Flatten | SetAlert | CancelAlert | KillSwitch
)
Reply: TypeAlias = (
    Ack | OrderStatus | Fill | Position | Balance | Error | Triggered | AlertTriggered | QueueMark
)
OrderEvent: TypeAlias = Request | Reply
"""Anything journaled or published by the EMS."""

encoder = msgspec.msgpack.Encoder()
decoder: msgspec.msgpack.Decoder[OrderEvent] = msgspec.msgpack.Decoder(OrderEvent)
many_decoder: msgspec.msgpack.Decoder[list[OrderEvent]] = msgspec.msgpack.Decoder(
    list[OrderEvent]
)
