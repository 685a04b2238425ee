"""Bulk replay of decoded batches: book deltas into a Book in one vectorized call per run,
trades out as arrays for the bar sampler — no per-event objects on the fast path."""

from __future__ import annotations

import numpy as np

from console.model.book import Book
from console.model.events import BookDelta, BookSnapshot

from .format import KIND_DELTA, KIND_OTHER, KIND_TRADE, Columns


def _factor(dec: int, step: float) -> int | None:
    """Stored units per book step (e.g. 1 for a 0.1 tick stored with 1 decimal), if whole."""
    f = step * 10**dec
    r = round(f)
    return r if r >= 1 and abs(f - r) <= 1e-9 * f else None


def _to_steps(units: np.ndarray, dec: int, step: float) -> np.ndarray:
    factor = _factor(dec, step)
    if factor == 1:
        return units
    if factor is not None and not (units % factor).any():
        return units // factor
    return np.rint(units / 10.0**dec / step).astype(np.int64)


def apply_columns(book: Book, cols: Columns) -> None:
    """Apply a batch's book events to `book` in recorded order.

    Runs of columnar deltas go through `Book.apply_batch`; snapshots (and any deltas stored
    as msgpack) are applied where they occurred in the batch, splitting the runs around them.
    """
    kinds = cols.kinds
    other_pos = np.flatnonzero(kinds == KIND_OTHER)
    book_others = [
        (int(p), ev)
        for p, ev in zip(other_pos.tolist(), cols.others, strict=True)
        if isinstance(ev, BookSnapshot | BookDelta) and ev.symbol == book.symbol
    ]
    side = cols.level_side
    px = _to_steps(cols.l_px, cols.pdec, book.tick_size)
    qty = _to_steps(cols.l_qty, cols.qdec, book.lot_size)
    if not book_others:
        book.apply_batch(side, px, qty)
    else:
        # level rows before each interleaved book event: levels of the deltas before it
        deltas_before = np.cumsum(kinds == KIND_DELTA)
        level_ends = np.concatenate(([0], np.cumsum(cols.d_nb + cols.d_na)))
        row = 0
        for pos, ev in book_others:
            cut = int(level_ends[deltas_before[pos]])
            if cut > row:
                book.apply_batch(side[row:cut], px[row:cut], qty[row:cut])
            row = cut
            if isinstance(ev, BookSnapshot):
                book.apply_snapshot(ev)
            else:
                book.apply_delta(ev)
        if row < len(px):
            book.apply_batch(side[row:], px[row:], qty[row:])
    if len(cols.d_seq) and cols.d_seq[-1]:
        book.seq = int(cols.d_seq[-1])


def trade_arrays(cols: Columns) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The batch's columnar trades: (ts ns, price, size, side 0 ""/1 buy/2 sell)."""
    ts = cols.ts[cols.hot_index(KIND_TRADE)]
    return ts, cols.t_px / 10.0**cols.pdec, cols.t_qty / 10.0**cols.qdec, cols.t_side
