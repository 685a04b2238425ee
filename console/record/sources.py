"""What a playback plays: recordings and OKX SQLite databases behind one small interface.

A source yields one symbol's events in time order starting from the last book snapshot at
or before a time, so a seek rebuilds the book from that snapshot instead of from the start.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from console.data.provider import DataUnavailable, ProviderError
from console.data.sampler import bars_from_trades
from console.model.events import BookSnapshot, MarketEvent, Quote, Trade
from console.model.instruments import Instrument, split_symbol
from console.record import FormatError, open_recording
from console.record.bulk import trade_arrays
from console.record.okxdb.source import (
    DB_SUFFIXES,
    SqliteSource,
    find_databases,
    in_time_order,
    list_instruments,
)

SQLITE_MAGIC = b"SQLite format 3\x00"


class ReplaySourceError(ProviderError):
    """A path that cannot be replayed, with the reason."""


class ReplaySource(Protocol):
    """One symbol's recorded market, readable from any time on."""

    symbol: str
    instrument: Instrument
    start_ns: int
    end_ns: int

    def events(self, start_ns: int | None, end_ns: int | None) -> Iterator[MarketEvent]:
        """Events with ts < end_ns, from the last snapshot at or before start_ns (or the start)."""
        ...

    def history_1s(self, end_ns: int) -> np.ndarray:
        """1 s bars (OHLC_DTYPE) of the trades before end_ns."""
        ...

    def close(self) -> None: ...


class RecordingSource:
    """A recording file written by `mdconsole record`."""

    def __init__(self, path: Path) -> None:
        try:
            self.recording = open_recording(path)
        except FormatError as exc:
            raise ReplaySourceError(str(exc)) from None
        if self.recording.is_raw:  # wire frames need a venue connector to become events
            self.recording.close()
            raise ReplaySourceError(
                f"{path} holds raw wire frames, not events; replay the .mdrec beside it"
            )
        if not self.recording.frames:
            torn = self.recording.torn_tail
            self.recording.close()
            raise ReplaySourceError(
                f"{path}: no complete batch of events"
                + (f" ({torn.describe()})" if torn is not None else "")
                + "; nothing to replay"
            )
        header = self.recording.header
        self.symbol = header.symbol
        self.instrument = header.instrument or _guess_instrument(header.symbol, header.provider)
        self.start_ns, self.end_ns = self.recording.span
        self.torn_tail = self.recording.torn_tail

    def events(self, start_ns: int | None, end_ns: int | None) -> Iterator[MarketEvent]:
        return self.recording.iter_events(start_ns, end_ns, from_snapshot=True)

    def history_1s(self, end_ns: int) -> np.ndarray:
        parts = [trade_arrays(cols) for cols in self.recording.iter_batches(None, end_ns)]
        if not parts:
            raise DataUnavailable(f"{self.symbol}: no trades recorded before the replay start")
        ts, px, sz = (np.concatenate([p[i] for p in parts]) for i in range(3))
        keep = ts < end_ns
        return bars_from_trades(ts[keep], px[keep], sz[keep])

    def close(self) -> None:
        self.recording.close()


class SqliteDbSource:
    """One instrument across one or more OKX-schema databases, played in time order."""

    def __init__(self, parts: Sequence[SqliteSource]) -> None:
        self.parts = in_time_order(parts)
        first = self.parts[0]
        self.symbol = first.symbol
        self.instrument = first.instrument_info
        self.start_ns = first.start_ns
        self.end_ns = max(p.end_ns for p in self.parts)

    def events(self, start_ns: int | None, end_ns: int | None) -> Iterator[MarketEvent]:
        # every book row is a full top-N snapshot: start at the row at or before start_ns
        for part in self.parts:
            if end_ns is not None and part.start_ns >= end_ns:
                break
            if start_ns is not None and part.end_ns < start_ns:
                continue
            begin = None
            if start_ns is not None:
                k = int(np.searchsorted(part.book_ts, start_ns, "right")) - 1
                begin = int(part.book_ts[k]) if k >= 0 else None
            yield from part.events(begin, end_ns)
            start_ns = None  # later files play from their start

    def history_1s(self, end_ns: int) -> np.ndarray:
        ts: list[np.ndarray] = []
        px: list[np.ndarray] = []
        sz: list[np.ndarray] = []
        for part in self.parts:
            for rows in part.trade_rows(None, end_ns):
                ts.append(rows.ts)
                px.append(rows.price)
                sz.append(rows.size)
        if not ts:
            raise DataUnavailable(f"{self.symbol}: no trades before the replay start")
        return bars_from_trades(np.concatenate(ts), np.concatenate(px), np.concatenate(sz))

    def close(self) -> None:
        for part in self.parts:
            part.close()


