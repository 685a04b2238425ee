"""Instrument metadata: what a symbol trades and how its prices and sizes are quantized."""

from __future__ import annotations

import math

import msgspec


class Instrument(msgspec.Struct, frozen=True, kw_only=True):
    """One tradable symbol on one provider.

    `symbol` is our name (`BTC/USD`); `venue_symbol` is the provider's native id (`XBTUSD`,
    `BTC-USD`, ...). Decimals say how many places prices and sizes are shown with.
    """

    symbol: str
    base: str
    quote: str
    tick_size: float
    lot_size: float
    min_size: float = 0.0
    price_decimals: int = -1
    qty_decimals: int = -1
    provider: str = ""
    venue_symbol: str = ""

    def __post_init__(self) -> None:
        for field in ("tick_size", "lot_size"):
            value = getattr(self, field)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{self.symbol}: {field} must be a positive number, got {value}")

    @property
    def pdec(self) -> int:
        """Price decimals, derived from the tick size where the provider gave none."""
        return self.price_decimals if self.price_decimals >= 0 else decimals_of(self.tick_size)

    @property
    def qdec(self) -> int:
        """Size decimals, derived from the lot size where the provider gave none."""
        return self.qty_decimals if self.qty_decimals >= 0 else decimals_of(self.lot_size)

    def round_price(self, price: float) -> float:
        """The nearest valid price (a multiple of the tick size)."""
        return round(round(price / self.tick_size) * self.tick_size, self.pdec)

    def round_size(self, size: float) -> float:
        """The nearest valid size (a multiple of the lot size)."""
        return round(round(size / self.lot_size) * self.lot_size, self.qdec)

    def fmt_price(self, price: float) -> str:
        return f"{price:.{self.pdec}f}"

    def fmt_size(self, size: float) -> str:
        return f"{size:.{self.qdec}f}"


def decimals_of(step: float) -> int:
    """Places needed to show multiples of `step` exactly: 0.01 -> 2, 0.5 -> 1, 5 -> 0."""
    for places in range(12):
        if abs(round(step, places) - step) < 1e-12 * max(1.0, abs(step)):
            return places
    return 12


def split_symbol(symbol: str) -> tuple[str, str]:
    """`BTC/USD` -> ("BTC", "USD"), with a clear error for anything else."""
    base, sep, quote = symbol.partition("/")
    if not sep or not base or not quote or "/" in quote:
        raise ValueError(f"symbol {symbol!r} is not of the form BASE/QUOTE, e.g. BTC/USD")
    return base.upper(), quote.upper()
