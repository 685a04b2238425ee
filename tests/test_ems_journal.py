"""Journal durability and recovery: rebuild from the journal alone, SIGKILL loses no ack."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from console.ems.journal import Journal, JournalError, default_path
from console.ems.messages import Ack, Fill, NewOrder, OrderStatus
from console.ems.state import EmsState
from console.model.events import Trade
from tests.test_ems_paper import SYM, Rig

REPO = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    """
    import sys
    from console.ems.journal import Journal
    from console.ems.messages import Ack, NewOrder
    from console.ems.risk import RiskLimits
    from console.ems.router import Ems
    from console.model.book import Book
    from console.model.events import BookSnapshot

    book = Book(0.1, 0.001, symbol="BTC/USD")
    book.apply_snapshot(BookSnapshot(symbol="BTC/USD", bids=[(100.0, 1000.0)],
                                     asks=[(100.1, 1000.0)]))
    ems = Ems(Journal(sys.argv[1]), books={"BTC/USD": book},
              risk={"paper": RiskLimits(max_order_rate=0, max_open_orders=0)})

    def shown(ev):
        if type(ev) is Ack:
            sys.stdout.write(ev.order_id + "\\n")
            sys.stdout.flush()

    ems.subscribe(shown)
    i = 0
    while True:  # until killed
        kind = i % 3
        ems.submit(NewOrder(order_id=f"k{i}", account="paper", symbol="BTC/USD",
                            side="buy" if i % 2 else "sell", size=0.001,
                            type="market" if kind == 0 else "limit",
                            price=0.0 if kind == 0 else (99.5 if i % 2 else 100.6)))
        i += 1
    """
)


def test_replaying_the_journal_twice_gives_identical_state(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "j.sqlite")
    rig.order("m1", "buy", 1.2, type="market")
    rig.order("b1", "buy", 0.5, price=100.0)
    rig.order("s1", "sell", 0.3, type="stop", stop=99.0)
    rig.ems.set_alert("a1", SYM, "below", 95.0)
    rig.ems.cancel("b1")
    rig.ems.kill("paper", "test")
    live = rig.ems.state.fingerprint()
    rig.ems.close()
    j = Journal(tmp_path / "j.sqlite")
    states = []
    for _ in range(2):
        s = EmsState()
        for chunk in j.replay():
            s.apply_many(chunk)
        states.append(s.fingerprint())
    assert states[0] == states[1] == live
    assert j.count() == len(j.events())


def test_restart_rebuilds_working_orders_positions_alerts_and_kill_switch(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "j.sqlite")
    rig.order("m1", "buy", 1.2, type="market")
    rig.order("b1", "buy", 0.5, price=100.0)
    rig.order("s1", "sell", 0.3, type="stop", stop=99.0)
    rig.ems.set_alert("a1", SYM, "below", 95.0)
    rig.ems.kill("other", "test")
    pos_before = rig.ems.position("paper", SYM)
    ems = rig.restart()
    assert sorted(o.order_id for o in ems.working_orders()) == ["b1", "s1"]
    assert ems.position("paper", SYM) == pos_before
    assert list(ems.state.alerts) == ["a1"]
    assert ems.state.killed == {"other": "test"}


def test_fills_can_be_read_by_kind_without_decoding_the_rest(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "j.sqlite")
    rig.order("m1", "buy", 1.2, type="market")
    rig.ems.close()
    j = Journal(tmp_path / "j.sqlite")
    fills = j.events(kinds=["fill"])
    assert [type(f) for f in fills] == [Fill, Fill]
    j.close()


@pytest.mark.parametrize("n", [1, 32, 33, 100])
def test_a_commit_of_any_size_stores_every_event_once_in_order(tmp_path: Path, n: int) -> None:
    events = [Fill(fill_id=f"f{i}", order_id=f"o{i % 7}", account="paper", symbol=SYM,
                   side="buy", price=100.0 + i, size=0.001, ts=i + 1) for i in range(n)]
    j = Journal(tmp_path / "j.sqlite")
    j.write(events)
    j.close()
    j = Journal(tmp_path / "j.sqlite")
    assert j.events() == events
    assert j.events(kinds=["fill"]) == events
    j.close()


def test_a_failed_commit_keeps_the_staged_events_for_the_next(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = Journal(path)
    j._con.execute("PRAGMA busy_timeout=0")  # fail at once instead of after 5 s
    other = sqlite3.connect(path, isolation_level=None)
    events = [Ack(order_id=f"o{i}", venue_id=f"P-o{i}", ts=i + 1) for i in range(40)]
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    for ev in events:
        j.append(ev)
    with pytest.raises(sqlite3.OperationalError):
        j.commit()
    other.execute("COMMIT")
    other.close()
    j.commit()
    assert j.events() == events
    j.close()


def test_journal_path_honours_the_environment(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDCONSOLE_JOURNAL", str(tmp_path / "x" / "j.sqlite"))
    assert default_path() == tmp_path / "x" / "j.sqlite"


def test_a_file_that_is_not_a_journal_gives_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "j.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(JournalError, match="cannot open the order journal"):
        Journal(bad)


@pytest.mark.slow
def test_sigkill_mid_stream_loses_no_acknowledged_order(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE,
                            cwd=REPO, env=env, text=True)
    assert proc.stdout is not None
    acked = []
    try:
        for line in proc.stdout:
            acked.append(line.strip())
            if len(acked) >= 300:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert len(acked) == 300
    j = Journal(path)
    state = EmsState()
    for chunk in j.replay():
        state.apply_many(chunk)
    for oid in acked:
        o = state.orders[oid]
        assert o.venue_id == f"P-{oid}"
        assert o.status in ("open", "filled")
    # the journal stays appendable after the kill
    j.write([NewOrder(order_id="after", account="paper", symbol=SYM, side="buy", size=0.1),
             Ack(order_id="after", venue_id="P-after"),
             OrderStatus(order_id="after", status="open", size=0.1)])
    state2 = EmsState()
    for chunk in j.replay():
        state2.apply_many(chunk)
    assert state2.orders["after"].status == "open"
    assert state2.anomalies == 0
    j.close()


def test_sync_takes_in_orders_and_cancels_written_by_another_process(tmp_path: Path) -> None:
    console = Rig(tmp_path / "j.sqlite")
    headless = Rig(tmp_path / "j.sqlite", book=console.book)
    headless.order("h1", "buy", 0.5, price=99.9)
    headless.order("h2", "sell", 0.2, type="stop", stop=99.0)
    headless.ems.close()
    out = console.ems.sync()
    assert {getattr(e, "order_id", "") for e in out} >= {"h1", "h2"}
    assert sorted(o.order_id for o in console.ems.working_orders()) == ["h1", "h2"]
    console.feed(Trade(symbol=SYM, price=99.8, size=0.1, side="sell"))  # through h1's price
    assert console.fills("h1") == [(99.9, 0.1, "maker")]
    canceller = Rig(tmp_path / "j.sqlite", book=console.book)
    canceller.ems.cancel("h1")
    canceller.ems.close()
    console.ems.sync()
    assert console.ems.state.orders["h1"].status == "canceled"
    assert "h1" not in console.ems.paper.resting.get(SYM, {})
    console.feed(Trade(symbol=SYM, price=99.7, size=1.0, side="sell"))
    assert console.fills("h1") == [(99.9, 0.1, "maker")]
    assert console.ems.sync() == []
    live = console.ems.state.fingerprint()
    console.restart()
    assert console.ems.state.fingerprint() == live
