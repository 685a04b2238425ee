"""A naive dict-per-side order book that the real one is checked against."""

from __future__ import annotations

BID, ASK = 0, 1


class RefBook:
    """Obviously-correct L2 book over integer ticks and lots; slow and simple on purpose."""

    def __init__(self) -> None:
        self.sides: tuple[dict[int, int], dict[int, int]] = ({}, {})

    def load(self, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
        self.sides = ({p: q for p, q in bids if q}, {p: q for p, q in asks if q})

    def set(self, side: int, px: int, qty: int) -> None:
        if qty:
            self.sides[side][px] = qty
        else:
            self.sides[side].pop(px, None)

    def levels(self, side: int) -> list[tuple[int, int]]:
        return sorted(self.sides[side].items(), reverse=side == BID)

    def top(self, side: int, n: int) -> list[tuple[int, int]]:
        return self.levels(side)[:n]

    def best(self, side: int) -> int | None:
        d = self.sides[side]
        if not d:
            return None
        return max(d) if side == BID else min(d)

    def crossed(self) -> bool:
        bb, ba = self.best(BID), self.best(ASK)
        return bb is not None and ba is not None and bb >= ba

    def truncate(self, depth: int) -> None:
        for side in (BID, ASK):
            keep = dict(self.levels(side)[:depth])
            self.sides[side].clear()
            self.sides[side].update(keep)

    def buckets(self, side: int, g: int, n: int) -> list[tuple[int, int]]:
        best = self.best(side)
        if best is None or n <= 0:
            return []
        out = []
        if side == BID:
            b0 = best // g
            for k in range(n):
                key = b0 - k
                out.append((key * g, sum(q for p, q in self.sides[BID].items() if p // g == key)))
        else:
            b0 = -((-best) // g)
            for k in range(n):
                key = b0 + k
                total = sum(q for p, q in self.sides[ASK].items() if -((-p) // g) == key)
                out.append((key * g, total))
        return out
