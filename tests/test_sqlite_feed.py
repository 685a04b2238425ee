"""The `sqlite` provider through the provider contract: startup quotes, streaming, history."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest

import providers
from console.data.provider import TaskStatus, UnknownSymbol
from console.model.events import BookSnapshot, ConnectorStatus, MarketEvent, Quote, Trade
from console.record.playback_feed import PlaybackConfigError
from providers.sqlite import feed
from tests.sqlitegen import LOTS, TICKS, make_db

NS = 1_000_000_000


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "okx.sqlite"
    truths = make_db(path, rows=80, instruments=("BTC-USDT", "ETH-USDT"), seed=5)
    yield path, truths
    feed.close()


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
