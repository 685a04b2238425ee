"""The recording file format: a header, then framed, length-prefixed, CRC-checked batches.

File layout::

    MAGIC (8 bytes) | u32 header length | u32 crc32(header) | header (msgpack `Header`)
    frame*          | each: FRAME_HEAD (40 bytes) | payload (`raw_len` bytes once decompressed)

A frame head is `magic, length, crc, codec, flags, pdec, qdec, first_ts, last_ts, n, raw_len`;
the CRC covers the head after the CRC field and the payload, so a torn or damaged frame is
detected and a reader can resynchronize on the next frame magic. `pdec`/`qdec` are the decimal
places prices and sizes are stored with (integers scaled by 10**pdec), per frame, so a file can
be appended to even if the instrument's tick size changed.

The hot kinds (book deltas and trades) are stored columnar — integer ts deltas, prices as
scaled integer deltas, sizes as scaled integers, each column at the narrowest width that holds
it — and everything else as msgpack via `console.model.codec`. A `kinds` column keeps the order
of all events, so decoding gives back the identical event sequence. Any hot event whose numbers
do not survive the integer round trip exactly (say a price with more decimals than the tick)
is stored as msgpack instead, so the format is lossless for every event.

A raw capture (`<stem>.raw.mdrec`, header `content="raw"`) uses the same file and frame
layout; its frames (flag FLAG_RAW) hold a provider's exact wire frames instead of events:
receive times, a per-frame symbol-or-connection bit, a text-or-binary bit and the payloads
concatenated (see `RawFrame`, `encode_raw_frame`).
"""

from __future__ import annotations

import mmap
import struct
import zlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Final, Literal, NamedTuple, TypeAlias

import msgspec
import numpy as np

from console.model.codec import many_from_msgpack, many_to_msgpack
from console.model.events import BookDelta, BookSnapshot, MarketEvent, Trade
from console.model.instruments import Instrument, decimals_of

_zstd: ModuleType | None
try:  # zstd compresses the columns smaller than zlib and much faster (bench/record.py)
    import zstandard as _zstd
except ImportError:  # pragma: no cover - depends on the environment
    _zstd = None

FORMAT_VERSION: Final = 1
MAGIC: Final = b"MDREC\x00\x01\n"
FRAME_MAGIC: Final = b"MDB\x01"
SUFFIX: Final = ".mdrec"
RAW_SUFFIX: Final = ".raw" + SUFFIX  # raw wire frames beside the events of the same stem

_FILE_HEAD = struct.Struct("<8sII")
_FRAME_HEAD = struct.Struct("<4sIIBBBBqqII")
FRAME_HEAD_SIZE: Final = _FRAME_HEAD.size
FILE_HEAD_SIZE: Final = _FILE_HEAD.size
MAX_FRAME: Final = 1 << 30  # a length past this is damage, not data

Buf: TypeAlias = bytes | mmap.mmap
"""What frames are read from: the whole file in memory or mapped."""

Compression = Literal["none", "zlib", "zstd"]
CODEC_NONE, CODEC_ZLIB, CODEC_ZSTD = 0, 1, 2
_CODECS: dict[str, int] = {"none": CODEC_NONE, "zlib": CODEC_ZLIB, "zstd": CODEC_ZSTD}

FLAG_SNAPSHOT: Final = 1  # the frame holds at least one BookSnapshot (seek index)
FLAG_RAW: Final = 2  # the frame holds raw wire frames, not events

KIND_DELTA, KIND_TRADE, KIND_OTHER = 0, 1, 2
SIDE_BID, SIDE_ASK = 0, 1
_AGGRESSOR = ("", "buy", "sell")
_AGGRESSOR_CODE = {"": 0, "buy": 1, "sell": 2}
_INT_LIMIT = 1 << 62  # ts/seq beyond this go to msgpack so column deltas never overflow
_EXACT_LIMIT = float(1 << 53)  # scaled values beyond this are not exact integers in a float
DEFAULT_DECIMALS = 8  # where no instrument is known


