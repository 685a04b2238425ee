"""`inspect` and `export` on recordings: what they print and write, and their errors."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from console.model.events import (
    Bar,
    BookDelta,
    BookSnapshot,
    ConnectorStatus,
    MarketEvent,
    Quote,
    Trade,
)
from console.model.instruments import Instrument
from console.record.commands import export, inspect
from console.record.export import COLUMNS
from console.record.format import Header
from console.record.writer import RecordingWriter

SYM = "BTC/USD"
INST = Instrument(symbol=SYM, base="BTC", quote="USD", tick_size=0.1, lot_size=0.001)
T0 = 1_763_700_000 * 10**9
S = 10**9

EVENTS: list[MarketEvent] = [
    ConnectorStatus(symbol="", provider="sim", state="live", ts=T0),
    BookSnapshot(symbol=SYM, ts=T0, bids=[(100.0, 1.0), (99.9, 2.0)], asks=[(100.1, 1.5)], seq=1),
    BookDelta(symbol=SYM, ts=T0 + 1, recv_ts=T0 + 5, bids=[(100.0, 0.0)], seq=2),
    Trade(symbol=SYM, ts=T0 + 2, price=100.1, size=0.5, side="buy", trade_id="9001"),
    Quote(symbol=SYM, ts=T0 + 3, last=100.1, bid=99.9, ask=100.1, bsize=2.0, asize=1.0),
    # 30 s of silence, then a trade that does not fit the columns (price off the tick grid)
    Trade(symbol=SYM, ts=T0 + 30 * S, price=100.123456, size=0.25, side="sell"),
    Bar(symbol=SYM, ts=T0 + 31 * S, timeframe=60, time=1_763_700_000, open=100.0, high=100.2,
        low=99.9, close=100.1, volume=0.75, count=2, vwap=100.05),
]  # fmt: skip


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    path = tmp_path / "sim_BTC_USD.mdrec"
    writer = RecordingWriter(path, Header(provider="sim", symbol=SYM, instrument=INST))
    writer.write_events(EVENTS[:4])
    writer.write_events(EVENTS[4:])
    writer.close()
    return path


def test_inspect_prints_provider_span_counts_gaps_and_size(
    recording: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert inspect([recording]) == 0
    out = capsys.readouterr().out
    assert "provider sim  symbol BTC/USD" in out
    assert "events   7 in 2 frames" in out
    assert "bar 1  delta 1  quote 1  snap 1  status 1  trade 2" in out
    assert "(31.0 s)" in out
    assert "gaps     1; longest 30.0 s" in out
    assert "bytes/event" in out


def test_inspect_reports_a_torn_tail(recording: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with open(recording, "ab") as f:
        f.write(b"MDB\x01" + b"\x00" * 20)
    assert inspect([recording], as_json=True) == 0
    (info,) = json.loads(capsys.readouterr().out)
    assert info["events"] == 7
    assert info["damaged"] == [
        {"offset": recording.stat().st_size - 24, "length": 24, "torn_tail": True}
    ]


def test_inspect_of_a_file_that_is_not_a_recording_says_so_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("just some text, long enough to hold a header")
    assert inspect([bad]) == 1
    err = capsys.readouterr().err
    assert "not an mdconsole recording" in err and "Traceback" not in err


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_export_trades_csv_has_the_documented_columns_in_recorded_order(
    recording: Path, tmp_path: Path
) -> None:
    out = tmp_path / "trades.csv"
    assert export(recording, kind="trades", fmt="csv", out=out) == 0
    rows = _csv(out)
    assert list(rows[0]) == list(COLUMNS["trades"])
    assert [(r["ts"], r["price"], r["size"], r["side"], r["trade_id"]) for r in rows] == [
        (str(T0 + 2), "100.1", "0.5", "buy", "9001"),
        (str(T0 + 30 * S), "100.123456", "0.25", "sell", ""),
    ]


def test_export_book_jsonl_has_one_row_per_level(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "book.jsonl"
    assert export(recording, kind="book", fmt="jsonl", out=out) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["event"], r["side"], r["price"], r["size"], r["seq"]) for r in rows] == [
        ("snap", "bid", 100.0, 1.0, 1),
        ("snap", "bid", 99.9, 2.0, 1),
        ("snap", "ask", 100.1, 1.5, 1),
        ("delta", "bid", 100.0, 0.0, 2),
    ]
    assert rows[3]["recv_ts"] == T0 + 5
    assert set(rows[0]) == set(COLUMNS["book"])


def test_export_bars_and_quotes_default_to_files_beside_the_recording(recording: Path) -> None:
    assert export(recording, kind="bars", fmt="csv") == 0
    (bar,) = _csv(recording.with_name("sim_BTC_USD.bars.csv"))
    assert (bar["timeframe"], bar["open"], bar["close"], bar["count"]) == (
        "60",
        "100.0",
        "100.1",
        "2",
    )
    assert export(recording, kind="quotes", fmt="csv") == 0
    (quote,) = _csv(recording.with_name("sim_BTC_USD.quotes.csv"))
    assert (quote["last"], quote["bid"], quote["ask"]) == ("100.1", "99.9", "100.1")


def test_export_of_an_unknown_kind_names_the_choices(
    recording: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert export(recording, kind="candles", fmt="csv", out=Path("-")) == 2
    assert "trades, book, bars, quotes" in capsys.readouterr().err


def test_parquet_export_without_pyarrow_names_the_extra_to_install(
    recording: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a None entry makes `import pyarrow` fail as it does where the extra is not installed
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    assert export(recording, kind="trades", fmt="parquet", out=tmp_path / "t.parquet") == 2
    assert "mdconsole[parquet]" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None, reason="pyarrow not installed")
def test_parquet_export_reads_back_with_pyarrow(recording: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "t.parquet"
    assert export(recording, kind="trades", fmt="parquet", out=out) == 0
    table = pq.read_table(out)
    assert table.column_names == list(COLUMNS["trades"])
    assert table.column("price").to_pylist() == [100.1, 100.123456]
