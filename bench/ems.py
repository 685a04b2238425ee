"""EMS figures: order-to-fill latency, sustained order rate, journal recovery time.

Runs the paper engine against the reference stream's book (../shared/bench/stream.py),
journal included (SQLite WAL, synchronous=NORMAL, on the temp dir). Prints one JSON object
on its last line. Env: BENCH_N_DELTAS (stream size), BENCH_N_ORDERS (latency and rate
phases), BENCH_N_JOURNAL (events in the recovery journal, default 1,000,000).
`orders_per_s` commits once per request; `orders_per_s_group_commit_32` once per burst of 32.
Timings are wall clock; `recovery_cpu_s` is the recovery's CPU time (a busy machine inflates
the wall figure, not this one).
"""

from __future__ import annotations

import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO.parent / "shared" / "bench"))

import stream  # noqa: E402

from console.ems.journal import Journal  # noqa: E402
from console.ems.messages import Ack, Fill, NewOrder, OrderEvent, OrderStatus  # noqa: E402
from console.ems.risk import RiskLimits  # noqa: E402
from console.ems.router import Ems  # noqa: E402
from console.model.book import ASK, BID, Book  # noqa: E402
from console.model.events import BookDelta, Trade  # noqa: E402

SYM = "BTC/USDT"
N_ORDERS = int(os.environ.get("BENCH_N_ORDERS", 20_000))
N_JOURNAL = int(os.environ.get("BENCH_N_JOURNAL", 1_000_000))
EVENTS_PER_ORDER = 5
# the rate phase pushes far past a trader's limits on purpose: switch the rate and count caps off
LIMITS = RiskLimits(max_order_rate=0, max_open_orders=0, price_band_pct=5.0)


def make_book() -> tuple[Book, np.ndarray]:
    snap_bids, snap_asks, events, _ = stream.load()
    book = Book(0.1, 0.001, symbol=SYM)
    book.load_ticks(snap_bids["price"], snap_bids["qty"], snap_asks["price"], snap_asks["qty"])
    return book, events


def feed(ems: Ems, book: Book, events: np.ndarray, start: int, n: int) -> int:
    """Apply n stream events to the book and hand them to the EMS as the hub would."""
    rows = events[start:start + n].tolist() if start + n <= len(events) else []
    for ts, kind, side, px, qty in rows:
        if kind == stream.KIND_DELTA:
            book.set_level(side, px, qty)
            lvl = [(px * 0.1, qty * 0.001)]
            ev = BookDelta(symbol=SYM, ts=ts, bids=lvl if side == BID else [],
                           asks=lvl if side == ASK else [])
            ems.on_event(ev)
        elif kind == stream.KIND_TRADE:
            ems.on_event(Trade(symbol=SYM, ts=ts, price=px * 0.1, size=qty * 0.001,
                               side="sell" if side == BID else "buy"))
    return start + n if rows else 0


def latency_phase(tmp: Path) -> dict[str, float]:
    book, events = make_book()
    ems = Ems(Journal(tmp / "lat.sqlite"), books={SYM: book}, risk={"paper": LIMITS})
    t_fill = [0, 0]

    def on(ev: OrderEvent) -> None:
        if type(ev) is Fill and not t_fill[0]:
            t_fill[0] = time.perf_counter_ns()
            t_fill[1] = time.thread_time_ns()

    ems.subscribe(on)
    lat = np.empty(N_ORDERS, dtype=np.int64)
    cpu = np.empty(N_ORDERS, dtype=np.int64)
    pos = 0
    gc.disable()
    for i in range(N_ORDERS):
        pos = feed(ems, book, events, pos, EVENTS_PER_ORDER)
        req = NewOrder(order_id=f"L{i}", account="paper", symbol=SYM,
                       side="buy" if i % 2 else "sell", size=0.001 * (1 + i % 5), type="market")
        t_fill[0] = 0
        c0 = time.thread_time_ns()
        t0 = time.perf_counter_ns()
        ems.submit(req)
        lat[i] = t_fill[0] - t0
        cpu[i] = t_fill[1] - c0
    gc.enable()
    ems.close()
    # the CPU-time figures leave out time the scheduler gave to other processes
    return {"order_to_fill_p50_us": float(np.percentile(lat, 50) / 1e3),
            "order_to_fill_p99_us": float(np.percentile(lat, 99) / 1e3),
            "order_to_fill_max_us": float(lat.max() / 1e3),
            "order_to_fill_cpu_p50_us": float(np.percentile(cpu, 50) / 1e3),
            "order_to_fill_cpu_p99_us": float(np.percentile(cpu, 99) / 1e3)}


