"""Bounded OHLC bar rings in shared memory (or a mapped file) that other processes can read.

Layout of a segment: a 1 KiB header (int64 slots, then the row dtype's description) followed by
`capacity` rows. Rows live at slot `index % capacity`; `first`/`last` are absolute row indices
(`last` exclusive) so a reader can tell what it already has. `index` in each row is stamped
with that absolute position.

Consistency: one writer per buffer. Every write bumps a sequence counter to odd before touching
rows and to even after (a seqlock); readers copy, re-check the counter, and retry if it moved,
so they never return a half-written row and never block the writer. This relies on x86-64
store/load ordering and 8-byte aligned header slots; numpy copies are plain memcpys between two
separate counter reads. (Weakly ordered CPUs such as arm64 would need fences numpy does not
offer; there a torn read is unlikely but not excluded.)

Another process attaches by name, read-only by default (a file buffer by its path, which must
contain a path separator; `live_segments(label)` lists the names of live owners):

    buf = OhlcBuffer.attach("mdc.1234.1.BTC-USD.1s")   # name from the owner's `buf.name`
    bars = buf.read(600)                               # consistent copy, oldest first

Lifetime: the owner unlinks on `unlink()` or at interpreter exit; if only the owner is
SIGKILLed, its resource_tracker process still unlinks its segments. Segment names carry the
owner pid (`mdc.<pid>.<n>.<label>`) and the header carries the pid's start time, so `create`
first removes segments whose owner is dead (or whose pid was reused by another process): even a
killed process group leaks nothing past the next start. Readers attach without Python's
resource_tracker so their exit never unlinks the owner's segment.

Memory: a year of 1 m bars is 525,600 rows x 72 B = 38 MB per symbol, 380 MB for ten. Prices
must stay exact, so the row layout is not shrunk; instead a buffer can live in a file
(`create(..., path=...)`). Its pages sit in the OS page cache, not in the process: after bulk
writes and reads the buffer drops its mapping of those pages (MADV_DONTNEED, safe on a shared
file mapping: dirty pages stay in the cache and reach the file). So keep the hot 1 s rings in
shared memory and the long 1 m history in files; `bench/memory.py` measures it.
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import mmap
import os
import re
import sys
import threading
import time
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Any

import numpy as np

from console.data.provider import OHLC_DTYPE

PREFIX = "mdc."
"""Every segment we create starts with this, then `<pid>.<n>.<label>`."""

SHM_DIR = Path("/dev/shm")
HEADER_BYTES = 1024
_MAGIC = 0x4C48_4F6E_6F63_646D  # b"mdconOHL" little-endian
_LAYOUT = 1
_N_SLOTS = 16
_DESCR_AT = _N_SLOTS * 8
# header slots
(
    _H_MAGIC,
    _H_LAYOUT,
    _H_PID,
    _H_START,
    _H_CAP,
    _H_ITEM,
    _H_SEQ,
    _H_FIRST,
    _H_LAST,
    _H_DLEN,
    _H_PIDNS,
) = range(11)

_LABEL_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,120}$")
_STALL_S = 2.0
_DROP_ROWS = 4096  # bulk writes/reads at least this large release their pages (file buffers)


class BufferStalled(BufferError):
    """A reader waited too long for a consistent view: the writer died mid-write."""


def buffer_label(symbol: str, timeframe: str) -> str:
    """A segment label for a symbol's bars, e.g. ('BTC/USD', '1s') -> 'BTC-USD.1s'."""
    return f"{symbol.replace('/', '-').replace(' ', '_')}.{timeframe}"


def _proc_start(pid: int) -> int:
    """The pid's start time in clock ticks since boot (0 where /proc is unavailable)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return 0
    # the command name may hold spaces and parentheses; fields resume after the last ')'
    fields = stat[stat.rindex(b")") + 2 :].split()
    return int(fields[19])


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner_alive(pid: int, start: int) -> bool:
    """True while the process that wrote (pid, start) is still running."""
    if not _pid_alive(pid):
        return False
    return start == 0 or _proc_start(pid) in (0, start)


def _pid_namespace() -> int:
    """Our pid namespace's inode: pids from another namespace say nothing about liveness here."""
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0


