"""Snapshots of the main screen on a seeded sim frozen in time, in two themes and two sizes.

The frozen sim generates a fixed stretch of market (pinned start time, seed) and then goes
quiet, so books, tape, candles and the status bar's market clock are the same on every run.
Update after an intended layout change with `pytest tests/test_ui_snapshots.py
--snapshot-update` and review the SVGs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import pytest
from textual.pilot import Pilot

import providers.sim.feed as sim
from console.data.feed import FeedHub
from console.model.events import ConnectorStatus
from console.ui.app import MDConsoleApp
from console.ui.tape import TapePane
from providers.sim.market import SimMarket
from tests.test_ui_app import lines, until

START_TIME = 1_700_000_000.0
FROZEN_SECONDS = 90
SYMBOLS = ["BTC/USD", "ETH/USD", "SOL/USD", "DOGE/USD"]


async def frozen_stream(
    send: Any,
    symbols: Sequence[str],
    shm: Mapping[str, Any],
    feed_is_live: asyncio.Event,
    *,
    config: Mapping[str, Any],
    task_status: Any,
) -> None:
    """The sim's stream for FROZEN_SECONDS of market time, then silence (never a wall clock)."""
    cfg = sim.configure(config)
    specs = [sim._lookup(s) for s in symbols]
    start_ns, prices = sim._claim_anchors(cfg, specs)
    market = SimMarket(specs, cfg.seed, start_ns, rate=cfg.rate, start_prices=prices)
    for quote in market.first_quotes():
        send(quote)
    feed_is_live.set()
    task_status.started()
    for snap in market.snapshots():
        send(snap)
    send(ConnectorStatus(symbol="", ts=start_ns, recv_ts=start_ns, provider="sim", state="live"))
    for _ in range(FROZEN_SECONDS * 10):
        for event in market.step(100_000_000):
            send(event)
    await asyncio.Event().wait()


def frozen_hub() -> FeedHub:
    # History reuses an anchor a previous hub in this process left behind, even with a pinned
    # start time; forget them so history starts from START_TIME like the stream.
    sim._anchors.clear()
    module = SimpleNamespace(
        NAME="sim",
        CAPABILITIES=sim.CAPABILITIES,
        ohlc_dtype=sim.ohlc_dtype,
        configure=sim.configure,
        symbol_info=sim.symbol_info,
        search_symbols=sim.search_symbols,
        open_history_client=sim.open_history_client,
        stream_quotes=frozen_stream,
    )
    return FeedHub(
        module,
        SYMBOLS,
        config={"seed": 42, "rate": 400, "start_time": START_TIME},
        stale_after=1e9,  # the stream is quiet on purpose: never grey the rows
        clock="market",
    )


async def settled(pilot: Pilot[Any]) -> None:
    """Wait until the burst is fully painted and the ingest rate has fallen back to zero."""
    app = pilot.app
    assert isinstance(app, MDConsoleApp)
    hub = app.view
    assert isinstance(hub, FeedHub)
    total = FROZEN_SECONDS * 10
    await until(app, lambda: app.candles_pane.candle_count > 0 and hub.events > total)
    # The first rate tick counts the burst, the next finds the stream quiet.
    await until(app, lambda: hub.events_per_s > 0.0, timeout=30)
    await until(app, lambda: hub.events_per_s == 0.0, timeout=30)
    tape = app.query_one(TapePane)
    if tape.display:
        await until(app, lambda: any("▲" in r or "▼" in r for r in lines(tape)))
    for _ in range(3):
        await app.next_frame()
    await asyncio.sleep(0.6)  # one status refresh after the rate settled
    await app.next_frame()
    app.screen.set_focus(None)
    await pilot.pause()


@pytest.mark.parametrize("theme", ["mdconsole-dark", "mdconsole-light"])
@pytest.mark.parametrize("size", [(160, 50), (100, 30)], ids=["160x50", "100x30"])
def test_main_screen_snapshot(snap_compare: Any, theme: str, size: tuple[int, int]) -> None:
    app = MDConsoleApp(frozen_hub(), provider="sim", timeframe_s=60, theme=theme)
    assert snap_compare(app, terminal_size=size, run_before=settled)
