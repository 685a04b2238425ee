"""Export one kind of event from a recording as CSV, JSON lines or Parquet (pyarrow extra).

Columns, one row per item, in recorded order (times are integer ns since the epoch, UTC):

- trades: ts, recv_ts, symbol, price, size, side (buy|sell|""), trade_id
- book:   ts, recv_ts, symbol, event (snap|delta), seq, side (bid|ask), price, size
          — one row per level; a snapshot's rows replace the book, a delta size 0 deletes
- bars:   ts, symbol, timeframe (s), time (bar start, epoch s), open, high, low, close,
          volume, count, vwap
- quotes: ts, recv_ts, symbol, last, bid, ask, bsize, asize, volume
- raw:    a raw capture's wire frames as capture JSON lines (jsonl only; see raw_export)

pandas (`read_csv`, `read_json(lines=True)`, `read_parquet`), polars and duckdb read these
directly.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import IO, Any, Final

import msgspec
import numpy as np

from console.model.events import Bar, BookDelta, BookSnapshot, MarketEvent, Quote, Trade

from .bulk import trade_arrays
from .format import (
    KIND_DELTA,
    KIND_OTHER,
    KIND_TRADE,
    RAW_SUFFIX,
    Columns,
    events_from_columns,
)
from .reader import Recording

KINDS: Final = ("trades", "book", "bars", "quotes")
RAW_KIND: Final = "raw"  # wire frames of a raw capture, not events
FORMATS: Final = ("csv", "jsonl", "parquet")

COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "trades": ("ts", "recv_ts", "symbol", "price", "size", "side", "trade_id"),
    "book": ("ts", "recv_ts", "symbol", "event", "seq", "side", "price", "size"),
    "bars": (
        "ts", "symbol", "timeframe", "time", "open", "high", "low", "close", "volume", "count",
        "vwap",
    ),
    "quotes": ("ts", "recv_ts", "symbol", "last", "bid", "ask", "bsize", "asize", "volume"),
}  # fmt: skip

_TYPES: Final[dict[str, tuple[str, ...]]] = {
    "trades": ("int64", "int64", "string", "float64", "float64", "string", "string"),
    "book": ("int64", "int64", "string", "string", "int64", "string", "float64", "float64"),
    "bars": (
        "int64", "string", "int64", "int64", "float64", "float64", "float64", "float64",
        "float64", "int64", "float64",
    ),
    "quotes": (
        "int64", "int64", "string", "float64", "float64", "float64", "float64", "float64",
        "float64",
    ),
}  # fmt: skip

_SIDES = np.array(["", "buy", "sell"], dtype=object)
_BOOK_SIDES = np.array(["bid", "ask"], dtype=object)


class ExportError(Exception):
    """An export that cannot be done as asked; the message says what to change."""


Block = dict[str, list[Any]]


def _empty(kind: str) -> Block:
    return {c: [] for c in COLUMNS[kind]}


def _rows_from_events(kind: str, events: list[MarketEvent], block: Block) -> None:
    for ev in events:
        if kind == "trades" and isinstance(ev, Trade):
            vals: tuple[Any, ...] = (
                ev.ts, ev.recv_ts, ev.symbol, ev.price, ev.size, ev.side, ev.trade_id,
            )  # fmt: skip
        elif kind == "quotes" and isinstance(ev, Quote):
            vals = (ev.ts, ev.recv_ts, ev.symbol, ev.last, ev.bid, ev.ask, ev.bsize, ev.asize,
                    ev.volume)  # fmt: skip
        elif kind == "bars" and isinstance(ev, Bar):
            vals = (ev.ts, ev.symbol, ev.timeframe, ev.time, ev.open, ev.high, ev.low, ev.close,
                    ev.volume, ev.count, ev.vwap)  # fmt: skip
        elif kind == "book" and isinstance(ev, BookSnapshot | BookDelta):
            name = "snap" if isinstance(ev, BookSnapshot) else "delta"
            for side, levels in (("bid", ev.bids), ("ask", ev.asks)):
                for px, qty in levels:
                    row = (ev.ts, ev.recv_ts, ev.symbol, name, ev.seq, side, px, qty)
                    for col, v in zip(COLUMNS[kind], row, strict=True):
                        block[col].append(v)
            continue
        else:
            continue
        for col, v in zip(COLUMNS[kind], vals, strict=True):
            block[col].append(v)


def _block(kind: str, cols: Columns) -> Block:
    """One batch's rows of `kind`; columnar where the batch allows it."""
    others_of_kind = _has_other(kind, cols)
    if kind == "trades" and not others_of_kind:
        ts, px, sz, side = trade_arrays(cols)
        recv = cols.recv[cols.hot_index(KIND_TRADE)]
        n = len(ts)
        return {
            "ts": ts.tolist(),
            "recv_ts": recv.tolist(),
            "symbol": [cols.symbol] * n,
            "price": px.tolist(),
            "size": sz.tolist(),
            "side": _SIDES[side].tolist(),
            "trade_id": list(cols.t_id) if cols.t_id else [""] * n,
        }
    if kind == "book" and not others_of_kind:
        per_event = cols.d_nb + cols.d_na
        hot = cols.hot_index(KIND_DELTA)
        ts = np.repeat(cols.ts[hot], per_event)
        n = len(ts)
        return {
            "ts": ts.tolist(),
            "recv_ts": np.repeat(cols.recv[hot], per_event).tolist(),
            "symbol": [cols.symbol] * n,
            "event": ["delta"] * n,
            "seq": np.repeat(cols.d_seq, per_event).tolist(),
            "side": _BOOK_SIDES[cols.level_side].tolist(),
            "price": (cols.l_px / 10.0**cols.pdec).tolist(),
            "size": (cols.l_qty / 10.0**cols.qdec).tolist(),
        }
    block = _empty(kind)
    if kind in ("trades", "book"):
        _rows_from_events(kind, events_from_columns(cols), block)
    else:
        _rows_from_events(kind, cols.others, block)
    return block


