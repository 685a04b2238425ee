"""Deterministic generator of OKX-schema SQLite databases (book, trades) and their truth."""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

TICKS = 10  # tick 0.1
LOTS = 10_000  # lot 0.0001


@dataclass
class Truth:
    """What was written, in integer ticks/lots and epoch ns, for independent checks."""

    instrument: str
    book_ts: list[int] = field(default_factory=list)
    bids: list[list[tuple[int, int]]] = field(default_factory=list)  # (ticks, lots), best first
    asks: list[list[tuple[int, int]]] = field(default_factory=list)
    trade_ts: list[int] = field(default_factory=list)
    trade_px: list[int] = field(default_factory=list)
    trade_sz: list[int] = field(default_factory=list)
    trade_side: list[str] = field(default_factory=list)


def _levels_text(levels: list[tuple[int, int]], fmt: str, rng: random.Random) -> str:
    rows = [[f"{p / TICKS:.1f}", f"{q / LOTS:.4f}", "0", str(rng.randint(1, 9))] for p, q in levels]
    if fmt == "json":
        return json.dumps([[float(r[0]), float(r[1]), 0, int(r[3])] for r in rows])
    return repr(rows)


def _time_value(ts_ns: int, fmt: str) -> str | int:
    if fmt == "ms":
        return ts_ns // 1_000_000
    moment = datetime.fromtimestamp(ts_ns // 1_000_000 / 1000, UTC)
    text = moment.isoformat(sep=" ", timespec="milliseconds").replace("+00:00", "")
    return text + "Z" if fmt == "isoz" else text


def make_db(
    path: str | Path,
    *,
    rows: int = 200,
    depth: int = 10,
    instruments: tuple[str, ...] = ("BTC-USDT",),
    seed: int = 7,
    start_ns: int = 1_751_371_200_000_000_000,  # 2025-07-01T12:00:00Z
    interval_ms: int = 250,
    level_format: str = "python",  # python | json
    time_format: str = "iso",  # iso | isoz | ms
    trades_per_row: int = 3,
) -> dict[str, Truth]:
    """Writes `rows` book rows per instrument (and trades); returns the truth per instrument."""
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE book (id INTEGER PRIMARY KEY, instrument TEXT, bids TEXT, asks TEXT,"
        " timestamp TEXT);"
        "CREATE TABLE trades (id INTEGER PRIMARY KEY, instrument TEXT, trade_id TEXT, price TEXT,"
        " size TEXT, side TEXT, timestamp TEXT);"
    )
    truths = {name: Truth(name) for name in instruments}
    mids = {name: 300_000 + 1000 * i for i, name in enumerate(instruments)}
    trade_no = 0
    for r in range(rows):
        ts = start_ns + r * interval_ms * 1_000_000
        for name in instruments:
            truth = truths[name]
            mid = mids[name] = mids[name] + rng.randint(-3, 3)
            bids, asks, px = [], [], mid
            for _ in range(depth):
                px -= rng.randint(1, 3)
                bids.append((px, rng.randint(1, 50_000)))
            px = mid
            for _ in range(depth):
                px += rng.randint(1, 3)
                asks.append((px, rng.randint(1, 50_000)))
            db.execute(
                "INSERT INTO book (instrument, bids, asks, timestamp) VALUES (?, ?, ?, ?)",
                (
                    name,
                    _levels_text(bids, level_format, rng),
                    _levels_text(asks, level_format, rng),
                    _time_value(ts, time_format),
                ),
            )
            truth.book_ts.append(ts)
            truth.bids.append(bids)
            truth.asks.append(asks)
            offsets = sorted(
                rng.randrange(0, interval_ms) for _ in range(rng.randint(0, trades_per_row))
            )
            for off in offsets:
                t_ts = ts + off * 1_000_000
                side = rng.choice(("buy", "sell"))
                t_px = asks[0][0] if side == "buy" else bids[0][0]
                t_sz = rng.randint(1, 20_000)
                trade_no += 1
                db.execute(
                    "INSERT INTO trades (instrument, trade_id, price, size, side, timestamp)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        name,
                        str(trade_no),
                        f"{t_px / TICKS:.1f}",
                        f"{t_sz / LOTS:.4f}",
                        side,
                        _time_value(t_ts, time_format),
                    ),
                )
                truth.trade_ts.append(t_ts)
                truth.trade_px.append(t_px)
                truth.trade_sz.append(t_sz)
                truth.trade_side.append(side)
    db.commit()
    db.close()
    return truths
