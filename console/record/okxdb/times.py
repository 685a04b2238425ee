"""Timestamp columns (ISO 8601 text or epoch s/ms/us/ns numbers) to int64 epoch nanoseconds."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

_UNIT_NS = ((10**17, 1), (10**14, 1_000), (10**11, 1_000_000))
"""Epoch numbers at least this large are in ns, us, ms; smaller ones are seconds."""

TIME_HINT = "ISO 8601 text like 2025-07-01T12:00:00.123Z, or epoch seconds/ms/us/ns"


class TimestampError(ValueError):
    """A value that is not a time we can read."""


def to_ns(values: Sequence[object], *, where: str = "timestamp") -> np.ndarray:
    """Epoch ns for a column of times, vectorized where the column is uniform.

    Text is parsed as ISO 8601 (UTC where no offset is given); numbers by magnitude. Raises
    `TimestampError` naming `where`, the position and the value that is not a time.
    """
    if len(values) == 0:
        return np.zeros(0, np.int64)
    if isinstance(values[0], int | float):
        try:
            return _numbers_to_ns(np.asarray(values, dtype=np.float64), values, where)
        except (TypeError, ValueError):  # a NULL or text among numbers: find and name it
            return np.array([_one_to_ns(v, where, i) for i, v in enumerate(values)], np.int64)
    texts = [v.decode("ascii", "replace") if isinstance(v, bytes) else v for v in values]
    if isinstance(texts[0], str) and _looks_numeric(texts[0]):
        try:
            return _numbers_to_ns(np.asarray(texts, dtype=np.float64), texts, where)
        except ValueError:
            pass
    try:
        return _iso_to_ns([str(t) for t in texts])
    except (ValueError, TypeError, UserWarning):
        return np.array([_one_to_ns(v, where, i) for i, v in enumerate(texts)], dtype=np.int64)


def parse_time(text: str, *, what: str = "time") -> int:
    """One user-given time (`--from 2025-07-01`, `2025-07-01T12:30`, `1751371200`) in epoch ns."""
    return _one_to_ns(text.strip(), what, None)


def _looks_numeric(text: str) -> bool:
    return (
        bool(text)
        and (text[0].isdigit() or text[0] == "-")
        and "-" not in text[1:]
        and ":" not in text
    )


def _numbers_to_ns(numbers: np.ndarray, raw: Sequence[object], where: str) -> np.ndarray:
    if not np.isfinite(numbers).all():
        bad = int(np.flatnonzero(~np.isfinite(numbers))[0])
        raise TimestampError(f"{where}, row {bad}: {raw[bad]!r} is not a time ({TIME_HINT})")
    magnitude = float(np.median(np.abs(numbers)))
    factor = next((f for limit, f in _UNIT_NS if magnitude >= limit), 1_000_000_000)
    if factor == 1:
        # ns values above 2**53 lose digits as floats; take them as integers
        return np.asarray([_whole(v) for v in raw], np.int64)
    # whole and fractional parts apart, so ms/us epochs stay exact integers of ns
    whole = np.floor(numbers)
    frac = np.round((numbers - whole) * factor).astype(np.int64)
    out: np.ndarray = whole.astype(np.int64) * factor + frac
    return out


def _whole(value: object) -> int:
    if isinstance(value, float | int | str | bytes):
        return int(value)
    raise TimestampError(f"{value!r} is not a time ({TIME_HINT})")


def _iso_to_ns(texts: list[str]) -> np.ndarray:
    # numpy parses naive ISO text; a trailing Z or +00:00 only says UTC, which naive means here
    if texts[0].endswith("Z"):
        texts = [t[:-1] if t.endswith("Z") else t for t in texts]
    elif texts[0].endswith("+00:00"):
        texts = [t[:-6] if t.endswith("+00:00") else t for t in texts]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = np.asarray(texts, dtype="datetime64[ns]").astype(np.int64)
    if (out == np.iinfo(np.int64).min).any():  # NaT
        raise ValueError("NaT")
    return out


def _one_to_ns(value: object, where: str, row: int | None) -> int:
    at = f"{where}, row {row}" if row is not None else where
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(_numbers_to_ns(np.asarray([value], np.float64), [value], where)[0])
    text = str(value)
    if _looks_numeric(text):
        try:
            return int(_numbers_to_ns(np.asarray([float(text)]), [text], where)[0])
        except ValueError:
            pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TimestampError(f"{at}: {text!r} is not a time ({TIME_HINT})") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
