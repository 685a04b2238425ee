"""Order book throughput on the reference stream; prints one JSON object on its last line.

Measures, on the deltas of ../shared/bench/stream.py (BENCH_N_DELTAS of them):
- apply_top10_per_s: apply each delta and produce the top-10 of both sides after every one
  (Book.apply_top, streamed in chunks into reused output arrays);
- apply_per_s: apply each delta in order keeping best bid/ask after every one (apply_bests);
- batch_apply_per_s: apply the whole run at once (apply_batch, final state only);
- set_level_per_s / apply_delta_per_s: the per-event Python API (integer and msgspec events);
- *_numpy_per_s: the streaming figures on the plain-numpy path used where numba is absent.
The book is checked against a plain dict reference book (full depth every CHECK_EVERY deltas;
streamed top-10 rows at a random delta and at the end of every chunk), outside the timed
sections; the script exits non-zero if they ever differ. Figures are the best of REPEAT runs.
"""

from __future__ import annotations

import heapq
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO.parent / "shared" / "bench"))

import stream  # noqa: E402

from console.model import book_kernels  # noqa: E402
from console.model.book import ASK, BID, Book, TopN  # noqa: E402
from console.model.events import BookDelta  # noqa: E402

CHUNK = 8192
CHECK_EVERY = 16 * CHUNK
REPEAT = int(os.environ.get("BENCH_REPEAT", 3))
TICK, LOT = 0.1, 0.001


class Mismatch(Exception):
    pass


class Reference:
    """A dict book that follows the same deltas, to check the real one against."""

    def __init__(self, sb: np.ndarray, sa: np.ndarray, side: list[int], px: list[int],
                 qty: list[int]) -> None:
        self.sides = (dict(zip(sb["price"].tolist(), sb["qty"].tolist(), strict=True)),
                      dict(zip(sa["price"].tolist(), sa["qty"].tolist(), strict=True)))
        self.side, self.px, self.qty = side, px, qty
        self.at = 0
        self.checks = 0

    def advance(self, to: int) -> None:
        sides, side, px, qty = self.sides, self.side, self.px, self.qty
        for j in range(self.at, to):
            if qty[j]:
                sides[side[j]][px[j]] = qty[j]
            else:
                sides[side[j]].pop(px[j], None)
        self.at = to

    def check(self, book: Book, where: str) -> None:
        for side in (BID, ASK):
            want = sorted(self.sides[side].items(), reverse=side == BID)
            px, q = book.levels_ticks(side)
            got = list(zip(px.tolist(), q.tolist(), strict=True))
            if got != want:
                raise Mismatch(f"{where}: {'bid' if side == BID else 'ask'} side differs "
                               f"from the reference book ({len(got)} vs {len(want)} levels)")
        self.checks += 1

    def check_top(self, top: TopN, row: int, where: str) -> None:
        for side in (BID, ASK):
            d = self.sides[side]
            keys = heapq.nlargest(10, d) if side == BID else heapq.nsmallest(10, d)
            want = [(k, d[k]) for k in keys]
            tpx, tq = top[2 * side][row].tolist(), top[2 * side + 1][row].tolist()
            got = [(p, s) for p, s in zip(tpx, tq, strict=True) if s]
            if got != want:
                raise Mismatch(f"{where}: streamed top-10 of side {side} differs")
        self.checks += 1


def fresh(sb: np.ndarray, sa: np.ndarray) -> Book:
    book = Book(TICK, LOT, symbol="BTC/USDT")
    book.load_ticks(sb["price"], sb["qty"], sa["price"], sa["qty"])
    return book


def best_of(fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(max(1, REPEAT)))


