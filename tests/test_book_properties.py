"""Property tests: the order book agrees with a naive reference book on random streams."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.model import book_kernels, book_numpy
from console.model.book import ASK, BID, NO_ASK, NO_BID, Book
from console.model.events import BookDelta, BookSnapshot
from tests.book_reference import RefBook

CENTER = 300_000

FAR = (-400_000, -150_000, -5_000, 5_000, 150_000, 400_000)


def decode_level(x: int) -> tuple[int, int]:
    """One drawn integer -> (tick offset from the centre, lots) for a level.

    Mostly near the touch (where levels collide, cross and get deleted), sometimes thousands
    of ticks out, sometimes far enough to leave the dense window (4096 ticks) or even its
    widest size, forcing overflow and re-layout, on either side of the touch (so books also
    cross by hundreds of thousands of ticks). Plain integers keep hypothesis's drawing cheap;
    they shrink towards near, zero-size levels.
    """
    kind, mag, q = (x >> 1) & 7, (x >> 4) & 0xFFFFF, (x >> 24) & 0xFF
    if kind < 5:
        off = mag % 61 - 30
    elif kind < 7:
        off = mag % 6001 - 3000
    else:
        off = FAR[mag % len(FAR)]
    # small sizes repeat, so updates that leave a level unchanged are drawn too
    return off, 0 if q % 3 == 0 else (q >> 2) % 4 + 1 if q & 1 else q % 50 + 1


def decode_delta(x: int) -> tuple[int, int, int]:
    side = x & 1
    return (side, *decode_level(x))


codes = st.integers(0, 2**32 - 1)
# hypothesis keeps lists short by default; long runs are where a stale top-N would show
deltas = st.one_of(st.lists(codes, max_size=8), st.lists(codes, min_size=40, max_size=150)).map(
    lambda xs: [decode_delta(x) for x in xs]
)
snap_bids = st.one_of(st.lists(codes, max_size=6), st.lists(codes, min_size=15, max_size=40)).map(
    lambda xs: [decode_level(x) for x in xs]
)
snap_asks = st.one_of(st.lists(codes, max_size=6), st.lists(codes, min_size=15, max_size=40)).map(
    lambda xs: [decode_level(x) for x in xs]
)

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make(
    bid_levels: list[tuple[int, int]], ask_levels: list[tuple[int, int]]
) -> tuple[Book, RefBook]:
    bids = [(CENTER - 1 + o, q) for o, q in bid_levels]
    asks = [(CENTER + 1 + o, q) for o, q in ask_levels]
    book = Book(0.1, 0.001, symbol="BTC/USD")
    book.load_ticks([p for p, _ in bids], [q for _, q in bids], [p for p, _ in asks],
                    [q for _, q in asks])
    ref = RefBook()
    # the last duplicate wins in a snapshot, as it would in a run of deltas
    ref.load(list(dict(bids).items()), list(dict(asks).items()))
    return book, ref


def assert_same(book: Book, ref: RefBook) -> None:
    for side in (BID, ASK):
        px, q = book.levels_ticks(side)
        assert list(zip(px.tolist(), q.tolist(), strict=True)) == ref.levels(side)
        assert book.depth(side) == len(ref.sides[side])
    assert book.best_bid_ticks == ref.best(BID)
    assert book.best_ask_ticks == ref.best(ASK)
    assert book.crossed == ref.crossed()


def pairs(a: tuple[np.ndarray, np.ndarray]) -> list[tuple[int, int]]:
    return list(zip(a[0].tolist(), a[1].tolist(), strict=True))


@SETTINGS
@given(snap_bids, snap_asks, deltas)
def test_set_level_stream_matches_reference_after_every_delta(sb, sa, ds):
    book, ref = make(sb, sa)
    assert_same(book, ref)
    for side, off, qty in ds:
        book.set_level(side, CENTER + off, qty)
        ref.set(side, CENTER + off, qty)
        assert book.best_bid_ticks == ref.best(BID)
        assert book.best_ask_ticks == ref.best(ASK)
        assert pairs(book.top_ticks(side, 5)) == ref.top(side, 5)
    assert_same(book, ref)


@SETTINGS
@given(snap_bids, snap_asks, deltas, st.integers(1, 25), st.integers(1, 12))
def test_top_buckets_and_cumulative_match_reference(sb, sa, ds, n, group):
    book, ref = make(sb, sa)
    for side, off, qty in ds:
        book.set_level(side, CENTER + off, qty)
        ref.set(side, CENTER + off, qty)
    for side in (BID, ASK):
        assert pairs(book.top_ticks(side, n)) == ref.top(side, n)
        assert pairs(book.depth_buckets_ticks(side, group, n)) == ref.buckets(side, group, n)
        cum = np.cumsum([q for _, q in ref.top(side, n)]) * 0.001
        np.testing.assert_allclose(book.cumulative(side, n), cum)
        for p, q in ref.top(side, 3):
            assert book.lots_at(side, p) == q


@SETTINGS
@given(snap_bids, snap_asks, deltas)
def test_batch_apply_equals_applying_in_order(sb, sa, ds):
    book, ref = make(sb, sa)
    book.apply_batch([d[0] for d in ds], [CENTER + d[1] for d in ds], [d[2] for d in ds])
    for side, off, qty in ds:
        ref.set(side, CENTER + off, qty)
    assert_same(book, ref)


@SETTINGS
@given(snap_bids, snap_asks, deltas, st.integers(0, 12))
def test_truncate_keeps_the_best_levels_of_each_side(sb, sa, ds, depth):
    book, ref = make(sb, sa)
    for side, off, qty in ds:
        book.set_level(side, CENTER + off, qty)
        ref.set(side, CENTER + off, qty)
    book.truncate(depth)
    ref.truncate(depth)
    assert_same(book, ref)


@pytest.fixture(params=["interpreted", "numpy", "numpy-small-chunks", "compiled"])
def kernel_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Runs a test on each streaming path: the kernel interpreted, the numpy chunked path (used
    without numba; small chunks have few deletes, so far levels drop out of the candidates)
    and, where numba is installed, the compiled kernel."""
    saved = book_kernels._compiled, book_kernels._loaded
    book_kernels._loaded = True
    if request.param == "interpreted":
        book_kernels._compiled = book_kernels.run_deltas
    elif request.param.startswith("numpy"):
        book_kernels._compiled = None
        if request.param == "numpy-small-chunks":
            monkeypatch.setattr(book_numpy, "CHUNK", 5)
    else:
        pytest.importorskip("numba", reason="numba is not installed; the other paths are tested")
        book_kernels._compiled, book_kernels._loaded = None, False
        if not book_kernels.compiled():
            pytest.skip("compiled kernel disabled by MDCONSOLE_NO_NUMBA")
    yield request.param
    book_kernels._compiled, book_kernels._loaded = saved