class FormatError(Exception):
    """A file that is not a recording or whose header is damaged; the message says which."""


class Header(msgspec.Struct, frozen=True, kw_only=True):
    """What a recording holds: written once at the start of every file."""

    version: int = FORMAT_VERSION
    provider: str
    symbol: str
    instrument: Instrument | None = None
    compression: str = "zstd"
    created_ns: int = 0
    app: str = "mdconsole"
    content: str = "events"  # "raw": the file holds wire frames (files before it: events)


_header_encoder = msgspec.msgpack.Encoder()
_header_decoder = msgspec.msgpack.Decoder(Header)


def encode_header(header: Header) -> bytes:
    body = _header_encoder.encode(header)
    return _FILE_HEAD.pack(MAGIC, len(body), zlib.crc32(body)) + body


def decode_header(data: bytes, where: str = "file") -> tuple[Header, int]:
    """The header and the offset of the first frame; FormatError says what is wrong."""
    if len(data) < FILE_HEAD_SIZE:
        raise FormatError(f"{where}: too short to be a recording ({len(data)} bytes)")
    magic, length, crc = _FILE_HEAD.unpack_from(data)
    if magic != MAGIC:
        raise FormatError(f"{where}: not an mdconsole recording (bad magic {magic[:8]!r})")
    end = FILE_HEAD_SIZE + length
    body = data[FILE_HEAD_SIZE:end]
    if len(body) < length:
        raise FormatError(f"{where}: header is cut short ({len(body)} of {length} bytes)")
    if zlib.crc32(body) != crc:
        raise FormatError(f"{where}: header checksum mismatch; the file start is damaged")
    try:
        header = _header_decoder.decode(body)
    except (msgspec.DecodeError, ValueError) as exc:
        raise FormatError(f"{where}: header does not decode: {exc}") from None
    if header.version > FORMAT_VERSION:
        raise FormatError(
            f"{where}: format version {header.version} is newer than this mdconsole reads "
            f"({FORMAT_VERSION}); upgrade mdconsole"
        )
    return header, end


def scales_for(instrument: Instrument | None) -> tuple[int, int]:
    """Decimal places (price, size) used to store integers for this instrument."""
    if instrument is None:
        return DEFAULT_DECIMALS, DEFAULT_DECIMALS
    return min(decimals_of(instrument.tick_size), 12), min(decimals_of(instrument.lot_size), 12)


@dataclass(slots=True)
class Columns:
    """One batch, columnar. The hot kinds as arrays; other events as structs in order.

    `kinds[i]` says where event i lives: KIND_DELTA (next row of `d_*`, with `d_nb + d_na`
    rows of `l_*`, bids first), KIND_TRADE (next row of `t_*`) or KIND_OTHER (next of
    `others`). `ts`/`recv` have one row per hot event (deltas and trades, in order).
    Prices and sizes are integers scaled by 10**pdec and 10**qdec.
    """

    pdec: int
    qdec: int
    kinds: np.ndarray  # u1
    ts: np.ndarray  # i8, hot events
    recv: np.ndarray  # i8, hot events
    d_nb: np.ndarray  # i8 per delta event
    d_na: np.ndarray  # i8 per delta event
    d_seq: np.ndarray  # i8 per delta event
    l_px: np.ndarray  # i8 per level
    l_qty: np.ndarray  # i8 per level
    t_px: np.ndarray  # i8 per trade
    t_qty: np.ndarray  # i8 per trade
    t_side: np.ndarray  # u1 per trade: 0 "", 1 buy, 2 sell
    t_id: list[str] = field(default_factory=list)  # per trade ([] = all empty)
    others: list[MarketEvent] = field(default_factory=list)
    symbol: str = ""

    def __len__(self) -> int:
        return len(self.kinds)

    @property
    def level_side(self) -> np.ndarray:
        """Side (SIDE_BID/SIDE_ASK) of every level row, in order."""
        nb, na = self.d_nb, self.d_na
        reps = np.empty(2 * len(nb), dtype=np.int64)
        reps[0::2] = nb
        reps[1::2] = na
        sides = np.tile(np.array([SIDE_BID, SIDE_ASK], dtype=np.uint8), len(nb))
        return np.repeat(sides, reps)

    def hot_index(self, kind: int) -> np.ndarray:
        """Row numbers in `ts`/`recv` of the hot events of `kind`."""
        hot = self.kinds[self.kinds != KIND_OTHER]
        return np.flatnonzero(hot == kind)

    def ts_range(self) -> tuple[int, int]:
        lo = int(self.ts.min()) if len(self.ts) else None
        hi = int(self.ts.max()) if len(self.ts) else None
        for ev in self.others:
            if ev.ts == 0:  # unknown time (e.g. a first quote); would spoil the seek index
                continue
            lo = ev.ts if lo is None else min(lo, ev.ts)
            hi = ev.ts if hi is None else max(hi, ev.ts)
        return (lo or 0, hi or 0)

    def has_snapshot(self) -> bool:
        return any(isinstance(ev, BookSnapshot) for ev in self.others)