def main() -> int:
    t0 = time.perf_counter()
    sb, sa, events, _ = stream.load()
    d = events[events["kind"] == stream.KIND_DELTA]
    n = len(d)
    side = np.ascontiguousarray(d["side"], dtype=np.int64)
    px = np.ascontiguousarray(d["price"], dtype=np.int64)
    qty = np.ascontiguousarray(d["qty"], dtype=np.int64)
    lists = side.tolist(), px.tolist(), qty.tolist()
    load_s = time.perf_counter() - t0

    t = time.perf_counter()
    kernel = book_kernels.kernel()
    if kernel is not None:
        kernel(*_warmup_args())
    kernel_load_s = time.perf_counter() - t
    out = TopN(*(np.zeros((CHUNK, 10), dtype=np.int64) for _ in range(4)))

    rng = np.random.default_rng(1)

    def run_top10() -> float:
        book, ref = fresh(sb, sa), Reference(sb, sa, *lists)
        elapsed = 0.0
        for a in range(0, n, CHUNK):
            b = min(n, a + CHUNK)
            t = time.perf_counter()
            top = book.apply_top(side[a:b], px[a:b], qty[a:b], 10, out=out)
            elapsed += time.perf_counter() - t
            # spot-check one streamed row per chunk, and the whole book now and then
            row = int(rng.integers(0, b - a))
            ref.advance(a + row + 1)
            ref.check_top(top, row, f"apply_top row for delta {a + row}")
            ref.advance(b)
            ref.check_top(top, b - a - 1, f"apply_top row for delta {b - 1}")
            if b % CHECK_EVERY == 0 or b == n:
                ref.check(book, f"apply_top after delta {b}")
        return elapsed

    def run_bests() -> float:
        book, ref = fresh(sb, sa), Reference(sb, sa, *lists)
        elapsed = 0.0
        step = 16 * CHUNK
        for a in range(0, n, step):
            b = min(n, a + step)
            t = time.perf_counter()
            best = book.apply_bests(side[a:b], px[a:b], qty[a:b])
            elapsed += time.perf_counter() - t
            ref.advance(b)
            ref.check(book, f"apply_bests after delta {b}")
            if best[-1, 0] != book.best_bid_ticks or best[-1, 1] != book.best_ask_ticks:
                raise Mismatch(f"apply_bests after delta {b}: last best differs from the book")
        return elapsed

    def run_batch() -> float:
        book = fresh(sb, sa)
        t = time.perf_counter()
        book.apply_batch(side, px, qty)
        elapsed = time.perf_counter() - t
        ref = Reference(sb, sa, *lists)
        ref.advance(n)
        ref.check(book, "apply_batch of the whole run")
        return elapsed

    m = min(n, 200_000)

    def run_set_level() -> float:
        book = fresh(sb, sa)
        s, p, q = (x[:m] for x in lists)
        set_level = book.set_level
        t = time.perf_counter()
        for j in range(m):
            set_level(s[j], p[j], q[j])
        elapsed = time.perf_counter() - t
        ref = Reference(sb, sa, *lists)
        ref.advance(m)
        ref.check(book, "set_level run")
        return elapsed

    msgs = [BookDelta(symbol="BTC/USDT", bids=[(p / 10, q / 1000)]) if s == BID else
            BookDelta(symbol="BTC/USDT", asks=[(p / 10, q / 1000)])
            for s, p, q in zip(*(x[:m] for x in lists), strict=True)]

    def run_apply_delta() -> float:
        book = fresh(sb, sa)
        apply = book.apply_delta
        t = time.perf_counter()
        for msg in msgs:
            apply(msg)
        elapsed = time.perf_counter() - t
        ref = Reference(sb, sa, *lists)
        ref.advance(m)
        ref.check(book, "apply_delta run")
        return elapsed

    def without_numba(fn: Callable[[], float]) -> float:
        saved = book_kernels._compiled, book_kernels._loaded
        book_kernels._compiled, book_kernels._loaded = None, True
        try:
            return fn()
        finally:
            book_kernels._compiled, book_kernels._loaded = saved

    t = time.perf_counter()
    snap = fresh(sb, sa)
    snapshot_us = (time.perf_counter() - t) * 1e6
    t = time.perf_counter()
    for _ in range(1000):
        snap.top(BID, 10)
        snap.top(ASK, 10)
    top_read_us = (time.perf_counter() - t) / 1000 * 1e6

    try:
        t_top = best_of(run_top10)
        t_best = best_of(run_bests)
        t_batch = best_of(run_batch)
        t_set = best_of(run_set_level)
        t_delta = best_of(run_apply_delta)
        t_top_np = without_numba(run_top10)
        t_best_np = without_numba(run_bests)
    except Mismatch as e:
        print(f"BOOK MISMATCH: {e}", file=sys.stderr)
        print(json.dumps({"error": str(e)}))
        return 1

    result = {
        "n_deltas": n,
        "apply_top10_per_s": round(n / t_top),
        "apply_per_s": round(n / t_best),
        "batch_apply_per_s": round(n / t_batch),
        "set_level_per_s": round(m / t_set),
        "apply_delta_per_s": round(m / t_delta),
        "apply_top10_numpy_per_s": round(n / t_top_np),
        "apply_numpy_per_s": round(n / t_best_np),
        "top10_both_sides_read_us": round(top_read_us, 2),
        "snapshot_load_us": round(snapshot_us, 1),
        "compiled_kernel": book_kernels.compiled(),
        "kernel_load_s": round(kernel_load_s, 3),
        "stream_load_s": round(load_s, 2),
        "checked": True,
        "repeat": REPEAT,
    }
    print(json.dumps(result))
    return 0


def _warmup_args() -> tuple[object, ...]:
    """Arguments for one tiny kernel call, so that compiling or loading it is timed apart."""
    z = np.zeros
    i8 = np.int64
    return (z((2, 8), i8), z(2, i8), np.array([-1, 8, 0, 0], i8), z(2, i8), z(2, i8), z((2, 1), i8),
            z((2, 1), i8), z(2, i8), z(1, i8), z(1, i8), z(1, i8), z(1, i8), z(1, i8), 0, 1,
            z((1, 2), i8), z((1, 1), i8), z((1, 1), i8), z((1, 1), i8), z((1, 1), i8))


if __name__ == "__main__":
    sys.exit(main())
