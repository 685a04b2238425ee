"""One matcher per paper order across processes sharing a journal: the writer of its newest row.

Resting paper orders and held stops are matched or watched only by the live process that wrote
their newest journal row (amends aside: the holder applies those); a dead writer's orders are
claimed by one other process.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from console.ems import commands
from console.ems.journal import Journal
from console.ems.messages import Ack, Fill, NewOrder, OrderEvent, Triggered
from console.ems.paper import PaperConfig
from console.ems.risk import RiskLimits
from console.ems.router import Ems
from console.ems.state import EmsState
from console.ems.writers import writers_dir
from console.model.book import Book
from console.model.events import BookSnapshot, Trade
from tests.test_ems_paper import SYM, Rig

REPO = Path(__file__).resolve().parents[1]
Start = Callable[[str], tuple[str, "subprocess.Popen[str]"]]

# places one order like `mdconsole order` would, says so, then waits to be killed
CHILD = textwrap.dedent(
    """
    import sys
    from console.ems.journal import Journal
    from console.ems.messages import NewOrder
    from console.ems.router import Ems
    from console.model.book import Book
    from console.model.events import BookSnapshot

    book = Book(0.1, 0.001, symbol="BTC/USD")
    book.apply_snapshot(BookSnapshot(symbol="BTC/USD", bids=[(100.0, 1.0)],
                                     asks=[(100.1, 1.0)]))
    ems = Ems(Journal(sys.argv[1]), books={"BTC/USD": book})
    kw = dict(type="stop", stop=99.0) if sys.argv[2] == "stop" else dict(price=99.9)
    ems.submit(NewOrder(order_id="k1", account="paper", symbol="BTC/USD",
                        side="sell" if sys.argv[2] == "stop" else "buy", size=0.5, **kw))
    print(ems.journal.writer, flush=True)
    sys.stdin.read()  # until killed
    """
)


def journal_events(path: Path) -> list[OrderEvent]:
    j = Journal(path)
    try:
        return j.events()
    finally:
        j.close()


def filled(path: Path, oid: str) -> float:
    return round(sum(e.size for e in journal_events(path)
                     if isinstance(e, Fill) and e.order_id == oid), 9)


def triggers(path: Path, oid: str) -> int:
    return sum(1 for e in journal_events(path) if isinstance(e, Triggered) and e.order_id == oid)


@pytest.fixture
def killed_writer(tmp_path: Path) -> Iterator[Start]:
    """Starts a child process that places order k1 ("limit" or "stop") on the test's journal;
    gives its writer id and the process (killed at teardown if still running)."""
    procs: list[subprocess.Popen[str]] = []

    def start(kind: str) -> tuple[str, subprocess.Popen[str]]:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "j.sqlite"), kind],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO,
                                env=env, text=True)
        procs.append(proc)
        assert proc.stdout is not None
        writer = proc.stdout.readline().strip()  # the order is journaled once this arrives
        assert writer, "the child process placed no order"
        return writer, proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def test_a_live_writers_resting_order_is_matched_only_by_that_writer(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    a = Rig(path)
    early = Rig(path, book=a.book)  # takes the order in by sync
    a.order("a1", "buy", 0.5, price=99.9)
    late = Rig(path, book=a.book)  # takes the order in at restore
    early.ems.sync()
    for other in (early, late):
        assert [o.order_id for o in other.ems.working_orders()] == ["a1"]
        assert "a1" not in other.ems.paper.resting.get(SYM, {})
        other.feed(Trade(symbol=SYM, price=99.8, size=1.0, side="sell"))  # through the price
        assert other.fills("a1") == []
    a.feed(Trade(symbol=SYM, price=99.8, size=1.0, side="sell"))
    assert a.fills("a1") == [(99.9, 0.5, "maker")]
    for other in (early, late):
        other.ems.sync()
        assert other.ems.state.orders["a1"].status == "filled"
        other.ems.close()
    a.ems.close()
    assert filled(path, "a1") == 0.5


def test_a_live_writers_stop_is_triggered_only_by_that_writer(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    a = Rig(path)
    early = Rig(path, book=a.book)
    a.order("s1", "sell", 0.2, type="stop", stop=99.0)
    late = Rig(path, book=a.book)
    early.ems.sync()
    for other in (early, late):
        assert [o.order_id for o in other.ems.working_orders()] == ["s1"]
        other.feed(Trade(symbol=SYM, price=98.9, size=0.1, side="sell"))
        assert not other.ems.state.orders["s1"].triggered
    a.feed(Trade(symbol=SYM, price=98.9, size=0.1, side="sell"))
    assert a.ems.state.orders["s1"].triggered
    for other in (early, late):
        other.ems.sync()
        other.feed(Trade(symbol=SYM, price=98.8, size=0.1, side="sell"))
        other.ems.close()
    a.ems.close()
    assert triggers(path, "s1") == 1


@pytest.mark.parametrize("kind", ["limit", "stop"])
def test_a_killed_writers_order_is_adopted_at_the_next_sync_and_its_lock_removed(
    tmp_path: Path, killed_writer: Start, kind: str
) -> None:
    path = tmp_path / "j.sqlite"
    b = Rig(path)
    writer, proc = killed_writer(kind)
    lock = writers_dir(path) / f"{writer}.lock"
    through = Trade(symbol=SYM, price=98.9, size=1.0, side="sell")  # past k1 either way
    b.ems.sync()
    assert "k1" in b.ems.state.working
    b.feed(through)  # the child is alive: it alone may match
    assert b.fills("k1") == [] and not b.ems.state.orders["k1"].triggered
    assert lock.exists()
    kill(proc)
    assert lock.exists()  # a SIGKILLed process removes nothing
    assert b.ems.sync() == []  # nothing new in the journal, yet the owner is checked again
    assert not lock.exists()
    b.feed(through)
    if kind == "stop":
        assert b.ems.state.orders["k1"].triggered
        assert triggers(path, "k1") == 1
    else:
        assert b.fills("k1") == [(99.9, 0.5, "maker")]
    assert b.ems.state.orders["k1"].status == "filled"
    b.ems.close()


def test_a_dead_writers_order_adopted_by_one_process_is_not_matched_by_the_next(
    tmp_path: Path, killed_writer: Start
) -> None:
    path = tmp_path / "j.sqlite"
    _, proc = killed_writer("limit")
    kill(proc)
    first = Rig(path)  # claims k1 at restore
    second = Rig(path, book=first.book)  # sees the claim of a live process
    assert "k1" in first.ems.paper.resting[SYM]
    assert "k1" not in second.ems.paper.resting.get(SYM, {})
    through = Trade(symbol=SYM, price=99.8, size=1.0, side="sell")
    second.feed(through)
    first.feed(through)
    assert (first.fills("k1"), second.fills("k1")) == ([(99.9, 0.5, "maker")], [])
    first.ems.close()
    second.ems.close()
    assert filled(path, "k1") == 0.5


def fill_writers(path: Path, oid: str) -> set[str]:
    """The journal writers that wrote fills of `oid`."""
    con = sqlite3.connect(path)
    try:
        rows = con.execute("SELECT DISTINCT writer FROM events WHERE kind = 'fill' "
                           "AND order_id = ?", (oid,)).fetchall()
    finally:
        con.close()
    return {w for (w,) in rows}


def amend_while_holder_syncs(holder: Rig, order_id: str, **kw: Any) -> int:
    """`commands.amend` on the holder's journal in a thread while the holder takes in the
    journal as its sync timer does; the command's exit code."""
    codes: list[int] = []
    requester = threading.Thread(target=lambda: codes.append(commands.amend(
        order_id, journal=holder.path, timeout=30.0, **kw)))
    requester.start()
    deadline = time.monotonic() + 60
    while requester.is_alive():
        assert time.monotonic() < deadline, "the amend command never returned"
        holder.ems.sync()
        requester.join(timeout=0.02)
    assert len(codes) == 1, "the amend command raised"
    return codes[0]


