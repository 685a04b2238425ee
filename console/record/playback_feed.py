"""The provider contract over played-back files: what the `replay` and `sqlite` feeds delegate to.

One `PlaybackFeed` per provider holds the checked config and the sources `configure` opened;
its methods are the provider's `configure`, `stream_quotes`, history, symbol info, search and
study. Config keys: `paths` (or `path`; files or directories, a string or a list), `speed`
(1, 10, ..., or "max"; default 1), `from` / `to` (ISO time or epoch; default the whole span),
`instrument` (selects databases and their rows), `depth` (SQLite top-N, default 10), `paused`
(start paused), `exit_at_end` (return at the end instead of waiting for a seek) and `control`
(a `ReplayControl` the console keeps to pause, step, change speed and seek).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from console.data.provider import (
    DataUnavailable,
    GetOhlc,
    ProviderError,
    Send,
    TaskStatus,
    UnknownSymbol,
)
from console.data.sampler import resample
from console.model.instruments import Instrument
from console.record.control import ReplayControl
from console.record.okxdb.metrics import study_of
from console.record.okxdb.times import TimestampError
from console.record.playback import config_time, parse_speed
from console.record.player import Player
from console.record.sources import ReplaySource, SqliteDbSource, first_quote, open_sources


class PlaybackConfigError(ProviderError):
    """A playback config value that cannot be used, naming the provider and the key."""


class PlaybackSettings:
    """One provider's checked playback config."""

    def __init__(
        self,
        name: str,
        config: Mapping[str, Any],
        *,
        accepts: str,
        databases_only: bool,
        exit_at_end: bool,
    ) -> None:
        self.name = name
        self.databases_only = databases_only
        paths = config.get("paths", config.get("path"))
        if not paths:
            raise PlaybackConfigError(f"{name} needs `paths`: {accepts}")
        self.paths: list[str] = (
            [str(paths)] if isinstance(paths, str | os.PathLike) else [str(p) for p in paths]
        )
        try:
            self.speed = parse_speed(config.get("speed", 1))
        except ValueError as exc:
            raise PlaybackConfigError(f"{name} `speed`: {exc}") from None
        self.start_ns = self._time(config, "from")
        self.end_ns = self._time(config, "to")
        if self.start_ns is not None and self.end_ns is not None and self.start_ns >= self.end_ns:
            raise PlaybackConfigError(f"{name} `from` must be before `to`")
        self.instrument: str | None = config.get("instrument")
        self.depth = config.get("depth", 10)
        if not isinstance(self.depth, int) or isinstance(self.depth, bool) or self.depth < 1:
            raise PlaybackConfigError(
                f"{name} `depth` must be a whole number of levels >= 1, got {self.depth!r}"
            )
        self.exit_at_end = bool(config.get("exit_at_end", exit_at_end))
        control = config.get("control")
        if control is None:
            control = ReplayControl(self.speed, paused=bool(config.get("paused", False)))
        elif not isinstance(control, ReplayControl):
            raise PlaybackConfigError(f"{name} `control` must be a ReplayControl")
        elif "speed" in config:
            control.set_speed(self.speed)  # the config's speed wins over the control's default
        self.control: ReplayControl = control

    def _time(self, config: Mapping[str, Any], key: str) -> int | None:
        try:
            return config_time(config.get(key), f"{self.name} `{key}`")
        except TimestampError as exc:
            raise PlaybackConfigError(str(exc)) from None

    def open(self) -> list[ReplaySource]:
        """The sources of `paths`; an error naming `from`/`to` when one of them holds nothing
        in that span."""
        sources = open_sources(
            self.paths,
            instrument=self.instrument,
            start_ns=self.start_ns,
            end_ns=self.end_ns,
            depth=self.depth,
            databases_only=self.databases_only,
        )
        for src in sources:
            after = self.start_ns is not None and self.start_ns > src.end_ns
            before = self.end_ns is not None and self.end_ns <= src.start_ns
            if after or before:
                for opened in sources:
                    opened.close()
                raise PlaybackConfigError(
                    f"{self.name} `{'from' if after else 'to'}`: {src.symbol} has data from "
                    f"{_iso(src.start_ns)} to {_iso(src.end_ns)} only; choose a time in that span"
                )
        return sources


