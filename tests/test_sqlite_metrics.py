"""OBI, CVD and their per-bar candles against plain-Python computations from the truth."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from console.record.okxdb.metrics import book_study, candles, cvd, cvd_at, obi
from console.record.okxdb.source import SqliteSource
from tests.sqlitegen import LOTS, make_db

NS = 1_000_000_000


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "okx.sqlite"
    truth = make_db(path, rows=150, seed=11, interval_ms=400)["BTC-USDT"]
    with SqliteSource(path, depth=5) as src:
        yield src, truth


def reference_candles(times, values, timeframe_s):
    groups = defaultdict(list)
    for t, v in zip(times, values, strict=True):
        groups[t // (timeframe_s * NS) * timeframe_s].append(v)
    return [(t, vs[0], max(vs), min(vs), vs[-1], len(vs)) for t, vs in sorted(groups.items())]


def test_obi_is_bid_total_minus_ask_total_and_normalized():
    bid = np.array([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    ask = np.array([[3.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    diff, norm = obi(bid, ask)
    assert diff.tolist() == [0.0, 0.0]
    assert norm.tolist() == [0.0, 0.0]
    diff, norm = obi(np.array([[4.0, 1.0]]), np.array([[2.0, 3.0]]))
    assert diff.tolist() == [0.0] and norm.tolist() == [0.0]
    diff, norm = obi(np.array([[6.0]]), np.array([[2.0]]))
    assert diff.tolist() == [4.0] and norm.tolist() == [0.5]


def test_cvd_counts_buys_up_sells_down_and_stands_before_each_time():
    side = np.array([1, -1, 1, 0], np.int8)
    size = np.array([2.0, 0.5, 1.0, 9.0])
    flow = cvd(side, size)
    assert flow.tolist() == [2.0, 1.5, 2.5, 2.5]
    at = cvd_at(np.array([0, 10, 11, 50]), np.array([10, 20, 30, 40]), flow)
    assert at.tolist() == [0.0, 0.0, 2.0, 2.5]


def test_study_candles_match_a_python_computation_from_the_truth(source):
    src, truth = source
    study = book_study(src, 5)
    bid_tot = [sum(q for _, q in row[:5]) / LOTS for row in truth.bids]
    ask_tot = [sum(q for _, q in row[:5]) / LOTS for row in truth.asks]
    diffs = [b - a for b, a in zip(bid_tot, ask_tot, strict=True)]
    got = [tuple(r) for r in study["obi"].tolist()]
    want = reference_candles(truth.book_ts, diffs, 5)
    assert [g[0] for g in got] == [w[0] for w in want]
    assert np.allclose([g[1:5] for g in got], [w[1:5] for w in want], atol=1e-9)
    assert [g[5] for g in got] == [w[5] for w in want]
    norms = [(b - a) / (b + a) for b, a in zip(bid_tot, ask_tot, strict=True)]
    want_norm = reference_candles(truth.book_ts, norms, 5)
    assert np.allclose(study["obi_norm"]["close"], [w[4] for w in want_norm])
    # CVD at each book row: the signed volume of the trades strictly before it
    running, flows = 0.0, []
    signed = [
        (t, (1 if s == "buy" else -1) * q / LOTS)
        for t, s, q in zip(truth.trade_ts, truth.trade_side, truth.trade_sz, strict=True)
    ]
    k = 0
    for ts in truth.book_ts:
        while k < len(signed) and signed[k][0] < ts:
            running += signed[k][1]
            k += 1
        flows.append(running)
    want_cvd = reference_candles(truth.book_ts, flows, 5)
    assert np.allclose(
        [tuple(r)[1:5] for r in study["cvd"].tolist()], [w[1:5] for w in want_cvd], atol=1e-9
    )


def test_candles_of_nothing_are_empty():
    assert len(candles(np.zeros(0, np.int64), np.zeros(0), 60)) == 0
    with pytest.raises(ValueError, match="positive number of seconds"):
        candles(np.array([1]), np.array([1.0]), 0)


def test_study_over_several_files_carries_cvd_across_them(tmp_path):
    from providers.sqlite import feed

    day = 86_400 * NS
    a = make_db(tmp_path / "d1.sqlite", rows=30, seed=1)["BTC-USDT"]
    b = make_db(tmp_path / "d2.sqlite", rows=30, seed=2, start_ns=a.book_ts[0] + day)["BTC-USDT"]
    feed.configure({"path": str(tmp_path)})
    try:
        study = feed.study("BTC/USDT", 60)
    finally:
        feed.close()
    signed = [
        (1 if s == "buy" else -1) * q / LOTS
        for t in (a, b)
        for s, q, ts in zip(t.trade_side, t.trade_sz, t.trade_ts, strict=True)
        if ts < b.book_ts[-1]
    ]
    assert study["cvd"]["close"][-1] == pytest.approx(sum(signed))
    assert study["obi"]["count"].sum() == 60
    assert (np.diff(study["obi"]["time"]) > 0).all()
