"""The replay console on an OKX SQLite database: the replay keys pause, step and seek it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.ui.replay import build_replay_app
from providers.replay import feed as replay_feed
from providers.replay.cli import replay_setup
from tests.sqlitegen import TICKS, Truth, make_db
from tests.test_ui_replay import hub_of, until

NS = 1_000_000_000
SYMBOL = "BTC/USDT"


@pytest.fixture
def okx_db(tmp_path: Path) -> Iterator[tuple[Path, Truth]]:
    path = tmp_path / "okx.sqlite"
    truth = make_db(path, rows=480, seed=13)["BTC-USDT"]  # two minutes of rows, 250 ms apart
    yield path, truth
    replay_feed.close()


async def test_replay_keys_pause_step_and_seek_an_okx_database(
    okx_db: tuple[Path, Truth],
) -> None:
    path, truth = okx_db
    setup = replay_setup([path], speed="1", paused=True)
    assert setup.symbols == [SYMBOL]
    app = build_replay_app(setup, fps=20)
    control = setup.control
    hub = hub_of(app)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: SYMBOL in hub.quotes and hub.quotes[SYMBOL].last > 0
                    and app.candles_pane.symbol == SYMBOL, timeout=30)
        await until(app, lambda: "replay paused" in app.status_line.plain, timeout=30)
        start = control.position_ns
        before = hub.events
        await pilot.press("full_stop")
        await until(app, lambda: hub.events > before, timeout=30)
        for _ in range(3):
            await app.next_frame()
        assert hub.events - before <= 2  # the step's event plus the player's live status
        assert control.paused
        await pilot.press("shift+right")  # +60 s: the book is the row at or before the target
        await until(app, lambda: hub.seeks == 1, timeout=30)
        assert control.position_ns == start + 60 * NS
        stepped = hub.events
        await pilot.press("full_stop")
        await until(app, lambda: hub.events > stepped, timeout=30)
        assert start + 60 * NS <= control.position_ns < start + 61 * NS
        row = max(i for i, ts in enumerate(truth.book_ts) if ts <= control.position_ns)
        book = hub.books[SYMBOL]
        assert book.best_bid == truth.bids[row][0][0] / TICKS
        assert book.best_ask == truth.asks[row][0][0] / TICKS
        await pilot.press("q")
