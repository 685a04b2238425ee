"""Streaming top-N in plain numpy: the fallback for `Book.apply_top` where numba is absent.

Works chunk by chunk. Within a chunk with D deletes on a side, the top-N after any delta can
only hold the N + D best levels from the chunk's start or prices the chunk touches that are at
least as good as the (N + D)-th: anything worse always has N live levels in front of it. So a
small (deltas x candidates) matrix of sizes, forward-filled through the chunk, gives every
row's top-N at once; the book itself then takes the chunk with `apply_batch`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from console.model.book import Book, TopN

I8 = npt.NDArray[np.int64]

CHUNK = 256
NO_BID = -(2**63)
NO_ASK = 2**63 - 1


def _side_rows(
    book: Book, side: int, px: I8, qty: I8, n: int
) -> tuple[I8, I8]:
    """Top-n of one side before and after each of its deltas: (m + 1, n) ticks and lots."""
    m = px.size
    deletes = int(np.count_nonzero(qty == 0))
    init_px, init_q = book.top_ticks(side, n + deletes)
    if init_px.size >= n + deletes and init_px.size:
        worst = init_px[-1]
        keep = px >= worst if side == 0 else px <= worst
    else:
        keep = np.ones(m, dtype=bool)
    asc = np.union1d(init_px, px[keep])  # candidate prices, ascending
    cols = asc.size
    upd = np.full((m + 1, cols), -1, dtype=np.int64)
    upd[0] = 0
    upd[0, np.searchsorted(asc, init_px)] = init_q
    rows = np.flatnonzero(keep)
    upd[rows + 1, np.searchsorted(asc, px[rows])] = qty[rows]
    # forward-fill every candidate's size through the chunk
    last = np.where(upd >= 0, np.arange(m + 1, dtype=np.int64)[:, None], 0)
    np.maximum.accumulate(last, axis=0, out=last)
    sizes = np.take_along_axis(upd, last, axis=0)
    prices = asc
    if side == 0:
        sizes = sizes[:, ::-1]
        prices = asc[::-1]
    live = sizes > 0
    rank = np.cumsum(live, axis=1)
    r, c = np.nonzero(live & (rank <= n))
    out_px = np.zeros((m + 1, n), dtype=np.int64)
    out_q = np.zeros((m + 1, n), dtype=np.int64)
    slot = rank[r, c] - 1
    out_px[r, slot] = prices[c]
    out_q[r, slot] = sizes[r, c]
    return out_px, out_q


def run_chunk(book: Book, s: I8, p: I8, q: I8, n: int, best: I8, top: TopN) -> None:
    """Apply one chunk of valid deltas, filling rows of `best` (k, 2) and `top` (k, n)."""
    n_eff = max(n, 1)  # the best is the top-1
    for side, col, empty in ((0, 0, NO_BID), (1, 1, NO_ASK)):
        mine = s == side
        out_px, out_q = _side_rows(book, side, p[mine], q[mine], n_eff)
        at = np.cumsum(mine)  # row of out_* that holds the book after each delta
        rows_px, rows_q = out_px[at], out_q[at]
        best[:, col] = np.where(rows_q[:, 0] > 0, rows_px[:, 0], empty)
        if n:
            top[2 * side][:] = rows_px[:, :n]
            top[2 * side + 1][:] = rows_q[:, :n]
    book._apply_batch(s, p, q)  # a max_depth book is truncated after the whole run


def run(book: Book, s: I8, p: I8, q: I8, n: int, best: I8, top: TopN) -> int:
    """Apply the valid prefix of a run; returns where it stopped (the first invalid delta)."""
    bad = np.flatnonzero(((s != 0) & (s != 1)) | (q < 0))
    end = int(bad[0]) if bad.size else s.size
    for a in range(0, end, CHUNK):
        b = min(end, a + CHUNK)
        run_chunk(book, s[a:b], p[a:b], q[a:b], n, best[a:b], type(top)(*(x[a:b] for x in top)))
    return end
