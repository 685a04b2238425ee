"""Crash safety with real processes: SIGKILL at random points loses at most the unflushed batch,
earlier data stays readable, and the next run appends after whatever was left."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.model.events import Trade
from console.record.reader import open_recording

REPO = Path(__file__).resolve().parents[1]
FLUSH = 50

# Records trades numbered from argv[2] on, and reports every flushed batch on stdout.
CHILD = """
import sys
from console.model.events import Trade
from console.record.recorder import Recorder

out, start, n, flush = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rec = Recorder("sim", out, flush_events=flush)
print("ready", flush=True)
for i in range(start, start + n):
    rec.on_event(Trade(symbol="BTC/USD", ts=1_763_700_000_000_000_000 + i * 1_000_003,
                       price=30_000 + (i * 37 % 1000) / 10, size=(i % 97 + 1) / 1000,
                       side="buy" if i % 2 else "sell", trade_id=f"t{i}-" + "x" * (i % 40)))
    if (i - start + 1) % flush == 0:
        print(i - start + 1, flush=True)
rec.close()
print("done", flush=True)
"""


def spawn(out: Path, start: int, n: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(out), str(start), str(n), str(FLUSH)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )


def recorded_ids(path: Path) -> tuple[list[int], int]:
    """Trade numbers in the file, and how many damaged regions the reader skipped."""
    if not path.exists():
        return [], 0
    with open_recording(path) as rec:
        ids = []
        for ev in rec.iter_events():
            assert isinstance(ev, Trade)
            ids.append(int(ev.trade_id[1:].split("-")[0]))
        return ids, len(rec.damaged)


@pytest.mark.slow
def test_sigkill_at_random_points_never_loses_flushed_data_and_runs_append(tmp_path: Path) -> None:
    rng = random.Random(20261121)
    path = tmp_path / "sim_BTC_USD.mdrec"
    total = 0
    for _round in range(5):
        child = spawn(tmp_path, total, 100_000)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        acknowledged = 0
        for _ in range(rng.randint(0, 30)):
            acknowledged = int(child.stdout.readline())
        # vary the instant inside the write loop, not to wait for anything
        time.sleep(rng.uniform(0, 0.003))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        ids, _damaged = recorded_ids(path)
        # everything acknowledged is there, in order, and only whole batches are
        assert ids == list(range(len(ids)))
        assert len(ids) >= total + acknowledged
        assert (len(ids) - total) % FLUSH == 0
        total = len(ids)
    final = spawn(tmp_path, total, 120)
    out, _ = final.communicate(timeout=60)
    assert final.returncode == 0 and out.strip().endswith("done")
    ids, _damaged = recorded_ids(path)
    assert ids == list(range(total + 120))


def test_a_torn_write_left_by_a_killed_run_is_skipped_and_the_next_run_appends(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sim_BTC_USD.mdrec"
    first = spawn(tmp_path, 0, 3 * FLUSH)
    first.communicate(timeout=60)
    intact = path.stat().st_size
    # what a kill in the middle of a frame write leaves: the first half of a frame
    with open_recording(path) as rec:
        last = rec.frames[-1]
    frame = path.read_bytes()[last.offset : last.end]
    with open(path, "ab") as f:
        f.write(frame[: len(frame) // 2])
    ids, damaged = recorded_ids(path)
    assert ids == list(range(3 * FLUSH)) and damaged == 1

    second = spawn(tmp_path, 3 * FLUSH, FLUSH)
    second.communicate(timeout=60)
    with open_recording(path) as rec:
        assert [d.offset for d in rec.damaged] == [intact]
        assert rec.torn_tail is None
    ids, _ = recorded_ids(path)
    assert ids == list(range(4 * FLUSH))
