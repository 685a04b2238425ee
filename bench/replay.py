"""Replay decode speed on the reference stream (../shared/bench/stream.py).

Records the stream once (array fast path), then replays the file at speed max: decode every
frame, apply book deltas to a Book in bulk and sample trades into 1 s bars. Last line: one
JSON object with `replay_events_per_s` (events decoded into books and bars per second).

    python bench/replay.py              # BENCH_N_DELTAS=100000 for a quick run
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO.parent / "shared" / "bench"))

import stream  # noqa: E402
from record import COMPRESSION, INSTRUMENT, SYMBOL, kline_bars, snapshot, write_arrays  # noqa: E402

from console.data.sampler import bars_from_trades  # noqa: E402
from console.model.book import Book  # noqa: E402
from console.record.bulk import apply_columns, trade_arrays  # noqa: E402
from console.record.reader import open_recording  # noqa: E402


def replay(path: Path) -> tuple[float, int, Book, np.ndarray]:
    t0 = time.perf_counter()
    book = Book(INSTRUMENT.tick_size, INSTRUMENT.lot_size, symbol=SYMBOL)
    ts_parts, px_parts, sz_parts = [], [], []
    n = 0
    with open_recording(path) as rec:
        for cols in rec.iter_batches():
            apply_columns(book, cols)
            ts, px, sz, _side = trade_arrays(cols)
            ts_parts.append(ts)
            px_parts.append(px)
            sz_parts.append(sz)
            n += len(cols)
    bars = bars_from_trades(
        np.concatenate(ts_parts), np.concatenate(px_parts), np.concatenate(sz_parts)
    )
    return time.perf_counter() - t0, n, book, bars


def main() -> None:
    snap_bids, snap_asks, events, klines = stream.load()
    snap = snapshot(snap_bids, snap_asks, int(events["ts"][0]) - 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_BTC_USDT.mdrec"
        write_arrays(path, events, kline_bars(klines), snap, COMPRESSION)
        secs, n, book, bars = replay(path)
        # the per-event object path (what a paced replay provider iterates), on a slice
        t0 = time.perf_counter()
        with open_recording(path) as rec:
            n_obj = 0
            for _ev in rec.iter_events():
                n_obj += 1
                if n_obj >= 200_000:
                    break
        obj_secs = time.perf_counter() - t0
    result = {
        "replay_events_per_s": round(n / secs),
        "replay_events_per_s_objects": round(n_obj / obj_secs),
        "events": n,
        "bars_1s": len(bars),
        "best_bid": book.best_bid,
        "best_ask": book.best_ask,
        "compression": COMPRESSION,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
