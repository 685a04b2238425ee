"""Replay in the console: pause/resume, speed, step and seek keys on a recording of sim events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from console.data.feed import FeedHub
from console.model.events import MarketEvent
from console.record.control import ReplayControl
from console.record.format import Header
from console.record.writer import RecordingWriter
from console.ui.replay import (
    ReplayConsoleApp,
    SeekError,
    SeekScreen,
    build_replay_app,
    parse_seek,
    replay_note,
)
from providers.replay import feed as replay_feed
from providers.replay.cli import replay_setup
from providers.sim.market import SimMarket

T0 = 1_751_371_200_000_000_000  # 2025-07-01 12:00:00 UTC
NS = 1_000_000_000
SYMBOL = "BTC/USD"


def sim_recording(path: Path, seconds: int = 300, seed: int = 7, rate: float = 30.0) -> Path:
    """`seconds` of seeded sim events for BTC/USD written as a recording, a snapshot every 10 s
    (so a seek has a book to rebuild from)."""
    market = SimMarket([SYMBOL], seed=seed, start_ns=T0, rate=rate)
    writer = RecordingWriter(
        path, Header(provider="sim", symbol=SYMBOL, instrument=market.instrument(SYMBOL))
    )
    writer.write_events(list[MarketEvent](market.snapshots()))
    for s in range(seconds):
        events = market.step(NS)
        if s % 10 == 9:
            events.extend(market.snapshots())
        writer.write_events(events)
    writer.close()
    return path


@pytest.fixture
def recording(tmp_path: Path) -> Iterator[Path]:
    yield sim_recording(tmp_path / "sim_BTC_USD.mdr")
    replay_feed.close()


async def until(app: ReplayConsoleApp, cond: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await app.next_frame()


def hub_of(app: ReplayConsoleApp) -> FeedHub:
    assert isinstance(app.view, FeedHub)
    return app.view


def started(app: ReplayConsoleApp) -> Callable[[], bool]:
    def ready() -> bool:
        quotes = hub_of(app).quotes
        return SYMBOL in quotes and quotes[SYMBOL].last > 0 and app.candles_pane.symbol == SYMBOL

    return ready


# -- parse_seek and the status note -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+90", T0 + 90 * NS),
        ("-5m", T0 - 300 * NS),
        ("+1.5h", T0 + 5400 * NS),
        ("12:01:30", T0 + 90 * NS),
        ("12:02", T0 + 120 * NS),
        ("2025-07-01 12:00:05", T0 + 5 * NS),
        ("2025-07-01T14:00:05+02:00", T0 + 5 * NS),
        ("1751371210", T0 + 10 * NS),
    ],
)
def test_parse_seek_reads_relative_clock_iso_and_epoch_times(text: str, expected: int) -> None:
    assert parse_seek(text, T0) == expected


@pytest.mark.parametrize("text", ["", "soon", "12h30", "+5 parsecs"])
def test_parse_seek_rejects_unreadable_times_naming_the_forms_that_work(text: str) -> None:
    with pytest.raises(SeekError, match=r"\+90|type a time"):
        parse_seek(text, T0)


def test_replay_note_shows_speed_or_pause_and_progress() -> None:
    control = ReplayControl("10")
    control.start_ns, control.end_ns, control.position_ns = T0, T0 + 100 * NS, T0 + 25 * NS
    assert replay_note(control) == "replay 10x 25%"
    control.pause()
    assert replay_note(control) == "replay paused 25%"


# -- keys in the running console ---------------------------------------------------------------


async def test_space_pauses_and_resumes_the_replay_and_plus_minus_change_speed(
    recording: Path,
) -> None:
    setup = replay_setup([recording], speed="10")
    app = build_replay_app(setup, fps=20)
    control = setup.control
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, started(app))
        await pilot.press("space")
        assert control.paused
        await until(app, lambda: "replay paused" in app.status_line.plain)
        held = control.position_ns
        for _ in range(5):
            await app.next_frame()
        assert control.position_ns == held  # nothing plays while paused
        await pilot.press("space")
        assert not control.paused
        await until(app, lambda: control.position_ns > held)
        await pilot.press("right_curly_bracket")
        assert control.speed == 100.0
        await until(app, lambda: "replay 100x" in app.status_line.plain)
        await pilot.press("left_curly_bracket", "left_curly_bracket")
        assert control.speed == 1.0
        await pilot.press("q")


async def test_step_key_lets_exactly_one_event_through_a_paused_replay(recording: Path) -> None:
    setup = replay_setup([recording], speed="1", paused=True)
    app = build_replay_app(setup, fps=20)
    control = setup.control
    hub = hub_of(app)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, started(app))
        for _ in range(3):
            await app.next_frame()
        before = hub.events
        await pilot.press("full_stop")
        await until(app, lambda: hub.events > before)
        for _ in range(3):
            await app.next_frame()
        # the step's event plus the status the player sends when it goes live
        assert hub.events - before <= 2
        assert control.paused
        await pilot.press("q")


async def test_seek_back_replays_the_span_again_without_doubling_bars_or_tape(
    recording: Path,
) -> None:
    setup = replay_setup([recording], speed="max")
    app = build_replay_app(setup, fps=20)
    control = setup.control
    hub = hub_of(app)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: control.finished.is_set() and SYMBOL in hub.quotes)
        await app.next_frame()
        one_pass = hub.bars(SYMBOL, 1)
        trades_one_pass = hub.tape[SYMBOL].total
        book_end = (hub.books[SYMBOL].best_bid, hub.books[SYMBOL].best_ask)
        await pilot.press("shift+left")  # back 60 s, then it plays to the end again
        await until(app, lambda: hub.seeks == 1)
        await until(app, lambda: control.finished.is_set())
        await app.next_frame()
        again = hub.bars(SYMBOL, 1)
        times = again["time"]
        assert (np.diff(times) > 0).all()  # no bar twice after the cut
        assert len(again) == len(one_pass)
        assert int(again["count"].sum()) == int(one_pass["count"].sum())
        assert again["close"][-1] == one_pass["close"][-1]
        # the tape was cleared at the seek and holds only the replayed minute's prints
        replayed = hub.tape[SYMBOL].total - trades_one_pass
        assert 0 < len(hub.tape[SYMBOL]) <= replayed
        assert (hub.books[SYMBOL].best_bid, hub.books[SYMBOL].best_ask) == book_end
        await pilot.press("q")


async def test_goto_key_seeks_to_a_typed_time_and_rebuilds_the_book_there(
    recording: Path,
) -> None:
    setup = replay_setup([recording], speed="1", paused=True)
    app = build_replay_app(setup, fps=20)
    control = setup.control
    hub = hub_of(app)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, started(app))
        await pilot.press("g")
        await until(app, lambda: isinstance(app.screen, SeekScreen))
        await pilot.press(*"12:02:00", "enter")
        await until(app, lambda: not isinstance(app.screen, SeekScreen))
        await until(app, lambda: hub.seeks == 1)
        await pilot.press("full_stop")  # one event at the target moves the clock there
        await until(app, lambda: control.position_ns >= T0 + 120 * NS)
        assert control.position_ns < T0 + 125 * NS
        assert hub.books[SYMBOL].best_bid is not None
        when = datetime.fromtimestamp(control.position_ns / NS, UTC).strftime("%H:%M")
        assert when == "12:02"
        await pilot.press("q")


async def test_goto_dialog_explains_a_bad_time_and_escape_closes_it(recording: Path) -> None:
    setup = replay_setup([recording], speed="1", paused=True)
    app = build_replay_app(setup, fps=20)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, started(app))
        await pilot.press("g")
        await until(app, lambda: isinstance(app.screen, SeekScreen))
        await pilot.press(*"lunch", "enter")
        await pilot.pause()
        error = app.screen.query_one("#seek-error")
        assert "cannot read 'lunch'" in str(error.render())
        await pilot.press("escape")
        await until(app, lambda: not isinstance(app.screen, SeekScreen))
        assert hub_of(app).seeks == 0
        await pilot.press("q")


async def test_replay_status_shows_the_market_clock_not_the_wall_clock(recording: Path) -> None:
    setup = replay_setup([recording], speed="max")
    app = build_replay_app(setup, fps=20)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, lambda: setup.control.finished.is_set())
        await until(app, lambda: "2025-07-01 12:0" in app.status_line.plain)
        # paused or ended, a replay is never stale by the wall clock
        hub = hub_of(app)
        assert hub.staleness_s(SYMBOL) < 5
        await asyncio.sleep(0)
        await pilot.press("q")


async def test_after_a_seek_the_replay_keeps_its_pace_from_the_target(recording: Path) -> None:
    setup = replay_setup([recording], speed="10", paused=True)
    app = build_replay_app(setup, fps=20)
    control = setup.control
    hub = hub_of(app)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(app, started(app))
        start = control.position_ns
        await pilot.press("shift+right")
        await until(app, lambda: hub.seeks == 1)
        assert control.position_ns == start + 60 * NS  # the clock is at the target at once
        await pilot.press("space")
        wall = time.monotonic()
        await until(app, lambda: control.position_ns > start + 61 * NS, timeout=10)
        # 1 s of market time at 10x is 0.1 s: not the 6 s the skipped minute would take
        assert time.monotonic() - wall < 3.0
        await pilot.press("shift+left", "shift+left")
        await until(app, lambda: hub.seeks == 3)
        back = time.monotonic()
        await until(app, lambda: control.position_ns > start + 2 * NS, timeout=10)
        for _ in range(3):
            await app.next_frame()
        # at 10x the replay moves ~10 s of market time a wall second, not at max to where it was
        played_s = (control.position_ns - start) / NS
        assert played_s < 2 + 10 * (time.monotonic() - back) + 5
        await pilot.press("q")
