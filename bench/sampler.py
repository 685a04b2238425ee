"""Sampler throughput on the reference stream's trades: batch and streaming into 1 s bars.

    python bench/sampler.py           # BENCH_N_DELTAS=200000 for a quick run

Prints a JSON object on its last line: batch_trades_per_s (bars_from_trades over all trades,
best of several runs, trades repeated to at least 2M so the figure is not call overhead),
stream_trades_per_s (Sampler.on_trade per trade into shared-memory 1 s and 1 m buffers, with
on_clock every 100 ms of stream time, every trade written through; and with writes throttled
to one per 20 ms), stream_chunked_trades_per_s (Sampler.on_trades with 1,000-trade chunks, as a
replay feeds it) and resample_1s_rows_per_s (1 s -> 1 m bars).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO.parent / "shared" / "bench"))

import stream  # noqa: E402

from console.data.buffers import OhlcBuffer  # noqa: E402
from console.data.sampler import NS, Sampler, bars_from_trades, resample  # noqa: E402

MIN_BATCH = 2_000_000
CHUNK = 1_000  # trades per Sampler.on_trades call


def trades() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _, _, events, _ = stream.load()
    tr = events[events["kind"] == stream.KIND_TRADE]
    return (
        tr["ts"].astype(np.int64),
        tr["price"] / stream.TICKS_PER_UNIT,
        tr["qty"] / stream.LOTS_PER_UNIT,
    )


def best_of(fn, runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ts, px, sz = trades()
    n = ts.shape[0]
    # repeat the trades later in time until the batch is large enough to measure throughput
    reps = max(1, -(-MIN_BATCH // n))
    span = int(ts[-1] - ts[0]) + NS
    big_ts = np.concatenate([ts + i * span for i in range(reps)])
    big_px, big_sz = np.tile(px, reps), np.tile(sz, reps)
    batch_s = best_of(lambda: bars_from_trades(big_ts, big_px, big_sz))
    bars = bars_from_trades(big_ts, big_px, big_sz)

    stream_rates = {}
    agree = True
    ref = bars_from_trades(ts, px, sz)
    for every in (0.0, 0.02):
        b1 = OhlcBuffer.create("bench.1s", 86_400)
        b2 = OhlcBuffer.create("bench.1m", 10_080)
        try:
            sampler = Sampler(b1, b2, write_every_s=every)
            tl, pl, ql = ts.tolist(), px.tolist(), sz.tolist()
            clock_every = NS // 10
            t0 = time.perf_counter()
            next_clock = tl[0] + clock_every
            on_trade, on_clock = sampler.on_trade, sampler.on_clock
            for t, p, q in zip(tl, pl, ql, strict=True):
                if t >= next_clock:
                    on_clock(t, True)
                    next_clock = t + clock_every
                on_trade(t, p, q)
            sampler.flush()
            stream_rates[every] = n / (time.perf_counter() - t0)
            got = b1.read()
            traded = got[np.isin(got["time"], ref["time"])]
            agree = agree and bool((traded["close"] == ref["close"]).all())
        finally:
            b1.unlink()
            b2.unlink()

    # replay-style: chunks of trades through Sampler.on_trades, live, with clock ticks between
    b1 = OhlcBuffer.create("bench.1s", 86_400)
    b2 = OhlcBuffer.create("bench.1m", 10_080)
    try:
        sampler = Sampler(b1, b2)
        cuts = list(range(0, big_ts.shape[0], CHUNK))
        t0 = time.perf_counter()
        for c in cuts:
            sampler.on_clock(int(big_ts[c]), True)
            sampler.on_trades(big_ts[c : c + CHUNK], big_px[c : c + CHUNK], big_sz[c : c + CHUNK])
        chunked_rate = big_ts.shape[0] / (time.perf_counter() - t0)
    finally:
        b1.unlink()
        b2.unlink()

    resample_s = best_of(lambda: resample(bars, 60))
    print(
        json.dumps(
            {
                "trades": n,
                "batch_trades": int(big_ts.shape[0]),
                "batch_trades_per_s": round(big_ts.shape[0] / batch_s),
                "stream_trades_per_s": round(stream_rates[0.0]),
                "stream_trades_per_s_write_every_20ms": round(stream_rates[0.02]),
                "stream_chunked_trades_per_s": round(chunked_rate),
                "resample_1s_rows_per_s": round(bars.shape[0] / resample_s),
                "bars_1s": int(ref.shape[0]),
                "stream_bars_match_batch": agree,
            }
        )
    )


if __name__ == "__main__":
    main()
