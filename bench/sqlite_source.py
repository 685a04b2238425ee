"""SQLite source throughput: book rows parsed per second (10 levels a side, OKX text format).

Builds (and caches) a database of BENCH_SQLITE_ROWS book rows in the OKX layout, with
Python-literal level lists of four string fields and ISO text timestamps, then times:
- book_rows_per_s: rows read from SQLite and parsed into top-10 arrays (the figure to meet),
- parse_rows_per_s: the level parser alone on rows already in memory,
- events_per_s: the full event path (snapshots, quotes, trades as objects) on a slice.
Prints one JSON object on its last line.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.record.okxdb import level_kernel
from console.record.okxdb.levels import parse_levels
from console.record.okxdb.source import SqliteSource

ROWS = int(os.environ.get("BENCH_SQLITE_ROWS", 100_000))
DEPTH = 10
EVENT_ROWS = min(ROWS, 20_000)


def build(path: Path, rows: int) -> None:
    rng = np.random.default_rng(20250701)
    mid = 300_000 + np.cumsum(rng.integers(-3, 4, rows))
    gaps = rng.integers(1, 4, (rows, 2, DEPTH)).cumsum(axis=2)
    sizes = rng.integers(1, 50_000, (rows, 2, DEPTH))
    orders = rng.integers(1, 30, (rows, 2, DEPTH))
    t0 = np.datetime64("2025-07-01T00:00:00.000")
    stamps = (t0 + np.arange(rows) * np.timedelta64(100, "ms")).astype(str)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    db.executescript(
        "CREATE TABLE book (id INTEGER PRIMARY KEY, instrument TEXT, bids TEXT, asks TEXT,"
        " timestamp TEXT);"
        "CREATE TABLE trades (id INTEGER PRIMARY KEY, instrument TEXT, trade_id TEXT,"
        " price TEXT, size TEXT, side TEXT, timestamp TEXT);"
    )

    def side(r: int, s: int) -> str:
        px = mid[r] - gaps[r, 0] if s == 0 else mid[r] + gaps[r, 1]
        return repr(
            [
                [f"{p / 10:.1f}", f"{q / 10_000:.4f}", "0", str(o)]
                for p, q, o in zip(
                    px.tolist(), sizes[r, s].tolist(), orders[r, s].tolist(), strict=True
                )
            ]
        )

    db.executemany(
        "INSERT INTO book (instrument, bids, asks, timestamp) VALUES ('BTC-USDT', ?, ?, ?)",
        ((side(r, 0), side(r, 1), stamps[r].replace("T", " ")) for r in range(rows)),
    )
    db.executemany(
        "INSERT INTO trades (instrument, trade_id, price, size, side, timestamp)"
        " VALUES ('BTC-USDT', ?, ?, ?, ?, ?)",
        (
            (
                str(r),
                f"{mid[r] / 10:.1f}",
                "0.0100",
                "buy" if r % 3 else "sell",
                stamps[r].replace("T", " "),
            )
            for r in range(0, rows, 2)
        ),
    )
    db.commit()
    db.close()
    tmp.rename(path)


def main() -> None:
    path = Path(tempfile.gettempdir()) / f"mdconsole-bench-okx-{ROWS}.sqlite"
    if not path.exists():
        build(path, ROWS)

    parse_levels([b"[['1.0', '2.0']]"], DEPTH)  # compile the scanner (cached on disk) first
    began = time.perf_counter()
    with SqliteSource(path, depth=DEPTH) as src:
        index_s = time.perf_counter() - began
        began = time.perf_counter()
        n = sum(len(batch.ts) for batch in src.book_rows())
        read_s = time.perf_counter() - began
        # the parser alone, on rows already fetched as bytes
        texts = [r[0] for r in src._db.execute("SELECT bids FROM book LIMIT 20000")]
        texts += [r[0] for r in src._db.execute("SELECT asks FROM book LIMIT 20000")]
        began = time.perf_counter()
        for i in range(0, len(texts) // 2, 4096):
            parse_levels(texts[i : i + 4096] + texts[len(texts) // 2 + i :][:4096], DEPTH)
        parse_s = time.perf_counter() - began
        end = int(src.book_ts[EVENT_ROWS - 1]) + 1
        began = time.perf_counter()
        events = sum(1 for _ in src.events(None, end))
        events_s = time.perf_counter() - began
    result = {
        "compiled_scanner": level_kernel.kernel() is not None,
        "book_rows": n,
        "book_rows_per_s": round(n / read_s),
        "parse_rows_per_s": round(len(texts) / 2 / parse_s),
        "index_rows_per_s": round((n + n // 2) / index_s),
        "events_per_s": round(events / events_s),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
