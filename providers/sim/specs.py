"""Symbols the sim lists: price scale, quantization and activity of each synthetic market."""

from __future__ import annotations

import math
import zlib
from fractions import Fraction

import msgspec
import numpy as np

from console.model.instruments import Instrument, split_symbol

PROVIDER = "sim"


class SymbolSpec(msgspec.Struct, frozen=True, kw_only=True):
    """How one synthetic market behaves.

    `daily_vol` is the relative standard deviation of a day's return; `weight` is the symbol's
    share of the total event rate; `order_lots` the median order size in lots.
    """

    symbol: str
    price: float
    tick: float
    lot: float
    min_size: float
    daily_vol: float = 0.03
    weight: float = 1.0
    order_lots: float = 20.0

    @property
    def tick_frac(self) -> Fraction:
        return Fraction(str(self.tick))

    @property
    def lot_frac(self) -> Fraction:
        return Fraction(str(self.lot))

    def instrument(self) -> Instrument:
        base, quote = split_symbol(self.symbol)
        return Instrument(
            symbol=self.symbol,
            base=base,
            quote=quote,
            tick_size=self.tick,
            lot_size=self.lot,
            min_size=self.min_size,
            provider=PROVIDER,
            venue_symbol=f"{base}{quote}",
        )


DEFAULT_SPECS: dict[str, SymbolSpec] = {
    s.symbol: s
    for s in (
        SymbolSpec(symbol="BTC/USD", price=64_000.0, tick=1.0, lot=0.0001, min_size=0.0001,
                   daily_vol=0.025, weight=0.4, order_lots=400.0),
        SymbolSpec(symbol="ETH/USD", price=3_200.0, tick=0.05, lot=0.001, min_size=0.001,
                   daily_vol=0.03, weight=0.3, order_lots=300.0),
        SymbolSpec(symbol="SOL/USD", price=150.0, tick=0.01, lot=0.01, min_size=0.01,
                   daily_vol=0.04, weight=0.2, order_lots=500.0),
        SymbolSpec(symbol="DOGE/USD", price=0.16, tick=0.00001, lot=1.0, min_size=10.0,
                   daily_vol=0.05, weight=0.1, order_lots=5_000.0),
    )
}
"""What `mdconsole` shows with no configuration; DOGE/USD is the slow, thin one."""


def symbol_key(symbol: str) -> int:
    """A stable per-symbol number for seeding (the builtin hash is salted per process)."""
    return zlib.crc32(symbol.encode())


def seed_word(seed: int) -> int:
    """Any integer seed as the non-negative number numpy's seeding takes."""
    return seed % (1 << 64)


def spec_for(symbol: str) -> SymbolSpec:
    """The spec of a default symbol, or a plausible made-up one for any other BASE/QUOTE."""
    if symbol in DEFAULT_SPECS:
        return DEFAULT_SPECS[symbol]
    base, quote = split_symbol(symbol)
    name = f"{base}/{quote}"
    if name in DEFAULT_SPECS:
        return DEFAULT_SPECS[name]
    # A price between 0.01 and 10,000 fixed by the name, with a tick near 2 bp of it, so any
    # symbol a user configures gets a market of sensible granularity.
    key = symbol_key(name)
    price = float(10 ** (-2 + 6 * ((key % 10_007) / 10_007)))
    tick = 10.0 ** math.floor(math.log10(price * 2e-4))
    price = round(price / tick) * tick
    lot = 10.0 ** -min(4, max(0, math.floor(math.log10(price)) + 1))
    return SymbolSpec(
        symbol=name, price=float(f"{price:.12g}"), tick=float(f"{tick:.12g}"),
        lot=float(f"{lot:.12g}"), min_size=float(f"{lot:.12g}"), daily_vol=0.04, weight=0.15,
        order_lots=max(1.0, 2_000.0 / (price * lot)),  # orders of about 2,000 quote units
    )


def start_price(spec: SymbolSpec, seed: int) -> float:
    """The live start price for a seed: the spec's price moved by a few percent, on a tick."""
    rng = np.random.default_rng([seed_word(seed), symbol_key(spec.symbol), 0x57A7])
    raw = spec.price * math.exp(0.05 * float(rng.standard_normal()))
    return ticks_to_price(round(raw / spec.tick), spec.tick_frac)


def ticks_to_price(ticks: int, tick: Fraction) -> float:
    """Exact decimal price of an integer tick count (no 0.30000000000000004 artefacts)."""
    return ticks * tick.numerator / tick.denominator
