"""The replay provider: round trip, determinism, seek from snapshots, pause/step, ranges."""

from __future__ import annotations

import asyncio
import random
import re
from pathlib import Path

import numpy as np
import pytest

from console.data.provider import DataUnavailable, ProviderError, TaskStatus
from console.model.book import ASK, BID, Book
from console.model.events import (
    BookDelta,
    BookSnapshot,
    ConnectorStatus,
    MarketEvent,
    Quote,
    Trade,
)
from console.model.instruments import Instrument
from console.record import open_recording
from console.record.control import ReplayControl
from console.record.format import Header
from console.record.playback_feed import PlaybackConfigError
from console.record.player import Player
from console.record.sources import open_sources
from console.record.writer import RecordingWriter
from providers.replay import feed
from tests.sqlitegen import make_db

T0 = 1_751_371_200_000_000_000
MS = 1_000_000
INSTRUMENT = Instrument(
    symbol="BTC/USD", base="BTC", quote="USD", tick_size=0.1, lot_size=0.001, provider="sim"
)


def market_events(n: int, seed: int, snapshot_every: int = 100) -> list[MarketEvent]:
    """A snapshot now and then, single-level deltas and trades around a drifting mid."""
    rng = random.Random(seed)
    mid = 300_000
    out: list[MarketEvent] = []
    for i in range(n):
        ts = T0 + i * 7 * MS
        if i % snapshot_every == 0:
            bids = [((mid - 1 - k) / 10, rng.randint(1, 900) / 1000) for k in range(20)]
            asks = [((mid + 1 + k) / 10, rng.randint(1, 900) / 1000) for k in range(20)]
            out.append(BookSnapshot(symbol="BTC/USD", ts=ts, bids=bids, asks=asks, seq=i))
        elif rng.random() < 0.15:
            out.append(
                Trade(
                    symbol="BTC/USD",
                    ts=ts,
                    price=mid / 10,
                    size=rng.randint(1, 99) / 1000,
                    side=rng.choice(("buy", "sell")),
                )
            )
        else:
            mid += rng.randint(-1, 1)
            px = (
                (mid - rng.randint(1, 25)) / 10
                if rng.random() < 0.5
                else (mid + rng.randint(1, 25)) / 10
            )
            level = [(px, rng.choice((0, rng.randint(1, 900))) / 1000)]
            is_bid = px * 10 < mid
            out.append(
                BookDelta(
                    symbol="BTC/USD",
                    ts=ts,
                    bids=level if is_bid else [],
                    asks=[] if is_bid else level,
                    seq=i,
                )
            )
    return out


def write_recording(path: Path, events: list[MarketEvent], frame: int = 64) -> Path:
    writer = RecordingWriter(path, Header(provider="sim", symbol="BTC/USD", instrument=INSTRUMENT))
    for i in range(0, len(events), frame):
        writer.write_events(events[i : i + frame])
    writer.close()
    return path


@pytest.fixture
def recording(tmp_path) -> tuple[Path, list[MarketEvent]]:
    events = market_events(1500, seed=4)
    return write_recording(tmp_path / "sim_BTC_USD.mdr", events), events


async def play(config: dict, symbols: list[str]) -> list[MarketEvent]:
    sent: list[MarketEvent] = []
    await feed.stream_quotes(
        sent.append,
        symbols,
        {},
        asyncio.Event(),
        config={"speed": "max", "exit_at_end": True, **config},
        task_status=TaskStatus(),
    )
    return sent


def market_only(events: list[MarketEvent]) -> list[MarketEvent]:
    return [ev for ev in events if not isinstance(ev, ConnectorStatus)]


def book_of(events: list[MarketEvent]) -> Book:
    book = Book(0.1, 0.001)
    for ev in events:
        if isinstance(ev, BookSnapshot):
            book.apply_snapshot(ev)
        elif isinstance(ev, BookDelta):
            book.apply_delta(ev)
    return book


def same_book(a: Book, b: Book) -> bool:
    return all(
        np.array_equal(x, y)
        for side in (BID, ASK)
        for x, y in zip(a.levels(side), b.levels(side), strict=True)
    )


async def test_recording_replays_as_the_recorded_event_sequence(recording):
    path, events = recording
    sent = await play({"paths": [str(path)]}, ["BTC/USD"])
    first, rest = sent[1], market_only(sent[2:])
    assert isinstance(first, Quote) and first.last > 0
    assert rest == events


async def test_replay_at_max_speed_is_deterministic(recording, tmp_path):
    path, _ = recording
    db = tmp_path / "okx.sqlite"
    make_db(db, rows=60, instruments=("BTC-USDT",), seed=9)
    config = {"paths": [str(path), str(db)]}
    runs = [await play(config, ["BTC/USD", "BTC/USDT"]) for _ in range(2)]
    assert runs[0] == runs[1]
    assert {ev.symbol for ev in market_only(runs[0])} == {"BTC/USD", "BTC/USDT"}
    times = [ev.ts for ev in market_only(runs[0])[2:]]
    assert times == sorted(times)