@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(snap_bids, snap_asks, deltas, st.integers(0, 6))
def test_streaming_top_n_equals_per_delta_reads(kernel_kind, sb, sa, ds, n):
    book, _ = make(sb, sa)
    check, _ = make(sb, sa)
    side = [d[0] for d in ds]
    px = [CENTER + d[1] for d in ds]
    qty = [d[2] for d in ds]
    top = book.apply_top(side, px, qty, n)
    for j, (s, p, q) in enumerate(zip(side, px, qty, strict=True)):
        check.set_level(s, p, q)
        for sd, tpx, tq in ((BID, top.bid_px, top.bid_qty), (ASK, top.ask_px, top.ask_qty)):
            want = pairs(check.top_ticks(sd, n))
            got = pairs((tpx[j], tq[j]))
            assert got[: len(want)] == want
            assert all(x == (0, 0) for x in got[len(want):])
    for sd in (BID, ASK):
        assert pairs(book.levels_ticks(sd)) == pairs(check.levels_ticks(sd))
        assert book.depth(sd) == check.depth(sd)
    assert book.best_bid_ticks == check.best_bid_ticks
    assert book.best_ask_ticks == check.best_ask_ticks


@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(snap_bids, snap_asks, deltas)
def test_streaming_bests_equal_reference_bests_after_every_delta(kernel_kind, sb, sa, ds):
    book, ref = make(sb, sa)
    best = book.apply_bests([d[0] for d in ds], [CENTER + d[1] for d in ds], [d[2] for d in ds])
    for j, (side, off, qty) in enumerate(ds):
        ref.set(side, CENTER + off, qty)
        bb, ba = ref.best(BID), ref.best(ASK)
        assert best[j, 0] == (NO_BID if bb is None else bb)
        assert best[j, 1] == (NO_ASK if ba is None else ba)
    assert_same(book, ref)


@SETTINGS
@given(snap_bids, snap_asks, deltas, st.integers(1, 4))
def test_float_events_match_reference_including_grouped_deltas(sb, sa, ds, per_msg):
    book = Book(0.1, 0.001, symbol="BTC/USD")
    ref = RefBook()
    bids = [(CENTER - 1 + o, q) for o, q in sb]
    asks = [(CENTER + 1 + o, q) for o, q in sa]
    book.apply_snapshot(BookSnapshot(
        symbol="BTC/USD", bids=[(p / 10, q / 1000) for p, q in bids],
        asks=[(p / 10, q / 1000) for p, q in asks], seq=1))
    ref.load(list(dict(bids).items()), list(dict(asks).items()))
    for k in range(0, len(ds), per_msg):
        msg = ds[k : k + per_msg]
        book.apply_delta(BookDelta(
            symbol="BTC/USD",
            bids=[((CENTER + o) / 10, q / 1000) for s, o, q in msg if s == BID],
            asks=[((CENTER + o) / 10, q / 1000) for s, o, q in msg if s == ASK],
        ))
        # a delta message applies its bids, then its asks
        for s, o, q in sorted(msg, key=lambda d: d[0]):
            ref.set(s, CENTER + o, q)
    assert_same(book, ref)
    for side in (BID, ASK):
        prices, sizes = book.levels(side)
        want = ref.levels(side)
        assert prices.tolist() == [round(p / 10, 1) for p, _ in want]
        assert sizes.tolist() == [round(q / 1000, 3) for _, q in want]


@SETTINGS
@given(snap_bids, snap_asks, deltas, st.integers(1, 8))
def test_max_depth_book_matches_reference_truncated_after_every_delta(sb, sa, ds, depth):
    book = Book(0.1, 0.001, symbol="BTC/USD", max_depth=depth)
    ref = RefBook()
    bids = [(CENTER - 1 + o, q) for o, q in sb]
    asks = [(CENTER + 1 + o, q) for o, q in sa]
    book.apply_snapshot(BookSnapshot(
        symbol="BTC/USD", bids=[(p / 10, q / 1000) for p, q in bids],
        asks=[(p / 10, q / 1000) for p, q in asks]))
    ref.load(list(dict(bids).items()), list(dict(asks).items()))
    ref.truncate(depth)
    for s, o, q in ds:
        level = [((CENTER + o) / 10, q / 1000)]
        book.apply_delta(BookDelta(symbol="BTC/USD", **{"bids" if s == BID else "asks": level}))
        ref.set(s, CENTER + o, q)
        ref.truncate(depth)
    assert_same(book, ref)
