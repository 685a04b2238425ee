"""OhlcBuffer across real processes: read-only attach, torn-row freedom, crash reclaim."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from console.data.buffers import OhlcBuffer, reclaim_stale
from console.data.provider import OHLC_DTYPE

REPO = Path(__file__).resolve().parents[1]
VALUE_FIELDS = [f for f in OHLC_DTYPE.names or () if f != "index"]


def python(code: str, *args: str, **kw) -> subprocess.Popen[str]:
    """Starts a fresh interpreter running `code` (not a fork: nothing is inherited)."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def test_second_process_reads_by_name_readonly_and_its_exit_keeps_the_segment():
    buf = OhlcBuffer.create("proc.1s", 16)
    try:
        bars = np.zeros(5, dtype=OHLC_DTYPE)
        bars["time"] = np.arange(1_700_000_000, 1_700_000_005)
        bars["close"] = [1.5, 2.5, 3.5, 4.5, 5.5]
        buf.push(bars)
        child = python(
            """
            import json, sys
            from console.data.buffers import OhlcBuffer
            b = OhlcBuffer.attach(sys.argv[1])
            got = b.read()
            try:
                b.push(got)
                wrote = True
            except PermissionError:
                wrote = False
            print(json.dumps({"time": got["time"].tolist(), "close": got["close"].tolist(),
                              "first": b.first, "last": b.last, "wrote": wrote}))
            b.close()
            """,
            buf.name,
        )
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        assert "leaked" not in err and "Traceback" not in err
        seen = json.loads(out.strip().splitlines()[-1])
        assert seen == {
            "time": bars["time"].tolist(),
            "close": [1.5, 2.5, 3.5, 4.5, 5.5],
            "first": 0,
            "last": 5,
            "wrote": False,
        }
        # the child's exit must not have unlinked our segment
        assert (Path("/dev/shm") / buf.name).exists()
        again = OhlcBuffer.attach(buf.name)
        assert again.read()["close"].tolist() == [1.5, 2.5, 3.5, 4.5, 5.5]
        again.close()
    finally:
        buf.unlink()


WRITER = """
import sys
import numpy as np
from console.data.buffers import OhlcBuffer
from console.data.provider import OHLC_DTYPE
b = OhlcBuffer.attach(sys.argv[1], readonly=False)
names = [f for f in OHLC_DTYPE.names if f != "index"]
k = 1
print("ready", flush=True)
for _ in range(int(sys.argv[2])):
    chunk = np.zeros(3, dtype=OHLC_DTYPE)
    for f in names:
        chunk[f] = np.arange(k, k + 3)
    b.push(chunk)
    k += 3
    one = np.zeros(1, dtype=OHLC_DTYPE)
    for f in names:
        one[f] = -k  # rewrites the newest row with different values
    b.update_last(one[0])
    b.set_last((0, k, k, k, k, k, k, k, k))
b.close()
"""


@pytest.mark.slow
def test_reader_never_sees_a_torn_row_while_another_process_writes():
    buf = OhlcBuffer.create("torn.1s", 7)  # small: the writer keeps overwriting what we copy
    try:
        writer = python(WRITER, buf.name, "15000")
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        reads = overlapping = 0
        while writer.poll() is None:
            got = buf.read()
            reads += 1
            if got.shape[0] == 0:
                continue
            overlapping += 1
            values = np.stack([got[f].astype(np.float64) for f in VALUE_FIELDS])
            torn = ~(values == values[0]).all(axis=0)
            assert not torn.any(), f"torn rows: {got[torn]}"
            assert np.diff(got["index"]).tolist() == [1] * (got.shape[0] - 1)
        _, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
        assert overlapping > 50, "the reader hardly ran while the writer was writing"
        assert buf.last == 3 * 15000
    finally:
        buf.unlink()


OWNER = """
import sys, time
from multiprocessing import resource_tracker
from console.data.buffers import OhlcBuffer
b = OhlcBuffer.create("crash.1s", 32)
print(b.name, resource_tracker._resource_tracker._pid, flush=True)
time.sleep(600)
"""


@pytest.mark.slow
def test_segments_of_a_sigkilled_owner_are_reclaimed_by_the_next_create():
    owner = python(OWNER)
    try:
        assert owner.stdout is not None
        name, tracker = owner.stdout.readline().split()
    finally:
        # SIGKILL the tracker too (as a killed process group would): nothing cleans up for us
        if "tracker" in locals():
            os.kill(int(tracker), signal.SIGKILL)
        owner.kill()
        owner.wait(timeout=30)
    segment = Path("/dev/shm") / name
    assert segment.exists(), "the killed owner's segment should still be there"
    mine = OhlcBuffer.create("restart.1s", 4)
    try:
        assert not segment.exists()
        assert mine.name not in reclaim_stale()
        assert (Path("/dev/shm") / mine.name).exists()
    finally:
        mine.unlink()


def test_owner_exiting_normally_without_unlink_leaves_no_segment_and_no_warning():
    child = python(
        """
        from console.data.buffers import OhlcBuffer
        print(OhlcBuffer.create("exit.1s", 8).name, flush=True)
        """
    )
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert not (Path("/dev/shm") / out.strip()).exists()
    assert "leaked" not in err


FILE_OWNER = """
import sys, time
from console.data.buffers import OhlcBuffer
b = OhlcBuffer.create("", 64, path=sys.argv[1])
print("ready", flush=True)
time.sleep(600)
"""


@pytest.mark.slow
def test_file_buffer_of_a_sigkilled_owner_is_taken_over_by_the_next_create(tmp_path):
    path = tmp_path / "sym.1m.bars"
    owner = python(FILE_OWNER, str(path))
    try:
        assert owner.stdout is not None
        assert owner.stdout.readline().strip() == "ready"
        with pytest.raises(FileExistsError, match="in use by live process"):
            OhlcBuffer.create("", 64, path=path)
    finally:
        owner.kill()
        owner.wait(timeout=30)
    assert path.exists()
    buf = OhlcBuffer.create("", 64, path=path)
    try:
        assert len(buf) == 0 and buf.owner_pid == os.getpid()
    finally:
        buf.unlink()
