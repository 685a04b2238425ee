"""OhlcBuffer within one process: ring wrap, first/last, prepend, capacity, attach, errors."""

from __future__ import annotations

import os
from collections.abc import Iterator
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.data import buffers
from console.data.buffers import BufferStalled, OhlcBuffer, buffer_label, reclaim_stale
from console.data.provider import OHLC_DTYPE


def rows(values: range | list[int]) -> np.ndarray:
    """Bars whose every field equals the given value (times too), so content is traceable."""
    vals = np.asarray(list(values), dtype=np.int64)
    out = np.zeros(vals.shape[0], dtype=OHLC_DTYPE)
    for f in OHLC_DTYPE.names or ():
        out[f] = vals
    return out


@pytest.fixture
def make() -> Iterator[list[OhlcBuffer]]:
    made: list[OhlcBuffer] = []
    yield made
    for b in made:
        b.unlink()


def new(made: list[OhlcBuffer], capacity: int, label: str = "test.1s") -> OhlcBuffer:
    buf = OhlcBuffer.create(label, capacity)
    made.append(buf)
    return buf


def test_push_within_capacity_reads_back_oldest_first_with_stamped_index(make):
    buf = new(make, 8)
    buf.push(rows(range(100, 105)))
    got = buf.read()
    assert (buf.first, buf.last, len(buf)) == (0, 5, 5)
    assert got["time"].tolist() == [100, 101, 102, 103, 104]
    assert got["index"].tolist() == [0, 1, 2, 3, 4]


def test_ring_wraps_keeping_newest_capacity_rows(make):
    buf = new(make, 4)
    for start in range(0, 10, 3):
        buf.push(rows(range(start, min(start + 3, 10))))
    got = buf.read()
    assert (buf.first, buf.last) == (6, 10)
    assert got["time"].tolist() == [6, 7, 8, 9]
    assert got["index"].tolist() == [6, 7, 8, 9]


def test_push_larger_than_capacity_keeps_only_the_newest(make):
    buf = new(make, 3)
    buf.push(rows(range(10)))
    assert buf.read()["time"].tolist() == [7, 8, 9]
    assert (buf.first, buf.last) == (7, 10)


def test_read_n_returns_newest_n_and_clips(make):
    buf = new(make, 5)
    buf.push(rows(range(7)))
    assert buf.read(2)["time"].tolist() == [5, 6]
    assert buf.read(0).shape == (0,)
    assert buf.read(50)["time"].tolist() == [2, 3, 4, 5, 6]


def test_read_returns_a_copy_not_a_view(make):
    buf = new(make, 5)
    buf.push(rows(range(3)))
    got = buf.read()
    buf.push(rows(range(3, 6)))
    assert got["time"].tolist() == [0, 1, 2]


def test_prepend_fills_room_in_front_and_returns_how_many_went_in(make):
    buf = new(make, 6)
    buf.push(rows([10, 11]))
    taken = buf.prepend(rows(range(3, 10)))  # 7 offered, room for 4: the newest 4 go in
    got = buf.read()
    assert taken == 4
    assert got["time"].tolist() == [6, 7, 8, 9, 10, 11]
    assert got["index"].tolist() == [-4, -3, -2, -1, 0, 1]
    assert (buf.first, buf.last) == (-4, 2)
    assert buf.prepend(rows([1])) == 0
    assert buf.read()["time"].tolist() == [6, 7, 8, 9, 10, 11]


def test_prepend_into_empty_buffer_then_push_continues_after_it(make):
    buf = new(make, 5)
    assert buf.prepend(rows([1, 2])) == 2
    buf.push(rows([3]))
    assert buf.read()["time"].tolist() == [1, 2, 3]


def test_update_last_rewrites_only_the_newest_row(make):
    buf = new(make, 3)
    buf.push(rows([1, 2]))
    buf.update_last(rows([7])[0])
    buf.set_last((0, 8, 8.0, 8.0, 8.0, 8.0, 8.0, 8, 8.0))
    got = buf.read()
    assert got["time"].tolist() == [1, 8]
    assert got["index"].tolist() == [0, 1]