def rate_phase(tmp: Path) -> dict[str, float]:
    book, _ = make_book()
    ems = Ems(Journal(tmp / "rate.sqlite"), books={SYM: book}, risk={"paper": LIMITS})
    mid = book.mid or 0.0
    reqs = 0
    resting: list[str] = []
    c0 = time.process_time()
    t0 = time.perf_counter()
    for i in range(N_ORDERS):
        if i % 5 == 4:
            # a passive order off the touch, and the cancel of an older one
            oid = f"R{i}"
            ems.submit(NewOrder(order_id=oid, account="paper", symbol=SYM, side="buy",
                                size=0.01, price=round(mid * 0.99, 1)))
            resting.append(oid)
            reqs += 1
            if len(resting) > 20:
                ems.cancel(resting.pop(0))
                reqs += 1
        else:
            ems.submit(NewOrder(order_id=f"M{i}", account="paper", symbol=SYM,
                                side="buy" if i % 2 else "sell", size=0.001, type="market"))
            reqs += 1
    dt = time.perf_counter() - t0
    dt_cpu = time.process_time() - c0
    ems.close()
    # the same market orders in bursts of 32 with one journal commit each (submit_many)
    ems = Ems(Journal(tmp / "burst.sqlite"), books={SYM: book}, risk={"paper": LIMITS})
    burst = [NewOrder(order_id=f"B{i}", account="paper", symbol=SYM,
                      side="buy" if i % 2 else "sell", size=0.001, type="market")
             for i in range(N_ORDERS)]
    t1 = time.perf_counter()
    for k in range(0, N_ORDERS, 32):
        ems.submit_many(burst[k:k + 32])
    dt_burst = time.perf_counter() - t1
    ems.close()
    return {"orders_per_s": reqs / dt, "orders_per_s_cpu": reqs / dt_cpu,
            "orders_per_s_group_commit_32": N_ORDERS / dt_burst}


def recovery_phase(tmp: Path) -> dict[str, float]:
    path = tmp / "recover.sqlite"
    j = Journal(path)
    n = 0
    i = 0
    batch: list[OrderEvent] = []
    ts = 1_700_000_000_000_000_000
    while n < N_JOURNAL:
        oid = f"O{i:08d}"
        side = "buy" if i % 2 else "sell"
        ts += 1_000_000
        batch.append(NewOrder(order_id=oid, account="paper", symbol=SYM, side=side,
                              size=0.01, price=30000.0 + (i % 50) * 0.1, ts=ts))
        batch.append(Ack(order_id=oid, venue_id=f"P-{oid}", ts=ts))
        n += 2
        if i % 10 == 9:  # one in ten keeps resting
            batch.append(OrderStatus(order_id=oid, status="open", size=0.01,
                                     price=30000.0, ts=ts))
            n += 1
        else:
            batch.append(Fill(fill_id=f"{oid}.1", order_id=oid, account="paper", symbol=SYM,
                              side=side, price=30000.0 + (i % 7) * 0.1, size=0.01, fee=0.15,
                              ts=ts))
            batch.append(OrderStatus(order_id=oid, status="filled", size=0.01,
                                     price=30000.0, filled=0.01, ts=ts))
            n += 2
        i += 1
        if len(batch) >= 50_000:
            j.write(batch)
            batch = []
    j.write(batch)
    total = j.count()
    j.close()
    size_mb = path.stat().st_size / 1e6
    gc.collect()
    t0 = time.perf_counter()
    c0 = time.process_time()
    ems = Ems(Journal(path), books={})
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    working = len(ems.state.working)
    ems.journal.close()
    return {"recovery_events": total, "recovery_s": dt, "recovery_cpu_s": cpu,
            "recovery_s_per_million": dt / total * 1e6, "recovery_working_orders": working,
            "journal_mb": round(size_mb, 1)}


def main() -> None:
    out: dict[str, float] = {"n_orders": N_ORDERS}
    with tempfile.TemporaryDirectory(prefix="mdconsole-bench-ems-") as d:
        tmp = Path(d)
        out.update(latency_phase(tmp))
        print(json.dumps(out), flush=True)
        out.update(rate_phase(tmp))
        print(json.dumps(out), flush=True)
        out.update(recovery_phase(tmp))
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}))


if __name__ == "__main__":
    main()