_EMPTY_U1 = np.zeros(0, dtype=np.uint8)


def _scaled(values: list[float], dec: int) -> tuple[np.ndarray, np.ndarray]:
    """Scaled integers and a mask of the values that round-trip exactly through them."""
    x = np.asarray(values, dtype=np.float64)
    scale = 10.0**dec
    with np.errstate(over="ignore", invalid="ignore"):  # huge values are caught by `ok`
        y = x * scale
    ok = np.abs(y) < _EXACT_LIMIT
    units = np.rint(np.where(ok, y, 0.0)).astype(np.int64)
    back = units / scale
    ok &= (back == x) & (np.signbit(back) == np.signbit(x))
    return units, ok


def _int_ok(v: int) -> bool:
    return 0 <= v < _INT_LIMIT


def columns_from_events(events: list[MarketEvent], symbol: str, pdec: int, qdec: int) -> Columns:
    """Split events into hot columns and msgpack others; lossless for every event."""
    # Candidates first, then one vectorized exactness check; failures become "other".
    kinds: list[int] = []
    d_events: list[BookDelta] = []
    t_events: list[Trade] = []
    lvl_px: list[float] = []
    lvl_qty: list[float] = []
    for ev in events:
        if ev.symbol == symbol and _int_ok(ev.ts) and _int_ok(ev.recv_ts):
            if type(ev) is BookDelta and _int_ok(ev.seq):
                kinds.append(KIND_DELTA)
                d_events.append(ev)
                for px, qty in ev.bids:
                    lvl_px.append(px)
                    lvl_qty.append(qty)
                for px, qty in ev.asks:
                    lvl_px.append(px)
                    lvl_qty.append(qty)
                continue
            if type(ev) is Trade:
                kinds.append(KIND_TRADE)
                t_events.append(ev)
                continue
        kinds.append(KIND_OTHER)

    k = np.array(kinds, dtype=np.uint8)
    nb = np.fromiter((len(e.bids) for e in d_events), dtype=np.int64, count=len(d_events))
    na = np.fromiter((len(e.asks) for e in d_events), dtype=np.int64, count=len(d_events))
    l_px, ok_px = _scaled(lvl_px, pdec)
    l_qty, ok_qty = _scaled(lvl_qty, qdec)
    t_px, ok_tpx = _scaled([e.price for e in t_events], pdec)
    t_qty, ok_tqty = _scaled([e.size for e in t_events], qdec)

    d_ok = np.ones(len(d_events), dtype=bool)
    lvl_ok = ok_px & ok_qty
    if not lvl_ok.all():
        owner = np.repeat(np.arange(len(d_events)), nb + na)
        bad = np.unique(owner[~lvl_ok])
        d_ok[bad] = False
    t_ok = ok_tpx & ok_tqty
    if not d_ok.all() or not t_ok.all():
        hot_pos = np.flatnonzero(k != KIND_OTHER)
        d_pos = hot_pos[k[hot_pos] == KIND_DELTA]
        t_pos = hot_pos[k[hot_pos] == KIND_TRADE]
        k[d_pos[~d_ok]] = KIND_OTHER
        k[t_pos[~t_ok]] = KIND_OTHER
        lvl_keep = np.repeat(d_ok, nb + na)
        l_px, l_qty = l_px[lvl_keep], l_qty[lvl_keep]
        d_events = [e for e, ok in zip(d_events, d_ok.tolist(), strict=True) if ok]
        nb, na = nb[d_ok], na[d_ok]
        t_events = [e for e, ok in zip(t_events, t_ok.tolist(), strict=True) if ok]
        t_px, t_qty = t_px[t_ok], t_qty[t_ok]

    others = [ev for ev, kind in zip(events, k.tolist(), strict=True) if kind == KIND_OTHER]
    hot = [ev for ev, kind in zip(events, k.tolist(), strict=True) if kind != KIND_OTHER]
    t_ids = [e.trade_id for e in t_events]
    return Columns(
        pdec=pdec,
        qdec=qdec,
        kinds=k,
        ts=np.fromiter((e.ts for e in hot), dtype=np.int64, count=len(hot)),
        recv=np.fromiter((e.recv_ts for e in hot), dtype=np.int64, count=len(hot)),
        d_nb=nb,
        d_na=na,
        d_seq=np.fromiter((e.seq for e in d_events), dtype=np.int64, count=len(d_events)),
        l_px=l_px,
        l_qty=l_qty,
        t_px=t_px,
        t_qty=t_qty,
        t_side=np.array([_AGGRESSOR_CODE[e.side] for e in t_events], dtype=np.uint8),
        t_id=t_ids if any(t_ids) else [],
        others=others,
        symbol=symbol,
    )