def open_sources(
    paths: Sequence[str | Path],
    *,
    instrument: str | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
    depth: int = 10,
    databases_only: bool = False,
) -> list[ReplaySource]:
    """Sources for recordings, database files and directories of databases, one per symbol.

    A directory is searched for databases holding `instrument` rows in [start_ns, end_ns);
    without `instrument` a database plays every instrument it holds. A file is a database by
    its suffix or SQLite header, else a recording; with `databases_only` every file is a
    database (so anything else gets the database's error).
    """
    recordings: list[ReplaySource] = []
    db_parts: dict[str, list[SqliteSource]] = {}
    try:
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                for db in find_databases(path, instrument, start_ns, end_ns):
                    _add_db(db_parts, db, instrument, depth)
            elif not path.is_file():
                raise ReplaySourceError(f"{path}: no such file or directory")
            elif databases_only or _is_sqlite(path):
                _add_db(db_parts, path, instrument, depth)
            else:
                recordings.append(RecordingSource(path))
        # chaining one instrument's databases checks they do not overlap
        sources = recordings + [SqliteDbSource(parts) for parts in db_parts.values()]
    except ProviderError:
        for src in recordings:
            src.close()
        for parts in db_parts.values():
            for part in parts:
                part.close()
        raise
    symbols = [s.symbol for s in sources]
    dupes = sorted({s for s in symbols if symbols.count(s) > 1})
    if dupes:
        for src in sources:
            src.close()
        raise ReplaySourceError(
            f"more than one recording of {', '.join(dupes)}; replay one file per symbol "
            "(databases of one instrument in a directory are chained)"
        )
    return sources


def first_quote(source: ReplaySource, start_ns: int | None) -> Quote:
    """A quote with `last` for the startup contract: the first trade, quote or book mid from
    start_ns on."""
    for ev in source.events(start_ns, None):
        if start_ns is not None and ev.ts < start_ns and not isinstance(ev, BookSnapshot):
            continue
        if isinstance(ev, Quote) and ev.last:
            return Quote(symbol=source.symbol, ts=ev.ts, last=ev.last)
        if isinstance(ev, Trade):
            return Quote(symbol=source.symbol, ts=ev.ts, last=ev.price)
        if isinstance(ev, BookSnapshot) and ev.bids and ev.asks:
            mid = (ev.bids[0][0] + ev.asks[0][0]) / 2
            return Quote(symbol=source.symbol, ts=ev.ts, last=source.instrument.round_price(mid))
    raise ReplaySourceError(
        f"{source.symbol}: nothing to replay from the chosen start (no trade, quote or book)"
    )


def _add_db(
    parts: dict[str, list[SqliteSource]], path: Path, instrument: str | None, depth: int
) -> None:
    names = [instrument] if instrument else list_instruments(path)
    if not names:
        raise ReplaySourceError(f"{path}: the `book` table has no rows; nothing to replay")
    for name in names:
        src = SqliteSource(path, name, depth=depth)
        parts.setdefault(src.symbol, []).append(src)


def _is_sqlite(path: Path) -> bool:
    if path.suffix.lower() in DB_SUFFIXES:
        return True
    with path.open("rb") as fh:
        return fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC


def _guess_instrument(symbol: str, provider: str) -> Instrument:
    base, quote = split_symbol(symbol)
    return Instrument(
        symbol=symbol, base=base, quote=quote, tick_size=1e-8, lot_size=1e-8, provider=provider
    )
