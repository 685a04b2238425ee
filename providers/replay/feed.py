"""The `replay` provider: recordings and OKX SQLite databases played back through the contract.

Config keys: `paths` (files or directories; a string or a list), `speed` (1, 10, ..., or
"max"; default 1), `from` / `to` (ISO time or epoch; default the whole span), `instrument`
(selects databases in a directory), `depth` (SQLite top-N, default 10), `paused` (start paused),
`exit_at_end` (return at the end instead of waiting for a seek) and `control` (a
`ReplayControl` the console keeps to pause, step, change speed and seek).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from console.data.provider import (
    OHLC_DTYPE,
    Capabilities,
    DataUnavailable,
    GetOhlc,
    ProviderError,
    Send,
    TaskStatus,
    UnknownSymbol,
)
from console.data.sampler import resample
from console.model.instruments import Instrument
from console.record.okxdb.metrics import study_of
from console.record.okxdb.times import TimestampError
from console.record.playback import config_time, parse_speed
from providers.replay.control import ReplayControl
from providers.replay.player import Player
from providers.replay.sources import ReplaySource, SqliteDbSource, first_quote, open_sources

NAME = "replay"
CAPABILITIES = Capabilities(
    network=False,
    trading=False,
    history_timeframes=(1, 60),
    note="recordings and OKX SQLite files",
)
ohlc_dtype = OHLC_DTYPE
LIVE_ADD = False
"""A symbol cannot join a running stream: restarting the playback would rewind it."""


class ReplayConfigError(ProviderError):
    """A replay config value that cannot be used, naming the key."""


class ReplaySettings:
    """The checked replay config."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        paths = config.get("paths", config.get("path"))
        if not paths:
            raise ReplayConfigError(
                "replay needs `paths`: recording files, SQLite databases or directories of them"
            )
        self.paths: list[str] = [paths] if isinstance(paths, str) else [str(p) for p in paths]
        try:
            self.speed = parse_speed(config.get("speed", 1))
        except ValueError as exc:
            raise ReplayConfigError(f"replay speed: {exc}") from None
        self.start_ns = _time(config, "from")
        self.end_ns = _time(config, "to")
        if self.start_ns is not None and self.end_ns is not None and self.start_ns >= self.end_ns:
            raise ReplayConfigError("replay `from` must be before `to`")
        self.instrument: str | None = config.get("instrument")
        self.depth = config.get("depth", 10)
        if not isinstance(self.depth, int) or self.depth < 1:
            raise ReplayConfigError(
                f"replay `depth` must be a whole number of levels >= 1, got {self.depth!r}"
            )
        self.exit_at_end = bool(config.get("exit_at_end", False))
        control = config.get("control")
        if control is None:
            control = ReplayControl(self.speed, paused=bool(config.get("paused", False)))
        elif not isinstance(control, ReplayControl):
            raise ReplayConfigError("replay `control` must be a ReplayControl")
        elif "speed" in config:
            control.set_speed(self.speed)  # the config's speed wins over the control's default
        self.control: ReplayControl = control

    def open(self) -> list[ReplaySource]:
        return open_sources(
            self.paths,
            instrument=self.instrument,
            start_ns=self.start_ns,
            end_ns=self.end_ns,
            depth=self.depth,
        )


def _time(config: Mapping[str, Any], key: str) -> int | None:
    try:
        return config_time(config.get(key), f"replay `{key}`")
    except TimestampError as exc:
        raise ReplayConfigError(str(exc)) from None


_configured: dict[str, ReplaySource] = {}
_settings: ReplaySettings | None = None


def sources() -> Mapping[str, ReplaySource]:
    """The sources `configure` opened, by symbol."""
    return _configured


def close() -> None:
    """Closes what `configure` opened."""
    global _settings
    for src in _configured.values():
        src.close()
    _configured.clear()
    _settings = None


