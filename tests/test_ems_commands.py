"""Headless EMS commands on the sim feed: order, cancel, orders, fills, positions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.ems import commands

SIM = {"seed": 3}


def json_lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith(("{", "["))]


def test_market_order_prints_ack_and_fills_and_lands_in_the_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    j = tmp_path / "j.sqlite"
    rc = commands.order("buy", 0.01, "BTC/USD", journal=j, wait=5, order_id="m1",
                        provider_config=SIM, json_out=True)
    assert rc == 0
    kinds = [e["event"] for e in json_lines(capsys.readouterr().out)]
    assert kinds[:3] == ["new", "ack", "fill"]
    assert "ord" in kinds and "pos" in kinds
    assert commands.fills(journal=j, json_out=True) == 0
    (fills,) = json_lines(capsys.readouterr().out)
    assert isinstance(fills, list) and fills[0]["order_id"] == "m1"
    assert commands.positions(journal=j, json_out=True) == 0
    (positions,) = json_lines(capsys.readouterr().out)
    assert isinstance(positions, list) and positions[0]["size"] == pytest.approx(0.01)


def test_resting_order_stays_working_and_cancel_by_id_removes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    j = tmp_path / "j.sqlite"
    # far enough below the market to rest, inside a widened fat-finger band
    rc = commands.order("buy", 0.01, "BTC/USD", type_="limit", price=50_000.0, journal=j,
                        wait=0.2, order_id="r1", provider_config=SIM,
                        risk={"paper": {"price_band_pct": 50}})
    assert rc == 0
    out = capsys.readouterr().out
    assert "r1 stays open in the journal" in out
    assert commands.orders(journal=j, json_out=True) == 0
    (working,) = json_lines(capsys.readouterr().out)
    assert isinstance(working, list) and [o["order_id"] for o in working] == ["r1"]
    assert commands.cancel("r1", journal=j) == 0
    assert "r1 canceled" in capsys.readouterr().out
    assert commands.orders(journal=j, json_out=True) == 0
    assert json_lines(capsys.readouterr().out) == [[]]
    assert commands.cancel("r1", journal=j) == 1
    assert "cancel: order r1 is already canceled" in capsys.readouterr().out


def test_cancel_all_cancels_every_working_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    j = tmp_path / "j.sqlite"
    for oid in ("s1", "s2"):
        assert commands.order("sell", 0.01, "BTC/USD", type_="stop", stop=1000.0, journal=j,
                              wait=0, order_id=oid, provider_config=SIM) == 0
    capsys.readouterr()
    assert commands.cancel(all_orders=True, journal=j) == 0
    assert "canceled 2 working orders" in capsys.readouterr().out
    commands.orders(journal=j, include_done=True, json_out=True)
    (rows,) = json_lines(capsys.readouterr().out)
    assert isinstance(rows, list) and {o["status"] for o in rows} == {"canceled"}


def test_risk_rejection_exits_1_with_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = commands.order("buy", 5.0, "BTC/USD", journal=tmp_path / "j.sqlite", wait=1,
                        provider_config=SIM, risk={"paper": {"max_order_size": 1}})
    assert rc == 1
    assert "max_order_size: size 5 exceeds the limit 1 for account paper" in \
        capsys.readouterr().out


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type_": "limit"}, "a limit order needs --price"),
        ({"type_": "stop"}, "a stop order needs --stop (the trigger price)"),
        ({"tif": "day"}, "--tif 'day': use one of gtc, ioc, fok"),
        ({"risk": {"paper": {"max_order_size": -1}}},
         "accounts.paper.risk.max_order_size: got -1; expected a finite number >= 0"),
    ],
)
def test_bad_order_arguments_exit_2_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kwargs: dict[str, object], message: str
) -> None:
    rc = commands.order("buy", 0.01, "BTC/USD", journal=tmp_path / "j.sqlite",
                        **kwargs)  # type: ignore[arg-type]
    assert rc == 2
    assert message in capsys.readouterr().err


def test_cancel_needs_an_id_or_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert commands.cancel(journal=tmp_path / "j.sqlite") == 2
    assert "give one order id, or --all" in capsys.readouterr().err


def test_unreadable_journal_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "j.sqlite"
    bad.write_bytes(b"not a database" * 200)
    assert commands.fills(journal=bad) == 2
    err = capsys.readouterr().err
    assert "cannot open the order journal" in err and "Traceback" not in err
