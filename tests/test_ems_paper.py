"""Paper clearing engine scenarios: walking the book, IOC/FOK, post-only, queue position, stops."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from console.ems.journal import Journal
from console.ems.messages import (
    Ack,
    AlertTriggered,
    Error,
    Fill,
    NewOrder,
    OrderEvent,
    OrderStatus,
    Position,
    Triggered,
)
from console.ems.paper import PaperConfig
from console.ems.risk import RiskLimits
from console.ems.router import Ems
from console.model.book import Book
from console.model.events import BookDelta, BookSnapshot, Level, Trade

SYM = "BTC/USD"
T0 = 1_700_000_000_000_000_000


class Clock:
    """A virtual clock the tests move by hand."""

    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> int:
        return self.t

    def advance(self, ms: float) -> None:
        self.t += int(ms * 1e6)


def make_book(bids: Sequence[Level] = ((100.0, 1.0), (99.9, 2.0)),
              asks: Sequence[Level] = ((100.1, 0.5), (100.2, 1.0), (100.3, 3.0))) -> Book:
    book = Book(0.1, 0.001, symbol=SYM)
    book.apply_snapshot(BookSnapshot(symbol=SYM, bids=list(bids), asks=list(asks)))
    return book


class Rig:
    """An EMS on a temp journal with one book, a hand clock and a log of published events."""

    def __init__(self, path: Path, book: Book | None = None, *, paper: PaperConfig | None = None,
                 limits: RiskLimits | None = None) -> None:
        self.path = path
        self.book = book or make_book()
        self.clock = Clock()
        self.paper = paper or PaperConfig(maker_bps=1.0, taker_bps=5.0)
        self.limits = limits or RiskLimits()
        self.seen: list[OrderEvent] = []
        self.ems = self.open()

    def open(self) -> Ems:
        ems = Ems(Journal(self.path), books={SYM: self.book}, clock=self.clock,
                  paper=self.paper, risk={"paper": self.limits})
        ems.subscribe(self.seen.append)
        return ems

    def restart(self) -> Ems:
        self.ems.close()
        self.ems = self.open()
        return self.ems

    def feed(self, ev: Any) -> None:
        """What the feed hub does: update the book, then tell subscribers."""
        if isinstance(ev, BookDelta):
            self.book.apply_delta(ev)
        elif isinstance(ev, BookSnapshot):
            self.book.apply_snapshot(ev)
        self.ems.on_event(ev)

    def order(self, oid: str, side: str, size: float, **kw: Any) -> list[OrderEvent]:
        return self.ems.submit(NewOrder(order_id=oid, account="paper", symbol=SYM,
                                        side=side, size=size, **kw))  # type: ignore[arg-type]

    def fills(self, oid: str) -> list[tuple[float, float, str]]:
        return [(e.price, e.size, e.liquidity) for e in self.seen
                if isinstance(e, Fill) and e.order_id == oid]

    def status(self, oid: str) -> OrderStatus:
        return [e for e in self.seen if isinstance(e, OrderStatus) and e.order_id == oid][-1]


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path / "journal.sqlite")


def test_market_order_walks_the_book_with_partial_fills_at_several_prices(rig: Rig) -> None:
    out = rig.order("m1", "buy", 1.2, type="market")
    assert [type(e) for e in out[:5]] == [NewOrder, Ack, Fill, Fill, OrderStatus]
    assert rig.fills("m1") == [(100.1, 0.5, "taker"), (100.2, 0.7, "taker")]
    assert rig.status("m1").status == "filled"
    o = rig.ems.state.orders["m1"]
    assert o.avg_price == pytest.approx((100.1 * 0.5 + 100.2 * 0.7) / 1.2)
    fees = [e.fee for e in rig.seen if isinstance(e, Fill)]
    assert fees == pytest.approx([100.1 * 0.5 * 5e-4, 100.2 * 0.7 * 5e-4])


def test_market_order_never_takes_more_than_the_displayed_book(rig: Rig) -> None:
    rig.order("m1", "buy", 10.0, type="market")
    assert sum(size for _, size, _ in rig.fills("m1")) == pytest.approx(4.5)
    st = rig.status("m1")
    assert (st.status, st.filled) == ("expired", 4.5)
    assert st.reason == "market: book exhausted; the rest is canceled"


def test_displayed_size_taken_once_until_the_venue_updates_that_level(rig: Rig) -> None:
    rig.order("m1", "buy", 0.5, type="market")
    rig.order("m2", "buy", 0.5, type="market")
    assert rig.fills("m2") == [(100.2, 0.5, "taker")]
    rig.feed(BookDelta(symbol=SYM, asks=[(100.1, 0.4)]))  # the venue shows new size at 100.1
    rig.order("m3", "buy", 0.4, type="market")
    assert rig.fills("m3") == [(100.1, 0.4, "taker")]


def test_market_orders_walk_past_taken_levels_and_empty_ticks_to_distant_levels(
        tmp_path: Path) -> None:
    book = make_book(bids=((100.0, 0.3), (94.0, 1.0)),
                     asks=((100.1, 0.5), (100.2, 0.2), (105.0, 1.0)))
    rig = Rig(tmp_path / "j.sqlite", book)
    rig.order("m1", "buy", 0.6, type="market")
    rig.order("m2", "buy", 0.5, type="market")  # 100.1 is taken: from 100.2 to 49 ticks out
    rig.order("m3", "sell", 0.5, type="market")
    assert rig.fills("m1") == [(100.1, 0.5, "taker"), (100.2, 0.1, "taker")]
    assert rig.fills("m2") == [(100.2, 0.1, "taker"), (105.0, 0.4, "taker")]
    assert rig.fills("m3") == [(100.0, 0.3, "taker"), (94.0, 0.2, "taker")]


def test_ioc_fills_within_its_limit_and_expires_the_rest(rig: Rig) -> None:
    rig.order("i1", "buy", 2.0, price=100.2, tif="ioc")
    assert rig.fills("i1") == [(100.1, 0.5, "taker"), (100.2, 1.0, "taker")]
    st = rig.status("i1")
    assert (st.status, st.filled, st.remaining) == ("expired", 1.5, 0.5)
    assert st.reason == "IOC: no more liquidity at 100.2 or better; the rest is canceled"
    assert "i1" not in rig.ems.state.working


def test_fok_fills_everything_or_nothing(rig: Rig) -> None:
    rig.order("f1", "buy", 2.0, price=100.2, tif="fok")
    assert rig.fills("f1") == []
    st = rig.status("f1")
    assert (st.status, st.reason) == ("expired", "FOK: only 1.5 of 2 available at 100.2 or better")
    rig.order("f2", "buy", 1.5, price=100.2, tif="fok")
    assert rig.fills("f2") == [(100.1, 0.5, "taker"), (100.2, 1.0, "taker")]
    assert rig.status("f2").status == "filled"


def test_post_only_rejects_an_order_that_would_take(rig: Rig) -> None:
    rig.order("p1", "buy", 0.1, price=100.1, post_only=True)
    st = rig.status("p1")
    assert (st.status, st.reason) == ("rejected", "post-only: price 100.1 would take liquidity "
                                                  "at 100.1")
    assert rig.fills("p1") == []
    rig.order("p2", "buy", 0.1, price=100.0, post_only=True)
    assert rig.status("p2").status == "open"


def test_resting_order_fills_only_after_the_size_ahead_has_traded(rig: Rig) -> None:
    rig.order("b1", "buy", 0.5, price=100.0)
    assert rig.ems.state.orders["b1"].queue_ahead == 1.0
    rig.feed(Trade(symbol=SYM, price=100.0, size=0.6, side="sell"))
    rig.feed(BookDelta(symbol=SYM, bids=[(100.0, 0.4)]))  # the venue's view of that trade
    assert rig.fills("b1") == []
    rig.feed(Trade(symbol=SYM, price=100.0, size=0.6, side="sell"))
    assert rig.fills("b1") == [(100.0, 0.2, "maker")]
    assert rig.status("b1").status == "partially_filled"
    rig.feed(Trade(symbol=SYM, price=100.0, size=1.0, side="sell"))
    assert rig.fills("b1") == [(100.0, 0.2, "maker"), (100.0, 0.3, "maker")]
    assert rig.status("b1").status == "filled"
    fee = [e.fee for e in rig.seen if isinstance(e, Fill)][-1]
    assert fee == pytest.approx(100.0 * 0.3 * 1e-4)


def test_buy_aggressor_trades_at_our_bid_price_do_not_fill_a_resting_buy(rig: Rig) -> None:
    rig.feed(BookDelta(symbol=SYM, bids=[(100.0, 0.0)]))
    rig.order("b1", "buy", 0.5, price=100.0)
    rig.feed(Trade(symbol=SYM, price=100.0, size=1.0, side="buy"))
    assert rig.fills("b1") == []


def test_cancels_at_our_price_shrink_the_queue_ahead_pro_rata(rig: Rig) -> None:
    rig.order("b1", "buy", 0.5, price=100.0)                 # 1.0 ahead of us
    rig.feed(BookDelta(symbol=SYM, bids=[(100.0, 2.0)]))      # 1.0 joins behind us
    rig.feed(BookDelta(symbol=SYM, bids=[(100.0, 1.0)]))      # 1.0 cancels: half was ahead
    rig.feed(Trade(symbol=SYM, price=100.0, size=0.6, side="sell"))
    assert rig.fills("b1") == [(100.0, 0.1, "maker")]


def test_a_trade_through_our_price_fills_regardless_of_the_queue(rig: Rig) -> None:
    rig.order("b1", "buy", 0.5, price=100.0)
    rig.feed(Trade(symbol=SYM, price=99.9, size=0.3, side="sell"))
    assert rig.fills("b1") == [(100.0, 0.3, "maker")]
    assert rig.status("b1").remaining == pytest.approx(0.2)


def test_stops_trigger_on_a_replayed_sequence_and_route_market_orders(rig: Rig) -> None:
    rig.order("s1", "sell", 0.5, type="stop", stop=99.5)
    rig.order("s2", "buy", 0.2, type="stop", stop=100.5)
    assert rig.status("s1").status == "open" and rig.ems.state.orders["s1"].dark
    replay = [
        Trade(symbol=SYM, price=100.0, size=0.1),
        BookDelta(symbol=SYM, bids=[(99.6, 3.0)]),
        Trade(symbol=SYM, price=99.6, size=0.1),
        Trade(symbol=SYM, price=99.5, size=0.1),        # sell stop: trade at the stop
        BookDelta(symbol=SYM, asks=[(100.1, 0.0), (100.2, 0.0), (100.3, 0.0), (100.5, 1.0)]),
    ]
    for ev in replay:
        rig.feed(ev)
    trig = {e.order_id: e.price for e in rig.seen if isinstance(e, Triggered)}
    assert trig == {"s1": 99.5, "s2": 100.5}  # buy stop: the ask reached it
    assert rig.fills("s1") == [(100.0, 0.5, "taker")]
    assert rig.fills("s2") == [(100.5, 0.2, "taker")]
    assert rig.status("s1").status == rig.status("s2").status == "filled"


def test_stop_limit_rests_at_its_limit_once_triggered(rig: Rig) -> None:
    rig.order("s1", "sell", 0.5, type="stop-limit", stop=99.9, price=100.2)
    rig.feed(Trade(symbol=SYM, price=99.9, size=0.1))
    assert rig.ems.state.orders["s1"].triggered
    assert rig.status("s1").status == "open"
    assert rig.fills("s1") == []
    assert rig.ems.state.orders["s1"].venue_id == "P-s1"


def test_cancel_before_the_ack_is_held_and_applied_when_the_ack_lands(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "j.sqlite", paper=PaperConfig(latency_ms=5.0))
    out = rig.order("b1", "buy", 0.5, price=100.0)
    assert [type(e) for e in out] == [NewOrder]
    rig.ems.cancel("b1")
    assert rig.ems.state.orders["b1"].status == "pending"
    assert rig.ems.state.orders["b1"].pending_cancel
    rig.clock.advance(5)
    rig.ems.poll()
    kinds = [(type(e).__name__, getattr(e, "status", "")) for e in rig.seen
             if getattr(e, "order_id", "") == "b1"]
    assert kinds == [("NewOrder", ""), ("CancelOrder", ""), ("Ack", ""),
                     ("QueueMark", ""), ("OrderStatus", "open"), ("OrderStatus", "canceled")]
    assert "b1" not in rig.ems.state.working


def test_amend_before_the_ack_is_held_and_applied_when_the_ack_lands(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "j.sqlite", paper=PaperConfig(latency_ms=5.0))
    rig.order("b1", "buy", 0.5, price=100.0)
    rig.ems.amend("b1", price=99.9, size=0.7)
    rig.clock.advance(5)
    rig.feed(Trade(symbol=SYM, price=100.3, size=0.1))  # any event delivers due orders
    o = rig.ems.state.orders["b1"]
    assert (o.status, o.price, o.size) == ("open", 99.9, 0.7)


def test_amend_to_a_new_price_goes_to_the_back_of_that_queue(rig: Rig) -> None:
    rig.order("b1", "buy", 0.5, price=99.8)
    rig.ems.amend("b1", price=99.9)
    assert rig.status("b1").price == 99.9
    rig.feed(Trade(symbol=SYM, price=99.9, size=2.0, side="sell"))  # eats the 2.0 ahead
    assert rig.fills("b1") == []
    rig.feed(Trade(symbol=SYM, price=99.9, size=0.1, side="sell"))
    assert rig.fills("b1") == [(99.9, 0.1, "maker")]


def test_amend_of_a_filled_order_is_refused_without_changing_it(rig: Rig) -> None:
    rig.order("m1", "buy", 0.1, type="market")
    out = rig.ems.amend("m1", size=0.2)
    assert out[0] == Error(order_id="m1", ts=rig.clock.t,
                           message="amend: order m1 is filled; only working orders can be amended")
    o = rig.ems.state.orders["m1"]
    assert (o.status, o.size, o.filled) == ("filled", 0.1, 0.1)


def test_fill_after_a_confirmed_cancel_leaves_the_order_as_it_was(rig: Rig) -> None:
    rig.order("b1", "buy", 0.5, price=100.0)
    rig.ems.cancel("b1")
    late = Fill(fill_id="b1.9", order_id="b1", account="paper", symbol=SYM, side="buy",
                price=100.0, size=0.1)
    rig.ems._emit(late)  # a venue reporting a fill after confirming the cancel
    rig.ems._flush()
    o = rig.ems.state.orders["b1"]
    assert (o.status, o.filled) == ("canceled", 0.0)
    assert rig.ems.state.anomalies == 1


def test_duplicate_client_order_id_is_rejected_not_sent_twice(rig: Rig) -> None:
    rig.order("m1", "buy", 0.1, type="market")
    out = rig.order("m1", "buy", 0.1, type="market")
    assert out == [Error(order_id="m1", ts=rig.clock.t,
                         message="duplicate order id m1: already filled; not sent again")]
    assert len(rig.fills("m1")) == 1
    assert rig.ems.state.ledger.size("paper", SYM) == pytest.approx(0.1)


def test_alerts_notify_once_and_never_trade(rig: Rig) -> None:
    rig.ems.set_alert("a1", SYM, "above", 100.5, note="breakout")
    rig.feed(Trade(symbol=SYM, price=100.4, size=0.1))
    rig.feed(Trade(symbol=SYM, price=100.6, size=0.1))
    rig.feed(Trade(symbol=SYM, price=100.7, size=0.1))
    hits = [e for e in rig.seen if isinstance(e, AlertTriggered)]
    assert [(h.alert_id, h.price) for h in hits] == [("a1", 100.6)]
    assert not rig.ems.state.alerts
    assert not [e for e in rig.seen if isinstance(e, Fill)]


def test_kill_switch_cancels_everything_and_blocks_until_rearmed(rig: Rig) -> None:
    rig.order("b1", "buy", 0.5, price=100.0)
    rig.order("s1", "sell", 0.5, type="stop", stop=90.0)
    rig.ems.kill("paper", reason="runaway")
    assert rig.status("b1").status == rig.status("s1").status == "canceled"
    rig.order("b2", "buy", 0.1, price=100.0)
    assert rig.status("b2").reason == ("kill_switch: trading is halted for account paper "
                                       "(runaway); re-arm it to trade again")
    rig.ems.rearm("paper")
    rig.order("b3", "buy", 0.1, price=100.0)
    assert rig.status("b3").status == "open"


def test_flatten_closes_the_position_at_market(rig: Rig) -> None:
    rig.order("m1", "buy", 1.2, type="market")
    rig.ems.flatten("paper", SYM, order_id="x1")
    assert rig.fills("x1") == [(100.0, 1.0, "taker"), (99.9, 0.2, "taker")]
    pos = rig.ems.position("paper", SYM)
    assert pos.size == 0.0
    assert pos.realized_pnl == pytest.approx(100.0 * 1.0 + 99.9 * 0.2 - 100.1 * 0.5 - 100.2 * 0.7)


def test_reduce_only_refuses_an_order_that_would_grow_the_position(rig: Rig) -> None:
    rig.order("m1", "buy", 0.2, type="market")
    rig.order("r1", "buy", 0.1, price=100.0, reduce_only=True)
    assert rig.status("r1").reason == ("reduce_only: a buy of 0.1 does not reduce the position "
                                       "of 0.2 BTC/USD")


def test_resting_orders_and_their_queue_survive_a_restart(rig: Rig) -> None:
    rig.order("b1", "buy", 0.5, price=100.0)
    rig.feed(Trade(symbol=SYM, price=100.0, size=0.7, side="sell"))
    rig.feed(BookDelta(symbol=SYM, bids=[(100.0, 0.3)]))
    rig.order("s1", "sell", 0.1, type="stop", stop=99.0)
    rig.restart()
    o = rig.ems.state.orders["b1"]
    assert o.status == "open"
    assert o.queue_ahead == pytest.approx(0.3)
    assert rig.ems.state.orders["s1"].dark
    rig.feed(Trade(symbol=SYM, price=100.0, size=0.5, side="sell"))
    assert rig.fills("b1") == [(100.0, 0.2, "maker")]
    rig.feed(Trade(symbol=SYM, price=99.0, size=0.1))
    assert rig.ems.state.orders["s1"].triggered


def test_submit_many_routes_each_order_and_rejects_a_duplicate_inside_the_burst(rig: Rig) -> None:
    reqs = [NewOrder(order_id=oid, account="paper", symbol=SYM, side="buy", size=0.1,
                     type="market") for oid in ("g1", "g2", "g1")]
    out = rig.ems.submit_many(reqs)
    assert [e.order_id for e in out if isinstance(e, OrderStatus)] == ["g1", "g2"]
    assert [e.message for e in out if isinstance(e, Error)] == [
        "duplicate order id g1: already filled; not sent again"]
    assert rig.ems.journal.count() == len([e for e in out if not isinstance(e, Position)])


def test_amend_to_a_smaller_size_keeps_the_queue_position(rig: Rig) -> None:
    rig.order("b1", "buy", 0.5, price=100.0)
    rig.feed(Trade(symbol=SYM, price=100.0, size=0.8, side="sell"))  # 0.2 left ahead
    rig.ems.amend("b1", size=0.3)
    rig.feed(Trade(symbol=SYM, price=100.0, size=0.4, side="sell"))
    assert rig.fills("b1") == [(100.0, 0.2, "maker")]
    assert rig.status("b1").remaining == pytest.approx(0.1)


async def test_updates_stream_journaled_events_to_asyncio_code(rig: Rig) -> None:
    import asyncio

    got: list[OrderEvent] = []

    async def consume() -> None:
        async for ev in rig.ems.updates():
            got.append(ev)
            if isinstance(ev, OrderStatus) and ev.status == "filled":
                return

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)  # let the consumer subscribe
    rig.order("m1", "buy", 0.1, type="market")
    await asyncio.wait_for(task, timeout=5)
    assert [type(e) for e in got] == [NewOrder, Ack, Fill, OrderStatus]


def test_restored_orders_wait_for_their_book_to_appear(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "j.sqlite")
    rig.order("b1", "buy", 0.5, price=99.9)
    rig.ems.close()
    books: dict[str, Book] = {}
    ems = Ems(Journal(tmp_path / "j.sqlite"), books=books, clock=rig.clock)
    assert ems.paper.resting.get(SYM) is None
    books[SYM] = rig.book
    ems.on_event(Trade(symbol=SYM, price=99.8, size=0.2, side="sell"))  # through our price
    assert ems.state.orders["b1"].filled == pytest.approx(0.2)
