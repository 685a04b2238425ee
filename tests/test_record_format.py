"""Recording format: lossless round trip of any event sequence, framing and torn tails."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from console.model.events import (
    Bar,
    BookDelta,
    BookSnapshot,
    ConnectorStatus,
    MarketEvent,
    Quote,
    Tick,
    Trade,
)
from console.model.instruments import Instrument
from console.record.format import (
    CODEC_NONE,
    CODEC_ZLIB,
    CODEC_ZSTD,
    FormatError,
    Header,
    columns_from_arrays,
    columns_from_events,
    decode_body,
    encode_body,
)
from console.record.reader import open_recording
from console.record.writer import RecordingWriter

SYM = "BTC/USD"
INST = Instrument(symbol=SYM, base="BTC", quote="USD", tick_size=0.1, lot_size=0.001)

times = st.integers(min_value=0, max_value=2**63 - 1)
small_times = st.integers(min_value=1_700_000_000 * 10**9, max_value=1_700_000_100 * 10**9)
any_float = st.floats(allow_nan=False, allow_infinity=False)
tick_price = st.integers(min_value=0, max_value=10**9).map(lambda t: t / 10)
lot_size = st.integers(min_value=0, max_value=10**9).map(lambda t: t / 1000)
price = st.one_of(tick_price, tick_price, any_float)
size = st.one_of(lot_size, lot_size, any_float)
level = st.tuples(price, size)
symbols = st.sampled_from([SYM, SYM, SYM, "ETH/USD", ""])
ts_any = st.one_of(small_times, small_times, times)

deltas = st.builds(
    BookDelta,
    symbol=symbols,
    ts=ts_any,
    recv_ts=st.one_of(st.just(0), ts_any),
    bids=st.lists(level, max_size=3),
    asks=st.lists(level, max_size=3),
    seq=st.one_of(st.integers(0, 10**6), times),
)
trades = st.builds(
    Trade,
    symbol=symbols,
    ts=ts_any,
    recv_ts=st.one_of(st.just(0), ts_any),
    price=price,
    size=size,
    side=st.sampled_from(["", "buy", "sell"]),
    trade_id=st.one_of(st.just(""), st.text(max_size=8)),
)
others = st.one_of(
    st.builds(
        BookSnapshot,
        symbol=symbols,
        ts=ts_any,
        bids=st.lists(level, max_size=4),
        asks=st.lists(level, max_size=4),
        seq=st.integers(0, 10**6),
    ),
    st.builds(
        Quote,
        symbol=symbols,
        ts=ts_any,
        last=any_float,
        bid=tick_price,
        ticks=st.lists(
            st.builds(Tick, type=st.sampled_from(["trade", "bid"]), price=any_float), max_size=2
        ),
    ),
    st.builds(
        Bar,
        symbol=symbols,
        ts=ts_any,
        timeframe=st.sampled_from([1, 60]),
        time=st.integers(0, 2**40),
        open=any_float,
        high=any_float,
        low=any_float,
        close=any_float,
    ),
    st.builds(
        ConnectorStatus,
        symbol=st.just(""),
        provider=st.just("sim"),
        state=st.sampled_from(["live", "down"]),
        detail=st.text(max_size=10),
    ),
)
event_lists = st.lists(st.one_of(deltas, deltas, trades, others), max_size=40)


def _same(a: list[MarketEvent], b: list[MarketEvent]) -> bool:
    """Equal and of the same classes, with float signs kept (-0.0 is not 0.0 here)."""
    return len(a) == len(b) and all(
        type(x) is type(y) and repr(x) == repr(y) for x, y in zip(a, b, strict=True)
    )


@settings(max_examples=150, deadline=None)
@given(events=event_lists, codec=st.sampled_from([CODEC_NONE, CODEC_ZLIB, CODEC_ZSTD]))
def test_any_event_sequence_round_trips_identically_through_a_file(
    tmp_path_factory: pytest.TempPathFactory, events: list[MarketEvent], codec: int
) -> None:
    path = tmp_path_factory.mktemp("rt") / "sim_BTC_USD.mdrec"
    compression = {CODEC_NONE: "none", CODEC_ZLIB: "zlib", CODEC_ZSTD: "zstd"}[codec]
    writer = RecordingWriter(
        path, Header(provider="sim", symbol=SYM, instrument=INST, compression=compression)
    )
    half = len(events) // 2
    writer.write_events(events[:half])
    writer.write_events(events[half:])
    writer.close()
    with open_recording(path) as rec:
        assert _same(list(rec.iter_events()), events)
        assert rec.damaged == []
        assert rec.count == len(events)


def test_exact_tick_events_take_the_columnar_path_and_odd_floats_fall_back() -> None:
    good = BookDelta(symbol=SYM, ts=10, bids=[(30000.1, 0.5)], seq=1)
    odd = BookDelta(symbol=SYM, ts=11, bids=[(30000.123456789, 0.5)], seq=2)
    other_symbol = Trade(symbol="ETH/USD", ts=12, price=1.0, size=1.0)
    cols = columns_from_events([good, odd, other_symbol], SYM, 1, 3)
    assert cols.kinds.tolist() == [0, 2, 2]
    assert cols.others == [odd, other_symbol]
    back = decode_body(encode_body(cols), 1, 3)
    assert back.l_px.tolist() == [300001]


def test_columns_decode_to_ticks_for_bulk_replay() -> None:
    events: list[MarketEvent] = [
        BookDelta(symbol=SYM, ts=1, bids=[(100.1, 1.0)], asks=[(100.3, 0.0), (100.4, 2.5)]),
        Trade(symbol=SYM, ts=2, price=100.3, size=0.25, side="sell"),
    ]
    cols = decode_body(encode_body(columns_from_events(events, SYM, 1, 3)), 1, 3)
    assert cols.level_side.tolist() == [0, 1, 1]
    assert cols.l_px.tolist() == [1001, 1003, 1004]
    assert cols.l_qty.tolist() == [1000, 0, 2500]
    assert cols.t_px.tolist() == [1003]
    assert cols.ts.tolist() == [1, 2]


def test_a_file_that_is_not_a_recording_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.mdrec"
    path.write_bytes(b"hello, this is not a recording at all")
    with pytest.raises(FormatError, match="not an mdconsole recording"):
        open_recording(path)


def test_appending_to_a_recording_of_another_symbol_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sim_BTC_USD.mdrec"
    RecordingWriter(path, Header(provider="sim", symbol=SYM)).close()
    with pytest.raises(FormatError, match="records sim BTC/USD, not sim ETH/USD"):
        RecordingWriter(path, Header(provider="sim", symbol="ETH/USD"))


def _events(n: int, start: int = 0) -> list[MarketEvent]:
    return [
        BookDelta(symbol=SYM, ts=1_000 + i, bids=[(100.0 + (i % 7) / 10, float(i % 5))], seq=i)
        for i in range(start, start + n)
    ]


def test_torn_tail_is_reported_skipped_and_appended_after(tmp_path: Path) -> None:
    path = tmp_path / "sim_BTC_USD.mdrec"
    header = Header(provider="sim", symbol=SYM, instrument=INST)
    writer = RecordingWriter(path, header)
    writer.write_events(_events(10))
    whole = writer.size
    writer.write_events(_events(10, 10))
    writer.close()
    # a kill in the middle of the second frame's write
    cut = whole + (path.stat().st_size - whole) // 2
    with open(path, "r+b") as f:
        f.truncate(cut)
    with open_recording(path) as rec:
        assert rec.torn_tail is not None
        assert rec.torn_tail.offset == whole and rec.torn_tail.length == cut - whole
        assert list(rec.iter_events()) == _events(10)

    writer = RecordingWriter(path, header)
    assert writer.recovered is not None and writer.recovered.offset == whole
    writer.write_events(_events(5, 100))
    writer.close()
    with open_recording(path) as rec:
        assert rec.torn_tail is None
        assert [d.offset for d in rec.damaged] == [whole]
        assert list(rec.iter_events()) == _events(10) + _events(5, 100)


def test_a_flipped_byte_loses_only_its_own_frame(tmp_path: Path) -> None:
    path = tmp_path / "sim_BTC_USD.mdrec"
    writer = RecordingWriter(path, Header(provider="sim", symbol=SYM, instrument=INST))
    offsets = []
    for k in range(3):
        offsets.append(writer.size)
        writer.write_events(_events(10, 10 * k))
    writer.close()
    data = bytearray(path.read_bytes())
    data[offsets[1] + 50] ^= 0xFF
    path.write_bytes(bytes(data))
    with open_recording(path) as rec:
        assert len(rec.damaged) == 1 and not rec.damaged[0].at_end
        assert list(rec.iter_events()) == _events(10) + _events(10, 20)


def test_seek_starts_at_the_last_snapshot_before_the_time(tmp_path: Path) -> None:
    path = tmp_path / "sim_BTC_USD.mdrec"
    writer = RecordingWriter(path, Header(provider="sim", symbol=SYM, instrument=INST))
    snaps = [BookSnapshot(symbol=SYM, ts=t, bids=[(1.0, float(t))], asks=[]) for t in (0, 50, 100)]
    for k, snap in enumerate(snaps):
        writer.write_events([snap, *_events(20, 50 * k)])
        writer.write_events(_events(20, 50 * k + 20))
    writer.close()
    with open_recording(path) as rec:
        assert rec.snapshot_before(75) == snaps[1]
        assert rec.snapshot_before(-1) is None
        from_snap = list(rec.iter_events(start_ns=75, from_snapshot=True))
        assert from_snap[0] == snaps[1]
        assert from_snap[1:41] == _events(40, 50)
        plain = list(rec.iter_events(start_ns=1_070, end_ns=1_075))
        assert [e.ts for e in plain] == [1_070, 1_071, 1_072, 1_073, 1_074]


@settings(max_examples=60, deadline=None)
@given(
    rows=hnp.arrays(
        np.int64,
        st.integers(0, 60),
        elements=st.integers(0, 3_000_000),
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_array_fast_path_encodes_the_same_events_as_the_object_path(
    rows: np.ndarray, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    n = len(rows)
    kind = rng.integers(0, 2, n).astype(np.uint8)
    side = rng.integers(0, 2, n).astype(np.uint8)
    ts = 1_700_000_000 * 10**9 + np.cumsum(rng.integers(0, 10**6, n))
    qty = rng.integers(0, 10**6, n)
    events: list[MarketEvent] = []
    for k, s, t, px, q in zip(kind.tolist(), side.tolist(), ts.tolist(), rows.tolist(),
                              qty.tolist(), strict=True):  # fmt: skip
        if k == 0:
            level = [(px / 10, q / 1000)]
            events.append(BookDelta(symbol=SYM, ts=t, bids=level if s == 0 else [],
                                    asks=level if s == 1 else []))  # fmt: skip
        else:
            events.append(Trade(symbol=SYM, ts=t, price=px / 10, size=q / 1000,
                                side="sell" if s == 0 else "buy"))  # fmt: skip
    fast = columns_from_arrays(SYM, 1, 3, kind, ts, side, rows, qty)
    assert encode_body(fast) == encode_body(columns_from_events(events, SYM, 1, 3))


def test_refresh_picks_up_frames_appended_while_the_file_is_open(tmp_path: Path) -> None:
    path = tmp_path / "sim_BTC_USD.mdrec"
    writer = RecordingWriter(path, Header(provider="sim", symbol=SYM, instrument=INST))
    writer.write_events(_events(10))
    with open_recording(path) as rec:
        assert rec.refresh() == 0
        frame = writer.encode(_events(10, 10))
        with open(path, "ab") as f:
            f.write(frame[:30])  # caught mid-write: a torn tail for now
        assert rec.refresh() == 0 and rec.torn_tail is not None
        with open(path, "ab") as f:
            f.write(frame[30:])
        assert rec.refresh() == 1
        assert rec.damaged == []
        assert list(rec.iter_events()) == _events(20)
    writer.close()


def test_a_second_writer_on_the_same_file_is_refused_while_the_first_is_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sim_BTC_USD.mdrec"
    header = Header(provider="sim", symbol=SYM)
    first = RecordingWriter(path, header)
    with pytest.raises(OSError, match="being written by another recorder"):
        RecordingWriter(path, header)
    first.close()
    RecordingWriter(path, header).close()  # free again once the first is closed
