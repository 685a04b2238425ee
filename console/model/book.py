"""L2 order book: integer ticks and lots in a dense re-centrable window, with exact full depth.

Prices are held as integer ticks (`round(price / tick_size)`) and sizes as integer lots, so
equality and aggregation are exact. Each side keeps the levels near its touch in a dense numpy
window indexed by tick offset from that side's `_base` (O(1) updates); far levels live in an
overflow dict per side. Each window keeps this invariant, which makes the dense part of a side
strictly better than its overflow part: no bid at or above the bid window's top and no ask
below the ask window's bottom is ever in overflow. The sides are laid out independently, so a
wide spread or a badly crossed book costs no memory.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from console.model import book_kernels, book_numpy
from console.model.events import BookDelta, BookSnapshot, Level
from console.model.instruments import decimals_of

BID: int = 0
ASK: int = 1

NO_BID: int = book_kernels.NO_BID
"""Best-bid value in per-delta outputs where the bid side is empty."""
NO_ASK: int = book_kernels.NO_ASK
"""Best-ask value in per-delta outputs where the ask side is empty."""

I8 = npt.NDArray[np.int64]
F8 = npt.NDArray[np.float64]

_MIN_WIDTH = 1 << 12
_MAX_WIDTH = 1 << 17  # 1 MiB per side: wider books spill their far levels to the overflow dicts
_GRID_TOL = 1e-4  # in ticks/lots: float noise, not a genuinely off-grid value


def _scaled(a: I8, step: float, places: int) -> F8:
    # rounding to the step's decimals turns 299901 * 0.1 into 29990.1, not 29990.100000000002
    out: F8 = np.multiply(a, step, dtype=np.float64)
    return np.round(out, places, out=out)


class BookError(ValueError):
    """Input a book cannot apply: off-grid price, negative or non-finite size, bad side."""


class TopN(NamedTuple):
    """Top-N of both sides after each applied delta: row j is the book after delta j.

    Ticks and lots, best first; unused slots (fewer than N levels) hold tick 0 and lot 0.
    """

    bid_px: I8
    bid_qty: I8
    ask_px: I8
    ask_qty: I8


class Book:
    """One symbol's L2 book with exact integer state, fast per-event and batch updates."""

    def __init__(
        self, tick_size: float, lot_size: float, *, symbol: str = "", max_depth: int = 0
    ) -> None:
        name = symbol or "book"
        if not (tick_size > 0 and math.isfinite(tick_size)):
            raise BookError(f"{name}: tick_size must be a positive number, got {tick_size!r}")
        if not (lot_size > 0 and math.isfinite(lot_size)):
            raise BookError(f"{name}: lot_size must be a positive number, got {lot_size!r}")
        if max_depth < 0:
            raise BookError(f"{name}: max_depth must be 0 (unlimited) or more, got {max_depth}")
        self.tick_size = float(tick_size)
        self.lot_size = float(lot_size)
        self.symbol = symbol
        self.max_depth = int(max_depth)
        self._pdec = decimals_of(self.tick_size)
        self._qdec = decimals_of(self.lot_size)
        self.version = 0
        self.seq = 0
        self._width = _MIN_WIDTH
        self._base = [0, 0]  # tick at index 0 of each side's window
        self._q = np.zeros((2, self._width), dtype=np.int64)
        self._mv = (memoryview(self._q[BID]), memoryview(self._q[ASK]))
        self._ovf: tuple[dict[int, int], dict[int, int]] = ({}, {})
        self._bb: int | None = None
        self._ba: int | None = None
        self._n = [0, 0]  # levels per side, dense and overflow together
        self._layout = 0  # bumps whenever the window is laid out afresh

    # ------------------------------------------------------------------ conversions

    def _name(self) -> str:
        return self.symbol or "book"

    def to_ticks(self, price: float) -> int:
        """A price as integer ticks; raises BookError for a price off the tick grid."""
        t = price / self.tick_size
        r = round(t) if math.isfinite(t) else None
        if r is None or abs(t - r) > _GRID_TOL:
            raise BookError(
                f"{self._name()}: price {price!r} is not a multiple of the tick size "
                f"{self.tick_size}; check the instrument's tick_size"
            )
        return r

    def to_lots(self, size: float) -> int:
        """A size as integer lots; raises BookError for negative, non-finite or off-grid sizes."""
        if not (size >= 0 and math.isfinite(size)):
            raise BookError(f"{self._name()}: size {size!r} must be a finite number >= 0")
        t = size / self.lot_size
        r = round(t)
        if abs(t - r) > _GRID_TOL:
            raise BookError(
                f"{self._name()}: size {size!r} is not a multiple of the lot size "
                f"{self.lot_size}; check the instrument's lot_size"
            )
        return r

    def _ticks_array(self, prices: F8, what: str) -> I8:
        t = prices / self.tick_size
        r = np.rint(t)
        bad = ~np.isfinite(t) | (np.abs(t - r) > _GRID_TOL)
        if bad.any():
            raise BookError(
                f"{self._name()}: {what} price {float(prices[bad][0])!r} is not a multiple of "
                f"the tick size {self.tick_size}; check the instrument's tick_size"
            )
        return r.astype(np.int64)

    def _lots_array(self, sizes: F8, what: str) -> I8:
        t = sizes / self.lot_size
        r = np.rint(t)
        bad = ~np.isfinite(t) | (t < 0) | (np.abs(t - r) > _GRID_TOL)
        if bad.any():
            raise BookError(
                f"{self._name()}: {what} size {float(sizes[bad][0])!r} must be a finite multiple "
                f"of the lot size {self.lot_size} and >= 0"
            )
        return r.astype(np.int64)

    def _side_arrays(self, levels: Iterable[Level], what: str) -> tuple[I8, I8]:
        arr = np.asarray(levels, dtype=np.float64)
        if arr.size == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise BookError(f"{self._name()}: {what} levels must be (price, size) pairs")
        return self._ticks_array(arr[:, 0], what), self._lots_array(arr[:, 1], what)

    # ------------------------------------------------------------------ event API

    def apply_snapshot(self, snap: BookSnapshot) -> None:
        """Replace the whole book with the snapshot's levels (size-0 levels are ignored)."""
        bp, bq = self._side_arrays(snap.bids, "bid")
        ap, aq = self._side_arrays(snap.asks, "ask")
        self.load_ticks(bp, bq, ap, aq)
        self.seq = snap.seq

    def apply_delta(self, delta: BookDelta) -> None:
        """Apply level changes in order; size 0 deletes, deleting a missing level is a no-op."""
        # validate everything first so a bad level never leaves the book half-applied
        bids = [(self.to_ticks(p), self.to_lots(s)) for p, s in delta.bids]
        asks = [(self.to_ticks(p), self.to_lots(s)) for p, s in delta.asks]
        for px, qty in bids:
            self.set_level(BID, px, qty)
        for px, qty in asks:
            self.set_level(ASK, px, qty)
        if delta.seq:
            self.seq = delta.seq
        if self.max_depth:
            self.truncate(self.max_depth)

    # ------------------------------------------------------------------ integer hot path

    def load_ticks(
        self,
        bid_px: npt.ArrayLike,
        bid_qty: npt.ArrayLike,
        ask_px: npt.ArrayLike,
        ask_qty: npt.ArrayLike,
    ) -> None:
        """Replace the book with integer levels (any order; size 0 skipped; last duplicate wins)."""
        sides = []
        for what, px_in, q_in in (("bid", bid_px, bid_qty), ("ask", ask_px, ask_qty)):
            px = np.asarray(px_in, dtype=np.int64).ravel()
            q = np.asarray(q_in, dtype=np.int64).ravel()
            if px.shape != q.shape:
                raise BookError(
                    f"{self._name()}: {what} prices and sizes differ in length "
                    f"({px.size} vs {q.size})"
                )
            if (q < 0).any():
                raise BookError(f"{self._name()}: {what} size {int(q[q < 0][0])} lots is negative")
            # last duplicate wins, like a run of deltas would
            _, first_rev = np.unique(px[::-1], return_index=True)
            keep = np.sort(px.size - 1 - first_rev)
            px, q = px[keep], q[keep]
            nz = q > 0
            sides.append((px[nz], q[nz]))
        self._rebuild(sides[BID], sides[ASK])
        self.version += 1
        if self.max_depth:
            self.truncate(self.max_depth)

    def set_level(self, side: int, px: int, qty: int) -> None:
        """Set one level's size in lots at a price in ticks; 0 deletes (missing is fine)."""
        if side != BID and side != ASK:
            raise BookError(f"{self._name()}: side must be BID (0) or ASK (1), got {side!r}")
        i = px - self._base[side]
        if not (0 <= i < self._width and qty >= 0):
            self._set_far(side, px, qty)
            return
        # the two sides are spelled out: this is the per-event hot path
        if side == BID:
            mv = self._mv[BID]
            old = mv[i]
            if old == qty:
                return
            mv[i] = qty
            self.version += 1
            if old == 0:
                self._n[BID] += 1
                bb = self._bb
                if bb is None or px > bb:
                    self._bb = px
                    if i < self._width >> 3:
                        self._recenter()
            elif qty == 0:
                self._n[BID] -= 1
                if px == self._bb:
                    self._bb = self._scan_bid(i - 1)
        elif side == ASK:
            mv = self._mv[ASK]
            old = mv[i]
            if old == qty:
                return
            mv[i] = qty
            self.version += 1
            if old == 0:
                self._n[ASK] += 1
                ba = self._ba
                if ba is None or px < ba:
                    self._ba = px
                    if i >= self._width - (self._width >> 3):
                        self._recenter()
            elif qty == 0:
                self._n[ASK] -= 1
                if px == self._ba:
                    self._ba = self._scan_ask(i + 1)

    def _set_far(self, side: int, px: int, qty: int) -> None:
        if side not in (BID, ASK):
            raise BookError(f"{self._name()}: side must be BID (0) or ASK (1), got {side!r}")
        if qty < 0:
            raise BookError(f"{self._name()}: size {qty} lots at {px} is negative")
        ovf = self._ovf[side]
        base = self._base[side]
        outside_ok = px < base if side == BID else px >= base + self._width
        if qty and not outside_ok:
            # a bid above the window or an ask below it must be dense: move the window
            self._add_and_recenter(side, px, qty)
            return
        if qty == 0:
            if ovf.pop(px, 0) == 0:
                return
            self._n[side] -= 1
            self.version += 1
            if side == BID and px == self._bb:
                self._bb = max(ovf) if ovf else None
                self._recenter()
            elif side == ASK and px == self._ba:
                self._ba = min(ovf) if ovf else None
                self._recenter()
            return
        old = ovf.get(px, 0)
        if old == qty:
            return
        ovf[px] = qty
        self.version += 1
        if old == 0:
            self._n[side] += 1
            if side == BID and (self._bb is None or px > self._bb):
                self._bb = px
                self._recenter()
            elif side == ASK and (self._ba is None or px < self._ba):
                self._ba = px
                self._recenter()

    def _add_and_recenter(self, side: int, px: int, qty: int) -> None:
        bp, bq = self._all_levels(BID)
        ap, aq = self._all_levels(ASK)
        if side == BID:
            keep = bp != px
            bp, bq = np.append(bp[keep], px), np.append(bq[keep], qty)
        else:
            keep = ap != px
            ap, aq = np.append(ap[keep], px), np.append(aq[keep], qty)
        self._rebuild((bp, bq), (ap, aq))
        self.version += 1

    def apply_batch(self, side: npt.ArrayLike, px: npt.ArrayLike, qty: npt.ArrayLike) -> None:
        """Apply a run of deltas at once (vectorized); the result equals applying them in order."""
        self._apply_batch(side, px, qty)
        if self.max_depth:
            self.truncate(self.max_depth)

    def _apply_batch(self, side: npt.ArrayLike, px: npt.ArrayLike, qty: npt.ArrayLike) -> None:
        s = np.asarray(side, dtype=np.int64).ravel()
        p = np.asarray(px, dtype=np.int64).ravel()
        q = np.asarray(qty, dtype=np.int64).ravel()
        if not (s.size == p.size == q.size):
            raise BookError(
                f"{self._name()}: apply_batch needs equal lengths, got side={s.size} "
                f"px={p.size} qty={q.size}"
            )
        if s.size == 0:
            return
        if ((s != BID) & (s != ASK)).any():
            raise BookError(f"{self._name()}: apply_batch side values must be 0 (bid) or 1 (ask)")
        if (q < 0).any():
            raise BookError(f"{self._name()}: apply_batch size {int(q[q < 0][0])} lots is negative")
        w = self._width
        i = p - np.asarray(self._base, dtype=np.int64)[s]
        inside = (i >= 0) & (i < w)
        if inside.all():
            key = s * w + i
            order = np.arange(s.size, dtype=np.int64)
        else:
            key = (s * w + i)[inside]
            order = np.flatnonzero(inside)
        flat = self._q.reshape(-1)
        # the last delta per level decides its final size; ufunc.at is ordered and defined
        last = np.full(2 * w, -1, dtype=np.int64)
        np.maximum.at(last, key, order)
        touched = np.flatnonzero(last >= 0)
        newq = q[last[touched]]
        old = flat[touched]
        flat[touched] = newq
        is_ask = touched >= w
        added = (newq > 0).astype(np.int64) - (old > 0)
        n_ask_delta = int(added[is_ask].sum())
        self._n[ASK] += n_ask_delta
        self._n[BID] += int(added.sum()) - n_ask_delta
        if touched.size:
            self.version += 1
            self._fix_bests_after_batch(touched, newq, is_ask)
        if not inside.all():
            far = np.flatnonzero(~inside)
            # only the last delta per far level matters too; order among levels is irrelevant
            seen: set[tuple[int, int]] = set()
            for j in far[::-1].tolist():
                k = (int(s[j]), int(p[j]))
                if k in seen:
                    continue
                seen.add(k)
                self.set_level(k[0], k[1], int(q[j]))

    def _fix_bests_after_batch(self, touched: I8, newq: I8, is_ask: npt.NDArray[np.bool_]) -> None:
        w, (bbase, abase) = self._width, self._base
        pos = newq > 0
        bid_add = touched[pos & ~is_ask]
        ask_add = touched[pos & is_ask] - w
        layout = self._layout
        bb = self._bb
        start = -1
        if bb is not None and bb >= bbase:
            start = bb - bbase
        if bid_add.size:
            start = max(start, int(bid_add[-1]))
        if start >= 0:
            self._bb = self._scan_bid(start)
        # a relayout recomputed both bests from all levels; the ask scan below would be stale
        if layout == self._layout:
            ba = self._ba
            start = w
            if ba is not None and ba < abase + w:
                start = ba - abase
            if ask_add.size:
                start = min(start, int(ask_add[0]))
            if start < w:
                self._ba = self._scan_ask(start)
        self._maybe_recenter()

    def apply_top(
        self,
        side: npt.ArrayLike,
        px: npt.ArrayLike,
        qty: npt.ArrayLike,
        n: int = 10,
        *,
        out: TopN | None = None,
    ) -> TopN:
        """Apply deltas one by one, recording the top-n of both sides after every delta.

        Equal to `set_level` per delta followed by `top_ticks` of both sides, in one pass
        (compiled where numba is installed). `out` (arrays of at least k rows and n columns)
        is reused instead of allocating, which matters when streaming chunk after chunk.
        A `max_depth` book is truncated after the run.
        """
        s, p, q = self._run_inputs(side, px, qty)
        k = s.size
        n = max(n, 0)
        if out is None:
            top = TopN(*(np.zeros((k, n), dtype=np.int64) for _ in range(4)))
        else:
            for a in out:
                if a.dtype != np.int64 or a.ndim != 2 or a.shape[0] < k or a.shape[1] != n:
                    raise BookError(
                        f"{self._name()}: apply_top out arrays must be int64 of shape "
                        f"(>= {k}, {n}), got {a.dtype} {a.shape}"
                    )
            top = TopN(*(a[:k] for a in out))
        self._run(s, p, q, n, np.empty((k, 2), dtype=np.int64), top)
        return top

    def apply_bests(self, side: npt.ArrayLike, px: npt.ArrayLike, qty: npt.ArrayLike) -> I8:
        """Apply deltas one by one; returns (k, 2) best bid/ask ticks after every delta.

        An empty side reads NO_BID / NO_ASK. A `max_depth` book is truncated after the run.
        """
        s, p, q = self._run_inputs(side, px, qty)
        k = s.size
        best = np.empty((k, 2), dtype=np.int64)
        none = np.zeros((k, 0), dtype=np.int64)
        self._run(s, p, q, 0, best, TopN(none, none, none, none))
        return best

    def _run_inputs(
        self, side: npt.ArrayLike, px: npt.ArrayLike, qty: npt.ArrayLike
    ) -> tuple[I8, I8, I8]:
        s = np.ascontiguousarray(side, dtype=np.int64).ravel()
        p = np.ascontiguousarray(px, dtype=np.int64).ravel()
        q = np.ascontiguousarray(qty, dtype=np.int64).ravel()
        if not (s.size == p.size == q.size):
            raise BookError(
                f"{self._name()}: deltas need equal lengths, got side={s.size} "
                f"px={p.size} qty={q.size}"
            )
        return s, p, q

    def _run(self, s: I8, p: I8, q: I8, n: int, best: I8, top: TopN) -> None:
        fn = book_kernels.kernel()
        k = s.size
        if fn is None:
            stop = book_numpy.run(self, s, p, q, n, best, top)
            if stop < k:
                try:
                    self.set_level(int(s[stop]), int(p[stop]), int(q[stop]))
                except BookError as e:
                    raise BookError(
                        f"{e} (delta {stop} of the run; the deltas before it were applied)"
                    ) from None
            if self.max_depth:
                self.truncate(self.max_depth)
            return
        cur_px = np.zeros((2, n), dtype=np.int64)
        cur_q = np.zeros((2, n), dtype=np.int64)
        ntop = np.zeros(2, dtype=np.int64)
        scr_px = np.zeros(n, dtype=np.int64)
        scr_q = np.zeros(n, dtype=np.int64)
        st = np.zeros(4, dtype=np.int64)
        ovf_best = np.zeros(2, dtype=np.int64)
        has_ovf = np.zeros(2, dtype=np.int64)
        self._load_top(cur_px, cur_q, ntop)
        j = 0
        while j < k:
            self._maybe_recenter()
            (bbase, abase), w = self._base, self._width
            base = np.array([bbase, abase], dtype=np.int64)
            bb, ba = self._bb, self._ba
            ovb, ova = self._ovf
            st[0] = bb - bbase if bb is not None and bb >= bbase else -1
            st[1] = ba - abase if ba is not None and ba < abase + w else w
            st[2] = st[3] = 0
            has_ovf[0], has_ovf[1] = bool(ovb), bool(ova)
            ovf_best[0] = max(ovb) if ovb else 0
            ovf_best[1] = min(ova) if ova else 0
            stop = fn(
                self._q, base, st, ovf_best, has_ovf, cur_px, cur_q, ntop, scr_px, scr_q,
                s, p, q, j, w >> 3, best, *top,
            )
            if stop > j:
                self._n[BID] += int(st[2])
                self._n[ASK] += int(st[3])
                self._bb = bbase + int(st[0]) if st[0] >= 0 else (max(ovb) if ovb else None)
                self._ba = abase + int(st[1]) if st[1] < w else (min(ova) if ova else None)
                self.version += 1
            if stop >= k:
                break
            # the kernel hands back deltas that need the overflow levels or a new window
            try:
                self.set_level(int(s[stop]), int(p[stop]), int(q[stop]))
            except BookError as e:
                raise BookError(
                    f"{e} (delta {stop} of the run; the deltas before it were applied)"
                ) from None
            self._load_top(cur_px, cur_q, ntop)
            best[stop, 0] = NO_BID if self._bb is None else self._bb
            best[stop, 1] = NO_ASK if self._ba is None else self._ba
            top.bid_px[stop] = cur_px[BID]
            top.bid_qty[stop] = cur_q[BID]
            top.ask_px[stop] = cur_px[ASK]
            top.ask_qty[stop] = cur_q[ASK]
            j = stop + 1
        if self.max_depth:
            self.truncate(self.max_depth)

    def _load_top(self, cur_px: I8, cur_q: I8, ntop: I8) -> None:
        n = cur_px.shape[1]
        cur_px.fill(0)
        cur_q.fill(0)
        for side in (BID, ASK):
            tp, tq = self.top_ticks(side, n)
            cur_px[side, : tp.size] = tp
            cur_q[side, : tq.size] = tq
            ntop[side] = tp.size

    # ------------------------------------------------------------------ window upkeep

    def _scan_bid(self, i: int) -> int | None:
        """Best bid at dense index <= i, else the overflow's best (recentering onto it)."""
        arr = self._q[BID]
        step = 64
        while i >= 0:
            lo = max(0, i + 1 - step)
            nz = np.flatnonzero(arr[lo : i + 1])
            if nz.size:
                found = self._base[BID] + lo + int(nz[-1])
                if found - self._base[BID] < self._width >> 3 and self._ovf[BID]:
                    self._bb = found
                    self._recenter()
                return found
            i = lo - 1
            step <<= 1
        ovf = self._ovf[BID]
        if not ovf:
            return None
        self._bb = max(ovf)
        self._recenter()
        return self._bb

    def _scan_ask(self, i: int) -> int | None:
        """Best ask at dense index >= i, else the overflow's best (recentering onto it)."""
        arr = self._q[ASK]
        w = self._width
        step = 64
        while i < w:
            hi = min(w, i + step)
            nz = np.flatnonzero(arr[i:hi])
            if nz.size:
                found = self._base[ASK] + i + int(nz[0])
                if self._base[ASK] + w - found <= w >> 3 and self._ovf[ASK]:
                    self._ba = found
                    self._recenter()
                return found
            i = hi
            step <<= 1
        ovf = self._ovf[ASK]
        if not ovf:
            return None
        self._ba = min(ovf)
        self._recenter()
        return self._ba

    def _maybe_recenter(self) -> None:
        margin = self._width >> 3
        bb, ba = self._bb, self._ba
        if (bb is not None and not margin <= bb - self._base[BID] < self._width) or (
            ba is not None and not 0 <= ba - self._base[ASK] < self._width - margin
        ):
            self._recenter()

    def _recenter(self) -> None:
        self._rebuild(self._all_levels(BID), self._all_levels(ASK))

    def _all_levels(self, side: int) -> tuple[I8, I8]:
        """Every level of a side in ticks/lots, unordered."""
        arr = self._q[side]
        idx = np.flatnonzero(arr)
        px = idx + self._base[side]
        q = arr[idx]
        ovf = self._ovf[side]
        if ovf:
            px = np.concatenate([px, np.fromiter(ovf.keys(), np.int64, len(ovf))])
            q = np.concatenate([q, np.fromiter(ovf.values(), np.int64, len(ovf))])
        return px, q

    def _rebuild(self, bids: tuple[I8, I8], asks: tuple[I8, I8]) -> None:
        """Lay out all levels afresh: each side's window sized to its extent, touch inside it."""
        bp, bq = bids
        ap, aq = asks
        bb = int(bp.max()) if bp.size else None
        ba = int(ap.min()) if ap.size else None
        extent = 0
        if bb is not None:
            extent = max(extent, bb - int(bp.min()))
        if ba is not None:
            extent = max(extent, int(ap.max()) - ba)
        # depth behind the touch fills 3/4 of the window; the rest is room to improve on it
        need = extent + extent // 3 + 2
        width = _MIN_WIDTH
        while width < need and width < _MAX_WIDTH:
            width <<= 1
        room = width // 4
        if bb is not None:
            bid_base = bb - (width - room)
        elif ba is not None:
            bid_base = ba - (width - room)
        else:
            bid_base = self._base[BID]
        if ba is not None:
            ask_base = ba - room
        elif bb is not None:
            ask_base = bb - room
        else:
            ask_base = self._base[ASK]
        if width != self._width:
            self._width = width
            self._q = np.zeros((2, width), dtype=np.int64)
            self._mv = (memoryview(self._q[BID]), memoryview(self._q[ASK]))
        else:
            self._q.fill(0)
        self._base = [bid_base, ask_base]
        self._layout += 1
        for side, (p, q) in ((BID, (bp, bq)), (ASK, (ap, aq))):
            i = p - self._base[side]
            inside = (i >= 0) & (i < width)
            self._q[side, i[inside]] = q[inside]
            out = ~inside
            self._ovf[side].clear()
            if out.any():
                self._ovf[side].update(zip(p[out].tolist(), q[out].tolist(), strict=True))
            self._n[side] = int(p.size)
        self._bb, self._ba = bb, ba

    # ------------------------------------------------------------------ reads

    @property
    def best_bid_ticks(self) -> int | None:
        return self._bb

    @property
    def best_ask_ticks(self) -> int | None:
        return self._ba

    @property
    def best_bid(self) -> float | None:
        return None if self._bb is None else round(self._bb * self.tick_size, self._pdec)

    @property
    def best_ask(self) -> float | None:
        return None if self._ba is None else round(self._ba * self.tick_size, self._pdec)

    @property
    def spread(self) -> float | None:
        """Best ask minus best bid (negative when crossed), None if a side is empty."""
        if self._bb is None or self._ba is None:
            return None
        return round((self._ba - self._bb) * self.tick_size, self._pdec)

    @property
    def mid(self) -> float | None:
        """Halfway between the bests (may fall between ticks), None if a side is empty."""
        if self._bb is None or self._ba is None:
            return None
        return round((self._ba + self._bb) * self.tick_size / 2, self._pdec + 1)

    @property
    def crossed(self) -> bool:
        """True when the best bid is at or above the best ask (crossed or locked)."""
        return self._bb is not None and self._ba is not None and self._bb >= self._ba

    def depth(self, side: int) -> int:
        """Number of levels on a side."""
        return self._n[side]

    def __len__(self) -> int:
        return self._n[BID] + self._n[ASK]

    def top_ticks(self, side: int, n: int) -> tuple[I8, I8]:
        """Up to n best levels of a side as (ticks, lots), best first."""
        if n <= 0 or self._n[side] == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        arr = self._q[side]
        w = self._width
        want = min(n, self._n[side])
        span = 4 * want + 64
        if side == BID:
            base = self._base[BID]
            hi = (self._bb if self._bb is not None else base) - base + 1
            hi = min(max(hi, 0), w)
            while True:
                lo = max(0, hi - span)
                nz = np.flatnonzero(arr[lo:hi])
                if nz.size >= want or lo == 0:
                    break
                span <<= 2
            idx = nz[::-1][:want] + lo
        else:
            base = self._base[ASK]
            lo = (self._ba if self._ba is not None else base + w) - base
            lo = min(max(lo, 0), w)
            while True:
                hi = min(w, lo + span)
                nz = np.flatnonzero(arr[lo:hi])
                if nz.size >= want or hi == w:
                    break
                span <<= 2
            idx = nz[:want] + lo
        px = idx + base
        q = arr[idx]
        if px.size < want:
            ovf = self._ovf[side]
            need = want - px.size
            far = heapq.nlargest(need, ovf) if side == BID else heapq.nsmallest(need, ovf)
            px = np.concatenate([px, np.asarray(far, dtype=np.int64)])
            q = np.concatenate([q, np.asarray([ovf[k] for k in far], dtype=np.int64)])
        return px.astype(np.int64, copy=False), q.astype(np.int64, copy=False)

    def top(self, side: int, n: int) -> tuple[F8, F8]:
        """Up to n best levels of a side as (prices, sizes) floats, best first."""
        px, q = self.top_ticks(side, n)
        return _scaled(px, self.tick_size, self._pdec), _scaled(q, self.lot_size, self._qdec)

    def levels_ticks(self, side: int) -> tuple[I8, I8]:
        """Every level of a side as (ticks, lots), best first."""
        px, q = self._all_levels(side)
        order = np.argsort(-px if side == BID else px, kind="stable")
        return px[order], q[order]

    def levels(self, side: int) -> tuple[F8, F8]:
        """Every level of a side as (prices, sizes) floats, best first."""
        px, q = self.levels_ticks(side)
        return _scaled(px, self.tick_size, self._pdec), _scaled(q, self.lot_size, self._qdec)

    def size_at(self, side: int, price: float) -> float:
        """Size resting at a price (0.0 where there is no level)."""
        return round(self.lots_at(side, self.to_ticks(price)) * self.lot_size, self._qdec)

    def lots_at(self, side: int, px: int) -> int:
        """Lots resting at a price in ticks (0 where there is no level)."""
        i = px - self._base[side]
        if 0 <= i < self._width:
            return int(self._mv[side][i])
        return self._ovf[side].get(px, 0)

    def depth_buckets_ticks(self, side: int, group_ticks: int, n: int) -> tuple[I8, I8]:
        """n consecutive price buckets of `group_ticks` ticks from the touch outwards.

        Bid buckets are keyed by their lowest tick (prices rounded down to the group), ask
        buckets by their highest (rounded up), as depth ladders show them; empty buckets are
        included with size 0 so the rows form an even price grid.
        """
        if group_ticks <= 0:
            raise BookError(f"{self._name()}: group_ticks must be >= 1, got {group_ticks}")
        best = self._bb if side == BID else self._ba
        if n <= 0 or best is None:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        g = group_ticks
        if side == BID:
            b0 = best // g  # bucket k covers ticks [k*g, k*g+g)
            lo, hi = (b0 - n + 1) * g, (b0 + 1) * g
        else:
            b0 = -((-best) // g)  # bucket k covers ticks (k*g-g, k*g]
            lo, hi = (b0 - 1) * g + 1, (b0 + n - 1) * g + 1
        grid = np.zeros(hi - lo, dtype=np.int64)
        base = self._base[side]
        dlo, dhi = max(lo, base), min(hi, base + self._width)
        if dlo < dhi:
            grid[dlo - lo : dhi - lo] = self._q[side, dlo - base : dhi - base]
        for p, q in self._ovf[side].items():
            if lo <= p < hi:
                grid[p - lo] += q
        sums = grid.reshape(n, g).sum(axis=1)
        if side == BID:
            keys = (b0 - np.arange(n, dtype=np.int64)) * g
            return keys, sums[::-1].copy()
        keys = (b0 + np.arange(n, dtype=np.int64)) * g
        return keys, sums

    def depth_buckets(self, side: int, group_ticks: int, n: int) -> tuple[F8, F8]:
        """As depth_buckets_ticks, in prices and sizes."""
        px, q = self.depth_buckets_ticks(side, group_ticks, n)
        return _scaled(px, self.tick_size, self._pdec), _scaled(q, self.lot_size, self._qdec)

    def cumulative(self, side: int, n: int) -> F8:
        """Running total size over the n best levels, best first."""
        _, q = self.top_ticks(side, n)
        return _scaled(np.cumsum(q), self.lot_size, self._qdec)

    # ------------------------------------------------------------------ maintenance

    def truncate(self, depth: int) -> None:
        """Keep only the `depth` best levels of each side (venues that cap their book depth)."""
        if depth < 0:
            raise BookError(f"{self._name()}: truncate depth must be >= 0, got {depth}")
        changed = False
        for side in (BID, ASK):
            if self._n[side] <= depth:
                continue
            px, _ = self.levels_ticks(side)
            for p in px[depth:].tolist():
                i = p - self._base[side]
                if 0 <= i < self._width:
                    self._mv[side][i] = 0
                else:
                    del self._ovf[side][p]
            self._n[side] = depth
            if depth == 0:
                if side == BID:
                    self._bb = None
                else:
                    self._ba = None
            changed = True
        if changed:
            self.version += 1

    def clear(self) -> None:
        """Remove every level (sequence number kept)."""
        self._q.fill(0)
        self._ovf[BID].clear()
        self._ovf[ASK].clear()
        self._n = [0, 0]
        self._bb = self._ba = None
        self.version += 1

    def __repr__(self) -> str:
        return (
            f"Book({self.symbol!r}, bid={self.best_bid}, ask={self.best_ask}, "
            f"levels={self._n[BID]}/{self._n[ASK]}, seq={self.seq})"
        )
