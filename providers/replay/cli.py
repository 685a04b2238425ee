"""Plain functions behind `mdconsole replay`: check the arguments, open the files, say what plays.

The command line lives in `console/cli.py`; it calls `replay_setup` and hands the result's
`config` and `symbols` to the console with provider "replay", keeping `control` for the keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.record.control import ReplayControl
from console.record.playback_feed import PlaybackConfigError
from providers.replay import feed


@dataclass
class ReplaySetup:
    """What the console needs to run a replay."""

    config: dict[str, Any]
    symbols: list[str]
    control: ReplayControl
    lines: list[str] = field(default_factory=list)  # one per symbol: what plays, from when to when


def replay_setup(
    paths: Sequence[str | Path],
    *,
    speed: str = "1",
    start: str | None = None,
    end: str | None = None,
    instrument: str | None = None,
    depth: int = 10,
    paused: bool = False,
) -> ReplaySetup:
    """Validates `mdconsole replay` arguments and opens the files for the `replay` provider.

    Raises `ProviderError` (one clear line: which argument or file, what is wrong) for bad input.
    """
    try:
        control = ReplayControl(speed, paused=paused)
    except ValueError as exc:
        raise PlaybackConfigError(f"--speed: {exc}") from None
    config: dict[str, Any] = {
        "paths": [str(p) for p in paths],
        "speed": speed,
        "from": start,
        "to": end,
        "instrument": instrument,
        "depth": depth,
        "control": control,
    }
    symbols = feed.configure(config)
    lines = []
    for symbol, src in feed.sources().items():
        line = f"{symbol}: {_when(src.start_ns)} → {_when(src.end_ns)}"
        torn = getattr(src, "torn_tail", None)
        if torn is not None:
            line += f" ({torn.describe()})"
        lines.append(line)
    return ReplaySetup(config, symbols, control, lines)


def _when(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S")
