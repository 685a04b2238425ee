"""Reading recordings: frame index, torn-tail detection, events in order, bulk columns, seek.

`open_recording(path)` maps the file, checks every frame's CRC once and keeps a small index of
frame heads (offset, time span, event count, whether it holds a snapshot). Damaged regions —
a torn tail left by a killed recorder, or one that a later run appended after — are skipped
and reported in `damaged` / `torn_tail`; every intact frame stays readable. A raw capture
(`is_raw`) reads the same way and yields its wire frames from `iter_raw`.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from console.model.events import BookSnapshot, MarketEvent

from .format import (
    FRAME_MAGIC,
    KIND_OTHER,
    RAW_SUFFIX,
    SUFFIX,
    Buf,
    Columns,
    FormatError,
    FrameHead,
    Header,
    RawFrame,
    decode_frame,
    decode_header,
    decode_raw_frame,
    events_from_columns,
    frame_crc_ok,
    parse_frame_head,
)


@dataclass(frozen=True, slots=True)
class Damage:
    """Bytes no intact frame covers: `offset`, `length`; `at_end` for a torn tail."""

    offset: int
    length: int
    at_end: bool

    def describe(self) -> str:
        where = "torn tail" if self.at_end else "damaged region"
        return f"{where} at byte {self.offset} ({self.length} bytes skipped)"


def scan_frames(buf: Buf, start: int, size: int) -> tuple[list[FrameHead], list[Damage]]:
    """Intact frames from `start` on, and the damaged regions between and after them."""
    frames: list[FrameHead] = []
    damage: list[Damage] = []
    pos = start
    while pos < size:
        head = parse_frame_head(buf, pos, size)
        if head is not None and frame_crc_ok(buf, head):
            frames.append(head)
            pos = head.end
            continue
        # resynchronize: the next frame magic whose head and CRC check out
        bad_start = pos
        probe = pos + 1
        found: FrameHead | None = None
        while True:
            probe = buf.find(FRAME_MAGIC, probe, size)
            if probe < 0:
                break
            cand = parse_frame_head(buf, probe, size)
            if cand is not None and frame_crc_ok(buf, cand):
                found = cand
                break
            probe += 1
        if found is None:
            damage.append(Damage(bad_start, size - bad_start, True))
            break
        damage.append(Damage(bad_start, found.offset - bad_start, False))
        pos = found.offset
    return frames, damage


@dataclass(frozen=True, slots=True)
class SnapshotRef:
    """Where a snapshot sits: frame number, event number within the frame, and the event."""

    frame: int
    index: int
    event: BookSnapshot


class Recording:
    """One recording file, read-only. Use `open_recording(path)`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self._file = open(self.path, "rb")  # noqa: SIM115 - kept open for the mapping
        except OSError as exc:
            raise FormatError(f"{self.path}: cannot open ({exc.strerror})") from None
        self.size = os.fstat(self._file.fileno()).st_size
        self._map: mmap.mmap | None = None
        buf: Buf
        if self.size:
            self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
            buf = self._map
        else:
            buf = b""
        self._buf = buf
        try:
            self.header, self.data_start = decode_header(
                bytes(buf[: min(self.size, 1 << 20)]), str(self.path)
            )
        except FormatError:
            self.close()
            raise
        self.frames, self.damaged = scan_frames(buf, self.data_start, self.size)

    def refresh(self) -> int:
        """Pick up frames appended since opening (a file still being recorded); returns how
        many intact frames were added."""
        size = os.fstat(self._file.fileno()).st_size
        if size <= self.size:
            return 0
        # rescan from the end of the last intact frame: a torn tail may have been completed
        start = self.good_end
        if self.damaged and self.damaged[-1].at_end:
            self.damaged.pop()
        if self._map is not None:
            self._map.close()
        self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        self._buf = self._map
        self.size = size
        frames, damage = scan_frames(self._buf, start, size)
        self.frames.extend(frames)
        self.damaged.extend(damage)
        return len(frames)

    # --- summary ------------------------------------------------------------------------

    @property
    def torn_tail(self) -> Damage | None:
        """The damaged bytes at the end of the file, if the last write was cut short."""
        return self.damaged[-1] if self.damaged and self.damaged[-1].at_end else None

    @property
    def good_end(self) -> int:
        """Offset just past the last intact frame (where the header ends if none)."""
        return self.frames[-1].end if self.frames else self.data_start

    @property
    def count(self) -> int:
        return sum(f.n for f in self.frames)

    @property
    def span(self) -> tuple[int, int]:
        """(first, last) event time in ns over intact frames; (0, 0) when empty."""
        if not self.frames:
            return (0, 0)
        return (min(f.first_ts for f in self.frames), max(f.last_ts for f in self.frames))

    # --- reading ------------------------------------------------------------------------

    @property
    def is_raw(self) -> bool:
        """The file holds a provider's raw wire frames (`iter_raw`), not events."""
        return self.header.content == "raw"

    def iter_raw(
        self, start_ns: int | None = None, end_ns: int | None = None
    ) -> Iterator[RawFrame]:
        """Wire frames of a raw capture, in received order, `start_ns <= recv_ns < end_ns`."""
        if not self.is_raw:
            raise FormatError(f"{self.path} holds events, not raw frames")
        for head in self.frames:
            if start_ns is not None and head.last_ts < start_ns:
                continue
            if end_ns is not None and head.first_ts >= end_ns:
                continue
            for frame in decode_raw_frame(self._buf, head):
                if start_ns is not None and frame.recv_ns < start_ns:
                    continue
                if end_ns is not None and frame.recv_ns >= end_ns:
                    continue
                yield frame

    def batch(self, frame: int) -> Columns:
        """The columns of intact frame number `frame`."""
        if self.is_raw:
            raise FormatError(
                f"{self.path} holds raw wire frames, not events; export them with "
                "`mdconsole export FILE --kind raw --format jsonl`"
            )
        return decode_frame(self._buf, self.frames[frame])

    def iter_batches(
        self, start_ns: int | None = None, end_ns: int | None = None
    ) -> Iterator[Columns]:
        """Columns of every intact frame overlapping [start_ns, end_ns), in file order.

        Frames are whole: a batch may hold events just outside the range.
        """
        for i, head in enumerate(self.frames):
            if start_ns is not None and head.last_ts < start_ns:
                continue
            if end_ns is not None and head.first_ts >= end_ns:
                continue
            yield self.batch(i)

    def iter_events(
        self,
        start_ns: int | None = None,
        end_ns: int | None = None,
        *,
        from_snapshot: bool = False,
    ) -> Iterator[MarketEvent]:
        """Events in recorded order with `start_ns <= ts < end_ns` (either bound optional).

        With `from_snapshot`, starts instead at the last book snapshot at or before
        `start_ns` and yields everything from it on, so a consumer can rebuild the book as it
        stood at `start_ns` without replaying from the beginning of the file.
        """
        first_frame, first_index = 0, 0
        lo = start_ns
        if from_snapshot and start_ns is not None:
            ref = self.snapshot_ref(start_ns)
            if ref is not None:
                first_frame, first_index, lo = ref.frame, ref.index, None
        for i in range(first_frame, len(self.frames)):
            head = self.frames[i]
            if lo is not None and head.last_ts < lo:
                continue
            if end_ns is not None and head.first_ts >= end_ns:
                continue
            events = events_from_columns(self.batch(i))
            if i == first_frame and first_index:
                events = events[first_index:]
            for ev in events:
                if lo is not None and ev.ts < lo:
                    continue
                if end_ns is not None and ev.ts >= end_ns:
                    continue
                yield ev

    def snapshot_ref(self, ts_ns: int) -> SnapshotRef | None:
        """The last book snapshot with ts <= ts_ns, and where it sits."""
        for i in range(len(self.frames) - 1, -1, -1):
            head = self.frames[i]
            if not head.has_snapshot or head.first_ts > ts_ns:
                continue
            cols = self.batch(i)
            positions = [j for j, k in enumerate(cols.kinds.tolist()) if k == KIND_OTHER]
            for j, ev in zip(reversed(positions), reversed(cols.others), strict=True):
                if isinstance(ev, BookSnapshot) and ev.ts <= ts_ns:
                    return SnapshotRef(i, j, ev)
        return None

    def snapshot_before(self, ts_ns: int) -> BookSnapshot | None:
        """The last book snapshot with ts <= ts_ns (None if there is none)."""
        ref = self.snapshot_ref(ts_ns)
        return ref.event if ref is not None else None

    # --- lifetime -----------------------------------------------------------------------

    def close(self) -> None:
        self._buf = b""
        if self._map is not None:
            self._map.close()
            self._map = None
        self._file.close()

    def __enter__(self) -> Recording:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_recording(path: str | os.PathLike[str]) -> Recording:
    """Open a recording; raises FormatError with the file and the problem if it is not one."""
    return Recording(path)


def segments(directory: str | os.PathLike[str], stem: str) -> list[Path]:
    """The recordings in `directory` for one provider and symbol (`stem`, e.g. `sim_BTC_USD`),
    rotated segments included, in time order (by first event; unreadable files left out)."""
    found: list[tuple[int, str, Path]] = []
    for path in Path(directory).glob(f"{stem}*{SUFFIX}"):
        name = path.name
        if name != f"{stem}{SUFFIX}" and not name.startswith(f"{stem}."):
            continue  # another symbol sharing the prefix, e.g. sim_BTC_USDT for sim_BTC_USD
        if name.endswith(RAW_SUFFIX):
            continue  # the raw wire frames beside the events, not a segment of them
        try:
            with Recording(path) as rec:
                first = rec.span[0] if rec.frames else rec.header.created_ns
        except FormatError:
            continue
        found.append((first, name, path))
    return [p for _, _, p in sorted(found)]


__all__ = [
    "Damage",
    "Header",
    "Recording",
    "SnapshotRef",
    "open_recording",
    "segments",
]
