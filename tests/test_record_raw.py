"""Recording raw wire frames (`record --raw`): capture, read back, torn tails, rotation,
inspect, export as capture JSON lines, and the error for providers without raw frames."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from console.data.feed import FeedError, FeedHub
from console.data.provider import (
    OHLC_DTYPE,
    Capabilities,
    DataUnavailable,
    RawSink,
    TaskStatus,
)
from console.model.events import Quote, Trade
from console.model.instruments import Instrument, split_symbol
from console.record.commands import export, inspect, record
from console.record.format import (
    CODEC_ZLIB,
    RawFrame,
    decode_raw_frame,
    encode_raw_frame,
    parse_frame_head,
)
from console.record.raw_export import read_capture
from console.record.reader import open_recording, segments
from console.record.recorder import Recorder, Rotation, recording_path

BTC, ETH = "BTC/USD", "ETH/USD"
T0 = 1_763_700_000 * 10**9
HOUR_NS = 3600 * 10**9


def venue_script(symbols: Sequence[str]) -> list[RawFrame]:
    """What a venue might send: connection-wide status and acks, then per-symbol frames,
    some binary, with unicode and a frame whose text is not valid JSON."""
    frames = [
        RawFrame("", '{"channel":"status","data":[{"system":"online"}]}', T0),
        RawFrame("", '{"method":"subscribe","success":true}', T0 + 10),
    ]
    t = T0 + 1_000
    for i in range(120):
        for j, sym in enumerate(symbols):
            t += 1_237
            if i % 17 == 5:
                data: bytes | str = bytes([0, 255, i % 256, j]) + b"\x1f\x8b binary"
            elif i % 29 == 3:
                data = '{"note":"café ✓","i":' + str(i) + "}"
            else:
                data = f'{{"channel":"trade","symbol":"{sym}","price":{100 + i * 0.1:.1f}}}'
            frames.append(RawFrame(sym, data, t))
        if i == 60:
            frames.append(RawFrame("", '{"channel":"heartbeat"}', t + 1))
    frames.append(RawFrame("", "not json at all {", t + 5))
    return frames


class RawVenue:
    """A provider module object that declares raw frames and sends them with its events."""

    NAME = "testvenue"
    CAPABILITIES = Capabilities(network=False, search=False, history=False, raw_frames=True)
    ohlc_dtype = OHLC_DTYPE

    def __init__(self) -> None:
        self.done = asyncio.Event()
        self.raw_given: list[bool] = []

    async def stream_quotes(
        self,
        send: Any,
        symbols: Sequence[str],
        shm: Mapping[str, Any],
        feed_is_live: asyncio.Event,
        *,
        config: Mapping[str, Any],
        task_status: TaskStatus,
        raw: RawSink | None = None,
    ) -> None:
        self.raw_given.append(raw is not None)
        now = time.time_ns()
        for sym in symbols:
            send(Quote(symbol=sym, last=100.0, ts=now))
        feed_is_live.set()
        task_status.started()
        for frame in venue_script(symbols):
            if raw is not None:
                raw(frame.symbol, frame.data, frame.recv_ns)
            if frame.symbol and isinstance(frame.data, str) and '"trade"' in frame.data:
                price = round(json.loads(frame.data)["price"], 1)
                send(Trade(symbol=frame.symbol, ts=frame.recv_ns, price=price, size=0.5))
            await asyncio.sleep(0)
        self.done.set()
        await asyncio.Event().wait()

    @asynccontextmanager
    async def open_history_client(self, symbol: str) -> AsyncIterator[tuple[Any, dict[str, float]]]:
        async def get_ohlc(*_a: Any, **_k: Any) -> Any:
            raise DataUnavailable("no history")

        yield get_ohlc, {}

    async def symbol_info(self, symbol: str) -> Instrument:
        base, quote = split_symbol(symbol)
        return Instrument(symbol=symbol, base=base, quote=quote, tick_size=0.1, lot_size=0.001)

    async def search_symbols(self, pattern: str, limit: int = 20) -> list[Instrument]:
        return []


class NoRawVenue(RawVenue):
    CAPABILITIES = Capabilities(network=False, search=False, history=False)


def expected_for(symbol: str, script: list[RawFrame]) -> list[RawFrame]:
    return [f for f in script if f.symbol in ("", symbol)]


def read_raw(path: Path) -> list[RawFrame]:
    with open_recording(path) as rec:
        assert rec.is_raw
        return list(rec.iter_raw())


async def record_venue(out: Path, symbols: Sequence[str], **kw: Any) -> tuple[RawVenue, Recorder]:
    venue = RawVenue()
    hub = FeedHub(venue, symbols, history=False, first_quote_timeout=5.0)
    rec = Recorder.for_hub(hub, out, raw=True, flush_events=40, **kw)
    await hub.start()
    try:
        await asyncio.wait_for(venue.done.wait(), 10)
    finally:
        await hub.stop()
        rec.close()
    return venue, rec


async def test_recorded_raw_frames_read_back_identical_and_in_order(tmp_path: Path) -> None:
    venue, rec = await record_venue(tmp_path, [BTC, ETH])
    assert venue.raw_given == [True]
    script = venue_script([BTC, ETH])
    for sym in (BTC, ETH):
        path = recording_path(tmp_path, "testvenue", sym, raw=True)
        assert path.name == f"testvenue_{sym.replace('/', '_')}.raw.mdrec"
        got = read_raw(path)
        # exact payload types and bytes, connection-wide frames in every file, in order
        assert got == expected_for(sym, script)
        assert rec.raw_stats[sym].written_events == len(got)
        with open_recording(path) as r:
            assert len(r.frames) > 1  # several batches, so order across batches is checked
    # the normalized events still go to the events file, which is the only replay segment
    events_file = recording_path(tmp_path, "testvenue", BTC)
    with open_recording(events_file) as r:
        trades = [e for e in r.iter_events() if isinstance(e, Trade)]
    assert len(trades) == sum(
        1 for f in script if f.symbol == BTC and isinstance(f.data, str) and "trade" in f.data
    )
    assert segments(tmp_path, "testvenue_BTC_USD") == [events_file]


async def test_hub_passes_raw_only_when_a_raw_subscriber_asked(tmp_path: Path) -> None:
    venue = RawVenue()
    hub = FeedHub(venue, [BTC], history=False)
    await hub.start()
    await hub.stop()
    assert venue.raw_given == [False]


async def test_hub_refuses_raw_frames_from_a_provider_without_the_capability() -> None:
    hub = FeedHub(NoRawVenue(), [BTC], history=False)
    hub.subscribe_raw(lambda *_: None)
    with pytest.raises(FeedError, match="sends no raw frames; --raw is for venue providers"):
        await hub.start()


async def test_subscribing_to_raw_frames_after_start_is_refused() -> None:
    hub = FeedHub(RawVenue(), [BTC], history=False)
    await hub.start()
    try:
        with pytest.raises(FeedError, match="before the feed starts"):
            hub.subscribe_raw(lambda *_: None)
    finally:
        await hub.stop()


def test_torn_tail_on_a_raw_file_is_skipped_and_the_next_run_appends_after_it(
    tmp_path: Path,
) -> None:
    first = [RawFrame(BTC, f'{{"n":{i}}}', T0 + i) for i in range(50)]
    rec = Recorder("kraken", tmp_path, symbols=[BTC], raw=True, clock=lambda: T0)
    for f in first:
        rec.on_raw(*f)
    rec.close()
    path = recording_path(tmp_path, "kraken", BTC, raw=True)
    intact = path.stat().st_size
    # a killed run: the first half of its next batch reached the disk
    torn = encode_raw_frame([RawFrame(BTC, "lost" * 50, T0 + 99)], BTC, CODEC_ZLIB)
    with path.open("ab") as fh:
        fh.write(torn[: len(torn) // 2])
    with open_recording(path) as r:
        assert r.torn_tail is not None and r.torn_tail.offset == intact
        assert list(r.iter_raw()) == first

    later = [RawFrame("", b"\x00\x01binary", T0 + 200), RawFrame(BTC, "after", T0 + 201)]
    rec = Recorder("kraken", tmp_path, symbols=[BTC], raw=True, clock=lambda: T0)
    for f in later:
        rec.on_raw(*f)
    rec.close()
    assert "torn tail" in rec.raw_stats[BTC].recovered
    with open_recording(path) as r:
        assert list(r.iter_raw()) == first + later
        assert r.damaged and not r.damaged[-1].at_end  # the torn bytes, now mid-file


def test_raw_files_rotate_alongside_the_event_files(tmp_path: Path) -> None:
    now = [T0]
    rec = Recorder(
        "kraken", tmp_path, symbols=[BTC], raw=True, rotate="hourly", clock=lambda: now[0]
    )
    rec.on_event(Trade(symbol=BTC, ts=T0, price=100.0, size=1.0))
    rec.on_raw(BTC, "a", T0)
    rec.flush()
    now[0] += HOUR_NS
    rec.flush()  # the hour turns: the next frames go to new files
    rec.on_event(Trade(symbol=BTC, ts=now[0], price=100.1, size=1.0))
    rec.on_raw("", "b", now[0])
    rec.close()
    keys = [Rotation("hourly").key(T0), Rotation("hourly").key(T0 + HOUR_NS)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"kraken_BTC_USD.{k}.mdrec" for k in keys]
        + [f"kraken_BTC_USD.{k}.raw.mdrec" for k in keys]
    )
    first_raw, second_raw = (recording_path(tmp_path, "kraken", BTC, k, raw=True) for k in keys)
    assert read_raw(first_raw) == [RawFrame(BTC, "a", T0)]
    assert read_raw(second_raw) == [RawFrame("", "b", T0 + HOUR_NS)]
    assert len(segments(tmp_path, "kraken_BTC_USD")) == 2


@pytest.fixture
def raw_file(tmp_path: Path) -> Path:
    rec = Recorder("kraken", tmp_path, symbols=[BTC], raw=True, flush_events=25, clock=lambda: T0)
    for f in venue_script([BTC]):
        rec.on_raw(*f)
    rec.close()
    return recording_path(tmp_path, "kraken", BTC, raw=True)


def test_export_raw_jsonl_round_trips_every_frame_in_the_captures_format(
    raw_file: Path, tmp_path: Path
) -> None:
    assert export(raw_file, kind="raw", fmt="jsonl") == 0
    out = raw_file.with_name("kraken_BTC_USD.raw.jsonl")  # the default: beside the file
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    header, *recv = lines
    assert header["t"] == "header" and header["provider"] == "kraken"
    script = venue_script([BTC])
    assert [line["t"] for line in recv] == ["recv"] * len(script)
    text_line = next(line for line in recv if "café" in line["data"])
    assert list(text_line) == ["t", "conn", "ts", "data", "symbol"]  # cryptofeed's, + symbol
    assert text_line["conn"] == "kraken.ws"
    status = recv[0]
    assert "symbol" not in status and "online" in status["data"]  # connection-wide
    assert isinstance(text_line["ts"], float) and 1.7e9 < text_line["ts"] < 1.8e9
    back = list(read_capture(out))
    assert [(f.symbol, f.data) for f in back] == [(f.symbol, f.data) for f in script]
    assert all(abs(a.recv_ns - b.recv_ns) < 1_000 for a, b in zip(back, script, strict=True))


def test_inspect_shows_a_raw_file_as_wire_frames(
    raw_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = venue_script([BTC])
    assert inspect([raw_file]) == 0
    out = capsys.readouterr().out
    assert "raw wire frames" in out and "--kind raw" in out
    assert f"frames   {len(script):,}" in out
    assert inspect([raw_file], as_json=True) == 0
    (info,) = json.loads(capsys.readouterr().out)
    binary = sum(isinstance(f.data, bytes) for f in script)
    assert info["content"] == "raw"
    assert info["counts"] == {
        "text": len(script) - binary,
        "binary": binary,
        "connection": sum(not f.symbol for f in script),
    }
    assert info["payload_bytes"] == sum(
        len(f.data.encode() if isinstance(f.data, str) else f.data) for f in script
    )


def test_export_mixes_up_raw_and_event_files_with_a_clear_error(
    raw_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert export(raw_file, kind="trades", fmt="csv", out=tmp_path / "t.csv") == 2
    assert "holds raw wire frames; export them with --kind raw" in capsys.readouterr().err
    assert export(raw_file, kind="raw", fmt="csv", out=tmp_path / "t.csv") == 2
    assert "--format jsonl" in capsys.readouterr().err
    rec = Recorder("kraken", tmp_path / "ev", symbols=[BTC])
    rec.on_event(Trade(symbol=BTC, ts=T0, price=100.0, size=1.0))
    rec.close()
    events_file = recording_path(tmp_path / "ev", "kraken", BTC)
    assert export(events_file, kind="raw", fmt="jsonl", out=tmp_path / "r.jsonl") == 2
    err = capsys.readouterr().err
    assert "holds events, not raw frames" in err and "Traceback" not in err


def test_record_raw_with_sim_is_one_clear_error_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rec"
    assert record([BTC], provider="sim", out=out, raw=True, quiet=True) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: provider sim sends no raw frames; --raw is for venue providers"
    assert not out.exists()


def test_record_command_with_raw_writes_raw_files_for_a_venue_provider(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rec"
    venue = RawVenue()
    code = record(
        [BTC],
        provider=venue,
        out=out,
        raw=True,
        quiet=True,
        duration=0.5,
        flush_interval=0.05,
    )
    assert code == 0, capsys.readouterr().err
    assert venue.raw_given == [True]
    assert read_raw(out / "testvenue_BTC_USD.raw.mdrec") == expected_for(BTC, venue_script([BTC]))
    assert (out / "testvenue_BTC_USD.mdrec").exists()


def test_raw_frame_codec_keeps_empty_and_large_frames_and_out_of_order_times() -> None:
    frames = [RawFrame(BTC, "", T0), RawFrame("", b"", T0), RawFrame(BTC, "x" * 100_000, T0 - 5)]
    blob = encode_raw_frame(frames, BTC, CODEC_ZLIB)
    head = parse_frame_head(blob, 0, len(blob))
    assert head is not None and head.n == 3
    assert (head.first_ts, head.last_ts) == (T0 - 5, T0)
    assert decode_raw_frame(blob, head) == frames


CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "captures"


@pytest.mark.skipif(not CAPTURES.is_dir(), reason="needs ../shared/captures beside the repo")
@pytest.mark.parametrize(
    "capture", ["binance/cryptofeed_BINANCE_20211012.jsonl", "okx/cryptofeed_OKX_v5_20220513.jsonl"]
)
def test_real_venue_frames_survive_record_and_export_unchanged(
    capture: str, tmp_path: Path
) -> None:
    source = CAPTURES / capture
    frames = list(read_capture(source))
    assert len(frames) > 100
    rec = Recorder("venue", tmp_path, symbols=[BTC], raw=True, flush_events=64, clock=lambda: T0)
    for f in frames:
        rec.on_raw(*f)
    rec.close()
    path = recording_path(tmp_path, "venue", BTC, raw=True)
    out = tmp_path / "back.jsonl"
    assert export(path, kind="raw", fmt="jsonl", out=out) == 0
    original = [
        json.loads(line)
        for line in source.read_text(encoding="utf-8").splitlines()
        if '"t":"recv"' in line
    ]
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()][1:]
    assert [e["data"] for e in exported] == [o["data"] for o in original]
    assert all(abs(e["ts"] - o["ts"]) < 1e-6 for e, o in zip(exported, original, strict=True))


def test_replay_refuses_a_raw_file_with_a_clear_message(raw_file: Path) -> None:
    from console.record.sources import ReplaySourceError, open_sources

    with pytest.raises(ReplaySourceError, match="holds raw wire frames, not events"):
        open_sources([raw_file])


def test_record_status_table_counts_raw_frames(tmp_path: Path) -> None:
    from rich.console import Console

    from console.record.commands import status_table

    rec = Recorder("kraken", tmp_path, symbols=[BTC], raw=True)
    for i in range(7):
        rec.on_raw(BTC if i % 2 else "", "x", T0 + i)
    console = Console(width=160, record=True)
    console.print(status_table(object(), rec, {}))
    text = console.export_text()
    assert "raw frames" in text.splitlines()[0]
    assert " 7 " in text.splitlines()[1]
    rec.close()
