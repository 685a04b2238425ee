"""The recorder: hub events into one recording per provider and symbol, flushed by count and
time, rotated hourly, daily or by size, and resilient to full or unwritable disks.

Events are buffered per symbol and encoded into a frame every `flush_events` events or
`flush_interval` seconds. A frame that cannot be written (disk full, directory gone) is kept in
memory and retried, up to `max_pending_bytes` per symbol; only past that are the oldest frames
dropped, and the drop is counted and reported. Other symbols keep recording meanwhile.

A run's first file holds exactly the feed's events. A rotated segment closes with everything
buffered so far and the next one opens with a BookSnapshot of the hub's current book, so every
segment replays on its own. An existing file of the same name is appended to.

With `raw=True` the provider's wire frames (see `RawSink` in console/data/provider.py) go to a
sibling `<stem>.raw.mdrec` per symbol, written, retried and rotated the same way; frames that
concern the whole connection go into every symbol's raw file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast

from console.model.book import ASK, BID, Book
from console.model.events import BookSnapshot, ConnectorStatus, MarketEvent
from console.model.instruments import Instrument, split_symbol

from .format import (
    RAW_SUFFIX,
    SUFFIX,
    FormatError,
    Header,
    RawFrame,
    codec_id,
    default_compression,
    encode_events,
    encode_raw_frame,
    scales_for,
)
from .writer import RecordingWriter, RecordWriteError

log = logging.getLogger(__name__)

_SIZE_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)
REOPEN_DELAY_NS = 1_000_000_000  # retry a failed file at most once a second


class RecorderError(Exception):
    """A recorder setting or situation the user has to fix; the message says how."""


@dataclass(frozen=True, slots=True)
class Rotation:
    """When to start a new file: `hourly`, `daily`, or past `max_bytes`."""

    mode: str  # "none" | "hourly" | "daily" | "size"
    max_bytes: int = 0

    @classmethod
    def parse(cls, text: str | None) -> Rotation:
        """`None`/`none`, `hourly`, `daily`, or a size such as `500MB`, `2G`, `100000`."""
        if text is None or text.strip().lower() in ("", "none", "never"):
            return cls("none")
        low = text.strip().lower()
        if low in ("hourly", "daily"):
            return cls(low)
        m = _SIZE_RE.match(text)
        if not m:
            raise RecorderError(
                f"--rotate {text!r} is not understood; use hourly, daily or a size such as "
                "500MB or 2GB"
            )
        size = int(float(m.group(1)) * _SIZE_UNITS[m.group(2).upper()])
        if size < 4096:
            raise RecorderError(f"--rotate {text!r} is too small; use at least 4KB")
        return cls("size", size)

    def key(self, now_ns: int) -> str:
        """The file suffix for a segment starting now (UTC), '' when not rotating."""
        t = datetime.fromtimestamp(now_ns / 1e9, tz=UTC)
        if self.mode == "hourly":
            return t.strftime("%Y%m%dT%H")
        if self.mode == "daily":
            return t.strftime("%Y%m%d")
        if self.mode == "size":
            return t.strftime("%Y%m%dT%H%M%S")
        return ""


def file_stem(provider: str, symbol: str) -> str:
    """`sim`, `BTC/USD` -> `sim_BTC_USD`."""
    base, quote = split_symbol(symbol)
    safe = re.sub(r"[^A-Za-z0-9.-]", "-", provider)
    return f"{safe}_{base}_{quote}"


def recording_path(
    out_dir: Path, provider: str, symbol: str, key: str = "", *, raw: bool = False
) -> Path:
    """`<stem>[.<key>].mdrec`, or `<stem>[.<key>].raw.mdrec` for the raw wire frames."""
    stem = file_stem(provider, symbol)
    suffix = RAW_SUFFIX if raw else SUFFIX
    return out_dir / (f"{stem}.{key}{suffix}" if key else f"{stem}{suffix}")


@dataclass(slots=True)
class SymbolStats:
    """What one symbol's recording has done so far (read by the status line)."""

    symbol: str
    path: Path | None = None
    events: int = 0  # received
    written_events: int = 0
    bytes: int = 0  # written by this run
    files: int = 0
    pending_events: int = 0  # encoded or buffered, not yet on disk
    dropped_events: int = 0
    error: str = ""
    recovered: str = ""  # torn tail found when appending


class HubLike(Protocol):
    """The parts of FeedHub the recorder uses."""

    provider_name: str
    symbols: tuple[str, ...]
    instruments: dict[str, Instrument]
    books: dict[str, Book]

    def subscribe(self, callback: Callable[[MarketEvent], None]) -> Callable[[], None]: ...