def _iso(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S")


class PlaybackFeed:
    """A playback provider: `name` for messages and statuses, `accepts` says what `paths`
    takes, `databases_only` opens every file as an OKX database, `exit_at_end` is the default
    for the config key of that name."""

    def __init__(
        self, name: str, *, accepts: str, databases_only: bool, exit_at_end: bool
    ) -> None:
        self.name = name
        self.accepts = accepts
        self.databases_only = databases_only
        self.exit_at_end = exit_at_end
        self._configured: dict[str, ReplaySource] = {}
        self._settings: PlaybackSettings | None = None

    def settings(self, config: Mapping[str, Any]) -> PlaybackSettings:
        """`config` checked, or a `PlaybackConfigError` naming the key."""
        return PlaybackSettings(
            self.name,
            config,
            accepts=self.accepts,
            databases_only=self.databases_only,
            exit_at_end=self.exit_at_end,
        )

    def sources(self) -> Mapping[str, ReplaySource]:
        """The sources `configure` opened, by symbol."""
        return self._configured

    def configure(self, config: Mapping[str, Any]) -> list[str]:
        """Opens the config's sources for symbol info, history and studies; returns their
        symbols. Call before the feed hub starts (it asks for symbol info before streaming)."""
        settings = self.settings(config)
        sources = settings.open()
        self.close()
        self._configured.update({src.symbol: src for src in sources})
        self._settings = settings
        return list(self._configured)

    def close(self) -> None:
        """Closes what `configure` opened."""
        for src in self._configured.values():
            src.close()
        self._configured.clear()
        self._settings = None

    async def stream_quotes(
        self,
        send: Send,
        symbols: Sequence[str],
        shm: Mapping[str, Any],
        feed_is_live: asyncio.Event,
        *,
        config: Mapping[str, Any],
        task_status: TaskStatus,
    ) -> None:
        """A status, first quotes for every symbol, live, then the paced playback (`Player`);
        hands the control to `task_status`."""
        settings = self.settings(config)
        sources = settings.open()
        try:
            by_symbol = {src.symbol: src for src in sources}
            missing = [s for s in symbols if s not in by_symbol]
            if missing:
                raise UnknownSymbol(
                    f"{self.name} has no data for {', '.join(missing)}; the files hold "
                    f"{', '.join(by_symbol) or 'nothing'}"
                )
            chosen = [by_symbol[s] for s in symbols] if symbols else sources
            player = Player(
                chosen,
                send,
                settings.control,
                provider=self.name,
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
    async def open_history_client(
        self, symbol: str
    ) -> AsyncIterator[tuple[GetOhlc, dict[str, float]]]:
        """Bars of the trades before the playback's `from` (the context a chart starts with);
        none when it plays from the start, since every trade is still to come."""
        source = self._source(symbol)
        start = self._settings.start_ns if self._settings is not None else None

        async def get_ohlc(
            timeframe_s: int, end_dt: datetime | None = None, start_dt: datetime | None = None
        ) -> tuple[np.ndarray, datetime, datetime]:
            if start is None:
                raise DataUnavailable(f"{symbol}: the playback starts at the beginning; no history")
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

    def study(self, symbol: str, timeframe_s: int) -> dict[str, np.ndarray]:
        """OBI, normalized OBI and CVD candles (`STUDY_DTYPE`, keys "obi", "obi_norm", "cvd")
        of a symbol played from SQLite databases, up to `to`; a lower study shows only bars
        up to the control's `position_ns`."""
        source = self._source(symbol)
        if not isinstance(source, SqliteDbSource):
            raise DataUnavailable(
                f"{symbol}: OBI/CVD studies come from SQLite book snapshots only"
            )
        end = self._settings.end_ns if self._settings is not None else None
        return study_of(source.parts, timeframe_s, None, end)

    async def symbol_info(self, symbol: str) -> Instrument:
        return self._source(symbol).instrument

    async def search_symbols(self, pattern: str, limit: int = 20) -> list[Instrument]:
        """Symbols whose name holds `pattern` (OKX `BTC-USDT` style too) or matches it as a
        glob."""
        pat = pattern.upper()
        slashed = pat.replace("-", "/")
        hits = [
            s.instrument
            for name, s in self._configured.items()
            if pat in name.upper() or slashed in name.upper() or fnmatch.fnmatch(name.upper(), pat)
        ]
        return hits[:limit]

    def _source(self, symbol: str) -> ReplaySource:
        try:
            return self._configured[symbol]
        except KeyError:
            how = f"; call providers.{self.name}.feed.configure(config) first"
            raise UnknownSymbol(
                f"{self.name} has no data for {symbol}" + ("" if self._configured else how)
            ) from None
