"""Unit tests for the order book: event API, reads, errors and window edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from console.model.book import ASK, BID, NO_ASK, NO_BID, Book, BookError
from console.model.events import BookDelta, BookSnapshot


def snapshot_book(**kw: int) -> Book:
    book = Book(0.1, 0.001, symbol="BTC/USD", **kw)
    book.apply_snapshot(
        BookSnapshot(
            symbol="BTC/USD",
            bids=[(100.0, 1.5), (99.9, 2.0), (99.7, 0.25)],
            asks=[(100.1, 0.5), (100.3, 1.0), (100.4, 3.0)],
            seq=7,
        )
    )
    return book


def test_snapshot_sets_bests_spread_mid_and_sequence():
    book = snapshot_book()
    assert book.best_bid == 100.0
    assert book.best_ask == 100.1
    assert book.spread == 0.1
    assert book.mid == 100.05
    assert book.seq == 7
    assert not book.crossed
    assert len(book) == 6


def test_snapshot_replaces_the_previous_book():
    book = snapshot_book()
    book.apply_snapshot(BookSnapshot(symbol="BTC/USD", bids=[(50.0, 1.0)], asks=[], seq=9))
    assert book.levels(BID)[0].tolist() == [50.0]
    assert book.best_ask is None
    assert book.spread is None and book.mid is None
    assert book.seq == 9


def test_delta_updates_inserts_and_deletes_levels():
    book = snapshot_book()
    book.apply_delta(
        BookDelta(symbol="BTC/USD", bids=[(100.0, 0.0), (99.8, 4.0)], asks=[(100.2, 0.75)], seq=8)
    )
    prices, sizes = book.top(BID, 10)
    assert prices.tolist() == [99.9, 99.8, 99.7]
    assert sizes.tolist() == [2.0, 4.0, 0.25]
    assert book.best_ask == 100.1
    assert book.size_at(ASK, 100.2) == 0.75
    assert book.seq == 8


def test_deleting_a_missing_level_is_a_no_op():
    book = snapshot_book()
    version = book.version
    book.apply_delta(BookDelta(symbol="BTC/USD", bids=[(90.0, 0.0)], asks=[(200.0, 0.0)]))
    assert book.version == version
    assert len(book) == 6


def test_version_bumps_on_every_change():
    book = snapshot_book()
    v = book.version
    book.set_level(BID, 999, 5)
    assert book.version > v
    v = book.version
    book.set_level(BID, 999, 5)  # same size again: nothing changed
    assert book.version == v


def test_crossed_detects_locked_and_crossed_books():
    book = snapshot_book()
    book.apply_delta(BookDelta(symbol="BTC/USD", bids=[(100.1, 1.0)]))
    assert book.crossed  # locked: bid == ask
    book.apply_delta(BookDelta(symbol="BTC/USD", bids=[(100.5, 1.0)]))
    assert book.crossed
    assert book.spread == pytest.approx(-0.4)


def test_top_returns_fewer_rows_when_the_side_is_shallow():
    book = snapshot_book()
    prices, sizes = book.top(ASK, 5)
    assert prices.tolist() == [100.1, 100.3, 100.4]
    assert sizes.tolist() == [0.5, 1.0, 3.0]
    assert book.top(ASK, 0)[0].size == 0


def test_depth_buckets_round_bids_down_and_asks_up_and_keep_empty_rows():
    book = Book(1.0, 1.0)
    book.load_ticks([100, 99, 97, 94], [1, 2, 3, 4], [101, 102, 105, 111], [5, 6, 7, 8])
    bpx, bq = book.depth_buckets_ticks(BID, 5, 3)
    assert bpx.tolist() == [100, 95, 90]
    assert bq.tolist() == [1, 2 + 3, 4]
    apx, aq = book.depth_buckets_ticks(ASK, 5, 3)
    assert apx.tolist() == [105, 110, 115]
    assert aq.tolist() == [5 + 6 + 7, 0, 8]


def test_cumulative_sums_sizes_from_the_touch():
    book = snapshot_book()
    assert book.cumulative(BID, 2).tolist() == [1.5, 3.5]


def test_max_depth_truncates_after_each_delta():
    book = snapshot_book(max_depth=2)
    assert book.top(BID, 10)[0].tolist() == [100.0, 99.9]
    book.apply_delta(BookDelta(symbol="BTC/USD", asks=[(100.2, 1.0)]))
    assert book.top(ASK, 10)[0].tolist() == [100.1, 100.2]
    assert book.depth(ASK) == 2


def test_truncate_to_zero_empties_both_sides():
    book = snapshot_book()
    book.truncate(0)
    assert len(book) == 0
    assert book.best_bid is None and book.best_ask is None


def test_clear_removes_every_level():
    book = snapshot_book()
    book.clear()
    assert len(book) == 0 and book.best_bid is None and book.top(ASK, 3)[0].size == 0


def test_off_grid_price_is_rejected_with_the_tick_size_in_the_message():
    book = snapshot_book()
    msg = r"BTC/USD: price 100\.05 is not a multiple of the tick size 0\.1"
    with pytest.raises(BookError, match=msg):
        book.apply_delta(BookDelta(symbol="BTC/USD", bids=[(100.05, 1.0)]))


def test_bad_delta_leaves_the_book_untouched():
    book = snapshot_book()
    before = book.levels(BID)[0].tolist()
    with pytest.raises(BookError, match=r"size -1\.0 must be a finite number >= 0"):
        book.apply_delta(BookDelta(symbol="BTC/USD", bids=[(99.0, 1.0), (98.0, -1.0)]))
    assert book.levels(BID)[0].tolist() == before


def test_snapshot_with_nan_size_names_the_side():
    book = Book(0.1, 0.001, symbol="ETH/USD")
    with pytest.raises(BookError, match="ETH/USD: ask size nan"):
        book.apply_snapshot(
            BookSnapshot(symbol="ETH/USD", bids=[(1.0, 1.0)], asks=[(2.0, float("nan"))])
        )


def test_constructor_rejects_a_zero_tick_size():
    with pytest.raises(BookError, match="tick_size must be a positive number"):
        Book(0.0, 0.001)


def test_bad_side_is_rejected():
    book = snapshot_book()
    with pytest.raises(BookError, match="side must be BID"):
        book.set_level(2, 1001, 1)
    with pytest.raises(BookError, match="side values must be 0"):
        book.apply_batch([2], [1001], [1])


def test_float_prices_map_to_exact_ticks_despite_float_noise():
    book = Book(0.01, 0.00001)
    book.apply_delta(BookDelta(symbol="X/Y", bids=[(0.1 + 0.2, 0.1 + 0.2)]))
    assert book.best_bid_ticks == 30
    assert book.best_bid == 0.3
    assert book.size_at(BID, 0.3) == 0.3


def test_whole_book_moving_far_away_keeps_every_level():
    book = Book(1.0, 1.0)
    book.load_ticks([1000, 999], [1, 2], [1001, 1002], [3, 4])
    for k in range(50):
        book.set_level(BID, 1_000_000 + k, k + 1)
        book.set_level(ASK, 1_000_100 + k, k + 1)
    book.set_level(ASK, 1001, 0)
    book.set_level(ASK, 1002, 0)
    assert book.best_bid_ticks == 1_000_049
    assert book.best_ask_ticks == 1_000_100
    assert book.depth(BID) == 52 and book.depth(ASK) == 50
    assert book.levels_ticks(BID)[0][-2:].tolist() == [1000, 999]
    for k in range(50):
        book.set_level(BID, 1_000_000 + k, 0)
    assert book.best_bid_ticks == 1000  # the old far-away level became the best again
    assert book.top_ticks(BID, 5)[0].tolist() == [1000, 999]


def test_book_crossed_by_a_wide_margin_stays_exact():
    book = Book(1.0, 1.0)
    book.load_ticks([500_000], [1], [100], [1])
    assert book.crossed
    book.set_level(ASK, 50, 2)
    book.set_level(BID, 400_000, 3)
    assert book.best_ask_ticks == 50 and book.best_bid_ticks == 500_000
    book.set_level(BID, 500_000, 0)
    assert book.best_bid_ticks == 400_000
    assert book.top_ticks(ASK, 3)[0].tolist() == [50, 100]


def test_levels_beyond_the_widest_window_spill_to_overflow_and_come_back():
    book = Book(1.0, 1.0)
    book.load_ticks([10_000, 10, 9], [1, 2, 3], [10_001, 10_000_000], [4, 5])
    assert book.levels_ticks(ASK)[0].tolist() == [10_001, 10_000_000]
    assert book.depth_buckets_ticks(BID, 5_000, 3)[1].tolist() == [1, 0, 5]
    book.set_level(BID, 10_000, 0)
    book.set_level(ASK, 10_001, 0)
    assert book.best_bid_ticks == 10 and book.best_ask_ticks == 10_000_000
    assert book.top_ticks(BID, 5)[0].tolist() == [10, 9]


def test_streaming_top_reuses_the_output_arrays():
    book = snapshot_book()
    from console.model.book import TopN

    out = TopN(*(np.full((4, 2), -1, dtype=np.int64) for _ in range(4)))
    top = book.apply_top([BID, ASK], [1001, 1001], [9, 0], 2, out=out)
    assert top.bid_px.base is out.bid_px or top.bid_px is out.bid_px
    assert out.bid_px[0].tolist() == [1001, 1000]
    assert out.bid_qty[0].tolist() == [9, 1500]
    assert out.ask_px[1].tolist() == [1003, 1004]  # 100.1 deleted by the second delta
    assert out.bid_px[2].tolist() == [-1, -1]  # rows past the run are left alone


def test_streaming_top_rejects_output_arrays_of_the_wrong_shape():
    book = snapshot_book()
    from console.model.book import TopN

    out = TopN(*(np.zeros((1, 2), dtype=np.int64) for _ in range(4)))
    with pytest.raises(BookError, match="out arrays must be int64 of shape"):
        book.apply_top([BID, ASK], [1001, 1001], [9, 0], 2, out=out)


def test_streaming_bests_mark_an_emptied_side():
    book = Book(1.0, 1.0)
    book.load_ticks([10], [1], [11], [1])
    best = book.apply_bests([BID, ASK, BID], [10, 11, 9], [0, 0, 4])
    assert best.tolist() == [[NO_BID, 11], [NO_BID, NO_ASK], [9, NO_ASK]]


def test_streaming_error_names_the_delta_and_keeps_earlier_ones():
    book = Book(1.0, 1.0)
    book.load_ticks([10], [1], [11], [1])
    with pytest.raises(BookError, match=r"delta 1 of the run; the deltas before it were applied"):
        book.apply_top([BID, BID], [9, 8], [5, -1])
    assert book.lots_at(BID, 9) == 5


def test_numpy_streaming_path_sees_updates_to_levels_uncovered_by_deletes(monkeypatch):
    from console.model import book_kernels

    monkeypatch.setattr(book_kernels, "_loaded", True)
    monkeypatch.setattr(book_kernels, "_compiled", None)
    book = Book(1.0, 1.0)
    book.load_ticks([10, 9, 8], [1, 1, 1], [20, 21], [1, 1])
    top = book.apply_top([BID, BID, ASK, BID], [10, 9, 20, 8], [0, 5, 0, 7], 1)
    assert top.bid_px[:, 0].tolist() == [9, 9, 9, 9]
    assert top.bid_qty[:, 0].tolist() == [1, 5, 5, 5]
    assert top.ask_px[:, 0].tolist() == [20, 20, 21, 21]
