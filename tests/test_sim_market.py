"""The sim market generator: determinism, book sanity, trades that consume size, stress rate."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from console.model.codec import many_from_msgpack, many_to_msgpack
from console.model.events import BookDelta, BookSnapshot, MarketEvent, Quote, Trade
from providers.sim.market import SimMarket
from providers.sim.specs import DEFAULT_SPECS

SYMBOLS = list(DEFAULT_SPECS)
START = 1_700_000_000 * 1_000_000_000
MS = 1_000_000


def run(seed: int, steps: int, *, rate: float = 2_000.0, dt_ms: int = 20,
        symbols: list[str] | None = None) -> tuple[SimMarket, list[MarketEvent]]:
    market = SimMarket(symbols or SYMBOLS, seed, START, rate=rate)
    events: list[MarketEvent] = [*market.first_quotes(), *market.snapshots()]
    for _ in range(steps):
        events += market.step(dt_ms * MS)
    return market, events


class RefBook:
    """Books rebuilt from the event stream alone, in integer ticks and lots."""

    def __init__(self) -> None:
        self.bids: dict[str, dict[int, int]] = defaultdict(dict)
        self.asks: dict[str, dict[int, int]] = defaultdict(dict)

    @staticmethod
    def key(symbol: str, price: float, size: float) -> tuple[int, int]:
        spec = DEFAULT_SPECS[symbol]
        return round(price / spec.tick), round(size / spec.lot)

    def apply(self, e: MarketEvent) -> None:
        if isinstance(e, BookSnapshot):
            self.bids[e.symbol] = dict(self.key(e.symbol, p, s) for p, s in e.bids)
            self.asks[e.symbol] = dict(self.key(e.symbol, p, s) for p, s in e.asks)
        elif isinstance(e, BookDelta):
            for side, levels in ((self.bids[e.symbol], e.bids), (self.asks[e.symbol], e.asks)):
                for p, s in levels:
                    px, lots = self.key(e.symbol, p, s)
                    if lots:
                        side[px] = lots
                    else:
                        side.pop(px, None)

    def best(self, symbol: str) -> tuple[int, int]:
        return max(self.bids[symbol]), min(self.asks[symbol])


def test_same_seed_gives_identical_encoded_event_stream() -> None:
    _, a = run(7, 150)
    _, b = run(7, 150)
    assert len(a) > 500
    assert many_to_msgpack(a) == many_to_msgpack(b)
    assert many_from_msgpack(many_to_msgpack(a)) == a


def test_different_seeds_give_different_streams() -> None:
    _, a = run(1, 50)
    _, b = run(2, 50)
    assert many_to_msgpack(a) != many_to_msgpack(b)
    assert [e.last for e in a[:4] if isinstance(e, Quote)] != [
        e.last for e in b[:4] if isinstance(e, Quote)
    ]


def test_adding_a_symbol_leaves_the_others_streams_unchanged() -> None:
    _, alone = run(5, 60, symbols=["BTC/USD"], rate=800.0)
    _, mixed = run(5, 60, symbols=["BTC/USD", "ETH/USD"], rate=800.0 / 0.4 * 0.7)
    btc = [e for e in mixed if e.symbol == "BTC/USD"]
    # BTC's share of the total rate is the same in both runs, so its own stream is too
    assert many_to_msgpack(btc) == many_to_msgpack(alone)


def test_snapshot_holds_at_least_50_levels_a_side_best_first() -> None:
    market = SimMarket(SYMBOLS, 3, START)
    for snap in market.snapshots():
        assert len(snap.bids) >= 50 and len(snap.asks) >= 50
        assert [p for p, _ in snap.bids] == sorted((p for p, _ in snap.bids), reverse=True)
        assert [p for p, _ in snap.asks] == sorted(p for p, _ in snap.asks)
        assert snap.bids[0][0] < snap.asks[0][0]


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dt_ms=st.sampled_from([1, 7, 20, 50, 400]),
       rate=st.sampled_from([50.0, 2_000.0, 40_000.0]))
def test_book_from_events_matches_generator_never_crosses_and_stays_deep(
    seed: int, dt_ms: int, rate: float
) -> None:
    market = SimMarket(SYMBOLS, seed, START, rate=rate)
    ref = RefBook()
    for snap in market.snapshots():
        ref.apply(snap)
    market_ms = 1_000 if rate <= 2_000 else 200
    for _ in range(max(5, market_ms // dt_ms)):
        for e in market.step(dt_ms * MS):
            ref.apply(e)
            if isinstance(e, BookDelta):
                bb, ba = ref.best(e.symbol)
                assert bb < ba, f"{e.symbol} crossed: bid {bb} >= ask {ba} after {e}"
                assert len(ref.bids[e.symbol]) >= 50 and len(ref.asks[e.symbol]) >= 50
    for sym in SYMBOLS:
        bids, asks = market.book(sym)
        assert ref.bids[sym] == dict(RefBook.key(sym, p, s) for p, s in bids)
        assert ref.asks[sym] == dict(RefBook.key(sym, p, s) for p, s in asks)


def test_spread_is_a_few_ticks_on_average() -> None:
    market = SimMarket(SYMBOLS, 11, START)
    spreads: dict[str, list[int]] = defaultdict(list)
    for _ in range(600):  # 12 s of market time
        market.step(20 * MS)
        for sym in SYMBOLS:
            bids, asks = market.book(sym)
            spreads[sym].append(RefBook.key(sym, asks[0][0] - bids[0][0], 0)[0])
    for sym, values in spreads.items():
        mean = float(np.mean(values))
        assert 1.0 <= mean <= 5.0, f"{sym}: mean spread {mean:.2f} ticks"
        assert min(values) >= 1


def test_trades_take_size_from_the_touch_they_hit() -> None:
    market = SimMarket(SYMBOLS, 4, START, rate=5_000.0)
    ref = RefBook()
    for snap in market.snapshots():
        ref.apply(snap)
    taken: dict[tuple[str, bool, int], int] = defaultdict(int)
    trades = 0
    for _ in range(250):
        for e in market.step(20 * MS):
            if isinstance(e, Trade):
                trades += 1
                assert e.side in ("buy", "sell")
                buy = e.side == "buy"
                px, lots = RefBook.key(e.symbol, e.price, e.size)
                book = ref.asks[e.symbol] if buy else ref.bids[e.symbol]
                # the print is at the best price not yet used up by this order
                live = [p for p, q in book.items() if q > taken.get((e.symbol, buy, p), 0)]
                assert px == (min(live) if buy else max(live))
                taken[(e.symbol, buy, px)] += lots
                assert 0 < taken[(e.symbol, buy, px)] <= book[px]
            elif isinstance(e, BookDelta):
                for buy, levels in ((True, e.asks), (False, e.bids)):
                    book = ref.asks[e.symbol] if buy else ref.bids[e.symbol]
                    for p, s in levels:
                        px, lots = RefBook.key(e.symbol, p, s)
                        used = taken.pop((e.symbol, buy, px), 0)
                        if used and lots:
                            # what rests is what was there less what traded (or a fresh refill
                            # where the trades emptied the level)
                            assert lots == book[px] - used or book[px] == used
                    pending = [k for k in taken if k[:2] == (e.symbol, buy)]
                    assert not (levels and pending), f"trades at {pending} never left the book"
                ref.apply(e)
    assert trades > 100


def test_timestamps_are_ordered_and_inside_each_step() -> None:
    market = SimMarket(SYMBOLS, 9, START, rate=10_000.0)
    for k in range(100):
        events = market.step(20 * MS)
        stamps = [e.ts for e in events]
        assert stamps == sorted(stamps)
        assert all(START + k * 20 * MS <= t < START + (k + 1) * 20 * MS for t in stamps)


def test_book_sequence_numbers_increase_by_one_per_book_event() -> None:
    _, events = run(6, 100)
    seqs: dict[str, list[int]] = defaultdict(list)
    for e in events:
        if isinstance(e, BookSnapshot | BookDelta):
            seqs[e.symbol].append(e.seq)
    for sym, values in seqs.items():
        assert values == list(range(values[0], values[0] + len(values))), sym


def test_quotes_report_the_touch_and_carry_ticks() -> None:
    market = SimMarket(SYMBOLS, 12, START, rate=2_000.0)
    ref = RefBook()
    for snap in market.snapshots():
        ref.apply(snap)
    quotes = 0
    for _ in range(200):
        for e in market.step(20 * MS):
            ref.apply(e)
            if isinstance(e, Quote):
                quotes += 1
                bb, ba = ref.best(e.symbol)
                assert RefBook.key(e.symbol, e.bid, 0)[0] == bb
                assert RefBook.key(e.symbol, e.ask, 0)[0] == ba
                assert e.ticks, "a quote after the first carries what changed"
                assert {t.type for t in e.ticks} <= {"trade", "bid", "ask"}
    assert quotes > 50


def test_stress_rate_generates_over_100k_events_per_market_second() -> None:
    market = SimMarket(SYMBOLS, 1, START, rate=100_000.0)
    count = sum(len(market.step(20 * MS)) for _ in range(10))  # 0.2 s of market time
    assert count / 0.2 >= 100_000


def test_calm_default_rate_is_near_200_events_per_second() -> None:
    market = SimMarket(SYMBOLS, 2, START)
    count = sum(len(market.step(20 * MS)) for _ in range(3_000))  # one minute
    assert 100 <= count / 60 <= 600


def test_prices_and_sizes_are_on_the_tick_and_lot_grid() -> None:
    _, events = run(8, 100)
    for e in events:
        spec = DEFAULT_SPECS[e.symbol]
        levels: list[tuple[float, float]] = []
        if isinstance(e, BookSnapshot | BookDelta):
            levels = [*e.bids, *e.asks]
        elif isinstance(e, Trade):
            levels = [(e.price, e.size)]
        for p, s in levels:
            assert p == float(f"{round(p / spec.tick) * spec.tick:.8f}")
            assert s == float(f"{round(s / spec.lot) * spec.lot:.8f}")


def test_live_volatility_clusters_big_moves_follow_big_moves() -> None:
    market = SimMarket(["BTC/USD"], 2, START, rate=20.0)
    prices = []
    for _ in range(2_400):  # 40 minutes in 1 s steps
        market.step(1_000 * MS)
        prices.append(market.last_price("BTC/USD"))
    moves = np.abs(np.diff(np.log(prices)))
    assert np.corrcoef(moves[:-1], moves[1:])[0, 1] > 0.1


def test_bursts_raise_activity_well_above_the_calm_rate() -> None:
    market = SimMarket(["ETH/USD"], 1, START, rate=100.0)
    per_second = [len(market.step(1_000 * MS)) for _ in range(900)]
    assert max(per_second) > 4 * float(np.median(per_second))
