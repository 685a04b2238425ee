"""Repaints leave no cyclic garbage and the start-up heap is frozen, so GC never stalls the loop."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

from rich.segment import Segment
from textual.strip import Strip

from console.data.feed import FeedHub
from console.ui import heap
from console.ui.app import MDConsoleApp


async def until(app: MDConsoleApp, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    async def wait() -> None:
        while not condition():
            await app.next_frame()

    await asyncio.wait_for(wait(), timeout)


def test_whole_strip_divide_is_freed_without_the_cyclic_collector() -> None:
    heap.install()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        for i in range(200):
            strip = Strip([Segment(f"row {i:04d} "), Segment("price")])
            assert strip.divide([strip.cell_length]) == [strip]
            del strip
        # Before install() every such strip held itself in its divide cache: 200 cycles.
        assert gc.collect() < 20
    finally:
        if was_enabled:
            gc.enable()


def test_divide_at_inner_cuts_still_splits_the_strip() -> None:
    heap.install()
    strip = Strip([Segment("abcdef"), Segment("ghij")])
    parts = strip.divide([3, 8, 10])
    assert [p.text for p in parts] == ["abc", "defgh", "ij"]
    assert [p.text for p in strip.divide([20])] == []


async def test_console_freezes_its_start_up_heap_and_repaints_leave_no_strip_cycles() -> None:
    hub = FeedHub("sim", ["BTC/USD", "ETH/USD"], config={"seed": 9, "rate": 3000})
    app = MDConsoleApp(hub, provider="sim", timeframe_s=1)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: app.candles_pane.candle_count > 0)
        await app.next_frame()
        assert gc.get_freeze_count() > 0
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            frames = app.frames
            await until(app, lambda: app.frames >= frames + 20)
            gc.collect()
            cyclic_strips = sum(1 for o in gc.garbage if isinstance(o, Strip))
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
        # Unfixed, every repainted line of every pane left one (hundreds in 20 frames).
        assert cyclic_strips < 10
        await pilot.press("q")
    assert gc.get_freeze_count() == 0