async def test_startup_sends_a_first_quote_per_symbol_then_goes_live(recording):
    path, _ = recording
    live = asyncio.Event()
    sent: list[MarketEvent] = []
    quotes_when_live: list[int] = []

    async def watch() -> None:
        await live.wait()
        quotes_when_live.append(sum(isinstance(ev, Quote) for ev in sent))

    watcher = asyncio.create_task(watch())
    await feed.stream_quotes(
        sent.append,
        ["BTC/USD"],
        {},
        live,
        config={"paths": str(path), "speed": "max", "exit_at_end": True},
        task_status=TaskStatus(),
    )
    await watcher
    assert quotes_when_live == [1]
    assert isinstance(sent[0], ConnectorStatus) and sent[0].state == "syncing"


async def test_from_and_to_bound_the_replayed_events(recording):
    path, events = recording
    lo, hi = T0 + 3_000 * MS, T0 + 6_000 * MS
    sent = market_only(await play({"paths": [str(path)], "from": lo, "to": hi}, ["BTC/USD"]))[1:]
    trades = [ev for ev in sent if isinstance(ev, Trade)]
    assert trades == [ev for ev in events if isinstance(ev, Trade) and lo <= ev.ts < hi]
    assert all(ev.ts < hi for ev in sent)
    # the book at `from` is rebuilt from the snapshot before it, not replayed from the start
    assert isinstance(sent[0], BookSnapshot) and sent[0].ts <= lo
    assert same_book(book_of(sent), book_of([ev for ev in events if ev.ts < hi]))


async def test_seek_rebuilds_the_book_as_it_stood_at_the_target(recording):
    path, events = recording
    (source,) = open_sources([path])
    sent: list[MarketEvent] = []
    control = ReplayControl("max")
    player = Player([source], sent.append, control, provider="replay", exit_at_end=True)
    await player.run()
    target = T0 + 4_321 * MS
    sent.clear()
    control.seek(target)
    control.finished.clear()
    task = asyncio.create_task(
        Player([source], sent.append, control, provider="replay", exit_at_end=True).run()
    )
    await task
    rebuild = [ev for ev in sent if not isinstance(ev, ConnectorStatus) and ev.ts < target]
    assert all(isinstance(ev, BookSnapshot | BookDelta) for ev in rebuild)
    assert isinstance(rebuild[0], BookSnapshot)
    assert len(rebuild) < sum(ev.ts < target for ev in events)  # not from the start
    assert same_book(book_of(rebuild), book_of([ev for ev in events if ev.ts < target]))
    source.close()


async def test_seek_while_playing_jumps_back_and_replays_from_there(recording):
    path, events = recording
    (source,) = open_sources([path])
    sent: list[MarketEvent] = []
    control = ReplayControl("max")
    target = T0 + 1_000 * MS

    def send(ev: MarketEvent) -> None:
        sent.append(ev)
        if len(sent) == 900:
            control.seek(target)

    await Player([source], send, control, provider="replay", exit_at_end=True).run()
    resync = next(
        i for i, ev in enumerate(sent) if isinstance(ev, ConnectorStatus) and ev.state == "resync"
    )
    after = market_only(sent[resync:])
    assert [ev for ev in after if ev.ts >= target] == [ev for ev in events if ev.ts >= target]
    source.close()


async def test_paused_replay_sends_nothing_until_stepped(recording):
    path, events = recording
    (source,) = open_sources([path])
    sent: list[MarketEvent] = []
    control = ReplayControl(1.0, paused=True)
    task = asyncio.create_task(Player([source], sent.append, control, provider="replay").run())
    for _ in range(5):
        await asyncio.sleep(0)
    assert market_only(sent) == []
    control.step(3)
    while len(market_only(sent)) < 3:
        await asyncio.sleep(0)
    for _ in range(5):
        await asyncio.sleep(0)
    assert market_only(sent) == events[:3]
    control.set_speed("max")
    control.resume()
    await control.finished.wait()
    assert market_only(sent) == events
    task.cancel()
    source.close()


def test_speed_ladder_and_labels():
    control = ReplayControl("10")
    assert control.label == "10x"
    control.faster()
    assert control.speed == 100.0
    control.set_speed("max")
    assert control.label == "max"
    control.slower()
    assert control.speed == 1000.0
    control.pause()
    assert control.label == "paused"
    with pytest.raises(ValueError, match="speed 'fast' is not a number or 'max'"):
        control.set_speed("fast")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "replay needs `paths`"),
        ({"paths": "x", "speed": 0}, "speed must be above 0"),
        ({"paths": "x", "from": "2025-07-02", "to": "2025-07-01"}, "`from` must be before `to`"),
        ({"paths": "x", "from": "soon"}, "replay `from`: 'soon' is not a time"),
    ],
)
def test_bad_config_is_a_clear_error(config, message):
    with pytest.raises(PlaybackConfigError, match=message):
        feed.configure(config)