def events_from_columns(cols: Columns) -> list[MarketEvent]:
    """The events of a batch, in their original order."""
    px_scale = 10.0**cols.pdec
    qty_scale = 10.0**cols.qdec
    levels = list(
        zip((cols.l_px / px_scale).tolist(), (cols.l_qty / qty_scale).tolist(), strict=True)
    )
    d_rows = cols.hot_index(KIND_DELTA)
    t_rows = cols.hot_index(KIND_TRADE)
    deltas = zip(
        cols.ts[d_rows].tolist(),
        cols.recv[d_rows].tolist(),
        cols.d_nb.tolist(),
        cols.d_na.tolist(),
        cols.d_seq.tolist(),
        strict=True,
    )
    trades = zip(
        cols.ts[t_rows].tolist(),
        cols.recv[t_rows].tolist(),
        (cols.t_px / px_scale).tolist(),
        (cols.t_qty / qty_scale).tolist(),
        [_AGGRESSOR[s] for s in cols.t_side.tolist()],
        cols.t_id or [""] * len(t_rows),
        strict=True,
    )
    symbol = cols.symbol
    others = iter(cols.others)
    out: list[MarketEvent] = []
    append = out.append
    li = 0
    for kind in cols.kinds.tolist():
        if kind == KIND_DELTA:
            ts, recv, nb, na, seq = next(deltas)
            mid = li + nb
            end = mid + na
            append(
                BookDelta(
                    symbol=symbol,
                    ts=ts,
                    recv_ts=recv,
                    bids=levels[li:mid],
                    asks=levels[mid:end],
                    seq=seq,
                )
            )
            li = end
        elif kind == KIND_TRADE:
            ts, recv, px, qty, side, trade_id = next(trades)
            append(
                Trade(
                    symbol=symbol,
                    ts=ts,
                    recv_ts=recv,
                    price=px,
                    size=qty,
                    side=side,
                    trade_id=trade_id,
                )
            )
        else:
            append(next(others))
    return out


