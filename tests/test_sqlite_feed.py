"""The `sqlite` provider through the provider contract: startup quotes, streaming, history."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import defaultdict
from collections.abc import Callable

import pytest

import providers
from console.data.provider import DataUnavailable, ProviderError, TaskStatus, UnknownSymbol
from console.model.events import BookSnapshot, ConnectorStatus, MarketEvent, Quote, Trade
from console.record.control import ReplayControl
from console.record.playback_feed import PlaybackConfigError
from providers.replay import feed as replay_feed
from providers.sqlite import feed
from tests.sqlitegen import LOTS, TICKS, make_db

NS = 1_000_000_000


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "okx.sqlite"
    truths = make_db(path, rows=80, instruments=("BTC-USDT", "ETH-USDT"), seed=5)
    yield path, truths
    feed.close()
    replay_feed.close()


def test_registry_loads_the_sqlite_and_replay_providers():
    assert providers.load("sqlite").NAME == "sqlite"
    assert providers.load("replay").NAME == "replay"


async def test_stream_sends_a_first_quote_per_symbol_before_going_live(db):
    path, truths = db
    sent: list[MarketEvent] = []
    live = asyncio.Event()
    await feed.stream_quotes(
        sent.append,
        ["BTC/USDT", "ETH/USDT"],
        {},
        live,
        config={"path": str(path), "speed": "max"},
        task_status=TaskStatus(),
    )
    assert live.is_set()
    status, *first = sent[:3]
    assert isinstance(status, ConnectorStatus) and status.state == "syncing"
    assert all(isinstance(q, Quote) and q.last > 0 for q in first)
    assert {q.symbol for q in first} == {"BTC/USDT", "ETH/USDT"}
    trades = defaultdict(list)
    for ev in sent:
        if isinstance(ev, Trade):
            trades[ev.symbol].append(ev)
    for name, truth in truths.items():
        symbol = name.replace("-", "/")
        assert [round(t.size * LOTS) for t in trades[symbol]] == truth.trade_sz
    snaps = [ev for ev in sent if isinstance(ev, BookSnapshot)]
    assert len(snaps) == 160
    times = [ev.ts for ev in sent[3:] if not isinstance(ev, ConnectorStatus)]
    assert times == sorted(times)
    assert sent[-1] == ConnectorStatus(
        symbol="", ts=sent[-2].ts, provider="sqlite", state="live", detail="end of data"
    )


async def test_unknown_symbol_names_what_the_files_hold(db):
    path, _ = db
    with pytest.raises(
        UnknownSymbol, match="sqlite has no data for SOL/USDT; the files hold BTC/USDT, ETH/USDT"
    ):
        await feed.stream_quotes(
            lambda ev: None,
            ["SOL/USDT"],
            {},
            asyncio.Event(),
            config={"path": str(path)},
            task_status=TaskStatus(),
        )


async def test_bad_speed_is_a_clear_config_error(db):
    path, _ = db
    with pytest.raises(
        PlaybackConfigError, match="sqlite `speed`: speed 'fast' is not a number or 'max'"
    ):
        await feed.stream_quotes(
            lambda ev: None,
            ["BTC/USDT"],
            {},
            asyncio.Event(),
            config={"path": str(path), "speed": "fast"},
            task_status=TaskStatus(),
        )


async def test_history_bars_are_the_ohlc_of_the_trades_before_from(db):
    path, truths = db
    truth = truths["BTC-USDT"]
    cut = truth.book_ts[60]
    assert feed.configure({"path": str(path), "from": cut}) == ["BTC/USDT", "ETH/USDT"]
    info = await feed.symbol_info("BTC/USDT")
    assert info.tick_size == 0.1
    async with feed.open_history_client("BTC/USDT") as (get_ohlc, _):
        bars, _, _ = await get_ohlc(1)
        bars_5s, _, _ = await get_ohlc(5)
    for timeframe, got in ((1, bars), (5, bars_5s)):
        groups = defaultdict(list)
        for t, p, q in zip(truth.trade_ts, truth.trade_px, truth.trade_sz, strict=True):
            if t < cut:
                groups[t // NS // timeframe * timeframe].append((p / TICKS, q / LOTS))
        want = [
            (
                t,
                v[0][0],
                max(p for p, _ in v),
                min(p for p, _ in v),
                v[-1][0],
                sum(q for _, q in v),
                len(v),
            )
            for t, v in sorted(groups.items())
        ]
        assert got["time"].tolist() == [w[0] for w in want]
        assert got["open"].tolist() == [w[1] for w in want]
        assert got["high"].tolist() == [w[2] for w in want]
        assert got["low"].tolist() == [w[3] for w in want]
        assert got["close"].tolist() == [w[4] for w in want]
        assert got["count"].tolist() == [w[6] for w in want]
        assert got["volume"] == pytest.approx([w[5] for w in want])


async def test_symbol_info_before_configure_says_how_to_configure():
    feed.close()
    with pytest.raises(UnknownSymbol, match="configure"):
        await feed.symbol_info("BTC/USDT")


async def test_several_paths_and_days_play_as_one_stream(tmp_path):
    day = 86_400 * NS
    first = make_db(tmp_path / "d1.sqlite", rows=10, seed=1)["BTC-USDT"]
    second = make_db(tmp_path / "d2.sqlite", rows=10, seed=2, start_ns=first.book_ts[0] + day)
    sent: list[MarketEvent] = []
    config = {"path": [str(tmp_path / "d2.sqlite"), str(tmp_path / "d1.sqlite")], "speed": "max"}
    await feed.stream_quotes(
        sent.append, ["BTC/USDT"], {}, asyncio.Event(), config=config, task_status=TaskStatus()
    )
    snaps = [ev.ts for ev in sent if isinstance(ev, BookSnapshot)]
    assert snaps == first.book_ts + second["BTC-USDT"].book_ts


async def _until(cond: Callable[[], bool], timeout: float = 30.0) -> None:
    """Waits (yielding to the loop) until `cond()` holds; fails after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.001)


