"""Sim provider speed: the generator alone, the real stream loop, and history generation.

`generate_events_per_s` is SimMarket.step at a stress rate on a virtual clock (realtime off),
events of every kind counted, per wall second (and per CPU second, steadier on a busy host);
`stream_events_per_s` runs the real `stream_quotes` (realtime off) into a counting `send`;
history figures are milliseconds per request. The last line is one JSON object.

    python bench/sim.py          # BENCH_SIM_N events (default 500000)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from console.data.provider import TaskStatus  # noqa: E402
from console.model.events import MarketEvent  # noqa: E402
from providers.sim import feed, history  # noqa: E402
from providers.sim.market import SimMarket  # noqa: E402
from providers.sim.specs import DEFAULT_SPECS, start_price  # noqa: E402

N = int(os.environ.get("BENCH_SIM_N", 500_000))
RATE = 200_000.0
SYMBOLS = list(DEFAULT_SPECS)
START_S = 1_767_225_600


def bench_generate() -> dict[str, Any]:
    market = SimMarket(SYMBOLS, 7, START_S * 1_000_000_000, rate=RATE)
    market.step(feed.BATCH_NS)  # warm up
    mix: Counter[str] = Counter()
    count = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    while count < N:
        events = market.step(feed.BATCH_NS)
        count += len(events)
        mix.update(type(e).__name__ for e in events)
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - c0
    market_s = (market.now_ns - market.start_ns) / 1e9
    return {
        "generate_events_per_s": round(count / elapsed),
        "generate_events_per_cpu_s": round(count / cpu),
        "generate_events": count,
        "generate_market_events_per_s": round(count / market_s),
        "mix": dict(mix),
    }


async def bench_stream() -> float:
    count = 0
    done = asyncio.Event()

    def send(_event: MarketEvent) -> None:
        nonlocal count
        count += 1
        if count >= N:
            done.set()

    config = {"seed": 7, "start_time": START_S, "realtime": False, "rate": RATE}
    task = asyncio.create_task(feed.stream_quotes(
        send, SYMBOLS, {}, asyncio.Event(), config=config, task_status=TaskStatus()))
    t0 = time.perf_counter()
    await done.wait()
    elapsed = time.perf_counter() - t0
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return count / elapsed


def bench_history() -> dict[str, float]:
    spec = DEFAULT_SPECS["BTC/USD"]
    price = start_price(spec, 7)
    out = {}
    for name, tf, lo in [("1s_day", 1, 0), ("1m_week", 60, history.SERVED_ROWS[60] - 10_080),
                         ("1m_year", 60, 0)]:
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            history.generate(spec, 7, tf, START_S, price, lo)
            best = min(best, time.perf_counter() - t0)
        out[f"history_{name}_ms"] = round(best * 1000, 1)
    return out


def main() -> None:
    result = bench_generate()
    result["stream_events_per_s"] = round(asyncio.run(bench_stream()))
    result.update(bench_history())
    result["rate_config"] = RATE
    print(json.dumps(result))


if __name__ == "__main__":
    main()
