"""The `sqlite` provider: OKX-schema SQLite databases (files or directories of them) as a market.

Config keys (see `console.record.playback_feed`): `path` (or `paths`), `instrument` (OKX id such
as BTC-USDT, or BTC/USDT; without it every instrument in the files plays), `from` / `to`,
`speed`, `depth`, `paused`, `exit_at_end` (default on: the stream ends with the data) and
`control`. Every book row is sent as a top-N `BookSnapshot` followed by a top-of-book `Quote`,
the trades of its window after it; pacing, pause, step and seek are the replay's.
"""

from __future__ import annotations

from console.data.provider import OHLC_DTYPE, Capabilities
from console.record.playback_feed import PlaybackFeed

NAME = "sqlite"
CAPABILITIES = Capabilities(
    network=False,
    trading=False,
    history_timeframes=(1, 60),
    note="OKX book/trades SQLite files",
)
ohlc_dtype = OHLC_DTYPE
LIVE_ADD = False
"""A symbol cannot join a running stream: restarting the playback would rewind it."""

_feed = PlaybackFeed(
    NAME,
    accepts="OKX SQLite database files or directories of them",
    databases_only=True,
    exit_at_end=True,
)
configure = _feed.configure
close = _feed.close
stream_quotes = _feed.stream_quotes
open_history_client = _feed.open_history_client
study = _feed.study
symbol_info = _feed.symbol_info
search_symbols = _feed.search_symbols