def _has_other(kind: str, cols: Columns) -> bool:
    want: tuple[type, ...] = {
        "trades": (Trade,),
        "book": (BookSnapshot, BookDelta),
        "bars": (Bar,),
        "quotes": (Quote,),
    }[kind]
    return any(isinstance(ev, want) for ev in cols.others)


def iter_blocks(rec: Recording, kind: str) -> Iterator[Block]:
    """Rows of `kind`, one block (column name -> values) per batch that has any."""
    if kind not in KINDS:
        raise ExportError(f"--kind {kind!r} is not one of {', '.join(KINDS)}")
    for cols in rec.iter_batches():
        if kind in ("bars", "quotes") and not np.any(cols.kinds == KIND_OTHER):
            continue
        block = _block(kind, cols)
        if block[COLUMNS[kind][0]]:
            yield block


def _open_out(out: Path | None, binary: bool) -> AbstractContextManager[IO[Any]]:
    if out is None or str(out) == "-":
        return nullcontext(sys.stdout.buffer if binary else sys.stdout)
    try:
        return open(out, "wb") if binary else open(out, "w", newline="", encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror}") from None


def export(rec: Recording, kind: str, fmt: str, out: Path | None) -> int:
    """Write rows of `kind` from `rec` to `out` (stdout for None or '-'); returns the row count."""
    if fmt not in FORMATS:
        raise ExportError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    if kind == RAW_KIND or rec.is_raw:
        return _export_raw(rec, kind, fmt, out)
    if kind not in KINDS:
        raise ExportError(f"--kind {kind!r} is not one of {', '.join((*KINDS, RAW_KIND))}")
    if fmt == "parquet":
        return _export_parquet(rec, kind, out)
    rows = 0
    names = COLUMNS[kind]
    if fmt == "csv":
        with _open_out(out, binary=False) as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(names)
            for block in iter_blocks(rec, kind):
                cols = [block[c] for c in names]
                writer.writerows(zip(*cols, strict=True))
                rows += len(cols[0])
        return rows
    enc = msgspec.json.Encoder()
    with _open_out(out, binary=True) as fb:
        for block in iter_blocks(rec, kind):
            cols = [block[c] for c in names]
            fb.write(
                enc.encode_lines(
                    [dict(zip(names, r, strict=True)) for r in zip(*cols, strict=True)]
                )
            )
            rows += len(cols[0])
    return rows


def _export_raw(rec: Recording, kind: str, fmt: str, out: Path | None) -> int:
    from .raw_export import write_capture

    if not rec.is_raw:
        raise ExportError(
            f"{rec.path} holds events, not raw frames; raw frames are in the "
            f"`*{RAW_SUFFIX}` file beside it (recorded with --raw)"
        )
    if kind != RAW_KIND:
        raise ExportError(f"{rec.path} holds raw wire frames; export them with --kind raw")
    if fmt != "jsonl":
        raise ExportError("--kind raw exports as --format jsonl (the captures format)")
    with _open_out(out, binary=True) as fb:
        return write_capture(rec, fb)


def _export_parquet(rec: Recording, kind: str, out: Path | None) -> int:
    try:
        import pyarrow as pa  # type: ignore[import-not-found, import-untyped, unused-ignore]
        import pyarrow.parquet as pq  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        raise ExportError(
            "parquet export needs pyarrow: pip install 'mdconsole[parquet]' "
            "(or use --format csv|jsonl)"
        ) from None
    if out is None or str(out) == "-":
        raise ExportError("parquet export needs an output file (-o FILE.parquet), not stdout")
    names = COLUMNS[kind]
    schema = pa.schema([(n, getattr(pa, t)()) for n, t in zip(names, _TYPES[kind], strict=True)])
    rows = 0
    try:
        with pq.ParquetWriter(str(out), schema) as writer:
            for block in iter_blocks(rec, kind):
                writer.write_table(pa.table({n: block[n] for n in names}, schema=schema))
                rows += len(block[names[0]])
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc}") from None
    return rows


def default_output(path: Path, kind: str, fmt: str) -> Path:
    """`sim_BTC_USD.mdrec` -> `sim_BTC_USD.trades.csv` beside it; a raw capture
    `kraken_BTC_USD.raw.mdrec` -> `kraken_BTC_USD.raw.jsonl`."""
    if kind == RAW_KIND and path.name.endswith(RAW_SUFFIX):
        return path.with_name(f"{path.stem}.{fmt}")
    return path.with_name(f"{path.stem}.{kind}.{fmt}")


__all__ = ["COLUMNS", "FORMATS", "KINDS", "RAW_KIND", "ExportError", "default_output", "export"]
