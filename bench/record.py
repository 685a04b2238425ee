"""Recorder write speed and size on the reference stream (../shared/bench/stream.py).

Writes the stream to a temporary recording through the array fast path (the shape a venue
decoder or the sim hands over in bulk) and, for a slice, through MarketEvent objects (the
live hub path). Last line: one JSON object with `write_events_per_s` and `bytes_per_delta`.

    python bench/record.py              # BENCH_N_DELTAS=100000 for a quick run
    BENCH_BATCH=1000 BENCH_COMPRESSION=zstd|zlib|none
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO.parent / "shared" / "bench"))

import stream  # noqa: E402

from console.model.events import Bar, BookDelta, BookSnapshot, MarketEvent, Trade  # noqa: E402
from console.model.instruments import Instrument  # noqa: E402
from console.record.format import Header, columns_from_arrays  # noqa: E402
from console.record.recorder import Recorder  # noqa: E402
from console.record.writer import RecordingWriter  # noqa: E402

SYMBOL = "BTC/USDT"
INSTRUMENT = Instrument(symbol=SYMBOL, base="BTC", quote="USDT", tick_size=0.1, lot_size=0.001)
BATCH = int(os.environ.get("BENCH_BATCH", 1000))
COMPRESSION = os.environ.get("BENCH_COMPRESSION", "zstd")


def kline_bars(klines: np.ndarray) -> list[MarketEvent]:
    return [
        Bar(
            symbol=SYMBOL,
            ts=int(k["ts"]),
            timeframe=60,
            time=int(k["start"]) // 1_000_000_000,
            open=int(k["open"]) / 10,
            high=int(k["high"]) / 10,
            low=int(k["low"]) / 10,
            close=int(k["close"]) / 10,
            volume=int(k["volume"]) / 1000,
        )
        for k in klines
    ]


def _levels(levels: np.ndarray) -> list[tuple[float, float]]:
    px = (levels["price"] / 10).tolist()
    qty = (levels["qty"] / 1000).tolist()
    return list(zip(px, qty, strict=True))


def snapshot(snap_bids: np.ndarray, snap_asks: np.ndarray, ts: int) -> BookSnapshot:
    return BookSnapshot(symbol=SYMBOL, ts=ts, bids=_levels(snap_bids), asks=_levels(snap_asks))


def write_arrays(
    path: Path, events: np.ndarray, bars: list[MarketEvent], snap: BookSnapshot, compression: str
) -> tuple[float, int]:
    """Seconds spent and bytes written for the whole stream through the array fast path."""
    kind = events["kind"]
    ts, side, price, qty = events["ts"], events["side"], events["price"], events["qty"]
    kline_rows = np.flatnonzero(kind == stream.KIND_KLINE)
    bar_at = np.searchsorted(kline_rows, np.arange(0, len(events), BATCH))
    t0 = time.perf_counter()
    writer = RecordingWriter(
        path,
        Header(provider="bench", symbol=SYMBOL, instrument=INSTRUMENT, compression=compression),
    )
    writer.write_events([snap])
    for b, start in enumerate(range(0, len(events), BATCH)):
        end = start + BATCH
        lo, hi = bar_at[b], (bar_at[b + 1] if b + 1 < len(bar_at) else len(kline_rows))
        cols = columns_from_arrays(
            SYMBOL,
            1,
            3,
            kind[start:end],
            ts[start:end],
            side[start:end],
            price[start:end],
            qty[start:end],
            bars[lo:hi],
        )
        writer.write_columns(cols)
    writer.close()
    return time.perf_counter() - t0, path.stat().st_size


def as_objects(events: np.ndarray, bars: list[MarketEvent]) -> list[MarketEvent]:
    out: list[MarketEvent] = []
    it = iter(bars)
    for ts, kind, side, price, qty in events.tolist():
        if kind == stream.KIND_DELTA:
            level = [(price / 10, qty / 1000)]
            out.append(
                BookDelta(
                    symbol=SYMBOL,
                    ts=ts,
                    bids=level if side == 0 else [],
                    asks=level if side == 1 else [],
                )
            )
        elif kind == stream.KIND_TRADE:
            out.append(
                Trade(
                    symbol=SYMBOL,
                    ts=ts,
                    price=price / 10,
                    size=qty / 1000,
                    side="sell" if side == 0 else "buy",
                )
            )
        else:
            out.append(next(it))
    return out


def live_cpu_percent(objs: list[MarketEvent], out: Path, rate: int = 10_000) -> float:
    """CPU the Recorder needs for `rate` events/s arriving one by one, in % of one core.

    Feeds the events through `Recorder.on_event` as the hub would, with a timer flush every
    250 ms of the simulated second, and counts process CPU time.
    """
    rec = Recorder("bench", out, instruments={SYMBOL: INSTRUMENT}, flush_interval=0.25)
    per_tick = rate // 4
    t0 = time.process_time()
    for start in range(0, len(objs), per_tick):
        for ev in objs[start : start + per_tick]:
            rec.on_event(ev)
        rec.flush()
    rec.close()
    cpu = time.process_time() - t0
    return 100.0 * cpu / (len(objs) / rate)


def main() -> None:
    snap_bids, snap_asks, events, klines = stream.load()
    bars = kline_bars(klines)
    snap = snapshot(snap_bids, snap_asks, int(events["ts"][0]) - 1)
    n_events = len(events) + 1
    deltas_only = events[events["kind"] == stream.KIND_DELTA]
    with tempfile.TemporaryDirectory() as tmp:
        secs, size = write_arrays(Path(tmp) / "full.mdrec", events, bars, snap, COMPRESSION)
        _, delta_bytes = write_arrays(
            Path(tmp) / "deltas.mdrec", deltas_only, [], snap, COMPRESSION
        )
        snap_path = Path(tmp) / "snap.mdrec"
        w = RecordingWriter(
            snap_path,
            Header(provider="bench", symbol=SYMBOL, instrument=INSTRUMENT, compression=COMPRESSION),
        )
        w.write_events([snap])
        w.close()
        delta_bytes -= snap_path.stat().st_size  # the header and the snapshot are not deltas
        # the live path: MarketEvent objects, one frame per BATCH, for a slice of the stream
        sl = events[: min(len(events), 200_000)]
        objs = as_objects(sl, bars[: int(np.count_nonzero(sl["kind"] == stream.KIND_KLINE))])
        obj_path = Path(tmp) / "objects.mdrec"
        t0 = time.perf_counter()
        w = RecordingWriter(
            obj_path,
            Header(provider="bench", symbol=SYMBOL, instrument=INSTRUMENT, compression=COMPRESSION),
        )
        for start in range(0, len(objs), BATCH):
            w.write_events(objs[start : start + BATCH])
        w.close()
        obj_secs = time.perf_counter() - t0
        cpu_pct = live_cpu_percent(objs, Path(tmp) / "live")
    result = {
        "write_events_per_s": round(n_events / secs),
        "bytes_per_delta": round(delta_bytes / len(deltas_only), 3),
        "bytes_per_event": round(size / n_events, 3),
        "write_events_per_s_objects": round(len(objs) / obj_secs),
        "recorder_cpu_pct_at_10k_per_s": round(cpu_pct, 2),
        "events": n_events,
        "deltas": len(deltas_only),
        "batch": BATCH,
        "compression": COMPRESSION,
        "file_bytes": size,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