# --- integer column packing -------------------------------------------------------------

_WIDTHS = ((np.int8, 1), (np.int16, 2), (np.int32, 4), (np.int64, 8))


def _pack_ints(values: np.ndarray) -> bytes:
    """One width byte, then the values at the narrowest signed width that holds them."""
    if len(values) == 0:
        return b"\x00"
    lo, hi = int(values.min()), int(values.max())
    if lo == 0 and hi == 0:
        return b"\x00"
    for dtype, width in _WIDTHS:
        info = np.iinfo(dtype)
        if info.min <= lo and hi <= info.max:
            return bytes((width,)) + values.astype(np.dtype(dtype).newbyteorder("<")).tobytes()
    raise AssertionError("int64 values always fit")  # pragma: no cover


def _unpack_ints(data: bytes, n: int, what: str) -> np.ndarray:
    width = data[0] if data else 0
    if width == 0:
        return np.zeros(n, dtype=np.int64)
    dtype = {1: "<i1", 2: "<i2", 4: "<i4", 8: "<i8"}.get(width)
    if dtype is None or len(data) != 1 + width * n:
        raise FormatError(f"column {what}: width {width} does not fit {n} rows")
    return np.frombuffer(data, dtype=dtype, offset=1).astype(np.int64)


def _delta(values: np.ndarray) -> np.ndarray:
    if len(values) == 0:
        return values
    out = np.empty_like(values)
    out[0] = values[0]
    np.subtract(values[1:], values[:-1], out=out[1:])
    return out


def _undelta(values: np.ndarray) -> np.ndarray:
    return np.cumsum(values, dtype=np.int64)


class _Body(msgspec.Struct, array_like=True):
    """The serialized batch, before compression."""

    symbol: str
    n_hot: int
    n_delta: int
    n_level: int
    n_trade: int
    kinds: bytes
    ts: bytes
    recv: bytes
    d_nb: bytes
    d_na: bytes
    d_seq: bytes
    l_px: bytes
    l_qty: bytes
    t_px: bytes
    t_qty: bytes
    t_side: bytes
    t_id: list[str]
    others: bytes


_body_encoder = msgspec.msgpack.Encoder()
_body_decoder = msgspec.msgpack.Decoder(_Body)


def _side_code(values: np.ndarray) -> bytes:
    return values.astype(np.uint8).tobytes() if len(values) else b""


def encode_body(cols: Columns) -> bytes:
    recv = cols.recv
    # recv_ts is usually ts plus a small latency, or all zero where unknown
    recv_col = _pack_ints(_delta(recv - cols.ts)) if recv.any() else b""
    body = _Body(
        symbol=cols.symbol,
        n_hot=len(cols.ts),
        n_delta=len(cols.d_nb),
        n_level=len(cols.l_px),
        n_trade=len(cols.t_px),
        kinds=cols.kinds.astype(np.uint8).tobytes(),
        ts=_pack_ints(_delta(cols.ts)),
        recv=recv_col,
        d_nb=_pack_ints(cols.d_nb),
        d_na=_pack_ints(cols.d_na),
        d_seq=_pack_ints(_delta(cols.d_seq)),
        l_px=_pack_ints(_delta(cols.l_px)),
        l_qty=_pack_ints(cols.l_qty),
        t_px=_pack_ints(_delta(cols.t_px)),
        t_qty=_pack_ints(cols.t_qty),
        t_side=_side_code(cols.t_side),
        t_id=cols.t_id,
        others=many_to_msgpack(cols.others) if cols.others else b"",
    )
    return _body_encoder.encode(body)