_PIDNS = _pid_namespace()


def _read_owner(path: Path) -> tuple[int, int, int] | None:
    """(pid, start, pid namespace) from a segment's or file's header, or None if not ours."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(8 * _N_SLOTS)
    except OSError:
        return None
    if len(raw) < 8 * _N_SLOTS:
        return None
    slots = np.frombuffer(raw, dtype="<i8").tolist()
    if slots[_H_MAGIC] != _MAGIC:
        return None
    return int(slots[_H_PID]), int(slots[_H_START]), int(slots[_H_PIDNS])


def _judged_stale(pid: int, owner: tuple[int, int, int] | None) -> bool:
    """Whether a segment named for `pid` (with this header, if readable) has a dead owner."""
    if owner is None or owner[0] != pid:
        return not _pid_alive(pid)  # a crash before the header was complete, or foreign data
    _, start, ns = owner
    if ns and _PIDNS and ns != _PIDNS:
        return False  # owned from another container sharing /dev/shm: not ours to judge
    return not _owner_alive(pid, start)


def reclaim_stale() -> list[str]:
    """Unlinks our shared-memory segments whose owner process is gone; returns their names.

    Safe against pid reuse (the header keeps the owner's start time) and against other pid
    namespaces sharing /dev/shm (their segments are left alone).
    """
    if not SHM_DIR.is_dir():
        return []
    removed: list[str] = []
    for entry in SHM_DIR.iterdir():
        name = entry.name
        if not name.startswith(PREFIX):
            continue
        parts = name[len(PREFIX) :].split(".", 2)
        if len(parts) < 3 or not parts[0].isdigit():
            continue
        if not _judged_stale(int(parts[0]), _read_owner(entry)):
            continue
        with contextlib.suppress(FileNotFoundError):
            entry.unlink()
            removed.append(name)
    return removed


def live_segments(label: str | None = None) -> list[str]:
    """Names of segments with a live owner, optionally only those with this label."""
    if not SHM_DIR.is_dir():
        return []
    found = []
    for entry in sorted(SHM_DIR.iterdir()):
        parts = entry.name[len(PREFIX) :].split(".", 2)
        if not entry.name.startswith(PREFIX) or len(parts) < 3 or not parts[0].isdigit():
            continue
        owner = _read_owner(entry)
        if owner is None or not _owner_alive(owner[0], owner[1]):
            continue
        if label is None or parts[2] == label:
            found.append(entry.name)
    return found


_counter_lock = threading.Lock()
_counter = 0
_OWNED: dict[str, OhlcBuffer] = {}


def _next_serial() -> int:
    global _counter
    with _counter_lock:
        _counter += 1
        return _counter


@atexit.register
def _unlink_owned() -> None:
    for buf in list(_OWNED.values()):
        if buf.owner_pid != os.getpid():
            continue  # a forked child exiting must not take its parent's buffers with it
        with contextlib.suppress(Exception):
            buf.unlink()


def _coerce_rows(rows: np.ndarray | np.void, dtype: np.dtype[Any], what: str) -> np.ndarray:
    """Rows as a 1-d array of `dtype`; extra fields are dropped, missing ones are an error."""
    arr = np.atleast_1d(np.asarray(rows))
    if arr.ndim != 1:
        raise ValueError(f"{what}: expected a 1-d array of bars, got shape {arr.shape}")
    if arr.dtype == dtype:
        return arr
    names = arr.dtype.names or ()
    missing = [f for f in dtype.names or () if f not in names]
    if missing:
        raise ValueError(
            f"{what}: rows of dtype {arr.dtype} lack field(s) {', '.join(missing)} "
            f"that this buffer holds ({dtype}); build them with that dtype"
        )
    out = np.empty(arr.shape[0], dtype=dtype)
    for f in dtype.names or ():
        out[f] = arr[f]
    return out


class OhlcBuffer:
    """A fixed-capacity ring of bar rows shared between processes; see the module docstring."""

    def __init__(
        self,
        name: str,
        buf: memoryview | mmap.mmap,
        *,
        owner: bool,
        readonly: bool,
        shm: SharedMemory | None = None,
        mm: mmap.mmap | None = None,
        path: Path | None = None,
    ) -> None:
        self.name = name
        self._shm = shm
        self._mm = mm
        self._path = path
        self._owner = owner
        self.readonly = readonly
        hdr = np.frombuffer(buf, dtype="<i8", count=_N_SLOTS)
        if int(hdr[_H_MAGIC]) != _MAGIC or int(hdr[_H_LAYOUT]) != _LAYOUT:
            raise ValueError(f"{name!r} is not an mdconsole bar buffer (bad header)")
        dlen = int(hdr[_H_DLEN])
        descr = bytes(buf[_DESCR_AT : _DESCR_AT + dlen]).decode("ascii")
        self.dtype: np.dtype[Any] = np.dtype(ast.literal_eval(descr))
        self.capacity = int(hdr[_H_CAP])
        self.owner_pid = int(hdr[_H_PID])
        self._hdr = hdr
        self._data = np.frombuffer(buf, dtype=self.dtype, count=self.capacity, offset=HEADER_BYTES)
        self._has_index = "index" in (self.dtype.names or ())
        self._index_first = self._has_index and (self.dtype.names or ("",))[0] == "index"
        self._seq = int(hdr[_H_SEQ])
        self._closed = False

    # construction

    @classmethod
    def create(
        cls,
        name: str,
        capacity: int,
        dtype: np.dtype[Any] = OHLC_DTYPE,
        *,
        path: str | os.PathLike[str] | None = None,
    ) -> OhlcBuffer:
        """A new empty buffer owned by this process.

        `name` is a label (letters, digits, `.`, `_`, `-`; see `buffer_label`); the segment's
        full name, which `attach` takes, is `buf.name`. With `path`, the ring lives in that file
        instead of shared memory (for long histories; attach with the path).
        """
        if not isinstance(capacity, int | np.integer) or capacity < 1:
            raise ValueError(f"capacity must be a positive number of rows, got {capacity!r}")
        capacity = int(capacity)
        dtype = np.dtype(dtype)
        if dtype.names is None:
            raise ValueError(f"dtype must be a structured bar dtype like OHLC_DTYPE, got {dtype}")
        descr = repr(dtype.descr).encode("ascii")
        if len(descr) > HEADER_BYTES - _DESCR_AT:
            raise ValueError(f"dtype {dtype} has too many fields for the buffer header")
        size = HEADER_BYTES + capacity * dtype.itemsize
        if path is not None:
            return cls._create_file(Path(path), size, capacity, dtype, descr)
        if not _LABEL_RE.match(name):
            raise ValueError(
                f"buffer name {name!r} must be 1-120 letters, digits, '.', '_' or '-' "
                "(use buffer_label(symbol, timeframe) for symbols like BTC/USD)"
            )
        reclaim_stale()
        full = f"{PREFIX}{os.getpid()}.{_next_serial()}.{name}"
        # the owner keeps resource_tracker registration: if we die by SIGKILL alone, the
        # tracker still unlinks the segment; reclaim_stale covers a killed tracker too
        shm = SharedMemory(name=full, create=True, size=size)
        assert shm.buf is not None
        cls._init_header(shm.buf, capacity, dtype, descr)
        buf = cls(shm.name, shm.buf, owner=True, readonly=False, shm=shm)
        _OWNED[buf.name] = buf
        return buf

    @classmethod
    def _create_file(
        cls, path: Path, size: int, capacity: int, dtype: np.dtype[Any], descr: bytes
    ) -> OhlcBuffer:
        if path.exists():
            owner = _read_owner(path)
            if owner is None:
                raise FileExistsError(
                    f"{path} exists and is not a bar buffer; choose another path or remove it"
                )
            if not _judged_stale(owner[0], owner):
                raise FileExistsError(
                    f"{path} is in use by live process {owner[0]}; choose another path"
                )
            path.unlink()  # stale file from a dead owner
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.ftruncate(fd, size)
            mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        cls._init_header(mm, capacity, dtype, descr)
        buf = cls(str(path), mm, owner=True, readonly=False, mm=mm, path=path)
        _OWNED[buf.name] = buf
        return buf

    @staticmethod
    def _init_header(
        buf: memoryview | mmap.mmap, capacity: int, dtype: np.dtype[Any], descr: bytes
    ) -> None:
        buf[_DESCR_AT : _DESCR_AT + len(descr)] = descr
        hdr = np.frombuffer(buf, dtype="<i8", count=_N_SLOTS)
        hdr[_H_LAYOUT] = _LAYOUT
        hdr[_H_PID] = os.getpid()
        hdr[_H_START] = _proc_start(os.getpid())
        hdr[_H_CAP] = capacity
        hdr[_H_ITEM] = dtype.itemsize
        hdr[_H_DLEN] = len(descr)
        hdr[_H_PIDNS] = _PIDNS
        hdr[_H_MAGIC] = _MAGIC  # last: a reader seeing the magic sees a complete header
        del hdr

    @classmethod
    def attach(cls, name: str, *, readonly: bool = True) -> OhlcBuffer:
        """Maps an existing buffer by its full name (or file path) without taking ownership.

        Read-only attaches map the pages read-only, so no write can reach the owner's data.
        Exiting never unlinks the segment. With `readonly=False` the caller becomes the one
        writer; the owner must then not write.
        """
        is_file = os.sep in name
        if is_file:
            target = Path(name)
        else:
            if not SHM_DIR.is_dir():
                return cls._attach_portable(name, readonly)
            target = SHM_DIR / name
        try:
            fd = os.open(target, os.O_RDONLY if readonly else os.O_RDWR)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"no bar buffer named {name!r}; the owner may have exited "
                f"(live ones: {', '.join(live_segments()) or 'none'})"
            ) from None
        try:
            size = os.fstat(fd).st_size
            if size < HEADER_BYTES:
                raise ValueError(f"{name!r} is not an mdconsole bar buffer (too small)")
            prot = mmap.PROT_READ if readonly else mmap.PROT_READ | mmap.PROT_WRITE
            mm = mmap.mmap(fd, size, mmap.MAP_SHARED, prot)
        finally:
            os.close(fd)
        return cls(
            name, mm, owner=False, readonly=readonly, mm=mm, path=target if is_file else None
        )

    @classmethod
    def _attach_portable(cls, name: str, readonly: bool) -> OhlcBuffer:
        shm = SharedMemory(name=name)
        if sys.version_info < (3, 13):
            # 3.11/3.12 register attaches too, and would unlink the owner's segment at our exit
            resource_tracker.unregister(shm._name, "shared_memory")  # type: ignore[attr-defined]
        assert shm.buf is not None
        return cls(shm.name, shm.buf, owner=False, readonly=readonly, shm=shm)

    # reads

    @property
    def first(self) -> int:
        """Absolute index of the oldest row held."""
        return self.span()[0]

    @property
    def last(self) -> int:
        """Absolute index one past the newest row."""
        return self.span()[1]

    def __len__(self) -> int:
        first, last = self.span()
        return last - first

    def span(self) -> tuple[int, int]:
        """A consistent (first, last) pair."""
        hdr = self._hdr
        deadline, seen = 0.0, -1
        while True:
            s1 = int(hdr[_H_SEQ])
            first, last = int(hdr[_H_FIRST]), int(hdr[_H_LAST])
            if not s1 & 1 and int(hdr[_H_SEQ]) == s1:
                return first, last
            deadline, seen = self._wait(deadline, seen, s1)

    def read(self, n: int | None = None) -> np.ndarray:
        """A consistent copy of the newest `n` rows (all if None), oldest first."""
        if self._closed:
            raise ValueError(f"bar buffer {self.name!r} is closed; attach again to read it")
        hdr, data, cap = self._hdr, self._data, self.capacity
        deadline, seen = 0.0, -1
        while True:
            s1 = int(hdr[_H_SEQ])
            if s1 & 1:
                deadline, seen = self._wait(deadline, seen, s1)
                continue
            first, last = int(hdr[_H_FIRST]), int(hdr[_H_LAST])
            count = last - first if n is None else max(0, min(n, last - first))
            start = (last - count) % cap
            end = start + count
            if end <= cap:
                out = data[start:end].copy()
            else:
                out = np.concatenate((data[start:], data[: end - cap]))
            if int(hdr[_H_SEQ]) == s1:
                if count >= _DROP_ROWS:
                    self._drop_pages(start, count)
                return out
            deadline, seen = self._wait(deadline, seen, s1)

    def _wait(self, deadline: float, seen: int, seq: int) -> tuple[float, int]:
        """Backs off before a retry; gives up only if the writer made no progress for long."""
        now = time.monotonic()
        if seq != seen:
            return now + _STALL_S, seq
        if now > deadline:
            alive = "alive" if _pid_alive(self.owner_pid) else "dead"
            raise BufferStalled(
                f"bar buffer {self.name!r} stayed mid-write for {_STALL_S:.0f}s "
                f"(writer pid {self.owner_pid}, {alive}); reattach after it restarts"
            )
        os.sched_yield()
        return deadline, seen

    # writes (one writer)

    def _check_writable(self) -> None:
        if self.readonly:
            raise PermissionError(f"bar buffer {self.name!r} is attached read-only")
        if self._closed:
            raise ValueError(f"bar buffer {self.name!r} is closed")

    def _write(self, at: int, rows: np.ndarray) -> None:
        """Copies rows to absolute positions at..at+len(rows)-1 (len <= capacity)."""
        cap, count = self.capacity, rows.shape[0]
        start = at % cap
        end = start + count
        if end <= cap:
            self._data[start:end] = rows
            if self._has_index:
                self._data["index"][start:end] = np.arange(at, at + count)
        else:
            head = cap - start
            self._data[start:] = rows[:head]
            self._data[: end - cap] = rows[head:]
            if self._has_index:
                self._data["index"][start:] = np.arange(at, at + head)
                self._data["index"][: end - cap] = np.arange(at + head, at + count)
        if count >= _DROP_ROWS:
            self._drop_pages(start, count)

    def push(self, rows: np.ndarray) -> None:
        """Appends rows; when full, the oldest are overwritten."""
        self._check_writable()
        rows = _coerce_rows(rows, self.dtype, f"push to {self.name}")
        n = rows.shape[0]
        if n == 0:
            return
        hdr, cap = self._hdr, self.capacity
        first, last = int(hdr[_H_FIRST]), int(hdr[_H_LAST])
        new_last = last + n
        keep = min(n, cap)
        self._seq += 1
        hdr[_H_SEQ] = self._seq
        self._write(new_last - keep, rows[n - keep :])
        hdr[_H_LAST] = new_last
        hdr[_H_FIRST] = max(first, new_last - cap)
        self._seq += 1
        hdr[_H_SEQ] = self._seq

    def update_last(self, row: np.void | np.ndarray) -> None:
        """Rewrites the newest row in place (the bar still forming)."""
        self._check_writable()
        hdr = self._hdr
        last = int(hdr[_H_LAST])
        if last == int(hdr[_H_FIRST]):
            raise ValueError(f"update_last on empty bar buffer {self.name!r}; push a row first")
        rows = _coerce_rows(row, self.dtype, f"update_last of {self.name}")
        if rows.shape[0] != 1:
            raise ValueError(f"update_last takes one row, got {rows.shape[0]}")
        self._seq += 1
        hdr[_H_SEQ] = self._seq
        self._write(last - 1, rows)
        self._seq += 1
        hdr[_H_SEQ] = self._seq

    def set_last(self, values: tuple[Any, ...]) -> None:
        """`update_last` from a plain tuple in dtype field order (the sampler's fast path)."""
        hdr = self._hdr
        last = int(hdr[_H_LAST])
        if self.readonly or last == int(hdr[_H_FIRST]):
            self.update_last(np.array([values], dtype=self.dtype))
            return
        if self._index_first:
            values = (last - 1, *values[1:])
        self._seq += 1
        hdr[_H_SEQ] = self._seq
        self._data[(last - 1) % self.capacity] = values
        if self._has_index and not self._index_first:
            self._data["index"][(last - 1) % self.capacity] = last - 1
        self._seq += 1
        hdr[_H_SEQ] = self._seq

    def prepend(self, rows: np.ndarray) -> int:
        """Puts older history in front of the oldest row, as far as free room allows.

        Keeps the newest of `rows` (those adjacent to what the buffer holds) and returns how
        many went in; never overwrites held rows.
        """
        self._check_writable()
        rows = _coerce_rows(rows, self.dtype, f"prepend to {self.name}")
        hdr = self._hdr
        first, last = int(hdr[_H_FIRST]), int(hdr[_H_LAST])
        k = min(int(rows.shape[0]), self.capacity - (last - first))
        if k <= 0:
            return 0
        self._seq += 1
        hdr[_H_SEQ] = self._seq
        self._write(first - k, rows[rows.shape[0] - k :])
        hdr[_H_FIRST] = first - k
        self._seq += 1
        hdr[_H_SEQ] = self._seq
        return k

    def drop_newest(self, count: int) -> int:
        """Removes the newest `count` rows (a replay seeking back); returns how many went."""
        self._check_writable()
        hdr = self._hdr
        first, last = int(hdr[_H_FIRST]), int(hdr[_H_LAST])
        k = max(0, min(int(count), last - first))
        if k == 0:
            return 0
        self._seq += 1
        hdr[_H_SEQ] = self._seq
        hdr[_H_LAST] = last - k
        self._seq += 1
        hdr[_H_SEQ] = self._seq
        return k

    def _drop_pages(self, start_slot: int, count: int) -> None:
        """Lets the kernel drop this mapping's pages of a file buffer (they stay in the file)."""
        mm = self._mm
        if self._path is None or mm is None or not hasattr(mm, "madvise"):
            return
        page = mmap.PAGESIZE
        item = self.dtype.itemsize
        spans = [(start_slot, min(count, self.capacity - start_slot))]
        if start_slot + count > self.capacity:
            spans.append((0, start_slot + count - self.capacity))
        for slot, rows in spans:
            lo = HEADER_BYTES + slot * item
            hi = lo + rows * item
            lo = -(-lo // page) * page  # whole pages only: neighbours may be in use
            hi = hi // page * page
            if hi > lo:
                mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)

    # lifetime

    def close(self) -> None:
        """Unmaps this process's view (the segment stays for other processes)."""
        if self._closed:
            return
        self._closed = True
        self._data = np.empty(0, dtype=self.dtype)
        self._hdr = np.zeros(_N_SLOTS, dtype="<i8")
        if self._shm is not None:
            self._shm.close()
        if self._mm is not None:
            self._mm.close()

    def unlink(self) -> None:
        """Closes and removes the segment (owner only; others' existing maps stay valid)."""
        if not self._owner:
            raise PermissionError(f"only the owner may unlink bar buffer {self.name!r}")
        self.close()
        if _OWNED.pop(self.name, None) is None:
            return  # already unlinked
        if self._shm is not None:
            with contextlib.suppress(FileNotFoundError):
                self._shm.unlink()
        elif self._path is not None:
            with contextlib.suppress(FileNotFoundError):
                self._path.unlink()

    def __enter__(self) -> OhlcBuffer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._owner:
            self.unlink()
        else:
            self.close()

    def __repr__(self) -> str:
        if self._closed:
            return f"OhlcBuffer({self.name!r}, closed)"
        first, last = self.span()
        return f"OhlcBuffer({self.name!r}, capacity={self.capacity}, first={first}, last={last})"
