"""Playback settings read from provider config: speed and time bounds (sqlite and replay)."""

from __future__ import annotations

from datetime import UTC, datetime

from console.record.okxdb.times import parse_time


def parse_speed(value: object) -> float | None:
    """`1`, `10`, `2.5`, `"max"` -> a speed factor (None for max), or a clear ValueError."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("max", "")):
        return None
    try:
        speed = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"speed {value!r} is not a number or 'max' (e.g. 1, 10, max)") from None
    if not speed > 0 or speed == float("inf"):
        raise ValueError(f"speed must be above 0 (or 'max'), got {value!r}")
    return speed


def config_time(value: object, what: str) -> int | None:
    """A `from`/`to` config value (None, epoch ns int, datetime, or text) in epoch ns.

    Raises `TimestampError` naming `what` for text that is not a time.
    """
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1_000
    return parse_time(str(value), what=what)
