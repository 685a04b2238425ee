"""`mdconsole amend` through the real CLI on the test's journal and the seeded sim, and the
amend command against a running console that holds the order."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from console.cli import app
from console.ems import commands
from console.ems.journal import Journal
from console.ems.messages import Fill, NewOrder, OrderEvent
from console.ems.router import Ems
from console.model.book import Book
from console.model.events import BookSnapshot, Trade

SYM = "BTC/USD"
# far below the seeded sim's BTC/USD (about 59,000), inside a widened fat-finger band
CONFIG = """
[providers.sim]
seed = 3

[accounts.paper.risk]
price_band_pct = 50
max_order_size = 1
"""


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunnerCall:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("MDCONSOLE_CONFIG", str(path))
    return CliRunnerCall()


class CliRunnerCall:
    """Runs `mdconsole ARGS` in this process (config and journal from the environment)."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(app, list(args))


def working(cli: CliRunnerCall) -> dict[str, dict[str, object]]:
    result = cli("orders", "--json")
    assert result.exit_code == 0, result.output
    return {o["order_id"]: o for o in json.loads(result.stdout)}


def test_amend_moves_a_resting_limit_orders_price_and_size(cli: CliRunnerCall) -> None:
    placed = cli("order", "buy", "0.01", SYM, "--type", "limit", "--price", "50000",
                 "--wait", "0", "--id", "r1")
    assert placed.exit_code == 0, placed.output
    result = cli("amend", "r1", "--price", "50100", "--size", "0.02")
    assert result.exit_code == 0, result.output
    assert "r1 amended: price 50000 → 50100, size 0.01 → 0.02" in result.stdout
    o = working(cli)["r1"]
    assert (o["price"], o["size"], o["status"]) == (50100.0, 0.02, "open")


def test_amend_moves_a_held_stops_trigger_without_starting_a_feed(cli: CliRunnerCall) -> None:
    placed = cli("order", "sell", "0.01", SYM, "--type", "stop", "--stop", "40000",
                 "--wait", "0", "--id", "s1")
    assert placed.exit_code == 0, placed.output
    # an unknown provider would fail at once were a feed started
    result = cli("amend", "s1", "--stop", "41000", "-p", "nosuch")
    assert result.exit_code == 0, result.output
    assert "s1 amended: trigger 40000 → 41000" in result.stdout
    # a plain stop has no limit: --price moves its trigger, as on the ladder
    result = cli("amend", "s1", "--price", "42000", "-p", "nosuch")
    assert result.exit_code == 0, result.output
    assert "s1 amended: trigger 41000 → 42000" in result.stdout
    o = working(cli)["s1"]
    assert (o["stop"], o["price"], o["status"]) == (42000.0, 0.0, "open")


