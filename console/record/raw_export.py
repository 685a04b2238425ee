"""Raw wire frames as capture JSON lines (the `../shared/captures` format), and back.

One line per frame, `{"t":"recv","conn":"<provider>.ws","ts":<epoch s>,"data":"<exact frame
text>"}` as cryptofeed writes them, after one `{"t":"header",...}` line naming the provider and
symbol. A frame about one symbol also carries `"symbol"`; connection-wide frames (status, acks,
heartbeats) have none. A binary frame's `data` is base64 with `"encoding":"base64"` beside it.
A test server can send `data` verbatim, so a recording becomes a connector fixture.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import msgspec

from .format import FormatError, RawFrame
from .reader import Recording

NS = 1_000_000_000


def capture_lines(rec: Recording) -> Iterator[dict[str, Any]]:
    """The header record, then one `recv` record per frame, in received order."""
    header = rec.header
    yield {
        "t": "header",
        "format": "mdconsole-raw",
        "provider": header.provider,
        "symbol": header.symbol,
        "recorded": header.created_ns / NS,
    }
    conn = f"{header.provider}.ws"
    for frame in rec.iter_raw():
        line: dict[str, Any] = {"t": "recv", "conn": conn, "ts": frame.recv_ns / NS}
        if isinstance(frame.data, str):
            line["data"] = frame.data
        else:
            line["data"] = base64.b64encode(frame.data).decode("ascii")
            line["encoding"] = "base64"
        if frame.symbol:
            line["symbol"] = frame.symbol
        yield line


def write_capture(rec: Recording, out: IO[bytes]) -> int:
    """Write `rec`'s frames as capture JSON lines to `out`; returns the number of frames."""
    enc = msgspec.json.Encoder()
    frames = 0
    batch: list[dict[str, Any]] = []
    for line in capture_lines(rec):
        batch.append(line)
        frames += line["t"] == "recv"
        if len(batch) >= 1000:
            out.write(enc.encode_lines(batch))
            batch = []
    if batch:
        out.write(enc.encode_lines(batch))
    return frames


def read_capture(path: str | Path) -> Iterator[RawFrame]:
    """The `recv` records of a capture file as frames, other records skipped (cryptofeed's
    captures have no `symbol`: their frames read as connection-wide)."""
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                line = msgspec.json.decode(raw)
            except msgspec.DecodeError as exc:
                raise FormatError(f"{path}:{n}: not a JSON line ({exc})") from None
            if not isinstance(line, dict) or line.get("t") != "recv":
                continue
            data = line.get("data")
            if not isinstance(data, str):
                raise FormatError(f"{path}:{n}: recv record without string data")
            frame: bytes | str = (
                base64.b64decode(data) if line.get("encoding") == "base64" else data
            )
            recv_ns = round(float(line.get("ts", 0)) * NS)
            symbol = line.get("symbol", "")
            yield RawFrame(symbol if isinstance(symbol, str) else "", frame, recv_ns)


__all__ = ["capture_lines", "read_capture", "write_capture"]