def decode_body(raw: bytes, pdec: int, qdec: int) -> Columns:
    try:
        body = _body_decoder.decode(raw)
    except (msgspec.DecodeError, ValueError) as exc:
        raise FormatError(f"batch body does not decode: {exc}") from None
    kinds = np.frombuffer(body.kinds, dtype=np.uint8)
    ts = _undelta(_unpack_ints(body.ts, body.n_hot, "ts"))
    if body.recv:
        recv = _undelta(_unpack_ints(body.recv, body.n_hot, "recv")) + ts
    else:
        recv = np.zeros(body.n_hot, dtype=np.int64)
    t_side = np.frombuffer(body.t_side, dtype=np.uint8) if body.n_trade else _EMPTY_U1
    if len(t_side) != body.n_trade or (body.t_id and len(body.t_id) != body.n_trade):
        raise FormatError("trade columns disagree on the number of trades")
    return Columns(
        pdec=pdec,
        qdec=qdec,
        kinds=kinds,
        ts=ts,
        recv=recv,
        d_nb=_unpack_ints(body.d_nb, body.n_delta, "d_nb"),
        d_na=_unpack_ints(body.d_na, body.n_delta, "d_na"),
        d_seq=_undelta(_unpack_ints(body.d_seq, body.n_delta, "d_seq")),
        l_px=_undelta(_unpack_ints(body.l_px, body.n_level, "l_px")),
        l_qty=_unpack_ints(body.l_qty, body.n_level, "l_qty"),
        t_px=_undelta(_unpack_ints(body.t_px, body.n_trade, "t_px")),
        t_qty=_unpack_ints(body.t_qty, body.n_trade, "t_qty"),
        t_side=t_side,
        t_id=body.t_id,
        others=_decode_others(body.others),
        symbol=body.symbol,
    )


def _decode_others(data: bytes) -> list[MarketEvent]:
    if not data:
        return []
    try:
        return many_from_msgpack(data)
    except (msgspec.DecodeError, ValueError) as exc:
        # intact bytes that do not decode: written by a newer mdconsole with new event kinds
        raise FormatError(
            f"batch holds events this mdconsole cannot read ({exc}); upgrade"
        ) from None


# --- compression and frames -------------------------------------------------------------


def codec_id(compression: str) -> int:
    if compression not in _CODECS:
        raise ValueError(f"compression {compression!r} is not one of {', '.join(_CODECS)}")
    if compression == "zstd" and _zstd is None:
        return CODEC_ZLIB  # stays readable anywhere: zlib is in the stdlib
    return _CODECS[compression]


def default_compression() -> Compression:
    return "zstd" if _zstd is not None else "zlib"


_zstd_c = _zstd.ZstdCompressor(level=3) if _zstd is not None else None
_zstd_d = _zstd.ZstdDecompressor() if _zstd is not None else None


def compress(raw: bytes, codec: int) -> bytes:
    if codec == CODEC_ZSTD:
        assert _zstd_c is not None
        packed: bytes = _zstd_c.compress(raw)
        return packed
    if codec == CODEC_ZLIB:
        return zlib.compress(raw, 6)
    return raw


def decompress(data: bytes, codec: int, raw_len: int) -> bytes:
    if codec == CODEC_ZSTD:
        if _zstd_d is None:
            raise FormatError("batch is zstd-compressed; install the `zstandard` package")
        unpacked: bytes = _zstd_d.decompress(data, max_output_size=raw_len)
        return unpacked
    if codec == CODEC_ZLIB:
        return zlib.decompress(data)
    if codec == CODEC_NONE:
        return data
    raise FormatError(f"unknown compression codec {codec}")


@dataclass(frozen=True, slots=True)
class FrameHead:
    """A frame's fixed head: enough to index and skip a batch without decoding it."""

    offset: int  # of the head in the file
    length: int  # payload bytes on disk
    codec: int
    flags: int
    pdec: int
    qdec: int
    first_ts: int
    last_ts: int
    n: int
    raw_len: int

    @property
    def end(self) -> int:
        return self.offset + FRAME_HEAD_SIZE + self.length

    @property
    def has_snapshot(self) -> bool:
        return bool(self.flags & FLAG_SNAPSHOT)


