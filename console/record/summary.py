"""What `inspect` reports about a recording: span, counts per kind, gaps, damage, size.

For a raw capture the counts are wire frames: `text`/`binary`, and `connection` for those
about the whole connection; `payload_bytes` is the frames' total size before compression.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from console.model.events import MARKET_EVENT_TYPES

from .format import KIND_DELTA, KIND_OTHER, KIND_TRADE
from .reader import Damage, Recording, open_recording

NS = 1_000_000_000
_TAGS = {t: str(t.__struct_config__.tag) for t in MARKET_EVENT_TYPES}


@dataclass(slots=True)
class Summary:
    """One recording, summarized."""

    path: Path
    size: int
    provider: str
    symbol: str
    version: int
    compression: str
    instrument: dict[str, Any] | None
    frames: int
    events: int
    first_ns: int
    last_ns: int
    counts: dict[str, int] = field(default_factory=dict)
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (from ns, to ns)
    damaged: list[Damage] = field(default_factory=list)
    content: str = "events"  # "raw": counts are wire frames
    payload_bytes: int = 0  # raw captures: the frames' bytes before compression

    @property
    def bytes_per_event(self) -> float:
        return self.size / self.events if self.events else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "size": self.size,
            "provider": self.provider,
            "symbol": self.symbol,
            "version": self.version,
            "compression": self.compression,
            "instrument": self.instrument,
            "frames": self.frames,
            "events": self.events,
            "first_ns": self.first_ns,
            "last_ns": self.last_ns,
            "counts": self.counts,
            "gaps": [{"from_ns": a, "to_ns": b, "seconds": (b - a) / NS} for a, b in self.gaps],
            "damaged": [
                {"offset": d.offset, "length": d.length, "torn_tail": d.at_end}
                for d in self.damaged
            ],
            "bytes_per_event": round(self.bytes_per_event, 3),
            "content": self.content,
            **({"payload_bytes": self.payload_bytes} if self.content == "raw" else {}),
        }

    def lines(self) -> list[str]:
        """Human-readable lines, one fact each."""
        span = (self.last_ns - self.first_ns) / NS
        if self.content == "raw":
            return self._raw_lines(span)
        out = [
            f"{self.path}",
            f"  provider {self.provider}  symbol {self.symbol}  format v{self.version}  "
            f"{self.compression}",
            "  instrument "
            + (
                f"tick {self.instrument['tick_size']:g}  lot {self.instrument['lot_size']:g}"
                if self.instrument
                else "not recorded"
            ),
            f"  span     {fmt_ns(self.first_ns)} .. {fmt_ns(self.last_ns)}  ({span:,.1f} s)",
            f"  events   {self.events:,} in {self.frames:,} frames  "
            + "  ".join(f"{k} {v:,}" for k, v in sorted(self.counts.items())),
            f"  size     {self.size:,} bytes  ({self.bytes_per_event:.2f} bytes/event)",
        ]
        if self.gaps:
            longest = max(self.gaps, key=lambda g: g[1] - g[0])
            out.append(
                f"  gaps     {len(self.gaps)}; longest {(longest[1] - longest[0]) / NS:,.1f} s "
                f"from {fmt_ns(longest[0])}"
            )
        else:
            out.append("  gaps     none")
        for d in self.damaged:
            out.append(f"  damage   {d.describe()}")
        return out

    def _raw_lines(self, span: float) -> list[str]:
        counts = self.counts
        out = [
            f"{self.path}",
            f"  provider {self.provider}  symbol {self.symbol}  raw wire frames  "
            f"format v{self.version}  {self.compression}",
            f"  span     {fmt_ns(self.first_ns)} .. {fmt_ns(self.last_ns)}  ({span:,.1f} s, "
            "receive times)",
            f"  frames   {self.events:,} in {self.frames:,} batches  "
            f"text {counts.get('text', 0):,}  binary {counts.get('binary', 0):,}  "
            f"connection-wide {counts.get('connection', 0):,}",
            f"  size     {self.size:,} bytes for {self.payload_bytes:,} bytes of frames",
            "  export   mdconsole export FILE --kind raw --format jsonl",
        ]
        out.extend(f"  damage   {d.describe()}" for d in self.damaged)
        return out


def _summarize_raw(rec: Recording, path: Path, gap_s: float) -> Summary:
    gap_ns = int(gap_s * NS)
    counts: Counter[str] = Counter()
    gaps: list[tuple[int, int]] = []
    payload = 0
    first = last = prev = 0
    for frame in rec.iter_raw():
        counts["binary" if isinstance(frame.data, bytes) else "text"] += 1
        if not frame.symbol:
            counts["connection"] += 1
        payload += len(frame.data.encode() if isinstance(frame.data, str) else frame.data)
        t = frame.recv_ns
        if prev and t - prev > gap_ns:
            gaps.append((prev, t))
        prev = t
        first = t if not first else min(first, t)
        last = max(last, t)
    header = rec.header
    return Summary(
        path=path,
        size=rec.size,
        provider=header.provider,
        symbol=header.symbol,
        version=header.version,
        compression=header.compression,
        instrument=None,
        frames=len(rec.frames),
        events=counts["text"] + counts["binary"],
        first_ns=first,
        last_ns=last,
        counts={k: v for k, v in counts.items() if v},
        gaps=gaps,
        damaged=list(rec.damaged),
        content="raw",
        payload_bytes=payload,
    )


def fmt_ns(ns: int) -> str:
    if ns <= 0:
        return "-"
    return datetime.fromtimestamp(ns / NS, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def _event_times(kinds: np.ndarray, hot_ts: np.ndarray, other_ts: list[int]) -> np.ndarray:
    ts = np.empty(len(kinds), dtype=np.int64)
    is_other = kinds == KIND_OTHER
    ts[~is_other] = hot_ts
    ts[is_other] = other_ts
    return ts[ts > 0]  # 0 = time unknown


def summarize(path: str | Path, gap_s: float = 5.0) -> Summary:
    """Read every intact frame of `path` once and summarize it."""
    gap_ns = int(gap_s * NS)
    with open_recording(path) as rec:
        if rec.is_raw:
            return _summarize_raw(rec, Path(path), gap_s)
        counts: Counter[str] = Counter()
        gaps: list[tuple[int, int]] = []
        prev = 0
        first, last = 0, 0
        for cols in rec.iter_batches():
            counts["delta"] += int(np.count_nonzero(cols.kinds == KIND_DELTA))
            counts["trade"] += int(np.count_nonzero(cols.kinds == KIND_TRADE))
            for ev in cols.others:
                counts[_TAGS.get(type(ev), type(ev).__name__)] += 1
            ts = _event_times(cols.kinds, cols.ts, [ev.ts for ev in cols.others])
            if not len(ts):
                continue
            if prev:
                ts = np.concatenate(([prev], ts))
            jumps = np.flatnonzero(np.diff(ts) > gap_ns)
            gaps.extend((int(ts[j]), int(ts[j + 1])) for j in jumps)
            prev = int(ts[-1])
            lo, hi = int(ts.min()), int(ts.max())
            first = lo if not first else min(first, lo)
            last = max(last, hi)
        header = rec.header
        inst = header.instrument
        return Summary(
            path=Path(path),
            size=rec.size,
            provider=header.provider,
            symbol=header.symbol,
            version=header.version,
            compression=header.compression,
            instrument=None
            if inst is None
            else {
                "tick_size": inst.tick_size,
                "lot_size": inst.lot_size,
                "base": inst.base,
                "quote": inst.quote,
                "venue_symbol": inst.venue_symbol,
            },
            frames=len(rec.frames),
            events=sum(counts.values()),
            first_ns=first,
            last_ns=last,
            counts={k: v for k, v in counts.items() if v},
            gaps=gaps,
            damaged=list(rec.damaged),
        )


__all__ = ["Summary", "fmt_ns", "summarize"]