def test_amend_of_a_stop_limit_moves_its_limit_and_trigger(cli: CliRunnerCall) -> None:
    placed = cli("order", "sell", "0.01", SYM, "--type", "stop-limit", "--stop", "40000",
                 "--price", "39900", "--wait", "0", "--id", "sl1")
    assert placed.exit_code == 0, placed.output
    result = cli("amend", "sl1", "--price", "39800", "--stop", "40100", "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["event"] for e in lines] == ["amend", "ord", "amended"]
    assert lines[-1] == {"event": "amended", "order_id": "sl1", "status": "open", "held": False,
                         "price": 39800.0, "size": 0.01, "stop": 40100.0,
                         "was": {"price": 39900.0, "size": 0.01, "stop": 40000.0}}
    o = working(cli)["sl1"]
    assert (o["price"], o["stop"]) == (39800.0, 40100.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "nothing to amend: give a new --price, --size"),
        (("--size", "-1"), "--size -1: the new size must be a positive number"),
        (("--price", "nan"), "--price nan: the new price must be a positive number"),
        (("--stop", "0"), "--stop 0: the new trigger price must be a positive number"),
    ],
)
def test_bad_amend_arguments_exit_2_with_the_field_and_the_fix(
    cli: CliRunnerCall, args: tuple[str, ...], message: str
) -> None:
    result = cli("amend", "any", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_amends_the_ems_refuses_exit_1_with_its_reason(cli: CliRunnerCall) -> None:
    assert cli("order", "buy", "0.01", SYM, "--type", "limit", "--price", "50000",
               "--wait", "0", "--id", "r1").exit_code == 0
    assert cli("order", "buy", "0.01", SYM, "--type", "limit", "--price", "50000",
               "--wait", "0", "--id", "r2").exit_code == 0
    assert cli("cancel", "r2").exit_code == 0
    cases = [
        (("nope", "--price", "1"), "amend: unknown order nope"),
        (("r2", "--price", "50100"),
         "amend: order r2 is canceled; only working orders can be amended"),
        (("r1", "--stop", "49000"),
         "amend: order r1 is not a stop waiting for its trigger; it has no trigger to move"),
        (("r1", "--size", "2"), "max_order_size: size 2 exceeds the limit 1 for account paper"),
    ]
    for args, reason in cases:
        result = cli("amend", *args)
        assert result.exit_code == 1, (args, result.output)
        assert reason in result.stdout, (args, result.output)
    o = working(cli)["r1"]
    assert (o["price"], o["size"]) == (50000.0, 0.01)


def amend_while_console_syncs(console: Ems, order_id: str, *, price: float | None = None,
                              stop: float | None = None) -> int:
    """The amend command in a thread while the console takes in the journal, as its sync
    timer does; the command's exit code."""
    codes: list[int] = []
    requester = threading.Thread(target=lambda: codes.append(commands.amend(
        order_id, price=price, stop=stop, journal=os.environ["MDCONSOLE_JOURNAL"],
        timeout=30.0)))
    requester.start()
    deadline = time.monotonic() + 60
    while requester.is_alive():
        assert time.monotonic() < deadline, "the amend command never returned"
        console.sync()
        requester.join(timeout=0.02)
    assert len(codes) == 1, "the amend command raised"
    return codes[0]


def test_a_running_console_matches_an_amended_order_at_its_new_price(
    capsys: pytest.CaptureFixture[str]
) -> None:
    """The console holds the resting order in its paper engine and applies the amend."""
    book = Book(1.0, 0.0001, symbol=SYM)
    book.apply_snapshot(BookSnapshot(symbol=SYM, bids=[(49990.0, 1.0)], asks=[(50200.0, 1.0)]))
    console = Ems(Journal(os.environ["MDCONSOLE_JOURNAL"]), books={SYM: book})
    seen: list[OrderEvent] = []
    console.subscribe(seen.append)
    try:
        console.submit(NewOrder(order_id="c1", account="paper", symbol=SYM, side="buy",
                                size=0.01, price=50000.0))
        assert console.state.working["c1"].price == 50000.0
        assert amend_while_console_syncs(console, "c1", price=50100.0) == 0
        assert "c1 amended: price 50000 → 50100" in capsys.readouterr().out
        assert console.state.orders["c1"].price == 50100.0
        # through the new price but not the old one: only the amended order fills
        console.on_event(Trade(symbol=SYM, price=50050.0, size=0.01, side="sell"))
        fills = [(e.price, e.size) for e in seen if isinstance(e, Fill)]
        assert fills == [(50100.0, 0.01)]
        assert console.state.orders["c1"].status == "filled"
    finally:
        console.close()


def test_a_running_console_triggers_a_stop_at_its_amended_trigger(
    capsys: pytest.CaptureFixture[str],
) -> None:
    book = Book(1.0, 0.0001, symbol=SYM)
    book.apply_snapshot(BookSnapshot(symbol=SYM, bids=[(49990.0, 1.0)], asks=[(50200.0, 1.0)]))
    console = Ems(Journal(os.environ["MDCONSOLE_JOURNAL"]), books={SYM: book})
    try:
        console.submit(NewOrder(order_id="s1", account="paper", symbol=SYM, side="sell",
                                size=0.01, type="stop", stop=40000.0))
        assert amend_while_console_syncs(console, "s1", stop=49000.0) == 0
        assert "s1 amended: trigger 40000 → 49000" in capsys.readouterr().out
        console.on_event(Trade(symbol=SYM, price=48990.0, size=0.01, side="sell"))
        o = console.state.orders["s1"]
        assert o.triggered
        assert (o.status, o.avg_price) == ("filled", 49990.0)
    finally:
        console.close()
