"""Bulk replay: decoded batches into books and bars match an independent event-by-event replay."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from console.data.sampler import bars_from_trades
from console.model.book import ASK, BID, Book
from console.model.events import BookDelta, BookSnapshot, MarketEvent, Trade
from console.model.instruments import Instrument
from console.record.bulk import apply_columns, trade_arrays
from console.record.format import Header, columns_from_arrays
from console.record.reader import open_recording
from console.record.writer import RecordingWriter
from tests.shared import shared_dir

SYM = "BTC/USDT"
INST = Instrument(symbol=SYM, base="BTC", quote="USDT", tick_size=0.1, lot_size=0.001)


def _levels(book: Book, side: int) -> list[tuple[int, int]]:
    px, qty = book.top_ticks(side, 10_000)
    return list(zip(px.tolist(), qty.tolist(), strict=True))


def test_reference_stream_replays_into_the_same_book_and_bars_as_a_dict_replay(
    tmp_path: Path,
) -> None:
    sys.path.insert(0, str(shared_dir() / "bench"))
    import stream

    snap_bids, snap_asks, events, _klines = stream.load(n_deltas=20_000)
    path = tmp_path / "bench_BTC_USDT.mdrec"
    writer = RecordingWriter(path, Header(provider="bench", symbol=SYM, instrument=INST))
    snap = BookSnapshot(
        symbol=SYM,
        ts=int(events["ts"][0]) - 1,
        bids=list(zip((snap_bids["price"] / 10).tolist(), (snap_bids["qty"] / 1000).tolist(),
                      strict=True)),
        asks=list(zip((snap_asks["price"] / 10).tolist(), (snap_asks["qty"] / 1000).tolist(),
                      strict=True)),
    )  # fmt: skip
    writer.write_events([snap])
    hot = events[events["kind"] != stream.KIND_KLINE]
    for start in range(0, len(hot), 1000):
        part = hot[start : start + 1000]
        writer.write_columns(
            columns_from_arrays(SYM, 1, 3, part["kind"], part["ts"], part["side"],
                                part["price"], part["qty"])
        )  # fmt: skip
    writer.close()

    book = Book(0.1, 0.001, symbol=SYM)
    ts_parts, px_parts, sz_parts = [], [], []
    with open_recording(path) as rec:
        for cols in rec.iter_batches():
            apply_columns(book, cols)
            ts, px, sz, _side = trade_arrays(cols)
            ts_parts.append(ts)
            px_parts.append(px)
            sz_parts.append(sz)

    # independent: plain dicts, one event at a time
    sides: list[dict[int, int]] = [
        dict(zip(snap_bids["price"].tolist(), snap_bids["qty"].tolist(), strict=True)),
        dict(zip(snap_asks["price"].tolist(), snap_asks["qty"].tolist(), strict=True)),
    ]
    deltas = hot[hot["kind"] == stream.KIND_DELTA]
    for side, px, qty in zip(deltas["side"].tolist(), deltas["price"].tolist(),
                             deltas["qty"].tolist(), strict=True):  # fmt: skip
        if qty:
            sides[side][px] = qty
        else:
            sides[side].pop(px, None)
    assert _levels(book, BID) == sorted(sides[BID].items(), reverse=True)
    assert _levels(book, ASK) == sorted(sides[ASK].items())

    trades = hot[hot["kind"] == stream.KIND_TRADE]
    expected = bars_from_trades(trades["ts"], trades["price"] / 10, trades["qty"] / 1000)
    got = bars_from_trades(np.concatenate(ts_parts), np.concatenate(px_parts),
                           np.concatenate(sz_parts))  # fmt: skip
    assert np.array_equal(got, expected)


def test_snapshots_and_fallback_deltas_inside_a_batch_apply_in_recorded_order(
    tmp_path: Path,
) -> None:
    events: list[MarketEvent] = [
        BookDelta(symbol=SYM, ts=1, bids=[(100.0, 1.0)], asks=[(100.5, 2.0)]),
        BookDelta(symbol=SYM, ts=2, bids=[(99.9, 3.0)]),
        BookSnapshot(symbol=SYM, ts=3, bids=[(99.0, 1.0)], asks=[(101.0, 1.0)]),
        BookDelta(symbol=SYM, ts=4, bids=[(99.5, 0.5)], seq=7),
        Trade(symbol=SYM, ts=5, price=101.0, size=0.25, side="buy"),
        # stored as msgpack (a sequence number too large for the columns), still in order
        BookDelta(symbol=SYM, ts=6, asks=[(101.0, 0.0)], seq=2**62),
        BookDelta(symbol=SYM, ts=7, asks=[(100.8, 4.0), (100.9, 0.001)], seq=9),
    ]
    path = tmp_path / "x.mdrec"
    writer = RecordingWriter(path, Header(provider="sim", symbol=SYM, instrument=INST))
    writer.write_events(events)
    writer.close()

    bulk = Book(0.1, 0.001, symbol=SYM)
    with open_recording(path) as rec:
        (cols,) = rec.iter_batches()
        assert cols.kinds.tolist() == [0, 0, 2, 0, 1, 2, 0]
        apply_columns(bulk, cols)
    one_by_one = Book(0.1, 0.001, symbol=SYM)
    for ev in events:
        if isinstance(ev, BookSnapshot):
            one_by_one.apply_snapshot(ev)
        elif isinstance(ev, BookDelta):
            one_by_one.apply_delta(ev)
    for side in (BID, ASK):
        assert _levels(bulk, side) == _levels(one_by_one, side)
    assert _levels(bulk, BID) == [(995, 500), (990, 1000)]
    assert bulk.seq == 9
