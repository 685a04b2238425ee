"""Reads OKX-schema SQLite databases (`book` and `trades` tables) read-only, in batches.

`book(id, instrument, bids, asks, timestamp)` holds top-N snapshots whose level columns are
Python-literal or JSON lists; `trades(id, instrument, trade_id, price, size, side, timestamp)`
the prints. Rows are read by id in batches; the timestamps of both tables are loaded once as
an index so a time range or a seek becomes an id range, and so each book row knows the next
one's time (the one-row lookahead that puts each window's trades in order).
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from console.data.provider import ProviderError
from console.model.events import Aggressor, BookSnapshot, MarketEvent, Quote, Tick, Trade
from console.model.instruments import Instrument
from console.record.okxdb.levels import LevelError, Levels, parse_levels
from console.record.okxdb.times import TimestampError, to_ns

BOOK_COLUMNS = ("id", "instrument", "bids", "asks", "timestamp")
TRADE_COLUMNS = ("id", "instrument", "trade_id", "price", "size", "side", "timestamp")
DB_SUFFIXES = (".sqlite", ".sqlite3", ".db")
BATCH_ROWS = 4096
MMAP_BYTES = 1 << 30

BUY, SELL = 1, -1


class SqliteSourceError(ProviderError):
    """A database that cannot be read as the OKX book/trades schema."""


@dataclass(frozen=True, slots=True)
class BookRows:
    """A batch of book rows: times and top-N levels per side (0 beyond `n_bids`/`n_asks`)."""

    ids: np.ndarray
    ts: np.ndarray
    bid_px: np.ndarray
    bid_sz: np.ndarray
    ask_px: np.ndarray
    ask_sz: np.ndarray
    n_bids: np.ndarray
    n_asks: np.ndarray


@dataclass(frozen=True, slots=True)
class TradeRows:
    """A batch of trades; `side` is +1 for a buy aggressor, -1 for a sell, 0 where unknown."""

    ids: np.ndarray
    ts: np.ndarray
    price: np.ndarray
    size: np.ndarray
    side: np.ndarray
    trade_id: list[str]


def venue_to_symbol(instrument: str) -> str:
    """OKX `BTC-USDT` -> `BTC/USDT`; `BTC-USDT-SWAP` -> `BTC/USDT-SWAP`."""
    base, sep, rest = instrument.partition("-")
    return f"{base}/{rest}".upper() if sep and base and rest else instrument.upper()


def symbol_to_venue(symbol: str) -> str:
    """`BTC/USDT` -> `BTC-USDT` (the inverse of `venue_to_symbol`)."""
    return symbol.replace("/", "-").upper()


class SqliteSource:
    """One instrument of one database file, read-only.

    `instrument` may be omitted when the file holds only one. `depth` is the top-N kept per
    side. Times (`start_ns`, `end_ns`) cover both tables.
    """

    def __init__(
        self,
        path: str | Path,
        instrument: str | None = None,
        *,
        depth: int = 10,
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        self.path = Path(path)
        self.depth = depth
        self.batch_rows = batch_rows
        self._db = _connect(self.path)
        try:
            self._open(instrument)
        except BaseException:
            self._db.close()
            raise
        self._instrument: Instrument | None = None

    def _open(self, instrument: str | None) -> None:
        self._has_trades = _check_schema(self._db, self.path)
        names = self.instruments()
        if instrument is not None and "/" in instrument:
            instrument = symbol_to_venue(instrument)
        if instrument is None:
            if len(names) != 1:
                raise SqliteSourceError(
                    f"{self.path} holds {len(names)} instruments ({', '.join(names) or 'none'}); "
                    "choose one with --instrument"
                )
            instrument = names[0]
        elif instrument not in names:
            raise SqliteSourceError(
                f"{self.path} has no book rows for instrument {instrument!r}; "
                f"it holds: {', '.join(names) or 'none'}"
            )
        self.instrument = instrument
        self.symbol = venue_to_symbol(instrument)
        self.book_ids, self.book_ts = self._index("book")
        if self._has_trades:
            self.trade_ids, self.trade_ts = self._index("trades")
        else:
            self.trade_ids = self.trade_ts = np.zeros(0, np.int64)
        firsts = [a[0] for a in (self.book_ts, self.trade_ts) if len(a)]
        lasts = [a[-1] for a in (self.book_ts, self.trade_ts) if len(a)]
        self.start_ns = int(min(firsts)) if firsts else 0
        self.end_ns = int(max(lasts)) if lasts else 0

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SqliteSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def instruments(self) -> list[str]:
        """The instruments that have book rows in this file."""
        return _instruments(self._db)

    @property
    def instrument_info(self) -> Instrument:
        """Metadata inferred from the data: tick and lot from the decimals of prices and sizes."""
        if self._instrument is None:
            px_dec = sz_dec = 0
            rows = self._db.execute(
                "SELECT bids, asks FROM book WHERE instrument = ? ORDER BY id LIMIT 200",
                (self.instrument,),
            ).fetchall()
            if rows:
                levels = self._levels([r[0] for r in rows], [r[1] for r in rows], None)
                px_dec, sz_dec = levels.px_decimals, levels.sz_decimals
            base, quote_ = self.symbol.split("/", 1)
            self._instrument = Instrument(
                symbol=self.symbol,
                base=base,
                quote=quote_,
                tick_size=round(10.0**-px_dec, px_dec),
                lot_size=round(10.0**-sz_dec, sz_dec),
                price_decimals=px_dec,
                qty_decimals=sz_dec,
                provider="sqlite",
                venue_symbol=self.instrument,
            )
        return self._instrument

    def book_rows(
        self, start_ns: int | None = None, end_ns: int | None = None
    ) -> Iterator[BookRows]:
        """Book rows with start_ns <= ts < end_ns, in batches, oldest first."""
        lo, hi = _span(self.book_ts, start_ns, end_ns)
        if lo >= hi:
            return
        cur = self._db.execute(
            "SELECT id, bids, asks FROM book "
            "WHERE instrument = ? AND id BETWEEN ? AND ? ORDER BY id",
            (self.instrument, int(self.book_ids[lo]), int(self.book_ids[hi - 1])),
        )
        at = lo
        while rows := cur.fetchmany(self.batch_rows):
            n = len(rows)
            ids = self.book_ids[at : at + n]
            both = self._levels([r[1] for r in rows], [r[2] for r in rows], ids)
            yield BookRows(
                ids,
                self.book_ts[at : at + n],
                both.px[:n],
                both.sz[:n],
                both.px[n:],
                both.sz[n:],
                both.n[:n],
                both.n[n:],
            )
            at += n

    def trade_rows(
        self, start_ns: int | None = None, end_ns: int | None = None
    ) -> Iterator[TradeRows]:
        """Trades with start_ns <= ts < end_ns, in batches, oldest first."""
        lo, hi = _span(self.trade_ts, start_ns, end_ns)
        if lo >= hi:
            return
        cur = self._db.execute(
            "SELECT trade_id, price, size, side FROM trades "
            "WHERE instrument = ? AND id BETWEEN ? AND ? ORDER BY id",
            (self.instrument, int(self.trade_ids[lo]), int(self.trade_ids[hi - 1])),
        )
        at = lo
        while rows := cur.fetchmany(self.batch_rows):
            n = len(rows)
            ids = self.trade_ids[at : at + n]
            yield TradeRows(
                ids,
                self.trade_ts[at : at + n],
                self._numbers([r[1] for r in rows], ids, "price"),
                self._numbers([r[2] for r in rows], ids, "size"),
                _sides([r[3] for r in rows], ids),
                [_text(r[0]) if r[0] is not None else "" for r in rows],
            )
            at += n

    def events(
        self, start_ns: int | None = None, end_ns: int | None = None
    ) -> Iterator[MarketEvent]:
        """Book rows as snapshots (each followed by a top-of-book quote) merged with the trades.

        A book row comes before the trades of its window [its time, the next row's time), so
        trades stamped with a row's time come right after that row; trades before the first
        row come first. Within a window trades keep their time order (ties by id).
        """
        trades = _TradeCursor(self.trade_rows(start_ns, end_ns))
        symbol = self.symbol
        last = 0.0
        for batch in self.book_rows(start_ns, end_ns):
            for i in range(len(batch.ts)):
                ts = int(batch.ts[i])
                for trade in trades.until(ts, symbol):
                    last = trade.price
                    yield trade
                nb, na = int(batch.n_bids[i]), int(batch.n_asks[i])
                bids = list(
                    zip(batch.bid_px[i, :nb].tolist(), batch.bid_sz[i, :nb].tolist(), strict=True)
                )
                asks = list(
                    zip(batch.ask_px[i, :na].tolist(), batch.ask_sz[i, :na].tolist(), strict=True)
                )
                yield BookSnapshot(
                    symbol=symbol, ts=ts, bids=bids, asks=asks, seq=int(batch.ids[i])
                )
                bid, bsize = bids[0] if bids else (0.0, 0.0)
                ask, asize = asks[0] if asks else (0.0, 0.0)
                if not last:
                    last = (bid + ask) / 2 if bid and ask else bid or ask
                yield Quote(
                    symbol=symbol,
                    ts=ts,
                    last=last,
                    bid=bid,
                    ask=ask,
                    bsize=bsize,
                    asize=asize,
                    ticks=[Tick("bid", bid, bsize), Tick("ask", ask, asize)],
                )
        yield from trades.until(None, symbol)

    def _index(self, table: str) -> tuple[np.ndarray, np.ndarray]:
        rows = self._db.execute(
            f"SELECT id, timestamp FROM {table} WHERE instrument = ? ORDER BY id",
            (self.instrument,),
        ).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        try:
            ts = to_ns([r[1] for r in rows], where=f"{self.path} {table}.timestamp")
        except TimestampError as exc:
            raise SqliteSourceError(str(exc)) from None
        if len(ts) > 1 and (np.diff(ts) < 0).any():
            bad = int(np.flatnonzero(np.diff(ts) < 0)[0]) + 1
            raise SqliteSourceError(
                f"{self.path} {table}: row id {ids[bad]} is older than the row before it; rows "
                "must be in time order by id (rebuild the table with ORDER BY timestamp)"
            )
        return ids, ts

    def _levels(self, bids: list[Any], asks: list[Any], ids: np.ndarray | None) -> Levels:
        """Both sides in one parse: bids in rows [0, n), asks in [n, 2n)."""
        try:
            return parse_levels(bids + asks, self.depth)
        except LevelError:
            # say which side of which row: parse each side on its own to find out
            row_ids = None if ids is None else ids.tolist()
            for texts, column in ((bids, "bids"), (asks, "asks")):
                try:
                    parse_levels(texts, self.depth, row_ids=row_ids, column=column)
                except LevelError as exc:
                    raise SqliteSourceError(f"{self.path} book.{exc}") from None
            raise

    def _numbers(self, values: list[object], ids: np.ndarray, column: str) -> np.ndarray:
        try:
            out = np.asarray(values, dtype=np.float64)
            ok = np.isfinite(out) & (out >= 0)
        except (ValueError, TypeError):
            out, ok = np.zeros(0), np.array([_is_number(v) for v in values])
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            raise SqliteSourceError(
                f"{self.path} trades.{column} of row id {ids[i]}: {values[i]!r} "
                "is not a number >= 0"
            )
        return out


def _is_number(value: object) -> bool:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return bool(np.isfinite(number)) and number >= 0


class _TradeCursor:
    """Trades batch by batch, handed out up to a time (the next book row's)."""

    def __init__(self, batches: Iterator[TradeRows]) -> None:
        self._batches = batches
        self._batch: TradeRows | None = None
        self._at = 0

    def until(self, ts: int | None, symbol: str) -> Iterator[Trade]:
        """Trades with time < ts (all remaining when ts is None)."""
        while True:
            batch = self._batch
            if batch is None or self._at >= len(batch.ts):
                batch = self._batch = next(self._batches, None)
                self._at = 0
                if batch is None:
                    return
            stop = len(batch.ts) if ts is None else int(np.searchsorted(batch.ts, ts, "left"))
            for i in range(self._at, stop):
                yield Trade(
                    symbol=symbol,
                    ts=int(batch.ts[i]),
                    price=float(batch.price[i]),
                    size=float(batch.size[i]),
                    side=_SIDE_NAMES[int(batch.side[i])],
                    trade_id=batch.trade_id[i],
                )
            self._at = max(self._at, stop)
            if stop < len(batch.ts):
                return


_SIDE_NAMES: dict[int, Aggressor] = {BUY: "buy", SELL: "sell", 0: ""}
_SIDE_CODES = {"buy": BUY, "b": BUY, "bid": BUY, "sell": SELL, "s": SELL, "ask": SELL, "": 0}


def _sides(values: list[object], ids: np.ndarray) -> np.ndarray:
    out = np.zeros(len(values), np.int8)
    for i, value in enumerate(values):
        code = _SIDE_CODES.get(_text(value).strip().lower() if value is not None else "")
        if code is None:
            raise SqliteSourceError(f"trades.side of row id {ids[i]}: {value!r} is not buy or sell")
        out[i] = code
    return out


def list_instruments(path: str | Path) -> list[str]:
    """The instruments that have book rows in database `path`."""
    db = _connect(Path(path))
    try:
        _check_schema(db, Path(path))
        return _instruments(db)
    finally:
        db.close()


def _instruments(db: sqlite3.Connection) -> list[str]:
    rows = db.execute("SELECT DISTINCT instrument FROM book").fetchall()
    return sorted(_text(r[0]) for r in rows if r[0] is not None)


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _span(ts: np.ndarray, start_ns: int | None, end_ns: int | None) -> tuple[int, int]:
    lo = 0 if start_ns is None else int(np.searchsorted(ts, start_ns, "left"))
    hi = len(ts) if end_ns is None else int(np.searchsorted(ts, end_ns, "left"))
    return lo, hi


def _connect(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise SqliteSourceError(f"{path}: no such database file")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
    try:
        db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        db.text_factory = bytes  # level text goes to the parser as bytes, undecoded
        db.execute("PRAGMA query_only = ON")
        db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    except sqlite3.Error as exc:
        raise SqliteSourceError(f"{path}: cannot open as SQLite ({exc})") from None
    return db


def _check_schema(db: sqlite3.Connection, path: Path) -> bool:
    """Checks `book` (and `trades`, if there) have the columns we read; True if trades exist."""
    try:
        tables = {
            _text(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    except sqlite3.DatabaseError as exc:
        raise SqliteSourceError(f"{path}: not a SQLite database ({exc})") from None
    if "book" not in tables:
        raise SqliteSourceError(
            f"{path}: no `book` table; expected the OKX schema book({', '.join(BOOK_COLUMNS)}) "
            f"and trades({', '.join(TRADE_COLUMNS)})"
        )
    for table, wanted in (("book", BOOK_COLUMNS), ("trades", TRADE_COLUMNS)):
        if table not in tables:
            continue
        have = {_text(r[1]) for r in db.execute(f"PRAGMA table_info({table})")}
        missing = [c for c in wanted if c not in have]
        if missing:
            raise SqliteSourceError(
                f"{path}: table `{table}` lacks column(s) {', '.join(missing)}; "
                f"expected {table}({', '.join(wanted)})"
            )
    return "trades" in tables


def in_time_order(parts: Sequence[SqliteSource]) -> list[SqliteSource]:
    """One instrument's databases sorted by time; an error where two overlap (their rows
    would interleave out of order)."""
    ordered = sorted(parts, key=lambda p: p.start_ns)
    for before, after in itertools.pairwise(ordered):
        if after.start_ns < before.end_ns:
            raise SqliteSourceError(
                f"{before.path} and {after.path} both hold {after.instrument} rows between "
                f"{_iso(after.start_ns)} and {_iso(min(before.end_ns, after.end_ns))}; "
                "replay one of them, or narrow the time range with --from/--to"
            )
    return ordered


def _iso(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).isoformat(timespec="seconds")


def find_databases(
    root: str | Path,
    instrument: str | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> list[Path]:
    """The database files under `root` (a file or a directory) holding `instrument` rows that
    overlap [start_ns, end_ns), oldest first.
    """
    root = Path(root)
    if instrument is not None and "/" in instrument:
        instrument = symbol_to_venue(instrument)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise SqliteSourceError(f"{root}: no such file or directory")
    found: list[tuple[int, Path]] = []
    for path in sorted(
        p for p in root.rglob("*") if p.suffix.lower() in DB_SUFFIXES and p.is_file()
    ):
        db = _connect(path)
        try:
            _check_schema(db, path)
            first, last = _first_last(db, instrument)
        finally:
            db.close()
        if first is None or last is None:
            continue
        if (end_ns is not None and first >= end_ns) or (start_ns is not None and last < start_ns):
            continue
        found.append((first, path))
    if not found:
        what = f" with {instrument} rows" if instrument else ""
        span = " in the given time range" if start_ns is not None or end_ns is not None else ""
        raise SqliteSourceError(f"{root}: no database files ({', '.join(DB_SUFFIXES)}){what}{span}")
    return [p for _, p in sorted(found)]


def _first_last(db: sqlite3.Connection, instrument: str | None) -> tuple[int | None, int | None]:
    where, args = ("WHERE instrument = ?", (instrument,)) if instrument else ("", ())
    first = db.execute(f"SELECT timestamp FROM book {where} ORDER BY id LIMIT 1", args).fetchone()
    last = db.execute(
        f"SELECT timestamp FROM book {where} ORDER BY id DESC LIMIT 1", args
    ).fetchone()
    if first is None or last is None:
        return None, None
    ts = to_ns([first[0], last[0]])
    return int(ts[0]), int(ts[1])
