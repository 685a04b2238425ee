"""Quote state and trade tape: the plain per-symbol state the feed hub keeps for the UI."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.data.quotes import QuoteState
from console.data.tape import TAPE_DTYPE, TradeTape
from console.model.events import Quote, Tick, Trade


class _TopBook:
    """A minimal top-of-book source with a version counter."""

    def __init__(self) -> None:
        self.version = 0
        self.bids: list[tuple[float, float]] = []
        self.asks: list[tuple[float, float]] = []

    def set(self, bids: list[tuple[float, float]], asks: list[tuple[float, float]]) -> None:
        self.bids, self.asks = bids, asks
        self.version += 1

    def top(self, side: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        levels = (self.bids if side == 0 else self.asks)[:n]
        return (np.array([p for p, _ in levels], float), np.array([q for _, q in levels], float))


def test_first_price_becomes_change_reference_and_change_pct_follows_last() -> None:
    q = QuoteState("BTC/USD")
    q.on_quote(Quote(symbol="BTC/USD", last=100.0), 1)
    q.on_trade(Trade(symbol="BTC/USD", price=110.0, size=0.5), 2)
    assert q.open == 100.0
    assert q.last == 110.0
    assert q.change_pct == pytest.approx(10.0)
    assert q.volume == 0.5
    assert q.updated_ns == 2


def test_history_reference_overrides_session_open_for_change_pct() -> None:
    q = QuoteState("BTC/USD")
    q.set_reference(80.0)
    q.on_quote(Quote(symbol="BTC/USD", last=100.0), 1)
    assert q.change_pct == pytest.approx(25.0)


def test_quote_zero_fields_keep_previous_values_and_ticks_apply() -> None:
    q = QuoteState("ETH/USD")
    q.on_quote(Quote(symbol="ETH/USD", last=10.0, bid=9.9, ask=10.1, bsize=1.0, asize=2.0), 1)
    q.on_quote(Quote(symbol="ETH/USD", last=0.0, ticks=[Tick("bid", 9.95, 3.0)]), 2)
    assert (q.last, q.bid, q.bsize, q.ask, q.asize) == (10.0, 9.95, 3.0, 10.1, 2.0)


def test_top_of_book_comes_from_attached_book_when_it_has_levels() -> None:
    book = _TopBook()
    q = QuoteState("BTC/USD", book=book)
    q.on_quote(Quote(symbol="BTC/USD", last=100.0, bid=99.0, ask=101.0), 1)
    assert (q.bid, q.ask) == (99.0, 101.0)  # empty book: the quote's values stand
    book.set([(99.5, 2.0), (99.4, 1.0)], [(100.5, 4.0)])
    assert (q.bid, q.bsize, q.ask, q.asize) == (99.5, 2.0, 100.5, 4.0)
    assert q.spread == pytest.approx(1.0)


def test_version_changes_on_quote_trade_and_book_change() -> None:
    book = _TopBook()
    q = QuoteState("BTC/USD", book=book)
    seen = {q.version}
    q.on_quote(Quote(symbol="BTC/USD", last=1.0), 1)
    seen.add(q.version)
    q.on_trade(Trade(symbol="BTC/USD", price=1.0, size=1.0), 2)
    seen.add(q.version)
    book.set([(0.9, 1.0)], [])
    seen.add(q.version)
    assert len(seen) == 4


def test_tape_keeps_only_newest_capacity_trades_newest_first() -> None:
    tape = TradeTape(3)
    trades = [Trade(symbol="X/Y", price=float(i), size=1.0, ts=i) for i in range(5)]
    for t in trades:
        tape.append(t)
    assert len(tape) == 3
    assert tape.total == 5
    assert [t.price for t in tape.latest(10)] == [4.0, 3.0, 2.0]
    assert tape.latest(1)[0] is trades[-1]


def test_tape_arrays_are_oldest_first_with_signed_sides() -> None:
    tape = TradeTape(10)
    tape.append(Trade(symbol="X/Y", price=1.0, size=0.1, side="buy", ts=10))
    tape.append(Trade(symbol="X/Y", price=2.0, size=0.2, side="sell", ts=20))
    tape.append(Trade(symbol="X/Y", price=3.0, size=0.3, ts=30))
    arr = tape.arrays(2)
    assert arr.dtype == TAPE_DTYPE
    assert arr["ts"].tolist() == [20, 30]
    assert arr["side"].tolist() == [-1, 0]
    assert len(tape.arrays()) == 3
    assert len(TradeTape(2).arrays()) == 0


def test_tape_rejects_zero_capacity_with_clear_message() -> None:
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        TradeTape(0)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 20), st.lists(st.floats(1, 1e6), max_size=60), st.integers(0, 30))
def test_tape_latest_matches_tail_of_everything_appended(
    capacity: int, prices: list[float], n: int
) -> None:
    tape = TradeTape(capacity)
    for p in prices:
        tape.append(Trade(symbol="X/Y", price=p, size=1.0))
    expected = list(reversed(prices[-capacity:]))[:n]
    assert [t.price for t in tape.latest(n)] == expected
    assert tape.arrays(n)["price"].tolist() == list(reversed(expected))
