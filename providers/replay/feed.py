"""The `replay` provider: recordings and OKX SQLite databases played back through the contract.

Config keys (see `console.record.playback_feed`): `paths`, `speed`, `from` / `to`,
`instrument`, `depth`, `paused`, `exit_at_end` (default off: at the end it waits for a seek)
and `control` (the `ReplayControl` the console keeps to pause, step, change speed and seek).
"""

from __future__ import annotations

from console.data.provider import OHLC_DTYPE, Capabilities
from console.record.playback_feed import PlaybackFeed

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

_feed = PlaybackFeed(
    NAME,
    accepts="recording files, SQLite databases or directories of them",
    databases_only=False,
    exit_at_end=False,
)
sources = _feed.sources
configure = _feed.configure
close = _feed.close
stream_quotes = _feed.stream_quotes
open_history_client = _feed.open_history_client
study = _feed.study
symbol_info = _feed.symbol_info
search_symbols = _feed.search_symbols
