"""The full trading screen headless at 160x50 on `sim` at 20,000 events/s, with a paper EMS.

Prints one JSON object on its last line:
- `fps`: frame-pump ticks per wall second (the pump runs at `fps_target`);
- `loop_lag_p99_ms`: how late a 10 ms timer wakes, p99 (how long ingest and painting hold
  the event loop);
- `render_ms_p50`/`_p99`: pump work per frame (all panes: watchlist, chart, ladder, ticket,
  blotter, tape);
- `bytes_per_frame`: terminal output per pump frame, counted as the bytes Textual would write
  to a real terminal for each screen update (headless drivers write nothing, so each update
  is rendered to its escape sequence and measured) — what an SSH link carries;
- `key_to_working_ms` (p50, and `_max`): from a `b` key event entering the app, as a terminal
  sends it, to the first screen update that shows the order working in both the blotter and
  the ladder; the order is then cancelled and the next one placed.

Env: BENCH_SECONDS (measure window, default 8), BENCH_RATE (default 20000), BENCH_FPS
(pump rate, default 34: the pump skips a tick when the loop is late, so 30 is reached
with a little headroom), BENCH_KEYS (orders placed for key latency, default 15).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual import events
from textual._compositor import CompositorUpdate
from textual.widget import Widget

from console.data.feed import FeedHub
from console.ems.journal import Journal
from console.ems.router import Ems
from console.ui.app import MDConsoleApp
from console.ui.session import TradingSession

SYMBOLS = ["BTC/USD", "ETH/USD", "SOL/USD", "DOGE/USD"]


def lines(widget: Widget) -> list[str]:
    return ["".join(seg.text for seg in widget.render_line(y)) for y in range(widget.size.height)]


class Meter:
    """Counts the bytes of each screen update and when it happened."""

    def __init__(self, app: MDConsoleApp) -> None:
        self.app = app
        self.bytes = 0
        self.updates = 0
        self.last_update = 0.0
        self.on = False
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None and not app._batch_count:
                self.last_update = time.perf_counter()
                if self.on:
                    if isinstance(renderable, CompositorUpdate):
                        text = renderable.render_segments(app.console)
                    else:
                        text = app.console._render_buffer(app.console.render(renderable))
                    self.bytes += len(text.encode("utf-8"))
                    self.updates += 1
            original(screen, renderable)

        app._display = display  # type: ignore[method-assign]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return round(s[min(int(q * len(s)), len(s) - 1)], 3)


async def key_latency(app: MDConsoleApp, meter: Meter, session: TradingSession,
                      n: int) -> list[float]:
    """Place `n` buy limits with the `b` key, far under the market so they rest."""
    out: list[float] = []
    app.ladder_pane.focus()
    app.ladder_pane.move_cursor(-300)
    driver = app._driver
    assert driver is not None
    for _ in range(n):
        before = {o.order_id for o in session.working_orders()}
        key = events.Key("b", "b")
        key.set_sender(app)
        t0 = time.perf_counter()
        driver.send_message(key)
        seen_at = 0.0
        oid = ""
        while time.perf_counter() - t0 < 2.0:
            if not oid:
                new = [o.order_id for o in session.working_orders() if o.order_id not in before]
                oid = new[0] if new else ""
            if oid and not seen_at:
                in_blotter = any(oid in row for row in app.blotter_pane.lines())
                in_ladder = any("●" in row for row in lines(app.ladder_pane))
                if in_blotter and in_ladder:
                    seen_at = time.perf_counter()
            if seen_at and meter.last_update >= seen_at:
                out.append((meter.last_update - t0) * 1000.0)
                break
            await asyncio.sleep(0.0005)
        if oid:
            session.ems.cancel(oid)
        await app.next_frame()
        app.ladder_pane.move_cursor(-1)
    return out


async def run(seconds: float, rate: int, fps_target: int, keys: int) -> dict[str, object]:
    tmp = tempfile.mkdtemp(prefix="mdconsole-bench-")
    hub = FeedHub("sim", SYMBOLS, config={"seed": 7, "rate": rate, "realtime": True})
    session = TradingSession(Ems(Journal(Path(tmp) / "journal.sqlite")))
    app = MDConsoleApp(hub, provider="sim", fps=fps_target, timeframe_s=1, trading=session)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            meter = Meter(app)
            deadline = time.perf_counter() + 20
            while (app.candles_pane.candle_count == 0 or app.ladder_pane.cursor_tick is None
                   ) and time.perf_counter() < deadline:
                await pilot.pause(0.05)
            # a few working orders and a position, so every pane has rows to paint
            app.ladder_pane.move_cursor(-50)
            await pilot.press("b", "down", "b", "S")
            visible = {name: bool(getattr(app, attr).region.area) for name, attr in (
                ("quotes", "quotes_pane"), ("candles", "candles_pane"),
                ("ladder", "ladder_pane"), ("entry", "entry_pane"),
                ("blotter", "blotter_pane"))}
            frames0, events0, t0 = app.frames, hub.events, time.perf_counter()
            app.frame_ms.clear()
            meter.on = True
            lags: list[float] = []
            end = t0 + seconds
            while (now := time.perf_counter()) < end:
                # The measured interval itself: timer lateness is the figure.
                await asyncio.sleep(0.01)
                lags.append((time.perf_counter() - now - 0.01) * 1000.0)
            elapsed = time.perf_counter() - t0
            meter.on = False
            frames, ingested = app.frames - frames0, hub.events - events0
            render = list(app.frame_ms)
            out_bytes, updates = meter.bytes, meter.updates
            latencies = await key_latency(app, meter, session, keys)
            await app.stop_view()
    finally:
        session.close()
    return {
        "bench": "ui",
        "size": "160x50",
        "seconds": round(elapsed, 2),
        "sim_rate": rate,
        "events_per_s": round(ingested / elapsed),
        "fps_target": fps_target,
        "fps": round(frames / elapsed, 1),
        "loop_lag_p50_ms": pct(lags, 0.5),
        "loop_lag_p99_ms": pct(lags, 0.99),
        "render_ms_p50": pct(render, 0.5),
        "render_ms_p99": pct(render, 0.99),
        "bytes_per_frame": round(out_bytes / max(frames, 1)),
        "bytes_per_s": round(out_bytes / elapsed),
        "screen_updates_per_s": round(updates / elapsed, 1),
        "colour_system": app.console.color_system,
        "key_to_working_ms": pct(latencies, 0.5),
        "key_to_working_ms_max": pct(latencies, 1.0),
        "key_samples": len(latencies),
        "panes_visible": visible,
    }


def main() -> None:
    seconds = float(os.environ.get("BENCH_SECONDS", "8"))
    rate = int(os.environ.get("BENCH_RATE", "20000"))
    fps = int(os.environ.get("BENCH_FPS", "34"))
    keys = int(os.environ.get("BENCH_KEYS", "15"))
    started = time.perf_counter()
    result = asyncio.run(run(seconds, rate, fps, keys))
    result["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