def test_update_last_on_empty_buffer_says_to_push_first(make):
    buf = new(make, 3)
    with pytest.raises(ValueError, match="push a row first"):
        buf.update_last(rows([1])[0])


@pytest.mark.parametrize("capacity", [0, -5, 2.5])
def test_bad_capacity_is_rejected_with_the_field_named(capacity):
    with pytest.raises(ValueError, match="capacity"):
        OhlcBuffer.create("bad.1s", capacity)  # type: ignore[arg-type]


def test_rows_missing_a_field_are_rejected_naming_it(make):
    buf = new(make, 3)
    short = np.zeros(2, dtype=[("time", "i8"), ("open", "f8")])
    with pytest.raises(ValueError, match="high"):
        buf.push(short)
    assert len(buf) == 0


def test_rows_with_extra_fields_are_accepted_dropping_the_extras(make):
    buf = new(make, 3)
    wide = np.zeros(2, dtype=[*OHLC_DTYPE.descr, ("trades_hash", "i8")])
    wide["close"] = [1.5, 2.5]
    buf.push(wide)
    assert buf.read()["close"].tolist() == [1.5, 2.5]


def test_symbol_with_slash_needs_a_label_and_buffer_label_makes_one(make):
    with pytest.raises(ValueError, match="buffer_label"):
        OhlcBuffer.create("BTC/USD.1s", 3)
    buf = new(make, 3, buffer_label("BTC/USD", "1s"))
    assert buf.name.endswith(".BTC-USD.1s")


def test_two_buffers_with_the_same_label_do_not_collide(make):
    a = new(make, 3, "same.1s")
    b = new(make, 3, "same.1s")
    a.push(rows([1]))
    assert a.name != b.name
    assert len(b) == 0


def test_readonly_attach_sees_owner_writes_and_cannot_write(make):
    buf = new(make, 4)
    reader = OhlcBuffer.attach(buf.name)
    try:
        buf.push(rows([5, 6]))
        assert reader.read()["time"].tolist() == [5, 6]
        assert reader.dtype == OHLC_DTYPE and reader.capacity == 4
        with pytest.raises(PermissionError, match="read-only"):
            reader.push(rows([7]))
        with pytest.raises(ValueError):  # the mapping itself is read-only
            reader._data["time"][0] = 1
    finally:
        reader.close()
    assert buf.read()["time"].tolist() == [5, 6]


def test_unlink_removes_the_segment_and_attach_then_explains(make):
    buf = OhlcBuffer.create("gone.1s", 2)
    name = buf.name
    buf.unlink()
    assert not (Path("/dev/shm") / name).exists()
    with pytest.raises(FileNotFoundError, match="owner may have exited"):
        OhlcBuffer.attach(name)


def test_only_the_owner_may_unlink(make):
    buf = new(make, 2)
    reader = OhlcBuffer.attach(buf.name)
    with pytest.raises(PermissionError, match="owner"):
        reader.unlink()
    reader.close()


def test_reader_gives_up_with_a_clear_error_when_writer_stops_mid_write(make, monkeypatch):
    monkeypatch.setattr(buffers, "_STALL_S", 0.05)
    buf = new(make, 2)
    buf.push(rows([1]))
    buf._hdr[buffers._H_SEQ] += 1  # as a writer killed between the two counter bumps leaves it
    reader = OhlcBuffer.attach(buf.name)
    with pytest.raises(BufferStalled, match="mid-write"):
        reader.read()
    reader.close()
    buf._hdr[buffers._H_SEQ] += 1


def test_segment_of_a_reused_pid_is_reclaimed(make):
    """A live pid whose start time differs from the header's is another process: stale."""
    live = new(make, 2)
    name = fake_segment(os.getpid(), buffers._proc_start(os.getpid()) + 12345, buffers._PIDNS)
    removed = reclaim_stale()
    assert not (Path("/dev/shm") / name).exists()
    assert live.name not in removed
    assert (Path("/dev/shm") / live.name).exists()