def test_missing_path_is_named(tmp_path):
    with pytest.raises(ProviderError, match=r"nope\.mdr: no such file"):
        open_sources([tmp_path / "nope.mdr"])


async def test_history_is_the_bars_before_from(recording):
    path, events = recording
    cut = T0 + 5_000 * MS
    assert feed.configure({"paths": [str(path)], "from": cut}) == ["BTC/USD"]
    try:
        assert (await feed.symbol_info("BTC/USD")).tick_size == 0.1
        async with feed.open_history_client("BTC/USD") as (get_ohlc, _):
            bars, _, _ = await get_ohlc(1)
        trades = [ev for ev in events if isinstance(ev, Trade) and ev.ts < cut]
        assert int(bars["count"].sum()) == len(trades)
        assert bars["volume"].sum() == pytest.approx(sum(t.size for t in trades))
        assert int(bars["time"][-1]) < cut // 10**9 + 1
    finally:
        feed.close()


async def test_paced_replay_takes_at_least_market_time_over_speed(recording):
    path, _ = recording
    lo, hi = T0, T0 + 2_000 * MS
    loop = asyncio.get_running_loop()
    began = loop.time()
    sent = await play({"paths": [str(path)], "from": lo, "to": hi, "speed": 50}, ["BTC/USD"])
    elapsed = loop.time() - began
    span_s = (max(ev.ts for ev in market_only(sent)) - lo) / 1e9
    assert elapsed >= 0.9 * span_s / 50


def test_replay_setup_opens_the_files_and_lists_what_plays(recording, tmp_path):
    from providers.replay.cli import replay_setup

    path, _ = recording
    db = tmp_path / "okx.sqlite"
    make_db(db, rows=10)
    try:
        setup = replay_setup([path, db], speed="max", start="2025-07-01T12:00:01")
        assert setup.symbols == ["BTC/USD", "BTC/USDT"]
        assert setup.control.speed is None
        assert setup.config["control"] is setup.control
        assert setup.lines[0].startswith("BTC/USD: 2025-07-01 12:00:00 → ")
    finally:
        feed.close()
    with pytest.raises(ProviderError, match="speed"):
        replay_setup([path], speed="warp")


async def test_torn_tail_is_skipped_and_reported(recording):
    from providers.replay.cli import replay_setup

    path, events = recording
    with path.open("ab") as fh:
        fh.write(b"\x00garbage from a killed recorder")
    sent = await play({"paths": [str(path)]}, ["BTC/USD"])
    assert market_only(sent)[1:] == events
    try:
        (line,) = replay_setup([path]).lines
        assert "torn tail at byte" in line
    finally:
        feed.close()


def test_studies_come_from_sqlite_sources_only(recording, tmp_path):
    path, _ = recording
    db = tmp_path / "okx.sqlite"
    make_db(db, rows=40)
    feed.configure({"paths": [str(path), str(db)]})
    try:
        study = feed.study("BTC/USDT", 5)
        assert set(study) == {"obi", "obi_norm", "cvd"}
        assert int(study["obi"]["count"].sum()) == 40
        with pytest.raises(DataUnavailable, match="SQLite book snapshots only"):
            feed.study("BTC/USD", 5)
    finally:
        feed.close()


@pytest.mark.parametrize(
    ("keep", "message"),
    [
        (lambda header_end: 0, "too short to be a recording"),
        (lambda header_end: 40, "header is cut short"),
        (lambda header_end: header_end + 10, "no complete batch of events .*; nothing to replay"),
    ],
)
def test_a_recording_cut_short_before_its_first_batch_is_refused_in_one_line(
    recording, keep, message
):
    path, _ = recording
    with open_recording(path) as rec:
        header_end = rec.data_start
    cut = path.with_name("cut.mdr")
    cut.write_bytes(path.read_bytes()[: keep(header_end)])
    with pytest.raises(ProviderError, match=f"^{re.escape(str(cut))}: {message}") as caught:
        feed.configure({"paths": [str(cut)]})
    assert "\n" not in str(caught.value)


def test_a_database_of_two_instruments_replays_both_without_choosing_one(tmp_path):
    db = tmp_path / "okx.sqlite"
    make_db(db, rows=20, instruments=("BTC-USDT", "ETH-USDT"), seed=3)
    try:
        assert feed.configure({"paths": [str(db)]}) == ["BTC/USDT", "ETH/USDT"]
        assert feed.configure({"paths": [str(db)], "instrument": "ETH-USDT"}) == ["ETH/USDT"]
    finally:
        feed.close()
