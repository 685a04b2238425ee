"""Amending stops the EMS holds: the trigger moves, is journaled and fires at once if crossed."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.ems.messages import (
    Ack,
    AmendOrder,
    Error,
    Fill,
    OrderStatus,
    Position,
    Triggered,
)
from console.ems.risk import RiskLimits
from console.model.events import Trade
from tests.test_ems_paper import SYM, Rig


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path / "journal.sqlite")


def test_amended_stop_keeps_its_new_trigger_and_size_after_a_restart(rig: Rig) -> None:
    rig.order("s1", "sell", 0.5, type="stop", stop=99.5)
    out = rig.ems.amend("s1", stop=99.0, size=0.3)
    assert out == [AmendOrder(order_id="s1", stop=99.0, size=0.3, ts=rig.clock.t),
                   OrderStatus(order_id="s1", status="open", size=0.3, ts=rig.clock.t)]
    rig.restart()
    o = rig.ems.state.orders["s1"]
    assert (o.dark, o.stop, o.size, o.price) == (True, 99.0, 0.3, 0.0)
    rig.feed(Trade(symbol=SYM, price=99.4, size=0.1))  # the old trigger no longer fires
    assert not rig.ems.state.orders["s1"].triggered
    rig.feed(Trade(symbol=SYM, price=99.0, size=0.1))
    assert [e.price for e in rig.seen if isinstance(e, Triggered)] == [99.0]
    assert rig.fills("s1") == [(100.0, 0.3, "taker")]


def test_price_of_a_plain_stop_moves_its_trigger(rig: Rig) -> None:
    rig.order("s1", "buy", 0.2, type="stop", stop=100.5)
    rig.ems.amend("s1", price=100.7)
    o = rig.ems.state.orders["s1"]
    assert (o.stop, o.price) == (100.7, 0.0)
    assert rig.ems.journal.events(["amend"]) == [
        AmendOrder(order_id="s1", stop=100.7, ts=rig.clock.t)]


def test_stop_moved_through_the_market_triggers_at_once(rig: Rig) -> None:
    rig.order("s1", "sell", 0.5, type="stop", stop=99.5)
    out = rig.ems.amend("s1", stop=100.0)  # the bid is 100.0: already reached
    assert [type(e) for e in out] == [AmendOrder, OrderStatus, Triggered, Ack, Fill,
                                      OrderStatus, Position]
    assert out[2] == Triggered(order_id="s1", price=100.0, ts=rig.clock.t)
    assert rig.fills("s1") == [(100.0, 0.5, "taker")]
    assert rig.status("s1").status == "filled"
    assert "s1" not in rig.ems.state.working


def test_stop_limit_amend_moves_trigger_and_limit_separately(rig: Rig) -> None:
    rig.order("s1", "sell", 0.5, type="stop-limit", stop=99.9, price=99.8)
    rig.ems.amend("s1", stop=99.7)
    rig.ems.amend("s1", price=99.6)
    rig.restart()
    o = rig.ems.state.orders["s1"]
    assert (o.dark, o.stop, o.price) == (True, 99.7, 99.6)
    rig.feed(Trade(symbol=SYM, price=99.8, size=0.1))
    assert not rig.ems.state.orders["s1"].triggered
    rig.feed(Trade(symbol=SYM, price=99.7, size=0.1))
    assert rig.ems.state.orders["s1"].triggered


def test_stop_amend_is_rounded_to_tick_and_lot(rig: Rig) -> None:
    rig.order("s1", "sell", 0.5, type="stop", stop=99.5)
    rig.ems.amend("s1", stop=99.04, size=0.12345)
    o = rig.ems.state.orders["s1"]
    assert (o.stop, o.size) == (99.0, 0.123)


def test_price_band_guards_a_stop_limits_limit_but_not_a_far_protective_trigger(
        rig: Rig) -> None:
    rig.order("s1", "sell", 0.5, type="stop", stop=99.5)
    rig.ems.amend("s1", stop=80.0)  # a protective stop 20% away, as a new one may be
    assert rig.ems.state.orders["s1"].stop == 80.0
    rig.order("s2", "sell", 0.5, type="stop-limit", stop=99.5, price=99.0)
    out = rig.ems.amend("s2", price=80.0)
    assert out == [Error(order_id="s2", ts=rig.clock.t, message=(
        "price_band_pct: limit price 80 is 20.04% from mid 100.05, beyond the limit 5%"))]
    assert rig.ems.state.orders["s2"].price == 99.0
    assert [e.order_id for e in rig.ems.journal.events(["amend"])] == ["s1"]


def test_stop_amend_above_the_max_order_size_is_refused(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "j.sqlite", limits=RiskLimits(max_order_size=1.0))
    rig.order("s1", "sell", 0.5, type="stop", stop=99.5)
    out = rig.ems.amend("s1", size=2.0)
    assert [e.message for e in out if isinstance(e, Error)] == [
        "max_order_size: size 2 exceeds the limit 1 for account paper"]
    assert rig.ems.state.orders["s1"].size == 0.5


def test_trigger_amend_of_an_order_that_is_not_a_held_stop_is_refused(rig: Rig) -> None:
    rig.order("b1", "buy", 0.5, price=99.8)
    out = rig.ems.amend("b1", stop=99.5)
    assert out == [Error(order_id="b1", ts=rig.clock.t, message=(
        "amend: order b1 is not a stop waiting for its trigger; it has no trigger to move"))]
    assert rig.ems.state.orders["b1"].stop == 0.0


def test_plain_stop_amend_with_both_price_and_trigger_is_refused(rig: Rig) -> None:
    rig.order("s1", "sell", 0.5, type="stop", stop=99.5)
    out = rig.ems.amend("s1", price=99.4, stop=99.3)
    assert [e.message for e in out if isinstance(e, Error)] == [
        "amend: stop order s1 has no limit price; give only the new trigger (stop)"]
    assert rig.ems.state.orders["s1"].stop == 99.5