def encode_frame(cols: Columns, codec: int) -> bytes:
    raw = encode_body(cols)
    payload = compress(raw, codec)
    first, last = cols.ts_range()
    flags = FLAG_SNAPSHOT if cols.has_snapshot() else 0
    tail = struct.pack(
        "<BBBBqqII", codec, flags, cols.pdec, cols.qdec, first, last, len(cols), len(raw)
    )
    crc = zlib.crc32(payload, zlib.crc32(tail))
    return FRAME_MAGIC + struct.pack("<II", len(payload), crc) + tail + payload


def encode_events(
    events: list[MarketEvent], symbol: str, pdec: int, qdec: int, codec: int
) -> bytes:
    return encode_frame(columns_from_events(events, symbol, pdec, qdec), codec)


def parse_frame_head(buf: Buf, pos: int, file_size: int) -> FrameHead | None:
    """The head at `pos` if it is plausible (magic, sane sizes, payload within the file)."""
    if pos + FRAME_HEAD_SIZE > file_size or len(buf) < pos + FRAME_HEAD_SIZE:
        return None
    magic, length, _crc, codec, flags, pdec, qdec, first, last, n, raw_len = (
        _FRAME_HEAD.unpack_from(buf, pos)
    )
    if magic != FRAME_MAGIC or length > MAX_FRAME or raw_len > MAX_FRAME:
        return None
    if pos + FRAME_HEAD_SIZE + length > file_size:
        return None
    return FrameHead(pos, length, codec, flags, pdec, qdec, first, last, n, raw_len)


def frame_crc_ok(buf: Buf, head: FrameHead) -> bool:
    crc: int = _FRAME_HEAD.unpack_from(buf, head.offset)[2]
    start = head.offset + 12
    return zlib.crc32(buf[start : head.end]) == crc


def decode_frame(buf: Buf, head: FrameHead) -> Columns:
    payload = bytes(buf[head.offset + FRAME_HEAD_SIZE : head.end])
    raw = decompress(payload, head.codec, head.raw_len)
    return decode_body(raw, head.pdec, head.qdec)


__all__ = [
    "FORMAT_VERSION",
    "SUFFIX",
    "Columns",
    "FormatError",
    "FrameHead",
    "Header",
    "RawFrame",
]


def columns_from_arrays(
    symbol: str,
    pdec: int,
    qdec: int,
    kind: np.ndarray,
    ts: np.ndarray,
    side: np.ndarray,
    price: np.ndarray,
    qty: np.ndarray,
    others: list[MarketEvent] | None = None,
    recv_ts: np.ndarray | None = None,
) -> Columns:
    """The fast path: a batch straight from arrays, without per-event objects.

    Row i is a single-level book delta (`kind` 0; `side` 0 bid / 1 ask), a trade (`kind` 1;
    `side` 0 = the bid was hit, a sell; 1 = a buy) or the next of `others` (`kind` 2, its
    `ts`/`side`/`price`/`qty` ignored). Prices and sizes are integers already scaled by
    10**pdec and 10**qdec (for a 0.1 tick and 0.001 lot: ticks and lots).
    """
    kinds = np.asarray(kind, dtype=np.uint8)
    is_d = kinds == KIND_DELTA
    is_t = kinds == KIND_TRADE
    hot = ~(kinds == KIND_OTHER)
    n_other = int(len(kinds) - np.count_nonzero(hot))
    extra = others or []
    if len(extra) != n_other:
        raise ValueError(f"{n_other} rows have kind 2 (other) but {len(extra)} others were given")
    d_side = np.asarray(side[is_d], dtype=np.int64)
    t_side = np.asarray(side[is_t])
    return Columns(
        pdec=pdec,
        qdec=qdec,
        kinds=kinds,
        ts=np.asarray(ts[hot], dtype=np.int64),
        recv=(
            np.asarray(recv_ts[hot], dtype=np.int64)
            if recv_ts is not None
            else np.zeros(int(np.count_nonzero(hot)), dtype=np.int64)
        ),
        d_nb=1 - d_side,
        d_na=d_side,
        d_seq=np.zeros(len(d_side), dtype=np.int64),
        l_px=np.asarray(price[is_d], dtype=np.int64),
        l_qty=np.asarray(qty[is_d], dtype=np.int64),
        t_px=np.asarray(price[is_t], dtype=np.int64),
        t_qty=np.asarray(qty[is_t], dtype=np.int64),
        t_side=np.where(t_side == SIDE_BID, 2, 1).astype(np.uint8),
        others=list(extra),
        symbol=symbol,
    )