def configure(config: Mapping[str, Any]) -> list[str]:
    """Opens the config's sources for `symbol_info` and history; returns their symbols.

    Call before the feed hub starts (it asks for symbol info before streaming).
    """
    global _settings
    settings = ReplaySettings(config)
    sources = settings.open()
    close()
    _configured.update({src.symbol: src for src in sources})
    _settings = settings
    return list(_configured)


async def stream_quotes(
    send: Send,
    symbols: Sequence[str],
    shm: Mapping[str, Any],
    feed_is_live: asyncio.Event,
    *,
    config: Mapping[str, Any],
    task_status: TaskStatus,
) -> None:
    """First quotes for every symbol, then the paced replay (see `Player`)."""
    settings = ReplaySettings(config)
    sources = settings.open()
    try:
        by_symbol = {src.symbol: src for src in sources}
        missing = [s for s in symbols if s not in by_symbol]
        if missing:
            raise UnknownSymbol(
                f"replay has no data for {', '.join(missing)}; the files hold "
                f"{', '.join(by_symbol) or 'nothing'}"
            )
        chosen = [by_symbol[s] for s in symbols] if symbols else sources
        player = Player(
            chosen,
            send,
            settings.control,
            provider=NAME,
            start_ns=settings.start_ns,
            end_ns=settings.end_ns,
            exit_at_end=settings.exit_at_end,
        )
        player.status("syncing", "loading")
        for src in chosen:
            send(first_quote(src, settings.control.start_ns))
        feed_is_live.set()
        task_status.started(settings.control)
        await player.run()
    finally:
        for src in sources:
            src.close()


@contextlib.asynccontextmanager
async def open_history_client(symbol: str) -> AsyncIterator[tuple[GetOhlc, dict[str, float]]]:
    """Bars of the trades before the replay's `from` (the context a chart starts with)."""
    source = _source(symbol)
    start = _settings.start_ns if _settings is not None else None

    async def get_ohlc(
        timeframe_s: int, end_dt: datetime | None = None, start_dt: datetime | None = None
    ) -> tuple[np.ndarray, datetime, datetime]:
        if start is None:
            raise DataUnavailable(f"{symbol}: the replay starts at the beginning; no history")
        bars = source.history_1s(start)
        if timeframe_s != 1:
            bars = resample(bars, timeframe_s)
        if end_dt is not None:
            bars = bars[bars["time"] < end_dt.timestamp()]
        if start_dt is not None:
            bars = bars[bars["time"] >= start_dt.timestamp()]
        if len(bars) == 0:
            raise DataUnavailable(f"{symbol}: no trades in the requested range")
        return (
            bars,
            datetime.fromtimestamp(int(bars["time"][0]), UTC),
            datetime.fromtimestamp(int(bars["time"][-1]), UTC),
        )

    yield get_ohlc, {"requests_per_s": 1e9}


def study(symbol: str, timeframe_s: int) -> dict[str, np.ndarray]:
    """OBI, normalized OBI and CVD candles (`STUDY_DTYPE`) of a symbol played from SQLite
    databases, for a lower study; show only bars up to the control's `position_ns`."""
    source = _source(symbol)
    if not isinstance(source, SqliteDbSource):
        raise DataUnavailable(f"{symbol}: OBI/CVD studies come from SQLite book snapshots only")
    return study_of(source.parts, timeframe_s)


async def symbol_info(symbol: str) -> Instrument:
    return _source(symbol).instrument


async def search_symbols(pattern: str, limit: int = 20) -> list[Instrument]:
    pat = pattern.upper()
    hits = [
        s.instrument
        for name, s in _configured.items()
        if pat in name.upper() or fnmatch.fnmatch(name.upper(), pat)
    ]
    return hits[:limit]


def _source(symbol: str) -> ReplaySource:
    try:
        return _configured[symbol]
    except KeyError:
        raise UnknownSymbol(
            f"replay has no data for {symbol}"
            + ("" if _configured else "; call providers.replay.feed.configure(config) first")
        ) from None