def test_file_backed_buffer_round_trips_and_attaches_by_path(tmp_path, make):
    path = tmp_path / "btc.1m.bars"
    buf = OhlcBuffer.create("ignored", 10_000, path=path)
    try:
        buf.push(rows(range(9_000)))  # large enough to drop its pages after writing
        buf.prepend(rows(range(-500, 0)))
        reader = OhlcBuffer.attach(str(path))
        got = reader.read()
        reader.close()
        assert got["time"].tolist() == list(range(-500, 9_000))
        with pytest.raises(FileExistsError, match="in use"):
            OhlcBuffer.create("ignored", 10, path=path)
    finally:
        buf.unlink()
    assert not path.exists()


class Model:
    """A plain-list reference of what the ring should hold."""

    def __init__(self, cap: int) -> None:
        self.cap, self.items, self.first = cap, [], 0

    def push(self, vals: list[int]) -> None:
        self.items += vals
        drop = max(0, len(self.items) - self.cap)
        self.items, self.first = self.items[drop:], self.first + drop

    def prepend(self, vals: list[int]) -> int:
        k = min(len(vals), self.cap - len(self.items))
        if k > 0:
            self.items, self.first = vals[len(vals) - k :] + self.items, self.first - k
        return max(k, 0)


@settings(max_examples=60, deadline=None)
@given(
    cap=st.integers(1, 9),
    ops=st.lists(st.tuples(st.sampled_from(["push", "prepend"]), st.integers(0, 12)), max_size=12),
)
def test_ring_matches_a_list_model_under_any_push_prepend_sequence(cap, ops):
    buf = OhlcBuffer.create("model.1s", cap)
    try:
        model, counter = Model(cap), 0
        for op, n in ops:
            vals = list(range(counter, counter + n))
            counter += n
            if op == "push":
                buf.push(rows(vals))
                model.push(vals)
            else:
                assert buf.prepend(rows(vals)) == model.prepend(vals)
            got = buf.read()
            assert got["time"].tolist() == model.items
            assert (buf.first, buf.last) == (model.first, model.first + len(model.items))
            assert got["index"].tolist() == list(range(buf.first, buf.last))
    finally:
        buf.unlink()


def fake_segment(pid: int, start: int, pidns: int) -> str:
    """A header-only segment as another process would have left it."""
    name = f"{buffers.PREFIX}{pid}.1.fake"
    shm = SharedMemory(name=name, create=True, size=buffers.HEADER_BYTES)
    resource_tracker.unregister(shm._name, "shared_memory")  # the test removes it, not the tracker
    hdr = np.frombuffer(shm.buf, dtype="<i8", count=buffers._N_SLOTS)
    hdr[buffers._H_MAGIC], hdr[buffers._H_LAYOUT] = buffers._MAGIC, 1
    hdr[buffers._H_PID], hdr[buffers._H_START], hdr[buffers._H_PIDNS] = pid, start, pidns
    del hdr
    shm.close()
    return name


DEAD_PID = 999_999_999  # above any pid_max: no such process


def test_segment_of_a_dead_pid_in_our_namespace_is_reclaimed():
    name = fake_segment(DEAD_PID, 1, buffers._PIDNS)
    reclaim_stale()  # (another process's create may have got there first: same outcome)
    assert not (Path("/dev/shm") / name).exists()


def test_segment_from_another_pid_namespace_is_left_alone():
    name = fake_segment(DEAD_PID, 1, buffers._PIDNS + 1)
    try:
        assert name not in reclaim_stale()
        assert (Path("/dev/shm") / name).exists()
    finally:
        (Path("/dev/shm") / name).unlink()


def test_reading_a_closed_buffer_says_it_is_closed(make):
    buf = new(make, 2)
    reader = OhlcBuffer.attach(buf.name)
    reader.close()
    with pytest.raises(ValueError, match="closed"):
        reader.read()