# --- raw wire frames --------------------------------------------------------------------


class RawFrame(NamedTuple):
    """One wire frame as the provider received it."""

    symbol: str  # the console symbol, or "" for connection-wide frames
    data: bytes | str  # exact payload: str for text frames, bytes for binary ones
    recv_ns: int  # local receive time, epoch ns


class _RawBody(msgspec.Struct, array_like=True):
    """A batch of raw frames, before compression."""

    symbol: str  # the file's symbol; rows with `conn` set are connection-wide ("")
    n: int
    recv: bytes  # packed deltas of the receive times
    conn: bytes  # u1 per row: 1 = connection-wide
    binary: bytes  # u1 per row: 1 = bytes payload
    lengths: bytes  # packed payload lengths
    data: bytes  # payloads, concatenated (text as UTF-8)


_raw_encoder = msgspec.msgpack.Encoder()
_raw_decoder = msgspec.msgpack.Decoder(_RawBody)


def encode_raw_frame(frames: list[RawFrame], symbol: str, codec: int) -> bytes:
    """One file frame holding `frames` (each for `symbol` or connection-wide)."""
    payloads = [f.data.encode() if isinstance(f.data, str) else bytes(f.data) for f in frames]
    recv = np.fromiter((f.recv_ns for f in frames), dtype=np.int64, count=len(frames))
    body = _RawBody(
        symbol=symbol,
        n=len(frames),
        recv=_pack_ints(_delta(recv)),
        conn=bytes(0 if f.symbol else 1 for f in frames),
        binary=bytes(0 if isinstance(f.data, str) else 1 for f in frames),
        lengths=_pack_ints(np.fromiter(map(len, payloads), dtype=np.int64, count=len(frames))),
        data=b"".join(payloads),
    )
    raw = _raw_encoder.encode(body)
    payload = compress(raw, codec)
    first, last = (int(recv.min()), int(recv.max())) if len(recv) else (0, 0)
    tail = struct.pack("<BBBBqqII", codec, FLAG_RAW, 0, 0, first, last, len(frames), len(raw))
    crc = zlib.crc32(payload, zlib.crc32(tail))
    return FRAME_MAGIC + struct.pack("<II", len(payload), crc) + tail + payload


def decode_raw_frame(buf: Buf, head: FrameHead) -> list[RawFrame]:
    """The wire frames of one intact raw file frame, in received order."""
    payload = bytes(buf[head.offset + FRAME_HEAD_SIZE : head.end])
    try:
        body = _raw_decoder.decode(decompress(payload, head.codec, head.raw_len))
    except (msgspec.DecodeError, ValueError) as exc:
        raise FormatError(f"raw batch does not decode: {exc}") from None
    n = body.n
    if len(body.conn) != n or len(body.binary) != n:
        raise FormatError("raw batch columns disagree on the number of frames")
    recv = _undelta(_unpack_ints(body.recv, n, "recv")).tolist()
    lengths = _unpack_ints(body.lengths, n, "lengths").tolist()
    if sum(lengths) != len(body.data):
        raise FormatError("raw batch payload lengths do not add up")
    out: list[RawFrame] = []
    pos = 0
    for i in range(n):
        chunk = body.data[pos : pos + lengths[i]]
        pos += lengths[i]
        data: bytes | str = chunk if body.binary[i] else chunk.decode()
        out.append(RawFrame("" if body.conn[i] else body.symbol, data, recv[i]))
    return out
