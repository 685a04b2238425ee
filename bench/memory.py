"""Resident memory of 10 symbols x (1 day of 1 s bars + 1 year of 1 m bars), filled and read.

    python bench/memory.py            # BENCH_SYMBOLS=2 for a quick run

The 1 s rings live in shared memory (full OHLC_DTYPE, 72 B a row); the year of 1 m bars per
symbol lives in a file-backed ring (see console/data/buffers.py for why), written the way a
history backfill does (prepend in chunks) and then continued with pushes. RSS is read from
/proc/self/status after filling, and again after reading one symbol's whole year and resampling
it to daily bars. The last line is one JSON object; `rss_mb` is the headline figure.
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

from console.data.buffers import OhlcBuffer, buffer_label  # noqa: E402
from console.data.provider import OHLC_DTYPE  # noqa: E402
from console.data.sampler import resample  # noqa: E402

SYMBOLS = int(os.environ.get("BENCH_SYMBOLS", 10))
DAY_1S = 86_400
YEAR_1M = 525_600
CHUNK = 50_000  # rows per backfill request-sized write
T_END = 1_700_006_400  # a UTC midnight


def status() -> dict[str, float]:
    """RSS figures in MB from /proc/self/status."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
            out[key] = int(rest.split()[0]) / 1024
    return out


def bars(n: int, t0: int, step: int, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(n, dtype=OHLC_DTYPE)
    out["time"] = t0 + step * np.arange(n)
    close = 30_000 + np.cumsum(rng.integers(-5, 6, n)) / 10
    out["open"] = np.roll(close, 1)
    out["close"] = close
    out["high"] = np.maximum(out["open"], close) + 0.1
    out["low"] = np.minimum(out["open"], close) - 0.1
    out["volume"] = rng.integers(0, 5_000, n) / 1000
    out["count"] = rng.integers(0, 50, n)
    out["bar_wap"] = (out["high"] + out["low"]) / 2
    return out


def main() -> None:
    rng = np.random.default_rng(7)
    base = status()
    scratch = Path(tempfile.mkdtemp(prefix="mdconsole-bench-"))
    held: list[OhlcBuffer] = []
    t0 = time.perf_counter()
    try:
        for i in range(SYMBOLS):
            sym = f"SYM{i}/USD"
            b1 = OhlcBuffer.create(buffer_label(sym, "1s"), DAY_1S)
            held.append(b1)
            for start in range(0, DAY_1S, CHUNK):
                n = min(CHUNK, DAY_1S - start)
                b1.push(bars(n, T_END - DAY_1S + start, 1, rng))
            b1m = OhlcBuffer.create("", YEAR_1M, path=scratch / f"{buffer_label(sym, '1m')}.bars")
            held.append(b1m)
            # backfill arrives newest first, each request older than the last
            newest = T_END - 60 * 1_000
            end = newest
            room = YEAR_1M - 1_000
            while room > 0:
                n = min(CHUNK, room)
                b1m.prepend(bars(n, end - 60 * n, 60, rng))
                end -= 60 * n
                room -= n
            b1m.push(bars(1_000, newest, 60, rng))  # then live minutes
        fill_s = time.perf_counter() - t0
        filled = status()
        assert all(len(b) == b.capacity for b in held)

        # what a chart does: newest screenful of every buffer, then one symbol's year as 1 d
        for b in held:
            b.read(2_000)
        year = held[1].read()
        daily = resample(year, 86_400)
        del year
        after_read = status()
        assert daily.shape[0] >= 365
    finally:
        for b in held:
            b.unlink()
        scratch.rmdir()
    shm_mb = SYMBOLS * DAY_1S * OHLC_DTYPE.itemsize / 2**20
    file_mb = SYMBOLS * YEAR_1M * OHLC_DTYPE.itemsize / 2**20
    print(
        json.dumps(
            {
                "symbols": SYMBOLS,
                "rows_1s": SYMBOLS * DAY_1S,
                "rows_1m": SYMBOLS * YEAR_1M,
                "rss_mb": round(filled["VmRSS"], 1),
                "rss_after_reads_mb": round(after_read["VmRSS"], 1),
                "peak_rss_mb": round(after_read["VmHWM"], 1),
                "rss_anon_mb": round(filled["RssAnon"], 1),
                "rss_shmem_mb": round(filled["RssShmem"], 1),
                "rss_file_mb": round(filled["RssFile"], 1),
                "baseline_rss_mb": round(base["VmRSS"], 1),
                "shm_1s_mb": round(shm_mb, 1),
                "file_1m_mb": round(file_mb, 1),
                "all_in_ram_would_be_mb": round(base["VmRSS"] + shm_mb + file_mb, 1),
                "fill_s": round(fill_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
