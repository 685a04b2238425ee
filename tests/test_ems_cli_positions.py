"""`mdconsole positions`, realized only or marked to the market (`--mark`), via the real CLI."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from console.cli import app
from console.data.feed import FeedHub
from console.ems import commands
from console.ems.journal import Journal
from console.ems.messages import Fill
from tests.test_feed import FakeProvider

CONFIG = """
[providers.sim]
seed = 3
"""


@pytest.fixture(autouse=True)
def _seeded_sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("MDCONSOLE_CONFIG", str(path))


def cli(*args: str) -> Result:
    # wide enough that no table column is cut
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def table_rows(out: str) -> list[list[str]]:
    """The cells of each body row of a rich table."""
    return [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines()
            if line.startswith("│")]


def journal_fills(*fills: tuple[str, str, str, float, float, float]) -> None:
    """Write fills (account, symbol, side, size, price, fee) straight into the journal."""
    j = Journal(os.environ["MDCONSOLE_JOURNAL"])
    j.write([Fill(order_id=f"o{i}", fill_id=f"o{i}.1", account=account, symbol=symbol,
                  side=side, size=size, price=price, fee=fee, liquidity="taker")  # type: ignore[arg-type]
             for i, (account, symbol, side, size, price, fee) in enumerate(fills)])
    j.close()


def positions_json(*args: str) -> list[dict[str, Any]]:
    result = cli("positions", "--json", *args)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_positions_mark_on_sim_prices_an_open_position_near_its_fill() -> None:
    placed = cli("order", "buy", "0.01", "BTC/USD", "--wait", "5", "--id", "m1")
    assert placed.exit_code == 0, placed.output
    (row,) = positions_json("--mark")
    avg, mark = row["avg_price"], row["mark"]
    assert row["size"] == pytest.approx(0.01)
    # the same seed starts the same market: the mark is near what the order paid
    assert mark == pytest.approx(avg, rel=0.02)
    assert row["unrealized_pnl"] == pytest.approx((mark - avg) * 0.01, abs=1e-9)
    assert row["total_pnl"] == pytest.approx(row["unrealized_pnl"] - row["fees"], abs=1e-9)
    text = cli("positions", "--mark")
    assert text.exit_code == 0, text.output
    assert "unrealized" in text.stdout and "needs --mark" not in text.stdout
    (cells,) = table_rows(text.stdout)
    size, avg, mark, unrealized = (float(c) for c in cells[2:6])
    assert unrealized == pytest.approx((mark - avg) * size, abs=0.01)


def test_positions_without_mark_say_unrealized_pnl_needs_mark() -> None:
    journal_fills(("paper", "BTC/USD", "buy", 0.01, 60000.0, 0.3))
    result = cli("positions")
    assert result.exit_code == 0, result.output
    assert "unrealized PnL needs --mark" in result.stdout
    (row,) = positions_json()
    assert (row["mark"], row["unrealized_pnl"], row["total_pnl"]) == (None, 0.0, None)


def test_marked_positions_show_unrealized_and_totals_per_quote_currency() -> None:
    journal_fills(("paper", "BTC/USD", "buy", 0.02, 60000.0, 0.6),
                  ("paper", "ETH/USD", "sell", 1.0, 3000.0, 1.5),
                  ("alt", "ETH/USD", "buy", 2.0, 2900.0, 2.9),
                  ("alt", "ETH/USD", "sell", 2.0, 2950.0, 2.95))
    rows = positions_json("-p", "sim")  # naming the provider marks too
    by_key = {(r["account"], r["symbol"]): r for r in rows}
    btc, eth = by_key["paper", "BTC/USD"], by_key["paper", "ETH/USD"]
    flat = by_key["alt", "ETH/USD"]
    assert btc["unrealized_pnl"] == pytest.approx(0.02 * (btc["mark"] - 60000.0), abs=1e-9)
    assert eth["unrealized_pnl"] == pytest.approx(-1.0 * (eth["mark"] - 3000.0), abs=1e-9)
    # a flat position needs no mark: its PnL is realized
    assert flat["mark"] is None
    assert flat["total_pnl"] == pytest.approx(100.0 - 2.9 - 2.95)
    text = cli("positions", "--mark")
    assert text.exit_code == 0, text.output
    cells = table_rows(text.stdout)
    body = [c for c in cells if c[0] != "total"]
    (totals,) = [c for c in cells if c[0] == "total"]
    assert len(body) == 3 and totals[1] == "USD"
    # unrealized and total columns add up (each cell is rounded to the cent)
    for col in (5, 8):
        assert float(totals[col]) == pytest.approx(sum(float(c[col]) for c in body), abs=0.02)


def test_mark_with_a_symbol_the_provider_does_not_list_names_both() -> None:
    journal_fills(("paper", "DOGE/JPY", "buy", 10.0, 20.0, 0.0))
    result = cli("positions", "--mark")
    assert result.exit_code == 2
    assert "provider 'sim' does not list DOGE/JPY" in result.stderr
    assert "Traceback" not in result.output


def test_mark_names_the_provider_and_the_symbols_that_never_quoted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    journal_fills(("paper", "BTC/USD", "buy", 1.0, 100.0, 0.0),
                  ("paper", "ETH/USD", "buy", 1.0, 100.0, 0.0))

    def silent_eth(provider: str, symbols: Sequence[str], config: Mapping[str, Any]) -> FeedHub:
        return FeedHub(FakeProvider(quote=["BTC/USD"]), symbols, history=False,
                       first_quote_timeout=0.2)

    assert commands.positions(mark=True, provider="fake", hub_factory=silent_eth) == 2
    err = capsys.readouterr().err
    assert "provider 'fake' sent no first quote for ETH/USD within 0.2 s" in err


def test_mark_timeout_must_be_positive() -> None:
    result = cli("positions", "--mark", "--timeout", "0")
    assert result.exit_code == 2
    assert "--timeout 0: must be a number of seconds above 0" in result.stderr
