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
- `key_to_working_ms` (p50, `_p90`, `_p99`, `_max`): from a `b` key event entering the app,
  as a terminal sends it, to the screen update that writes the order working in both the
  blotter and the ladder (the first update after which neither pane has a changed region
  left to paint); the order is then cancelled and the next one placed.

Env: BENCH_SECONDS (measure window, default 8), BENCH_RATE (default 20000), BENCH_FPS
(pump rate, default 34: the pump skips a tick when the loop is late, so 30 is reached
with a little headroom), BENCH_KEYS (orders placed for key latency, default 60),
BENCH_TRACE=1 (one line per key press on stderr: when the action ran and the update was
written, and the event-loop callbacks and GC passes over 2 ms while it was in flight).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
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
    """Counts the bytes of each screen update; tells `shown` when an update satisfies `watch`."""

    def __init__(self, app: MDConsoleApp) -> None:
        self.app = app
        self.bytes = 0
        self.updates = 0
        self.on = False
        self.watch: Callable[[], bool] | None = None
        self.shown: asyncio.Future[float] | None = None
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None and not app._batch_count and self.on:
                if isinstance(renderable, CompositorUpdate):
                    text = renderable.render_segments(app.console)
                else:
                    text = app.console._render_buffer(app.console.render(renderable))
                self.bytes += len(text.encode("utf-8"))
                self.updates += 1
            original(screen, renderable)
            shown = self.shown
            if (renderable is not None and self.watch is not None and shown is not None
                    and not shown.done() and self.watch()):
                shown.set_result(time.perf_counter())

        app._display = display  # type: ignore[method-assign]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return round(s[min(int(q * len(s)), len(s) - 1)], 3)


def working_shown(app: MDConsoleApp, session: TradingSession,
                  before: set[str]) -> Callable[[], bool]:
    """True once a new working order is on screen in both the blotter and the ladder.

    Checked as each update is written: the panes' lines show the order and neither pane has
    a refreshed region still waiting to be painted, so this update (or an earlier one) wrote it.
    """
    blotter, ladder = app.blotter_pane, app.ladder_pane

    def shown() -> bool:
        if blotter._repaint_regions or ladder._repaint_regions:
            return False
        new = [o.order_id for o in session.working_orders() if o.order_id not in before]
        return bool(new) and any(new[0] in row for row in blotter.lines()) and any(
            "●" in row for row in lines(ladder))

    return shown


class Tracer:
    """BENCH_TRACE: what the event loop ran (callbacks and GC passes over 2 ms) during a press."""

    SLOW_MS = 2.0

    def __init__(self, app: MDConsoleApp) -> None:
        self.log: list[tuple[float, str, float]] = []
        self.action_at = 0.0
        self._gc_start = 0.0
        gc.callbacks.append(self._on_gc)
        handle_run = asyncio.events.Handle._run
        slow = self.SLOW_MS / 1000.0

        def run(handle: asyncio.events.Handle) -> None:
            t = time.perf_counter()
            handle_run(handle)
            if time.perf_counter() - t > slow:
                self.log.append((t, _callback_name(handle), time.perf_counter() - t))

        asyncio.events.Handle._run = run  # type: ignore[method-assign,assignment]
        action = app.action_trade_limit

        def traced_action(side: Any) -> None:
            self.action_at = time.perf_counter()
            action(side)

        app.action_trade_limit = traced_action  # type: ignore[method-assign]

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        elif time.perf_counter() - self._gc_start > self.SLOW_MS / 1000.0:
            self.log.append((self._gc_start, f"gc gen{info['generation']}",
                             time.perf_counter() - self._gc_start))

    def start(self) -> None:
        self.log.clear()
        self.action_at = 0.0

    def report(self, i: int, t0: float, shown_at: float) -> None:
        def ms(t: float) -> float:
            return round((t - t0) * 1000.0, 1)

        slow = [(ms(t), what, round(d * 1000.0, 1)) for t, what, d in sorted(self.log)
                if t0 <= t <= shown_at]
        print(json.dumps({"press": i, "action_ms": ms(self.action_at) if self.action_at else None,
                          "shown_ms": ms(shown_at), "slow": slow}), file=sys.stderr)


def _callback_name(handle: asyncio.events.Handle) -> str:
    callback = handle._callback  # type: ignore[attr-defined]
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        return f"task {owner.get_name()}"
    return str(getattr(callback, "__qualname__", callback))[:80]


async def key_latency(app: MDConsoleApp, meter: Meter, session: TradingSession, n: int,
                      tracer: Tracer | None) -> list[float]:
    """Place `n` buy limits with the `b` key, far under the market so they rest."""
    out: list[float] = []
    app.ladder_pane.focus()
    app.ladder_pane.move_cursor(-300)
    # The focus change restyles and repaints every pane and the footer: a trader's `l` does
    # that well before the `b`, so it is left to finish rather than timed as part of a press.
    await asyncio.sleep(0.5)
    await app.next_frame()
    driver = app._driver
    assert driver is not None
    loop = asyncio.get_running_loop()
    for i in range(n):
        before = {o.order_id for o in session.working_orders()}
        meter.watch = working_shown(app, session, before)
        meter.shown = shown = loop.create_future()
        if tracer is not None:
            tracer.start()
        key = events.Key("b", "b")
        key.set_sender(app)
        t0 = time.perf_counter()
        driver.send_message(key)
        try:
            shown_at = await asyncio.wait_for(shown, 2.0)
        except TimeoutError:
            shown_at = 0.0
        meter.watch = None
        if shown_at:
            out.append((shown_at - t0) * 1000.0)
            if tracer is not None:
                tracer.report(i, t0, shown_at)
        for o in session.working_orders():
            if o.order_id not in before:
                session.ems.cancel(o.order_id)
        await app.next_frame()
        app.ladder_pane.move_cursor(-1)
    return out


async def run(seconds: float, rate: int, fps_target: int, keys: int,
              trace: bool) -> dict[str, object]:
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
            tracer = Tracer(app) if trace else None
            latencies = await key_latency(app, meter, session, keys, tracer)
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
        "key_to_working_ms_p90": pct(latencies, 0.9),
        "key_to_working_ms_p99": pct(latencies, 0.99),
        "key_to_working_ms_max": pct(latencies, 1.0),
        "key_samples": len(latencies),
        "panes_visible": visible,
    }


def main() -> None:
    seconds = float(os.environ.get("BENCH_SECONDS", "8"))
    rate = int(os.environ.get("BENCH_RATE", "20000"))
    fps = int(os.environ.get("BENCH_FPS", "34"))
    keys = int(os.environ.get("BENCH_KEYS", "60"))
    trace = os.environ.get("BENCH_TRACE", "") not in ("", "0")
    started = time.perf_counter()
    result = asyncio.run(run(seconds, rate, fps, keys, trace))
    result["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
