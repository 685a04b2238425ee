"""Pre-trade risk: each rule rejects with its exact message; config tables validate strictly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from console.ems.risk import RiskConfigError, RiskLimits
from tests.test_ems_paper import SYM, Rig


def reason(rig: Rig, **order: Any) -> str:
    oid = f"r{len(rig.ems.state.orders)}"
    side = order.pop("side", "buy")
    size = order.pop("size", 0.1)
    rig.order(oid, side, size, **order)
    st = rig.status(oid)
    assert st.status == "rejected", st
    return st.reason


def rig_with(tmp_path: Path, **limits: Any) -> Rig:
    return Rig(tmp_path / "j.sqlite", limits=RiskLimits(**limits))


def test_max_order_size_names_rule_limit_and_value(tmp_path: Path) -> None:
    rig = rig_with(tmp_path, max_order_size=2.0)
    assert reason(rig, size=2.5, price=100.0) == (
        "max_order_size: size 2.5 exceeds the limit 2 for account paper")


def test_max_notional_uses_the_limit_price(tmp_path: Path) -> None:
    rig = rig_with(tmp_path, max_notional=1000.0)
    assert reason(rig, size=11.0, price=100.0) == (
        "max_notional: notional 1100.00 exceeds the limit 1000 for account paper")


def test_max_notional_uses_mid_for_market_orders(tmp_path: Path) -> None:
    rig = rig_with(tmp_path, max_notional=1000.0)
    assert reason(rig, size=11.0, type="market") == (
        "max_notional: notional 1100.55 exceeds the limit 1000 for account paper")


def test_max_position_counts_the_existing_position(tmp_path: Path) -> None:
    rig = rig_with(tmp_path, max_position=1.0)
    rig.order("m1", "buy", 0.8, type="market")
    assert reason(rig, size=0.3, price=100.0) == (
        "max_position: position would be 1.1 BTC/USD, beyond the limit 1 for account paper")
    rig.order("m2", "sell", 1.5, price=99.9)  # reducing through zero to -0.7 is allowed
    assert rig.status("m2").status != "rejected"


def test_price_band_catches_a_fat_finger_limit_price(tmp_path: Path) -> None:
    rig = rig_with(tmp_path, price_band_pct=5.0)
    assert reason(rig, price=110.0) == (
        "price_band_pct: limit price 110 is 9.95% from mid 100.05, beyond the limit 5%")


def test_max_open_orders_counts_working_orders_of_the_account(tmp_path: Path) -> None:
    rig = rig_with(tmp_path, max_open_orders=2)
    rig.order("a", "buy", 0.1, price=99.0)
    rig.order("b", "buy", 0.1, price=99.0)
    assert reason(rig, price=99.0) == (
        "max_open_orders: 2 orders are working, the limit is 2 for account paper")
    rig.ems.cancel("a")
    rig.order("c", "buy", 0.1, price=99.0)
    assert rig.status("c").status == "open"


def test_max_order_rate_uses_a_sliding_second(tmp_path: Path) -> None:
    rig = rig_with(tmp_path, max_order_rate=3)
    for i in range(3):
        rig.order(f"o{i}", "buy", 0.1, price=99.0)
    assert reason(rig, price=99.0) == (
        "max_order_rate: 3 orders in the last second, the limit is 3/s for account paper")
    rig.clock.advance(1001)
    rig.order("later", "buy", 0.1, price=99.0)
    assert rig.status("later").status == "open"


def test_off_grid_size_and_price_are_rounded_by_default(rig_default: Rig) -> None:
    rig_default.order("g", "buy", 0.1234, price=99.96)
    o = rig_default.ems.state.orders["g"]
    assert (o.size, o.price) == (0.123, 100.0)


def test_off_grid_price_is_rejected_with_the_valid_one_when_configured(tmp_path: Path) -> None:
    rig = rig_with(tmp_path, off_grid="reject")
    assert reason(rig, price=99.96) == "off_grid: price 99.96 is not a multiple of 0.1 for " \
                                       "BTC/USD; use 100"
    assert reason(rig, size=0.1234, price=100.0) == (
        "off_grid: size 0.1234 is not a multiple of 0.001 for BTC/USD; use 0.123")


def test_size_below_one_lot_is_rejected(rig_default: Rig) -> None:
    assert reason(rig_default, size=0.0004, price=100.0) == (
        "size: size 0.0004 must be at least one lot (0.001 BTC/USD)")


def test_unknown_account_and_symbol_are_rejected(rig_default: Rig) -> None:
    from console.ems.messages import NewOrder

    rig_default.ems.submit(NewOrder(order_id="x", account="live", symbol=SYM, side="buy",
                                    size=0.1, price=100.0))
    assert rig_default.status("x").reason == (
        "account: unknown account 'live'; configured accounts: paper")
    rig_default.ems.submit(NewOrder(order_id="y", account="paper", symbol="ZZZ/USD",
                                    side="buy", size=0.1, price=100.0))
    assert rig_default.status("y").reason == (
        "symbol: no instrument data for ZZZ/USD; is its feed running?")


@pytest.fixture
def rig_default(tmp_path: Path) -> Rig:
    return Rig(tmp_path / "j.sqlite")


def test_risk_table_from_config_accepts_ints_for_numbers() -> None:
    lim = RiskLimits.from_mapping({"max_order_size": 2, "price_band_pct": 3, "off_grid": "reject"})
    assert (lim.max_order_size, lim.price_band_pct, lim.off_grid) == (2.0, 3.0, "reject")
    assert lim.max_open_orders == RiskLimits().max_open_orders


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"max_size": 1}, "accounts.paper.risk.max_size: unknown risk setting; known settings: "
                          "max_order_size, max_notional, max_position, price_band_pct, "
                          "max_open_orders, max_order_rate, off_grid"),
        ({"max_order_size": -1}, "accounts.paper.risk.max_order_size: got -1; expected a finite "
                                 "number >= 0 (0 switches it off)"),
        ({"max_open_orders": 2.5}, "accounts.paper.risk.max_open_orders: got 2.5; expected a "
                                   "whole number >= 0 (0 switches it off)"),
        ({"max_notional": "lots"}, "accounts.paper.risk.max_notional: got 'lots'; expected a "
                                   "number >= 0 (0 switches it off)"),
        ({"off_grid": "snap"}, 'accounts.paper.risk.off_grid: got \'snap\'; use "round" or '
                               '"reject"'),
    ],
)
def test_bad_risk_table_names_field_value_and_fix(table: dict[str, Any], message: str) -> None:
    with pytest.raises(RiskConfigError) as exc:
        RiskLimits.from_mapping(table, where="accounts.paper.risk")
    assert str(exc.value) == message
