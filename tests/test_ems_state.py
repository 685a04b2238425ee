"""State machine invariants under random interleavings, positions and PnL, journal replay."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.ems.journal import Journal
from console.ems.ledger import PositionState, equity_curve
from console.ems.messages import TERMINAL, Fill
from console.ems.paper import PaperConfig
from console.ems.risk import RiskLimits
from console.ems.state import EmsState
from console.model.events import BookDelta, Trade
from tests.test_ems_paper import SYM, Rig

TICK = 0.1

new_op = st.tuples(
    st.just("new"), st.sampled_from(["buy", "sell"]),
    st.sampled_from(["market", "limit", "limit", "stop", "stop-limit"]), st.integers(1, 2000),
    st.integers(-5, 5), st.sampled_from(["gtc", "gtc", "ioc", "fok"]), st.booleans(),
)
cancel_op = st.tuples(st.just("cancel"), st.integers(0, 30))
# the last field: move a held stop's trigger (refused for any other order)
amend_op = st.tuples(st.just("amend"), st.integers(0, 30), st.integers(0, 2000),
                     st.integers(-5, 5), st.booleans())
trade_op = st.tuples(st.just("trade"), st.integers(-6, 7), st.integers(1, 3000),
                     st.sampled_from(["buy", "sell", ""]))
delta_op = st.tuples(st.just("delta"), st.sampled_from(["bid", "ask"]), st.integers(0, 5),
                     st.integers(0, 3000))
tick_op = st.tuples(st.just("tick"), st.integers(1, 5))
# orders and trades weighted up so that resting orders meet trades (maker fills) often
ops = st.lists(st.one_of(new_op, new_op, trade_op, trade_op, trade_op, cancel_op, amend_op,
                         delta_op, tick_op), min_size=10, max_size=60)


def run(rig: Rig, script: list[tuple[Any, ...]]) -> None:
    ids: list[str] = []
    for op in script:
        kind = op[0]
        if kind == "new":
            _, side, typ, lots, off, tif, post = op
            oid = f"o{len(ids)}"
            ids.append(oid)
            px = round(100.0 + int(off) * TICK, 1)
            rig.order(oid, str(side), int(lots) * 0.001, type=typ, tif=tif,
                      price=px if typ in ("limit", "stop-limit") else 0.0,
                      stop=px if typ in ("stop", "stop-limit") else 0.0,
                      post_only=bool(post) and typ == "limit")
        elif kind == "cancel" and ids:
            rig.ems.cancel(ids[int(op[1]) % len(ids)])
        elif kind == "amend" and ids:
            _, i, lots, off, trigger = op
            px = round(100.0 + int(off) * TICK, 1)
            if trigger:
                rig.ems.amend(ids[int(i) % len(ids)], stop=px)
            else:
                rig.ems.amend(ids[int(i) % len(ids)], size=int(lots) * 0.001, price=px)
        elif kind == "trade":
            _, off, lots, aggr = op
            rig.feed(Trade(symbol=SYM, price=round(100.0 + int(off) * TICK, 1),
                           size=int(lots) * 0.001, side=aggr))
        elif kind == "delta":
            _, side, off, lots = op
            px = round(100.0 - int(off) * TICK, 1) if side == "bid" \
                else round(100.1 + int(off) * TICK, 1)
            lvl = [(px, int(lots) * 0.001)]
            rig.feed(BookDelta(symbol=SYM, bids=lvl if side == "bid" else [],
                               asks=lvl if side == "ask" else []))
        elif kind == "tick":
            rig.clock.advance(int(op[1]))
            rig.ems.poll()


def check_invariants(state: EmsState, fills: list[Fill]) -> None:
    by_order: dict[str, float] = {}
    signed: dict[tuple[str, str], float] = {}
    for f in fills:
        by_order[f.order_id] = by_order.get(f.order_id, 0.0) + f.size
        key = (f.account, f.symbol)
        signed[key] = signed.get(key, 0.0) + (f.size if f.side == "buy" else -f.size)
    for oid, o in state.orders.items():
        assert o.filled >= 0 and o.remaining >= 0, oid
        assert o.filled <= o.size + 1e-9, oid
        assert round(o.filled + o.remaining, 9) == round(o.size, 9), oid
        assert o.filled == pytest.approx(by_order.get(oid, 0.0), abs=1e-9), oid
        assert (oid in state.working) == (o.status not in TERMINAL), oid
    for key, pos in state.ledger.positions.items():
        assert pos.size == pytest.approx(signed.get(key, 0.0), abs=1e-9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=ops, latency=st.sampled_from([0.0, 2.0]))
def test_random_interleavings_keep_invariants_and_replay_identically(
    script: list[tuple[Any, ...]], latency: float
) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "j.sqlite"
        rig = Rig(path, paper=PaperConfig(latency_ms=latency),
                  limits=RiskLimits(max_order_rate=0, price_band_pct=0))
        run(rig, script)
        fills = [e for e in rig.seen if isinstance(e, Fill)]
        check_invariants(rig.ems.state, fills)
        assert rig.ems.state.anomalies == 0
        live = rig.ems.state.fingerprint()
        rig.ems.journal.commit()
        j = Journal(path)
        first, second = EmsState(), EmsState()
        for chunk in j.replay():
            first.apply_many(chunk)
        for chunk in j.replay():
            second.apply_many(chunk)
        j.close()
        assert first.fingerprint() == second.fingerprint() == live
        rig.ems.close()


def test_position_averages_cost_and_realizes_on_reduction() -> None:
    p = PositionState("paper", SYM)
    p.apply("buy", 100.0, 1.0, 0.05)
    p.apply("buy", 110.0, 1.0, 0.05)
    assert (p.size, p.avg_price) == (2.0, 105.0)
    r = p.apply("sell", 120.0, 0.5, 0.03)
    assert r == pytest.approx(7.5)
    assert (p.size, p.avg_price) == (1.5, 105.0)
    assert p.realized == pytest.approx(7.5)
    assert p.fees == pytest.approx(0.13)
    assert p.unrealized(100.0) == pytest.approx(-7.5)


def test_position_flipping_through_zero_opens_the_rest_at_the_fill_price() -> None:
    p = PositionState("paper", SYM)
    p.apply("buy", 100.0, 1.0, 0.0)
    r = p.apply("sell", 90.0, 3.0, 0.0)
    assert r == pytest.approx(-10.0)
    assert (p.size, p.avg_price) == (-2.0, 90.0)
    p.apply("buy", 80.0, 2.0, 0.0)
    assert (p.size, p.avg_price) == (0.0, 0.0)
    assert p.realized == pytest.approx(10.0)


def test_equity_curve_is_cumulative_realized_net_of_fees() -> None:
    fills = [
        Fill(fill_id="a.1", order_id="a", account="paper", symbol=SYM, side="buy",
             price=100.0, size=1.0, fee=0.1, ts=1),
        Fill(fill_id="b.1", order_id="b", account="other", symbol=SYM, side="buy",
             price=1.0, size=1.0, fee=0.1, ts=2),
        Fill(fill_id="c.1", order_id="c", account="paper", symbol=SYM, side="sell",
             price=103.0, size=1.0, fee=0.1, ts=3),
    ]
    curve = equity_curve(fills, "paper")
    assert curve["ts"].tolist() == [1, 3]
    assert curve["net"].tolist() == pytest.approx([-0.1, 2.8])


def test_balance_and_unrealized_pnl_mark_to_mid(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "j.sqlite", paper=PaperConfig(taker_bps=0.0, initial_cash=1000.0))
    rig.order("m1", "buy", 0.5, type="market")
    pos = rig.ems.position("paper", SYM)
    assert pos.unrealized_pnl == pytest.approx(0.5 * (100.05 - 100.1))
    bal = rig.ems.balance("paper")
    assert bal.cash == 1000.0
    assert bal.equity == pytest.approx(1000.0 + 0.5 * (100.05 - 100.1))


def random_script(rng: random.Random, n: int) -> list[tuple[Any, ...]]:
    """Long mixed scripts where resting orders meet trades through and at their price."""
    out: list[tuple[Any, ...]] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.3:
            out.append(("new", rng.choice(["buy", "sell"]),
                        rng.choice(["market", "limit", "limit", "limit", "stop"]),
                        rng.randint(1, 1500), rng.randint(-4, 4),
                        rng.choice(["gtc", "gtc", "gtc", "ioc", "fok"]), rng.random() < 0.2))
        elif r < 0.65:
            out.append(("trade", rng.randint(-4, 5), rng.randint(1, 2500),
                        rng.choice(["buy", "sell", ""])))
        elif r < 0.75:
            out.append(("cancel", rng.randint(0, 1000)))
        elif r < 0.85:
            out.append(("amend", rng.randint(0, 1000), rng.randint(0, 1500), rng.randint(-4, 4),
                        False))
        elif r < 0.95:
            out.append(("delta", rng.choice(["bid", "ask"]), rng.randint(0, 4),
                        rng.randint(0, 3000)))
        else:
            out.append(("tick", rng.randint(1, 5)))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_long_seeded_sessions_keep_invariants_and_fill_as_maker_and_taker(
    tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    rig = Rig(tmp_path / "j.sqlite", paper=PaperConfig(latency_ms=rng.choice([0.0, 2.0])),
              limits=RiskLimits(max_order_rate=0, price_band_pct=0))
    run(rig, random_script(rng, 300))
    fills = [e for e in rig.seen if isinstance(e, Fill)]
    assert {f.liquidity for f in fills} == {"maker", "taker"}
    check_invariants(rig.ems.state, fills)
    assert rig.ems.state.anomalies == 0
    live = rig.ems.state.fingerprint()
    rig.restart()
    assert rig.ems.state.fingerprint() == live
