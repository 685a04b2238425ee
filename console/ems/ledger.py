"""Positions and PnL: average-cost positions per account and symbol, built from fills alone."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from console.ems.messages import Fill, Position


class PositionState:
    """One account's position in one symbol. `size` is signed (negative = short)."""

    __slots__ = ("account", "avg_price", "fees", "realized", "size", "symbol", "volume")

    def __init__(self, account: str, symbol: str) -> None:
        self.account = account
        self.symbol = symbol
        self.size = 0.0
        self.avg_price = 0.0
        self.realized = 0.0  # gross of fees
        self.fees = 0.0
        self.volume = 0.0

    def apply(self, side: str, price: float, size: float, fee: float) -> float:
        """Book one fill; returns the realized PnL it produced (gross of its fee)."""
        signed = size if side == "buy" else -size
        pos = self.size
        self.fees += fee
        self.volume += size
        realized = 0.0
        if pos == 0.0 or (pos > 0.0) == (signed > 0.0):
            new = pos + signed
            self.avg_price = (self.avg_price * abs(pos) + price * size) / abs(new)
            self.size = round(new, 9)
        else:
            closed = min(abs(pos), size)
            realized = closed * (price - self.avg_price) * (1.0 if pos > 0 else -1.0)
            self.realized += realized
            new = round(pos + signed, 9)
            if new == 0.0:
                self.avg_price = 0.0
            elif (new > 0.0) != (pos > 0.0):
                self.avg_price = price  # flipped through zero: the rest opens at this price
            self.size = new
        return realized

    def unrealized(self, mark: float | None) -> float:
        if not self.size or mark is None:
            return 0.0
        return self.size * (mark - self.avg_price)

    def message(self, mark: float | None = None, ts: int = 0) -> Position:
        return Position(account=self.account, symbol=self.symbol, size=self.size,
                        avg_price=self.avg_price, realized_pnl=self.realized,
                        unrealized_pnl=self.unrealized(mark), fees=self.fees, ts=ts)


class Ledger:
    """All positions; realized PnL and fees accumulate, unrealized is marked on demand."""

    def __init__(self) -> None:
        self.positions: dict[tuple[str, str], PositionState] = {}

    def apply(self, fill: Fill) -> PositionState:
        key = (fill.account, fill.symbol)
        pos = self.positions.get(key)
        if pos is None:
            pos = self.positions[key] = PositionState(fill.account, fill.symbol)
        pos.apply(fill.side, fill.price, fill.size, fill.fee)
        return pos

    def size(self, account: str, symbol: str) -> float:
        pos = self.positions.get((account, symbol))
        return pos.size if pos is not None else 0.0

    def get(self, account: str, symbol: str) -> PositionState | None:
        return self.positions.get((account, symbol))


EQUITY_DTYPE = np.dtype([("ts", "i8"), ("realized", "f8"), ("fees", "f8"), ("net", "f8")])


def equity_curve(fills: Iterable[Fill], account: str) -> np.ndarray:
    """Cumulative realized PnL, fees and net (realized - fees) after each fill of `account`."""
    positions: dict[str, PositionState] = {}
    rows: list[tuple[int, float, float, float]] = []
    realized = fees = 0.0
    for f in fills:
        if f.account != account:
            continue
        pos = positions.get(f.symbol)
        if pos is None:
            pos = positions[f.symbol] = PositionState(account, f.symbol)
        realized += pos.apply(f.side, f.price, f.size, f.fee)
        fees += f.fee
        rows.append((f.ts, realized, fees, realized - fees))
    return np.array(rows, dtype=EQUITY_DTYPE)