class RawHubLike(HubLike, Protocol):
    """A hub that can hand over the provider's wire frames (FeedHub)."""

    def subscribe_raw(
        self, callback: Callable[[str, bytes | str, int], None]
    ) -> Callable[[], None]: ...


class _Sink:
    """One symbol's buffer, frames waiting for disk, and current file (events or raw)."""

    def __init__(self, symbol: str, raw: bool = False) -> None:
        self.symbol = symbol
        self.raw = raw
        self.buf: list[MarketEvent] = []
        self.raw_buf: list[RawFrame] = []
        self.pending: list[tuple[bytes, int]] = []  # (frame, events) not yet written
        self.pending_bytes = 0
        self.writer: RecordingWriter | None = None
        self.key = ""
        self.retry_at = 0
        self.synced_at = 0  # when written frames were last forced to disk (power loss)
        self.unsynced = False
        self.rotated = False  # the next file continues a rotated one: seed it with the book
        self.stats = SymbolStats(symbol)


class Recorder:
    """Writes every event of a feed to per-symbol recordings in `out_dir`."""

    def __init__(
        self,
        provider: str,
        out_dir: str | Path,
        *,
        symbols: Sequence[str] = (),
        instruments: Mapping[str, Instrument] | None = None,
        books: Mapping[str, Book] | None = None,
        rotate: str | Rotation | None = None,
        compression: str | None = None,
        flush_events: int = 1000,
        flush_interval: float = 0.25,
        max_pending_bytes: int = 256 << 20,
        sync_interval: float = 5.0,
        clock: Callable[[], int] = time.time_ns,
        raw: bool = False,
    ) -> None:
        if flush_events < 1 or flush_interval <= 0:
            raise RecorderError("flush_events must be >= 1 and flush_interval > 0")
        self.provider = provider
        self.out_dir = Path(out_dir)
        self.instruments: Mapping[str, Instrument] = instruments if instruments is not None else {}
        self.books: Mapping[str, Book] = books if books is not None else {}
        self.rotation = rotate if isinstance(rotate, Rotation) else Rotation.parse(rotate)
        self.compression = compression or default_compression()
        try:
            self.codec = codec_id(self.compression)
        except ValueError as exc:
            raise RecorderError(str(exc)) from None
        self.flush_events = flush_events
        self.flush_interval = flush_interval
        self.max_pending_bytes = max_pending_bytes
        self.sync_interval_ns = int(sync_interval * 1e9)
        self.clock = clock
        self._sinks: dict[str, _Sink] = {}
        self.raw = raw
        self._raw_sinks: dict[str, _Sink] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self._unsubscribe_raw: Callable[[], None] | None = None
        self._closed = False
        for sym in symbols:
            self._sink(sym)
            if raw:
                self._raw_sink(sym)

    @classmethod
    def for_hub(cls, hub: HubLike, out_dir: str | Path, **kwargs: Any) -> Recorder:
        """A recorder for `hub`'s provider and symbols, subscribed to it."""
        rec = cls(
            hub.provider_name,
            out_dir,
            symbols=hub.symbols,
            instruments=hub.instruments,
            books=hub.books,
            **kwargs,
        )
        rec.attach(hub)
        return rec

    # --- input ----------------------------------------------------------------------------

    def attach(self, hub: HubLike) -> None:
        self._unsubscribe = hub.subscribe(self.on_event)
        if self.raw:
            subscribe_raw = getattr(hub, "subscribe_raw", None)
            if subscribe_raw is None:
                raise RecorderError(f"{type(hub).__name__} cannot hand over raw frames")
            self._unsubscribe_raw = cast(RawHubLike, hub).subscribe_raw(self.on_raw)

    def _raw_sink(self, symbol: str) -> _Sink:
        sink = self._raw_sinks.get(symbol)
        if sink is None:
            split_symbol(symbol)
            sink = self._raw_sinks[symbol] = _Sink(symbol, raw=True)
        return sink

    def on_raw(self, symbol: str, data: bytes | str, recv_ns: int) -> None:
        """The hub's raw-frame callback: buffer, and flush a file that reached `flush_events`."""
        if self._closed:
            return
        if symbol:
            try:
                targets = [self._raw_sink(symbol)]
            except ValueError:
                log.warning("not recording raw frame for malformed symbol %r", symbol)
                return
        else:
            targets = list(self._raw_sinks.values())  # connection-wide: in every raw file
        frame = RawFrame(symbol, data, recv_ns)
        for sink in targets:
            sink.raw_buf.append(frame)
            sink.stats.events += 1
            sink.stats.pending_events += 1
            if len(sink.raw_buf) >= self.flush_events:
                self._guarded_flush(sink)

    def _sink(self, symbol: str) -> _Sink:
        sink = self._sinks.get(symbol)
        if sink is None:
            split_symbol(symbol)  # a clear error for a malformed symbol, before any file
            sink = self._sinks[symbol] = _Sink(symbol)
        return sink

    def on_event(self, event: MarketEvent) -> None:
        """The hub callback: buffer, and flush a symbol that reached `flush_events`."""
        if self._closed:
            return
        if isinstance(event, ConnectorStatus) and not event.symbol:
            targets = list(self._sinks.values())  # provider-wide: belongs in every file
        else:
            try:
                targets = [self._sink(event.symbol)]
            except ValueError:
                log.warning("not recording event for malformed symbol %r", event.symbol)
                return
        for sink in targets:
            sink.buf.append(event)
            sink.stats.events += 1
            sink.stats.pending_events += 1
            if len(sink.buf) >= self.flush_events:
                self._guarded_flush(sink)

    # --- output ---------------------------------------------------------------------------

    @property
    def stats(self) -> dict[str, SymbolStats]:
        return {sym: sink.stats for sym, sink in self._sinks.items()}

    @property
    def raw_stats(self) -> dict[str, SymbolStats]:
        """Per symbol, the raw frame file's figures (`events` counts wire frames)."""
        return {sym: sink.stats for sym, sink in self._raw_sinks.items()}

    def _all_sinks(self) -> list[_Sink]:
        return [*self._sinks.values(), *self._raw_sinks.values()]

    def flush(self) -> None:
        """Encode and write whatever every symbol has buffered."""
        for sink in self._all_sinks():
            self._guarded_flush(sink)

    def _guarded_flush(self, sink: _Sink) -> None:
        # the hub unsubscribes a callback that raises: one bad batch must not end the recording
        try:
            self._flush_sink(sink)
        except Exception as exc:
            log.exception("%s: recording failed", sink.symbol)
            sink.stats.error = f"recording failed: {exc}"

    def _flush_sink(self, sink: _Sink) -> None:
        if sink.buf:
            inst = self.instruments.get(sink.symbol)
            pdec, qdec = scales_for(inst)
            frame = encode_events(sink.buf, sink.symbol, pdec, qdec, self.codec)
            sink.pending.append((frame, len(sink.buf)))
            sink.pending_bytes += len(frame)
            sink.buf = []
        if sink.raw_buf:
            frame = encode_raw_frame(sink.raw_buf, sink.symbol, self.codec)
            sink.pending.append((frame, len(sink.raw_buf)))
            sink.pending_bytes += len(frame)
            sink.raw_buf = []
        now = self.clock()
        if sink.writer is not None and self._rotation_due(sink, sink.writer, now):
            # what is buffered so far closes the old segment; the new one opens with the book
            self._write_pending(sink, sink.writer, now)
            if sink.writer is not None:
                sink.writer.close()
                sink.writer = None
                sink.rotated = True
        if sink.pending or sink.rotated:
            writer = self._writer_for(sink, now)
            if writer is not None:
                self._write_pending(sink, writer, now)
        while sink.pending_bytes > self.max_pending_bytes and len(sink.pending) > 1:
            frame, n = sink.pending.pop(0)
            sink.pending_bytes -= len(frame)
            sink.stats.dropped_events += n
            log.error("%s: dropped %d events that could not be written", sink.symbol, n)
        sink.stats.pending_events = (
            sum(n for _, n in sink.pending) + len(sink.buf) + len(sink.raw_buf)
        )

    def _rotation_due(self, sink: _Sink, writer: RecordingWriter, now: int) -> bool:
        rot = self.rotation
        if rot.mode in ("hourly", "daily"):
            return rot.key(now) != sink.key
        return rot.mode == "size" and writer.size >= rot.max_bytes

    def _write_pending(self, sink: _Sink, writer: RecordingWriter, now: int) -> None:
        while sink.pending:
            frame, n = sink.pending[0]
            try:
                written = writer.write_frame(frame)
            except RecordWriteError as exc:
                self._fail(sink, str(exc), now)
                return
            sink.pending.pop(0)
            sink.pending_bytes -= len(frame)
            sink.stats.bytes += written
            sink.stats.written_events += n
            sink.stats.error = ""
            sink.unsynced = True
        if sink.unsynced and now - sink.synced_at >= self.sync_interval_ns:
            try:
                writer.sync()
            except OSError as exc:
                self._fail(sink, f"cannot sync {writer.path}: {exc.strerror}", now)
                return
            sink.synced_at = now
            sink.unsynced = False

    def _fail(self, sink: _Sink, message: str, now: int) -> None:
        if message != sink.stats.error:
            log.error("%s: %s", sink.symbol, message)
        sink.stats.error = message
        sink.retry_at = now + REOPEN_DELAY_NS
        if sink.writer is not None:
            with contextlib.suppress(OSError):
                sink.writer.close()
            sink.writer = None

    def _writer_for(self, sink: _Sink, now: int) -> RecordingWriter | None:
        if sink.writer is not None:
            return sink.writer
        if now < sink.retry_at:
            return None
        try:
            sink.writer = self._open(sink, now)
        except (RecordWriteError, FormatError, OSError) as exc:
            self._fail(sink, str(exc), now)
            return None
        return sink.writer

    def _open(self, sink: _Sink, now: int) -> RecordingWriter:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        key = self.rotation.key(now)
        path = recording_path(self.out_dir, self.provider, sink.symbol, key, raw=sink.raw)
        if self.rotation.mode == "size":
            path = self._size_segment(sink.symbol, path, sink.raw)
        header = Header(
            provider=self.provider,
            symbol=sink.symbol,
            instrument=self.instruments.get(sink.symbol),
            compression=self.compression,
            created_ns=now,
            content="raw" if sink.raw else "events",
        )
        writer = RecordingWriter(path, header)
        sink.key = key
        sink.stats.path = path
        sink.stats.files += 1
        if writer.recovered is not None:
            sink.stats.recovered = writer.recovered.describe()
            log.warning("%s: appending after %s", path, sink.stats.recovered)
        if writer.created and sink.rotated and not sink.raw:
            self._seed_snapshot(sink, now)
        sink.rotated = False
        return writer

    def _size_segment(self, symbol: str, fresh: Path, raw: bool = False) -> Path:
        """The newest segment of this symbol if it still has room, else a new one."""
        stem = file_stem(self.provider, symbol)
        suffix = RAW_SUFFIX if raw else SUFFIX
        existing = sorted(
            p
            for p in self.out_dir.glob(f"{stem}.*{suffix}")
            if raw or not p.name.endswith(RAW_SUFFIX)  # raw files are not event segments
        )
        if existing and existing[-1].stat().st_size < self.rotation.max_bytes:
            return existing[-1]
        path, n = fresh, 1
        while path.exists():
            n += 1
            path = fresh.with_name(fresh.name.replace(suffix, f"-{n}{suffix}"))
        return path

    def _seed_snapshot(self, sink: _Sink, now: int) -> None:
        """Open a rotated segment with the current book, so it can be replayed on its own.

        It goes after any frames still waiting for disk: the hub's book already reflects them.
        """
        book = self.books.get(sink.symbol)
        if book is None or (book.best_bid_ticks is None and book.best_ask_ticks is None):
            return
        inst = self.instruments.get(sink.symbol)
        pdec, qdec = scales_for(inst)

        def levels(side: int) -> list[tuple[float, float]]:
            px, qty = book.levels(side)
            return [
                (round(p, pdec), round(q, qdec))
                for p, q in zip(px.tolist(), qty.tolist(), strict=True)
            ]

        snap = BookSnapshot(
            symbol=sink.symbol,
            ts=now,
            recv_ts=now,
            bids=levels(BID),
            asks=levels(ASK),
            seq=book.seq,
        )
        frame = encode_events([snap], sink.symbol, pdec, qdec, self.codec)
        sink.pending.append((frame, 1))
        sink.pending_bytes += len(frame)

    # --- lifetime -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Flush every `flush_interval` seconds until `stop` is set (or cancelled)."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.flush_interval)
            self.flush()
        self.flush()

    def close(self) -> None:
        """Unsubscribe, write everything buffered, close the files."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._unsubscribe_raw is not None:
            self._unsubscribe_raw()
            self._unsubscribe_raw = None
        self.flush()
        for sink in self._all_sinks():
            if sink.pending:
                sink.retry_at = 0  # a last attempt, whatever the back-off
                writer = self._writer_for(sink, self.clock())
                if writer is not None:
                    self._write_pending(sink, writer, self.clock())
                sink.stats.pending_events = sum(n for _, n in sink.pending)
            if sink.writer is not None:
                sink.writer.close()
                sink.writer = None
        self._closed = True

    @property
    def unwritten_events(self) -> int:
        return sum(s.stats.pending_events for s in self._all_sinks())