def test_an_amend_from_another_live_process_is_applied_by_the_holder_at_its_next_sync(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite"
    console = Rig(path)
    console.order("a1", "buy", 0.5, price=99.9)
    other = Rig(path, book=console.book)  # a second live process with the same market
    other.ems.amend("a1", stop=98.0)  # refused: an error row changes no order
    other.ems.amend("a1", price=99.5)
    # a request only: the requester neither matches the order nor changes it itself
    assert "a1" not in other.ems.paper.resting.get(SYM, {})
    assert other.ems.state.orders["a1"].price == 99.9
    other.feed(Trade(symbol=SYM, price=99.4, size=1.0, side="sell"))
    assert other.fills("a1") == []
    console.ems.sync()
    assert console.ems.paper.resting[SYM]["a1"].price == 99.5
    assert console.status("a1").price == 99.5  # the holder's own answer
    console.feed(Trade(symbol=SYM, price=99.6, size=1.0, side="sell"))  # through 99.9 only
    assert console.fills("a1") == []
    console.feed(Trade(symbol=SYM, price=99.4, size=0.1, side="sell"))
    assert console.fills("a1") == [(99.5, 0.1, "maker")]
    other.ems.sync()  # the holder is still alive: it keeps the order
    assert other.ems.state.orders["a1"].price == 99.5
    assert "a1" not in other.ems.paper.resting.get(SYM, {})
    other.feed(Trade(symbol=SYM, price=99.4, size=1.0, side="sell"))
    console.feed(Trade(symbol=SYM, price=99.4, size=1.0, side="sell"))
    assert console.fills("a1") == [(99.5, 0.1, "maker"), (99.5, 0.4, "maker")]
    assert console.ems.state.orders["a1"].status == "filled"
    console.ems.sync()
    other.ems.sync()
    assert other.ems.state.orders["a1"].status == "filled"
    writers = fill_writers(path, "a1")
    other.ems.close()
    console.ems.close()
    assert writers == {console.ems.journal.writer}
    assert filled(path, "a1") == 0.5
    state = EmsState()
    state.apply_many(journal_events(path))
    assert state.anomalies == 0


def test_the_amend_command_prints_the_change_the_live_holder_applied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    console = Rig(tmp_path / "j.sqlite")
    console.order("a1", "buy", 0.5, price=99.9)
    try:
        assert amend_while_holder_syncs(console, "a1", price=99.5, size=0.6) == 0
        assert "a1 amended: price 99.9 → 99.5, size 0.5 → 0.6" in capsys.readouterr().out
        r = console.ems.paper.resting[SYM]["a1"]
        assert (r.price, console.ems.state.orders["a1"].size) == (99.5, 0.6)
    finally:
        console.ems.close()


def test_an_amend_the_live_holder_refuses_exits_1_with_the_holders_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    console = Rig(tmp_path / "j.sqlite")
    console.order("p1", "buy", 0.5, price=99.9, post_only=True)
    try:
        # the ask is 100.1: a post-only buy there would take liquidity
        assert amend_while_holder_syncs(console, "p1", price=100.1) == 1
        out = capsys.readouterr().out
        assert "p1 error: amend: post-only: price 100.1 would take liquidity" in out
        assert "amended" not in out
        assert console.ems.paper.resting[SYM]["p1"].price == 99.9
        assert console.ems.state.orders["p1"].price == 99.9
    finally:
        console.ems.close()


def test_an_amend_the_live_holder_does_not_apply_in_time_exits_3_and_lands_later(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    console = Rig(tmp_path / "j.sqlite")
    console.order("a1", "buy", 0.5, price=99.9)
    try:
        # the holder does not sync while the command waits
        rc = commands.amend("a1", price=99.5, journal=console.path, timeout=0.3)
        assert rc == commands.NOT_APPLIED
        out = capsys.readouterr().out
        assert (f"a1 sent; the process holding it (pid {os.getpid()}) has not applied it yet"
                in out)
        assert console.ems.paper.resting[SYM]["a1"].price == 99.9
        console.ems.sync()  # the request stays in the journal for the holder
        assert console.ems.paper.resting[SYM]["a1"].price == 99.5
    finally:
        console.ems.close()


def test_headless_order_leaves_a_live_consoles_resting_orders_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "j.sqlite"
    book = Book(1.0, 0.0001, symbol=SYM)
    book.apply_snapshot(BookSnapshot(symbol=SYM, bids=[(49_000.0, 1.0)],
                                     asks=[(80_000.0, 1.0)]))
    console = Ems(Journal(path), books={SYM: book},
                  risk={"paper": RiskLimits(price_band_pct=50)})
    try:
        # far above the seeded sim's market (about 59,000): any sim book would fill it
        console.submit(NewOrder(order_id="c1", account="paper", symbol=SYM,
                                         side="buy", size=0.01, price=70_000.0))
        rc = commands.order("buy", 0.01, SYM, type_="limit", price=50_000.0, journal=path,
                            wait=1.0, order_id="h1", provider_config={"seed": 3},
                            risk={"paper": {"price_band_pct": 50}})
        assert rc == 0
        assert "c1" not in capsys.readouterr().out
        console.sync()
        assert console.state.orders["c1"].filled == 0.0
        assert "c1" in console.paper.resting[SYM]
        assert "h1" in console.paper.resting[SYM]  # its writer exited: the console takes it
    finally:
        console.close()
    assert filled(path, "c1") == 0.0


def test_a_journal_holds_its_writer_lock_while_open_and_removes_it_on_close(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite"
    first, second = Journal(path), Journal(path)
    lock = writers_dir(path) / f"{first.writer}.lock"
    assert lock.exists()
    assert second.alive(first.writer) and first.alive(second.writer)
    first.close()
    assert not lock.exists()
    assert not second.alive(first.writer)
    assert not second.alive("1-deadbeef")  # rows written before writers kept lock files
    second.close()
    assert not writers_dir(path).exists()  # the last one out leaves nothing behind


def start_waiting_order(path: Path, codes: list[int]) -> threading.Thread:
    """`mdconsole order ... --wait 120` for a resting buy `h1` on sim, in a thread, once acked;
    its exit code lands in `codes`."""
    waiting = threading.Thread(target=lambda: codes.append(commands.order(
        "buy", 0.01, SYM, type_="limit", price=50_000.0, journal=path, wait=120.0,
        order_id="h1", provider_config={"seed": 3}, risk={"paper": {"price_band_pct": 50}})),
        daemon=True)  # a failed start must not hold the test run for the order's 120 s wait
    waiting.start()
    deadline = time.monotonic() + 30
    while not (path.exists() and any(isinstance(e, Ack) and e.order_id == "h1"
                                     for e in journal_events(path))):
        assert time.monotonic() < deadline, "the order was never acknowledged"
        time.sleep(0.05)
    return waiting


def test_a_waiting_headless_order_takes_in_a_cancel_from_another_process_and_returns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "j.sqlite"
    codes: list[int] = []
    waiting = start_waiting_order(path, codes)
    try:
        assert commands.cancel("h1", journal=path) == 0
    finally:
        waiting.join(timeout=60)
    assert not waiting.is_alive(), "the order command kept waiting after the cancel"
    assert codes == [0]
    # once from the cancel command, once from the order command that took it in
    assert capsys.readouterr().out.count("h1 canceled") == 2


def test_another_process_moving_a_held_stops_trigger_through_the_market_fires_it_at_the_holder(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite"
    console = Rig(path)
    console.order("s1", "sell", 0.2, type="stop", stop=99.0)
    other = Rig(path, book=console.book)
    other.ems.amend("s1", stop=100.0)  # the bid is 100.0: through the market
    assert not other.ems.state.orders["s1"].triggered  # the requester watches nothing
    assert triggers(path, "s1") == 0
    console.ems.sync()
    o = console.ems.state.orders["s1"]
    assert (o.stop, o.triggered, o.status) == (100.0, True, "filled")
    other.ems.sync()
    other.feed(Trade(symbol=SYM, price=98.0, size=1.0, side="sell"))
    other.ems.close()
    console.ems.close()
    assert triggers(path, "s1") == 1


def test_an_amend_sent_before_the_holders_ack_is_applied_at_the_ack_and_printed_as_applied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    console = Rig(tmp_path / "j.sqlite", paper=PaperConfig(latency_ms=50.0))
    console.order("a1", "buy", 0.5, price=99.9)  # in flight to the paper venue
    try:
        rc = commands.amend("a1", price=99.5, journal=console.path, timeout=0.3)
        assert rc == commands.NOT_APPLIED  # the holder has not acked it yet
        capsys.readouterr()
        console.ems.sync()  # takes the request in: held until the ack
        assert "a1" not in console.ems.paper.resting.get(SYM, {})
        console.clock.advance(60)
        console.ems.poll()
        assert console.ems.paper.resting[SYM]["a1"].price == 99.5
        assert console.status("a1").price == 99.5
        # a second amend of the now resting order is answered as applied, not as held
        assert amend_while_holder_syncs(console, "a1", price=99.4, json_out=True) == 0
        last = json.loads(capsys.readouterr().out.splitlines()[-1])
        assert (last["event"], last["held"], last["price"]) == ("amended", False, 99.4)
    finally:
        console.ems.close()


def test_a_waiting_headless_order_applies_an_amend_from_another_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "j.sqlite"
    codes: list[int] = []
    waiting = start_waiting_order(path, codes)
    try:
        # the order command syncs every second: well inside the amend's wait
        assert commands.amend("h1", price=50_100.0, journal=path, timeout=30.0) == 0
        assert "h1 amended: price 50000 → 50100" in capsys.readouterr().out
        assert commands.cancel("h1", journal=path) == 0
    finally:
        waiting.join(timeout=60)
    assert not waiting.is_alive(), "the order command kept waiting after the cancel"
    assert codes == [0]
    state = EmsState()
    state.apply_many(journal_events(path))
    assert (state.orders["h1"].price, state.orders["h1"].status) == (50_100.0, "canceled")
