"""Pre-trade risk: per-account limits from config and the checks every new order passes."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from typing import Any, Literal

import msgspec

from console.ems.messages import NewOrder
from console.model.instruments import Instrument

_NS = 1_000_000_000


class RiskConfigError(ValueError):
    """A risk table in the config is wrong; the message names the field and the fix."""


class RiskLimits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Per-account limits (`[accounts.<name>.risk]` in TOML). 0 switches a limit off."""

    max_order_size: float = 0.0
    """Largest size of one order, in base units."""
    max_notional: float = 0.0
    """Largest size x price of one order, in quote currency."""
    max_position: float = 0.0
    """Largest absolute position per symbol after the order fills."""
    price_band_pct: float = 5.0
    """A limit price further than this from mid is a fat finger."""
    max_open_orders: int = 200
    """Working orders (including dark stops) per account."""
    max_order_rate: float = 50.0
    """New orders per second per account (sliding one-second window)."""
    off_grid: Literal["round", "reject"] = "round"
    """What to do with a size or price that is not a multiple of the lot or tick."""

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str = "risk") -> RiskLimits:
        """Validate a config table strictly; errors say field, value and what to do."""
        fields = {f.name: f for f in msgspec.structs.fields(cls)}
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in fields:
                raise RiskConfigError(
                    f"{where}.{key}: unknown risk setting; known settings: {', '.join(fields)}"
                )
            if key == "off_grid":
                if value not in ("round", "reject"):
                    raise RiskConfigError(
                        f'{where}.off_grid: got {value!r}; use "round" or "reject"'
                    )
                values[key] = value
                continue
            want_int = key == "max_open_orders"
            ok_type = isinstance(value, int) if want_int else isinstance(value, int | float)
            if isinstance(value, bool) or not ok_type:
                kind = "a whole number" if want_int else "a number"
                raise RiskConfigError(
                    f"{where}.{key}: got {value!r}; expected {kind} >= 0 (0 switches it off)"
                )
            if not math.isfinite(value) or value < 0:
                raise RiskConfigError(
                    f"{where}.{key}: got {value!r}; expected a finite number >= 0 "
                    "(0 switches it off)"
                )
            values[key] = value if want_int else float(value)
        return cls(**values)


class RiskReject(Exception):
    """An order broke a rule; `str()` is the line shown to the trader."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule


def _fmt(x: float) -> str:
    return f"{x:.10g}"


class RiskGate:
    """Checks new orders against one account's limits; keeps the order-rate window."""

    __slots__ = ("_places", "_recent", "account", "limits")

    def __init__(self, account: str, limits: RiskLimits) -> None:
        self.account = account
        self.limits = limits
        self._recent: deque[int] = deque()
        # symbol -> (instrument, price decimals, size decimals), derived once per instrument
        self._places: dict[str, tuple[Instrument, int, int]] = {}

    def check(
        self,
        order: NewOrder,
        inst: Instrument,
        *,
        mid: float | None,
        position: float,
        open_orders: int,
        now_ns: int,
    ) -> NewOrder:
        """The order on the lot/tick grid, or RiskReject naming the rule, limit and value."""
        lim = self.limits
        cached = self._places.get(inst.symbol)
        if cached is None or cached[0] is not inst:
            cached = self._places[inst.symbol] = (inst, inst.pdec, inst.qdec)
        _, pdec, qdec = cached
        size = self._on_grid("size", order.size, inst.lot_size, qdec, inst.symbol)
        if size <= 0:
            raise RiskReject("size", f"size {_fmt(order.size)} must be at least one lot "
                             f"({inst.fmt_size(inst.lot_size)} {inst.symbol})")
        if inst.min_size and size < inst.min_size - 1e-12:
            raise RiskReject("min_size", f"size {_fmt(size)} is below the minimum "
                             f"{_fmt(inst.min_size)} for {inst.symbol}")
        price = order.price
        stop = order.stop
        if order.type in ("limit", "stop-limit"):
            price = self._on_grid("price", price, inst.tick_size, pdec, inst.symbol)
            if price <= 0:
                raise RiskReject("price", f"a {order.type} order needs a price > 0, "
                                 f"got {_fmt(order.price)}")
        if order.type in ("stop", "stop-limit"):
            stop = self._on_grid("stop", stop, inst.tick_size, pdec, inst.symbol)
            if stop <= 0:
                raise RiskReject("stop", f"a {order.type} order needs a stop price > 0, "
                                 f"got {_fmt(order.stop)}")
        if lim.max_order_size and size > lim.max_order_size + 1e-12:
            raise RiskReject("max_order_size", f"size {_fmt(size)} exceeds the limit "
                             f"{_fmt(lim.max_order_size)} for account {self.account}")
        ref = price or stop or mid
        if lim.max_notional and ref:
            notional = size * ref
            if notional > lim.max_notional + 1e-9:
                raise RiskReject("max_notional", f"notional {notional:.2f} exceeds the limit "
                                 f"{_fmt(lim.max_notional)} for account {self.account}")
        if lim.max_position:
            after = position + (size if order.side == "buy" else -size)
            if abs(after) > lim.max_position + 1e-12 and abs(after) > abs(position):
                raise RiskReject("max_position", f"position would be {_fmt(after)} {inst.symbol}"
                                 f", beyond the limit {_fmt(lim.max_position)} for account "
                                 f"{self.account}")
        if lim.price_band_pct and mid and order.type in ("limit", "stop-limit"):
            off = abs(price - mid) / mid * 100.0
            if off > lim.price_band_pct + 1e-9:
                raise RiskReject("price_band_pct", f"limit price {_fmt(price)} is {off:.2f}% "
                                 f"from mid {_fmt(mid)}, beyond the limit "
                                 f"{_fmt(lim.price_band_pct)}%")
        if lim.max_open_orders and open_orders >= lim.max_open_orders:
            raise RiskReject("max_open_orders", f"{open_orders} orders are working, the limit "
                             f"is {lim.max_open_orders} for account {self.account}")
        if lim.max_order_rate:
            recent = self._recent
            while recent and recent[0] <= now_ns - _NS:
                recent.popleft()
            if len(recent) >= lim.max_order_rate:
                raise RiskReject("max_order_rate", f"{len(recent)} orders in the last second, "
                                 f"the limit is {_fmt(lim.max_order_rate)}/s for account "
                                 f"{self.account}")
            recent.append(now_ns)
        if size != order.size or price != order.price or stop != order.stop:
            return msgspec.structs.replace(order, size=size, price=price, stop=stop)
        return order

    def _on_grid(self, what: str, value: float, step: float, places: int, symbol: str) -> float:
        if not math.isfinite(value):
            raise RiskReject(what, f"{what} {value} is not a number")
        steps = value / step
        nearest = round(steps)
        snapped = round(nearest * step, places)
        if abs(steps - nearest) > 1e-6 and self.limits.off_grid == "reject":
            raise RiskReject("off_grid", f"{what} {_fmt(value)} is not a multiple of "
                             f"{_fmt(step)} for {symbol}; use {_fmt(snapped)}")
        return snapped
