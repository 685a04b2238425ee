"""UI under stress: the sim at >= 100k events/s ingested while the console repaints headless.

Prints one JSON object on its last line: `fps` (frame-pump ticks per wall second),
`events_per_s` (events ingested per wall second), `render_ms_p50`/`render_ms_p99` (pump
work per frame) and `loop_lag_ms_p50`/`_p99` (how late a 10 ms timer wakes: the longest
stretches the provider and ingest hold the event loop, which bound the frame rate).

Env: BENCH_SECONDS (default 6); BENCH_RATE (sim events/s, default 100000); BENCH_REALTIME
(1, the default: the sim follows the wall clock at BENCH_RATE; 0: it generates as fast as the
process allows, BENCH_RATE setting only how dense the market is).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.data.feed import FeedHub
from console.ui.app import MDConsoleApp

SYMBOLS = ["BTC/USD", "ETH/USD", "SOL/USD", "DOGE/USD"]


async def run(seconds: float, rate: int, realtime: bool, fps_target: int) -> dict[str, object]:
    hub = FeedHub("sim", SYMBOLS, config={"seed": 7, "rate": rate, "realtime": realtime})
    app = MDConsoleApp(hub, provider="sim", fps=fps_target, timeframe_s=1)
    async with app.run_test(size=(160, 50)) as pilot:
        while app.candles_pane.candle_count == 0:
            await pilot.pause(0.05)
        frames0, events0, t0 = app.frames, hub.events, time.perf_counter()
        app.frame_ms.clear()
        lags: list[float] = []
        end = t0 + seconds
        while (now := time.perf_counter()) < end:
            # The measured interval itself: timer lateness is the figure, so sleeping is the point.
            await asyncio.sleep(0.01)
            lags.append((time.perf_counter() - now - 0.01) * 1000.0)
        elapsed = time.perf_counter() - t0
        frames, events = app.frames - frames0, hub.events - events0
        samples = sorted(app.frame_ms)
        await pilot.press("q")
    lags.sort()
    p = lambda q: round(samples[min(int(q * len(samples)), len(samples) - 1)], 3)  # noqa: E731
    lag = lambda q: round(lags[min(int(q * len(lags)), len(lags) - 1)], 1)  # noqa: E731
    return {
        "bench": "ui_stress",
        "seconds": round(elapsed, 2),
        "sim_rate": rate,
        "sim_realtime": realtime,
        "fps": round(frames / elapsed, 1),
        "fps_target": fps_target,
        "events_per_s": round(events / elapsed),
        "render_ms_p50": p(0.5),
        "render_ms_p99": p(0.99),
        "loop_lag_ms_p50": lag(0.5),
        "loop_lag_ms_p99": lag(0.99),
        "frames": frames,
        "size": "160x50",
    }


def main() -> None:
    seconds = float(os.environ.get("BENCH_SECONDS", "6"))
    rate = int(os.environ.get("BENCH_RATE", "100000"))
    realtime = os.environ.get("BENCH_REALTIME", "1") == "1"
    result = asyncio.run(run(seconds, rate, realtime, 25))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
