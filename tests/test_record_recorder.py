"""Recorder: per-symbol files, flushing, rotation, appending, and full or unwritable disks."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from console.model.book import Book
from console.model.events import BookDelta, BookSnapshot, ConnectorStatus, MarketEvent, Trade
from console.model.instruments import Instrument
from console.record.reader import open_recording, segments
from console.record.recorder import Recorder, RecorderError, Rotation, recording_path

BTC = "BTC/USD"
ETH = "ETH/USD"
HOUR_NS = 3600 * 10**9
T0 = 1_763_700_000 * 10**9  # 2025-11-21 04:40 UTC


class Clock:
    """A settable wall clock for rotation tests."""

    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def trades(symbol: str, n: int, start: int = 0) -> list[MarketEvent]:
    return [
        Trade(symbol=symbol, ts=T0 + i, price=100.0 + i % 10, size=0.5, side="buy")
        for i in range(start, start + n)
    ]


def read_all(path: Path) -> list[MarketEvent]:
    with open_recording(path) as rec:
        return list(rec.iter_events())


def test_each_symbol_gets_its_own_file_named_provider_base_quote(tmp_path: Path) -> None:
    rec = Recorder("sim", tmp_path, symbols=[BTC, ETH])
    for ev in trades(BTC, 5) + trades(ETH, 3):
        rec.on_event(ev)
    rec.close()
    assert read_all(tmp_path / "sim_BTC_USD.mdrec") == trades(BTC, 5)
    assert read_all(tmp_path / "sim_ETH_USD.mdrec") == trades(ETH, 3)


def test_a_batch_is_written_as_soon_as_it_reaches_the_flush_count(tmp_path: Path) -> None:
    rec = Recorder("sim", tmp_path, flush_events=10)
    for ev in trades(BTC, 25):
        rec.on_event(ev)
    path = tmp_path / "sim_BTC_USD.mdrec"
    with open_recording(path) as r:
        assert [f.n for f in r.frames] == [10, 10]
    assert rec.stats[BTC].pending_events == 5
    rec.close()
    assert read_all(path) == trades(BTC, 25)


async def test_the_flush_loop_writes_buffered_events_when_stopped(tmp_path: Path) -> None:
    rec = Recorder("sim", tmp_path, flush_interval=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(rec.run(stop))
    for ev in trades(BTC, 7):
        rec.on_event(ev)
    stop.set()
    await task
    assert read_all(tmp_path / "sim_BTC_USD.mdrec") == trades(BTC, 7)
    rec.close()


def test_provider_wide_status_goes_into_every_symbol_file(tmp_path: Path) -> None:
    rec = Recorder("sim", tmp_path, symbols=[BTC, ETH])
    status = ConnectorStatus(symbol="", provider="sim", state="live", ts=T0)
    rec.on_event(status)
    rec.close()
    assert read_all(tmp_path / "sim_BTC_USD.mdrec") == [status]
    assert read_all(tmp_path / "sim_ETH_USD.mdrec") == [status]


def test_a_second_run_appends_to_the_same_file(tmp_path: Path) -> None:
    for start in (0, 5):
        rec = Recorder("sim", tmp_path)
        for ev in trades(BTC, 5, start):
            rec.on_event(ev)
        rec.close()
    assert read_all(tmp_path / "sim_BTC_USD.mdrec") == trades(BTC, 10)


def test_hourly_rotation_starts_a_new_file_that_opens_with_the_current_book(
    tmp_path: Path,
) -> None:
    clock = Clock()
    inst = Instrument(symbol=BTC, base="BTC", quote="USD", tick_size=0.1, lot_size=0.001)
    book = Book(0.1, 0.001, symbol=BTC)
    snap = BookSnapshot(symbol=BTC, ts=T0, bids=[(99.9, 1.5)], asks=[(100.1, 2.0)])
    book.apply_snapshot(snap)
    rec = Recorder(
        "sim", tmp_path, instruments={BTC: inst}, books={BTC: book}, rotate="hourly", clock=clock
    )
    rec.on_event(snap)
    rec.flush()
    clock.now += HOUR_NS
    rec.flush()
    for ev in trades(BTC, 3):
        rec.on_event(ev)
    rec.close()
    first = recording_path(tmp_path, "sim", BTC, Rotation("hourly").key(T0))
    second = recording_path(tmp_path, "sim", BTC, Rotation("hourly").key(T0 + HOUR_NS))
    assert first.name == "sim_BTC_USD.20251121T04.mdrec"
    assert second.name == "sim_BTC_USD.20251121T05.mdrec"
    assert read_all(first) == [snap]  # the first file of a run is exactly the feed
    seeded, *rest = read_all(second)
    assert isinstance(seeded, BookSnapshot)
    assert (seeded.bids, seeded.asks, seeded.ts) == (snap.bids, snap.asks, T0 + HOUR_NS)
    assert rest == trades(BTC, 3)


def test_size_rotation_splits_into_segments_that_together_hold_everything(
    tmp_path: Path,
) -> None:
    clock = Clock()
    rec = Recorder("sim", tmp_path, rotate="4KB", flush_events=50, clock=clock)
    events = [
        Trade(symbol=BTC, ts=T0 + i * 7919, price=float(i * 7 % 1000), size=float(i % 13),
              trade_id=str(i * 31))
        for i in range(3000)
    ]  # fmt: skip
    for i, ev in enumerate(events):
        rec.on_event(ev)
        clock.now += 10**9 if i % 50 == 0 else 0
    rec.close()
    (tmp_path / "sim_BTC_USDT.mdrec").write_bytes(b"")  # another symbol sharing the prefix
    parts = segments(tmp_path, "sim_BTC_USD")
    assert len(parts) > 2
    assert [ev for seg in parts for ev in read_all(seg)] == events


@pytest.mark.parametrize("text", ["weekly", "12 parsecs", "10"])
def test_a_bad_rotate_value_is_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(RecorderError, match=r"hourly, daily or a size|too small"):
        Rotation.parse(text)


def test_rotate_sizes_accept_common_units() -> None:
    assert Rotation.parse("500MB") == Rotation("size", 500 << 20)
    assert Rotation.parse("2g") == Rotation("size", 2 << 30)
    assert Rotation.parse(None) == Rotation("none")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full to fill a disk")
def test_a_full_disk_keeps_events_in_memory_other_symbols_record_and_nothing_is_lost(
    tmp_path: Path,
) -> None:
    clock = Clock()
    btc_path = tmp_path / "sim_BTC_USD.mdrec"
    btc_path.symlink_to("/dev/full")  # every write there fails with ENOSPC
    rec = Recorder("sim", tmp_path, symbols=[BTC, ETH], flush_events=4, clock=clock)
    for a, b in zip(trades(BTC, 10), trades(ETH, 10), strict=True):
        rec.on_event(a)
        rec.on_event(b)
    rec.flush()
    assert "No space left on device" in rec.stats[BTC].error
    assert rec.stats[BTC].pending_events == 10
    assert rec.stats[ETH].error == ""
    assert read_all(tmp_path / "sim_ETH_USD.mdrec") == trades(ETH, 10)

    btc_path.unlink()  # space is back
    clock.now += 2 * 10**9
    for ev in trades(BTC, 2, 10):
        rec.on_event(ev)
    rec.close()
    assert rec.stats[BTC].error == ""
    assert read_all(btc_path) == trades(BTC, 12)


def test_an_unwritable_output_directory_is_reported_without_raising(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    rec = Recorder("sim", not_a_dir, flush_events=1)
    rec.on_event(trades(BTC, 1)[0])
    assert rec.stats[BTC].error
    assert rec.stats[BTC].pending_events == 1
    rec.close()
    assert rec.unwritten_events == 1


def test_pending_memory_is_bounded_and_drops_are_counted(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    rec = Recorder("sim", not_a_dir, flush_events=10, max_pending_bytes=1000)
    for ev in trades(BTC, 500):
        rec.on_event(ev)
    st = rec.stats[BTC]
    assert st.dropped_events > 0
    assert st.dropped_events + st.pending_events == 500
    rec.close()


def test_columnar_and_fallback_deltas_are_recorded_in_order(tmp_path: Path) -> None:
    inst = Instrument(symbol=BTC, base="BTC", quote="USD", tick_size=0.1, lot_size=0.001)
    events: list[MarketEvent] = [
        BookDelta(symbol=BTC, ts=T0 + i, bids=[(100.0 + i / 10 + (1e-7 if i % 3 == 0 else 0), 1.0)])
        for i in range(20)
    ]
    rec = Recorder("sim", tmp_path, instruments={BTC: inst})
    for ev in events:
        rec.on_event(ev)
    rec.close()
    assert read_all(tmp_path / "sim_BTC_USD.mdrec") == events