async def test_sqlite_playback_pauses_steps_and_seeks_with_a_control(db):
    path, truths = db
    truth = truths["BTC-USDT"]
    control = ReplayControl("max", paused=True)
    sent: list[MarketEvent] = []
    config = {"path": str(path), "instrument": "BTC-USDT", "control": control}
    task = asyncio.create_task(
        feed.stream_quotes(
            sent.append, ["BTC/USDT"], {}, asyncio.Event(), config=config,
            task_status=TaskStatus(),
        )
    )
    try:
        await _until(lambda: any(isinstance(ev, Quote) for ev in sent))
        started = len(sent)
        control.step(3)
        await _until(lambda: len(market(sent[started:])) == 3)
        assert control.paused and not task.done()
        # a seek plays on from the book row at or before the target, the trades from the target
        target = truth.book_ts[50] + 1
        sent.clear()
        control.seek(target)
        control.set_speed("max")
        control.resume()
        await asyncio.wait_for(control.finished.wait(), 30)
        await asyncio.wait_for(task, 30)  # the sqlite provider's stream ends with its data
    finally:
        task.cancel()
    played = market(sent)
    assert isinstance(played[0], BookSnapshot) and played[0].ts == truth.book_ts[50]
    snaps = [ev.ts for ev in played if isinstance(ev, BookSnapshot)]
    assert snaps == truth.book_ts[50:]
    trades = [round(ev.size * LOTS) for ev in played if isinstance(ev, Trade)]
    assert trades == [q for t, q in zip(truth.trade_ts, truth.trade_sz, strict=True) if t >= target]


def market(events: list[MarketEvent]) -> list[MarketEvent]:
    return [ev for ev in events if not isinstance(ev, ConnectorStatus)]


async def test_replay_and_sqlite_providers_play_a_database_identically(db):
    path, _ = db
    runs = []
    for provider in (feed, replay_feed):
        sent: list[MarketEvent] = []
        await provider.stream_quotes(
            sent.append, ["BTC/USDT", "ETH/USDT"], {}, asyncio.Event(),
            config={"paths": [str(path)], "speed": "max", "exit_at_end": True},
            task_status=TaskStatus(),
        )
        runs.append(market(sent))
    assert runs[0] == runs[1]
    assert len(runs[0]) > 300


async def test_history_is_unavailable_when_playing_from_the_start(db):
    # every trade is still to come: history as well would count each one twice
    path, _ = db
    feed.configure({"path": str(path)})
    async with feed.open_history_client("BTC/USDT") as (get_ohlc, _):
        with pytest.raises(DataUnavailable, match="starts at the beginning"):
            await get_ohlc(1)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"not a database at all"), "not a SQLite database"),
        (
            lambda p: sqlite3.connect(p).execute("CREATE TABLE quotes (x)").connection.commit(),
            "no `book` table; expected the OKX schema book",
        ),
        (
            lambda p: sqlite3.connect(p).execute("CREATE TABLE book (id, instrument)")
            .connection.commit(),
            "table `book` lacks column\\(s\\) bids, asks, timestamp",
        ),
        (
            lambda p: sqlite3.connect(p)
            .execute("CREATE TABLE book (id, instrument, bids, asks, timestamp)")
            .connection.commit(),
            "the `book` table has no rows; nothing to replay",
        ),
    ],
)
def test_a_file_that_is_not_an_okx_dump_is_refused_naming_the_file(tmp_path, make, message):
    path = tmp_path / "other.sqlite"
    make(path)
    with pytest.raises(ProviderError, match=message) as caught:
        feed.configure({"path": str(path)})
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_from_after_the_data_names_the_span_it_holds(db):
    path, _ = db
    with pytest.raises(
        PlaybackConfigError,
        match=r"sqlite `from`: BTC/USDT has data from 2025-07-01 12:00:00 to .* only",
    ):
        feed.configure({"path": str(path), "from": "2030-01-01"})
