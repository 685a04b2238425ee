"""Appending frames to one recording file, safely: whole frames or nothing, after any torn tail.

A new file gets its header in one write. An existing file is checked (same provider and
symbol, readable header) and appended to after its last byte: a torn tail a killed run left is
kept, reported in `recovered`, and skipped by readers, which resynchronize on the next frame.
A failed write (disk full, I/O error) is cut back to the previous frame boundary so the file
never ends in a half frame that a later append would bury.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from console.model.events import MarketEvent

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from .format import (
    Columns,
    FormatError,
    Header,
    codec_id,
    decode_header,
    encode_events,
    encode_frame,
    encode_header,
    scales_for,
)
from .reader import Damage, scan_frames


class RecordWriteError(OSError):
    """A frame could not be written; the file is left ending on a whole frame."""


class RecordingWriter:
    """Writes frames to `path`, creating it with `header` or appending to a matching file."""

    def __init__(self, path: str | os.PathLike[str], header: Header) -> None:
        self.path = Path(path)
        self.header = header
        self.codec = codec_id(header.compression)
        self.pdec, self.qdec = scales_for(header.instrument)
        self.recovered: Damage | None = None
        self.created = False  # this writer wrote the header (a new file)
        self.frames_written = 0
        self.bytes_written = 0
        flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        try:
            self._fd = os.open(self.path, flags, 0o644)
        except OSError as exc:
            raise RecordWriteError(
                exc.errno,
                f"cannot create {self.path}: {exc.strerror}; check the directory "
                "exists and is writable, or pick another with --out",
            ) from None
        try:
            self._lock()
            self.size = os.fstat(self._fd).st_size
            if self.size == 0:
                self._write_all(encode_header(header))
                self.created = True
            else:
                self._check_existing()
        except BaseException:
            os.close(self._fd)
            raise

    def _lock(self) -> None:
        """One writer per file: two appending at once would overwrite each other's frames."""
        if fcntl is None:  # pragma: no cover - not on POSIX
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RecordWriteError(
                errno.EBUSY,
                f"{self.path} is being written by another recorder; stop that one or record "
                "to another --out directory",
            ) from None

    def _check_existing(self) -> None:
        with open(self.path, "rb") as f:
            data = f.read()
        existing, start = decode_header(data, str(self.path))
        if (existing.provider, existing.symbol) != (self.header.provider, self.header.symbol):
            raise FormatError(
                f"{self.path} records {existing.provider} {existing.symbol}, not "
                f"{self.header.provider} {self.header.symbol}; choose another --out directory"
            )
        if existing.content != self.header.content:
            raise FormatError(
                f"{self.path} holds {existing.content}, not {self.header.content}; "
                "choose another --out directory"
            )
        _frames, damage = scan_frames(data, start, len(data))
        if damage and damage[-1].at_end:
            self.recovered = damage[-1]

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        before = self.size
        try:
            while view:
                written = os.pwrite(self._fd, view, self.size)
                self.size += written
                view = view[written:]
        except OSError as exc:
            # cut back to the last whole frame; a later retry then appends cleanly
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, before)
            self.size = before
            raise RecordWriteError(exc.errno, f"cannot write {self.path}: {exc.strerror}") from None

    def write_frame(self, frame: bytes) -> int:
        """Append one encoded frame; returns its size."""
        self._write_all(frame)
        self.frames_written += 1
        self.bytes_written += len(frame)
        return len(frame)

    def encode(self, events: list[MarketEvent]) -> bytes:
        return encode_events(events, self.header.symbol, self.pdec, self.qdec, self.codec)

    def write_events(self, events: list[MarketEvent]) -> int:
        """Encode `events` as one frame and append it."""
        return self.write_frame(self.encode(events)) if events else 0

    def write_columns(self, cols: Columns) -> int:
        """The fast path: append a batch already in columns (see format.Columns)."""
        return self.write_frame(encode_frame(cols, self.codec))

    def sync(self) -> None:
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1

    @property
    def closed(self) -> bool:
        return self._fd < 0
