"""The OKX SQLite source against the generator's truth: depth, ordering, ranges, errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from console.model.events import BookSnapshot, Quote, Trade
from console.record.okxdb.source import SqliteSource, SqliteSourceError, find_databases
from console.record.okxdb.times import parse_time
from tests.sqlitegen import LOTS, TICKS, make_db


@pytest.fixture
def db(tmp_path: Path) -> tuple[Path, dict]:
    path = tmp_path / "okx.sqlite"
    return path, make_db(path, rows=120, instruments=("BTC-USDT", "ETH-USDT"), seed=3)


@pytest.mark.parametrize("level_format", ["python", "json"])
@pytest.mark.parametrize("time_format", ["iso", "isoz", "ms"])
def test_book_rows_hold_the_written_top_n_levels_and_times(tmp_path, level_format, time_format):
    path = tmp_path / "one.sqlite"
    truth = make_db(path, rows=30, level_format=level_format, time_format=time_format)["BTC-USDT"]
    with SqliteSource(path, depth=4, batch_rows=7) as src:
        batches = list(src.book_rows())
    ts = np.concatenate([b.ts for b in batches])
    bid_px = np.concatenate([b.bid_px for b in batches])
    ask_sz = np.concatenate([b.ask_sz for b in batches])
    assert ts.tolist() == truth.book_ts
    assert bid_px.tolist() == [[p / TICKS for p, _ in row[:4]] for row in truth.bids]
    assert ask_sz.tolist() == [[q / LOTS for _, q in row[:4]] for row in truth.asks]


def test_instrument_metadata_is_inferred_from_the_written_decimals(db):
    path, _ = db
    with SqliteSource(path, "ETH-USDT") as src:
        info = src.instrument_info
    assert (info.symbol, info.venue_symbol) == ("ETH/USDT", "ETH-USDT")
    assert (info.tick_size, info.lot_size) == (0.1, 0.0001)


def test_events_put_each_window_of_trades_after_its_book_row_in_time_order(db):
    path, truths = db
    truth = truths["BTC-USDT"]
    with SqliteSource(path, "BTC-USDT") as src:
        events = list(src.events())
    times = [ev.ts for ev in events]
    assert times == sorted(times)
    trades = [ev for ev in events if isinstance(ev, Trade)]
    assert [t.ts for t in trades] == truth.trade_ts
    assert [round(t.price * TICKS) for t in trades] == truth.trade_px
    assert [t.side for t in trades] == truth.trade_side
    # each trade follows the last book row at or before it
    last_row_ts = None
    for ev in events:
        if isinstance(ev, BookSnapshot):
            last_row_ts = ev.ts
        elif isinstance(ev, Trade):
            assert last_row_ts is not None and last_row_ts <= ev.ts
    snaps = [ev for ev in events if isinstance(ev, BookSnapshot)]
    quotes = [ev for ev in events if isinstance(ev, Quote)]
    assert len(snaps) == len(quotes) == len(truth.book_ts)
    assert [q.bid for q in quotes] == [row[0][0] / TICKS for row in truth.bids]


def test_time_range_selects_rows_and_trades_in_it(db):
    path, truths = db
    truth = truths["BTC-USDT"]
    lo, hi = truth.book_ts[10], truth.book_ts[20]
    with SqliteSource(path, "BTC-USDT") as src:
        events = list(src.events(lo, hi))
    assert all(lo <= ev.ts < hi for ev in events)
    assert sum(isinstance(ev, BookSnapshot) for ev in events) == 10
    assert sum(isinstance(ev, Trade) for ev in events) == sum(lo <= t < hi for t in truth.trade_ts)


def test_database_is_opened_read_only(db):
    path, _ = db
    before = path.read_bytes()
    with SqliteSource(path, "BTC-USDT") as src, pytest.raises(sqlite3.OperationalError):
        src._db.execute("DELETE FROM book")
    assert path.read_bytes() == before


def test_file_with_several_instruments_asks_which_one(db):
    path, _ = db
    with pytest.raises(SqliteSourceError, match=r"2 instruments \(BTC-USDT, ETH-USDT\)"):
        SqliteSource(path)
    with pytest.raises(SqliteSourceError, match="no book rows for instrument 'SOL-USDT'"):
        SqliteSource(path, "SOL-USDT")


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "bad.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE book (id INTEGER PRIMARY KEY, instrument TEXT, bids TEXT)")
    con.commit()
    con.close()
    with pytest.raises(SqliteSourceError, match=r"table `book` lacks column.s. asks, timestamp"):
        SqliteSource(path)


def test_bad_level_text_is_reported_with_file_and_row_id(tmp_path):
    path = tmp_path / "bad.sqlite"
    make_db(path, rows=5)
    con = sqlite3.connect(path)
    con.execute("UPDATE book SET asks = '[[''x'', ''1'']]' WHERE id = 3")
    con.commit()
    con.close()
    with SqliteSource(path) as src, pytest.raises(SqliteSourceError) as info:
        list(src.book_rows())
    assert "book.asks of row id 3, level 0: price 'x' is not a number" in str(info.value)


def test_bad_timestamp_is_reported_with_the_column(tmp_path):
    path = tmp_path / "bad.sqlite"
    make_db(path, rows=5)
    con = sqlite3.connect(path)
    con.execute("UPDATE trades SET timestamp = 'yesterday' WHERE id = 2")
    con.commit()
    con.close()
    with pytest.raises(SqliteSourceError, match=r"trades\.timestamp, row 1: 'yesterday' is not"):
        SqliteSource(path)


def test_directory_selection_by_instrument_and_date_range(tmp_path):
    day = 86_400 * 10**9
    start = parse_time("2025-07-01")
    for i in range(3):
        make_db(
            tmp_path / f"okx_{i}.sqlite",
            rows=5,
            start_ns=start + i * day,
            seed=i,
            instruments=("BTC-USDT",) if i != 1 else ("ETH-USDT",),
        )
    (tmp_path / "notes.txt").write_text("not a database")
    got = find_databases(tmp_path, "BTC-USDT", parse_time("2025-07-02"), parse_time("2025-07-04"))
    assert [p.name for p in got] == ["okx_2.sqlite"]
    everything = find_databases(tmp_path, "BTC-USDT")
    assert [p.name for p in everything] == ["okx_0.sqlite", "okx_2.sqlite"]
    with pytest.raises(SqliteSourceError, match=r"no database files .* with SOL-USDT rows"):
        find_databases(tmp_path, "SOL-USDT")


def test_overlapping_databases_of_one_instrument_are_refused(tmp_path):
    from console.record.okxdb.source import in_time_order

    make_db(tmp_path / "a.sqlite", rows=20, seed=1)
    make_db(tmp_path / "b.sqlite", rows=20, seed=2, start_ns=1_751_371_201_000_000_000)
    parts = [SqliteSource(tmp_path / name) for name in ("b.sqlite", "a.sqlite")]
    try:
        with pytest.raises(SqliteSourceError, match="both hold BTC-USDT rows between"):
            in_time_order(parts)
    finally:
        for part in parts:
            part.close()


def test_instrument_may_be_given_as_our_symbol(db):
    path, _ = db
    with SqliteSource(path, "eth/usdt") as src:
        assert (src.instrument, src.symbol) == ("ETH-USDT", "ETH/USDT")
