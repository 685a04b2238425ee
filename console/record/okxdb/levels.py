"""Parses `bids`/`asks` level columns (Python-literal or JSON lists) into numpy arrays, no `eval`.

The fast path reads a whole batch of rows as one byte array and decodes every number with
integer arithmetic in numpy (no per-number Python objects, no strtod); each value equals
float() of its text. Anything it does not recognise (exponents, signs, stray words) goes
through a per-row path that says which row and level is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import msgspec
import numpy as np

from console.record.okxdb import level_kernel

# byte classes, ordered so that numbers are `< _SEP` and brackets `> _SEP`
_DIGIT, _DOT, _SEP, _OPEN, _CLOSE, _OTHER = 0, 1, 2, 3, 4, 5
_table = bytearray([_OTHER]) * 256
for _c in b" \t\r\n,'\"":
    _table[_c] = _SEP
for _c in b"0123456789":
    _table[_c] = _DIGIT
_table[ord(".")] = _DOT
_table[ord("[")] = _table[ord("(")] = _OPEN
_table[ord("]")] = _table[ord(")")] = _CLOSE
_CLASS = bytes(_table)

_POW10F = 10.0 ** np.arange(19)
_POW10U = 10 ** np.arange(19, dtype=np.uint64)
_MAX_DIGITS = 15  # float64 holds integers of up to 15 decimal digits exactly
_WINDOW = 16  # bytes copied per number: up to 15 digits and a dot
_PAD = b" " * _WINDOW
_COLUMNS = np.arange(_WINDOW, dtype=np.int8)
_DOT_BYTE = ord(".")

_TO_JSON = str.maketrans({"'": '"', "(": "[", ")": "]"})
_row_decoder = msgspec.json.Decoder(list[list[str | float | int]])


class LevelError(ValueError):
    """A level column that is not a list of [price, size, ...] levels."""


class Levels(NamedTuple):
    """Top-N levels of one side for a batch of rows, in the order the rows listed them."""

    px: np.ndarray  # f8 [rows, depth]; 0 where a row has fewer levels
    sz: np.ndarray  # f8 [rows, depth]; 0 where a row has fewer levels
    n: np.ndarray  # i8 [rows]: levels present, at most depth
    px_decimals: int  # most decimals any price was written with (tick size inference)
    sz_decimals: int


def parse_levels(
    texts: Sequence[str | bytes | None],
    depth: int,
    *,
    row_ids: Sequence[int] | None = None,
    column: str = "levels",
    compiled: bool | None = None,
) -> Levels:
    """Top `depth` (price, size) levels of each row; further fields per level are ignored.

    `compiled` picks the numba scanner (True) or the numpy path (False); None takes the
    scanner where numba is installed. Raises `LevelError` naming the row id (or position),
    the column and what was wrong.
    """
    n = len(texts)
    if n == 0:
        empty = np.zeros((0, depth))
        return Levels(empty, empty.copy(), np.zeros(0, np.int64), 0, 0)
    try:
        joined = b"".join((_PAD, *texts))  # type: ignore[arg-type]
    except TypeError:  # text rather than bytes, or NULLs
        try:
            joined = _PAD + "".join(texts).encode("ascii")  # type: ignore[arg-type]
        except (TypeError, UnicodeEncodeError):
            return _parse_slow(texts, depth, row_ids, column)
    scan = level_kernel.kernel() if compiled is not False else None
    if compiled and scan is None:
        raise RuntimeError("the compiled level scanner needs numba")
    fast = _parse_compiled(scan, joined, n, depth) if scan else _parse_fast(joined, n, depth)
    return fast if fast is not None else _parse_slow(texts, depth, row_ids, column)


def _parse_compiled(
    scan: level_kernel.ScanFn, data: bytes, n_rows: int, depth: int
) -> Levels | None:
    px = np.zeros((n_rows, depth))
    sz = np.zeros((n_rows, depth))
    count = np.zeros(n_rows, np.int64)
    decimals = np.zeros(2, np.int64)
    if scan(np.frombuffer(data, dtype=np.uint8), n_rows, depth, px, sz, count, decimals):
        return None
    return Levels(px, sz, count, int(decimals[0]), int(decimals[1]))


def _parse_fast(data: bytes, n_rows: int, depth: int) -> Levels | None:
    """Vectorized decode of `n_rows` concatenated lists; None where the text needs the slow path."""
    raw = np.frombuffer(data, dtype=np.uint8)
    cls = np.frombuffer(data.translate(_CLASS), dtype=np.uint8)
    if cls.max() == _OTHER:
        return None
    brackets = np.flatnonzero(cls > _SEP)
    opens = cls[brackets] == _OPEN
    nest = np.cumsum(np.where(opens, 1, -1))  # depth after each bracket
    if len(nest) == 0 or nest.min() < 0 or nest[-1] != 0 or nest.max() > 2:
        return None
    row_pos = brackets[opens & (nest == 1)]
    level_pos = brackets[opens & (nest == 2)]
    level_end = brackets[~opens & (nest == 1)]
    if len(row_pos) != n_rows:
        return None

    # the text starts with padding and ends with a bracket, so no number touches either end
    num = cls < _SEP
    bounds = np.flatnonzero(num[1:] != num[:-1]) + 1  # start, end, start, end, ...
    tok_start, tok_end = bounds[0::2], bounds[1::2]
    n_levels = len(level_pos)
    first_tok = np.searchsorted(tok_start, level_pos)
    past_tok = np.searchsorted(tok_start, level_end)
    # every number sits inside a level: none before the first, none between levels
    if (first_tok[1:] != past_tok[:-1]).any() or (
        n_levels and (first_tok[0] != 0 or past_tok[-1] != len(tok_start))
    ):
        return None
    if n_levels == 0 and len(tok_start):
        return None
    if n_levels and (past_tok - first_tok).min() < 2:
        return None  # a level without both price and size
    row_of_level = np.searchsorted(row_pos, level_pos) - 1
    levels_per_row = np.bincount(row_of_level, minlength=n_rows)
    row_first_level = np.concatenate(([0], np.cumsum(levels_per_row)[:-1]))
    idx_in_row = np.arange(n_levels) - row_first_level[row_of_level]

    keep = idx_in_row < depth
    px_tok = first_tok[keep]
    sel = np.stack((px_tok, px_tok + 1), axis=1).ravel()  # price, size, price, ...: sorted
    starts, ends = tok_start[sel], tok_end[sel]
    values, decimals = _decode_numbers(raw, starts, ends)
    if values is None:
        return None
    rows, cols = row_of_level[keep], idx_in_row[keep]
    px = np.zeros((n_rows, depth))
    sz = np.zeros((n_rows, depth))
    px[rows, cols] = values[0::2]
    sz[rows, cols] = values[1::2]
    return Levels(
        px,
        sz,
        np.minimum(levels_per_row, depth).astype(np.int64),
        int(decimals[0::2].max(initial=0)),
        int(decimals[1::2].max(initial=0)),
    )


def _decode_numbers(
    raw: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray]:
    """Values and decimal places of the digit/dot tokens [starts, ends), by integer arithmetic.

    Each token is copied as the `_WINDOW` bytes ending at it (the text starts with `_PAD`, so
    a window never starts before the data) and read, the dot as a 0 digit, as two 8-digit
    numbers with SWAR arithmetic on uint64; the dot's 0 is then taken out exactly.
    """
    if len(starts) == 0:
        return np.zeros(0), np.zeros(0, np.int64)
    lengths = ends - starts
    if lengths.max() > _WINDOW:
        return None, starts
    rows = np.lib.stride_tricks.sliding_window_view(raw, _WINDOW)[ends - _WINDOW]
    inside = (_WINDOW - lengths).astype(np.int8)[:, None] <= _COLUMNS
    digits = rows - np.uint8(48)
    is_digit = digits < 10
    dots = inside & (rows == _DOT_BYTE)
    n_dots = dots.sum(axis=1, dtype=np.int8)
    if n_dots.max() > 1 or (lengths - n_dots).min() == 0 or (lengths - n_dots).max() > _MAX_DIGITS:
        return None, starts
    digits *= is_digit & inside  # zero the dot and whatever precedes the token
    whole = _swar8(digits[:, :8]) * np.uint64(10**8) + _swar8(digits[:, 8:])
    has_dot = n_dots > 0
    decimals = np.where(has_dot, _WINDOW - 1 - dots.argmax(axis=1), 0)
    # `whole` holds int_part * 10**(decimals + 1) + fraction; squeeze out the dot's 0 digit
    scale = _POW10U[decimals + 1]
    int_part = whole // scale
    mantissa = np.where(has_dot, int_part * _POW10U[decimals] + (whole - int_part * scale), whole)
    # exact: a mantissa of up to 15 digits is an integer float, and so is 10**decimals
    return mantissa.astype(np.float64) / _POW10F[decimals], decimals


def _swar8(digits: np.ndarray) -> np.ndarray:
    """[n, 8] digit values (most significant first) -> the n 8-digit numbers, as uint64."""
    v = np.ascontiguousarray(digits).view("<u8")[:, 0]
    v = (v * np.uint64(10) + (v >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    v = (v * np.uint64(100) + (v >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    return (v * np.uint64(10000) + (v >> np.uint64(32))) & np.uint64(0xFFFFFFFF)


def _parse_slow(
    texts: Sequence[str | bytes | None],
    depth: int,
    row_ids: Sequence[int] | None,
    column: str,
) -> Levels:
    """Row by row, for text the fast path declines; locates and explains the first bad value."""
    n = len(texts)
    px = np.zeros((n, depth))
    sz = np.zeros((n, depth))
    count = np.zeros(n, np.int64)
    px_dec = sz_dec = 0
    for r, text in enumerate(texts):
        where = (
            f"{column} of row id {row_ids[r]}" if row_ids is not None else f"{column} of row {r}"
        )
        if text is None:
            raise LevelError(f"{where} is NULL; expected a list of [price, size, ...] levels")
        s = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        try:
            levels = _row_decoder.decode(s.translate(_TO_JSON))
        except msgspec.DecodeError as exc:
            raise LevelError(
                f"{where} is not a list of [price, size, ...] levels ({exc}): {s[:80]!r}"
            ) from None
        for i, level in enumerate(levels[:depth]):
            if len(level) < 2:
                raise LevelError(
                    f"{where}, level {i}: needs at least price and size, got {level!r}"
                )
            for j, value in enumerate(level[:2]):
                try:
                    number = float(value)
                except ValueError:
                    raise LevelError(
                        f"{where}, level {i}: {('price', 'size')[j]} {value!r} is not a number"
                    ) from None
                if not np.isfinite(number) or number < 0:
                    raise LevelError(
                        f"{where}, level {i}: {('price', 'size')[j]} {value!r} must be a "
                        "finite number >= 0"
                    )
                (px if j == 0 else sz)[r, i] = number
            px_dec = max(px_dec, _decimals(level[0]))
            sz_dec = max(sz_dec, _decimals(level[1]))
        count[r] = min(len(levels), depth)
    return Levels(px, sz, count, px_dec, sz_dec)


def _decimals(value: str | float | int) -> int:
    text = value if isinstance(value, str) else repr(value)
    mantissa, _, exp = text.lower().partition("e")
    places = len(mantissa.partition(".")[2])
    return max(0, places - int(exp)) if exp else places
