"""Feed hub: runs one provider's task and fans its events out to books, quotes, tape, bars.

The hub owns the per-symbol state the UI reads (books, quote state, trade tape, 1 s / 1 m bar
buffers) and keeps it current from the provider's event stream. Ingest is synchronous and
allocation-free per event: the provider calls `ingest` (its `send`), which dispatches on the
event's type, updates plain state and hands the same event object to every subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from multiprocessing import resource_tracker
from types import TracebackType
from typing import Any, Literal

import numpy as np

from console.data.buffers import OhlcBuffer, buffer_label
from console.data.provider import (
    OHLC_DTYPE,
    DataUnavailable,
    GetOhlc,
    ProviderError,
    ProviderModule,
    RawSink,
    TaskStatus,
    UnknownSymbol,
)
from console.data.quotes import QuoteState
from console.data.sampler import Sampler, resample
from console.data.tape import TradeTape
from console.model.book import Book
from console.model.events import (
    Bar,
    BookDelta,
    BookSnapshot,
    ConnectorState,
    ConnectorStatus,
    MarketEvent,
    Quote,
    Trade,
)
from console.model.instruments import Instrument, split_symbol

log = logging.getLogger(__name__)

Subscriber = Callable[[MarketEvent], None]
"""Called synchronously with every event the hub ingests; must not block."""

LIVE_STATES: frozenset[str] = frozenset({"live", "stale"})
"""Connector states in which the feed counts as live (silent seconds get flat bars)."""

_PROVIDER_PARTS = (
    "NAME",
    "CAPABILITIES",
    "ohlc_dtype",
    "stream_quotes",
    "open_history_client",
    "symbol_info",
    "search_symbols",
)
_DAY_S = 86_400
_BAD_EVENTS_LOGGED = 10  # then only counted, so a broken stream cannot flood the log
_MAX_PAGES = 1_000  # bounds backfill against a provider that pages forever
_VIRTUAL_LAG_NS = 60 * 1_000_000_000  # trade times this far from arrival are a virtual clock


class FeedError(ProviderError):
    """The feed could not start or keep running; the message says what, where and what to do."""


class _SymbolState:
    """Everything the hub keeps for one symbol, gathered so ingest does one dict lookup."""

    __slots__ = ("book", "buf_1m", "buf_1s", "quote", "quoted", "sampler", "tape", "ts")

    def __init__(
        self, book: Book, quote: QuoteState, tape: TradeTape, buf_1s: OhlcBuffer, buf_1m: OhlcBuffer
    ) -> None:
        self.book = book
        self.quote = quote
        self.tape = tape
        self.buf_1s = buf_1s
        self.buf_1m = buf_1m
        self.sampler: Sampler | None = None  # created after backfill so it continues the history
        self.quoted = False
        self.ts = 0  # exchange time of the newest event (the staleness clock on a replay)


class FeedHub:
    """Runs one provider for a set of symbols and keeps their market state current.

    `provider` is a registered provider name, or a provider module (anything with the parts of
    the provider contract), which is how tests and embedders plug in their own sources.
    """

    def __init__(
        self,
        provider: str | ProviderModule,
        symbols: Sequence[str],
        *,
        config: Mapping[str, Any] | None = None,
        first_quote_timeout: float = 10.0,
        capacity_1s: int = 86_400,
        capacity_1m: int = 7 * 1_440,
        tape_capacity: int = 10_000,
        history: bool = True,
        history_timeout: float = 30.0,
        restart_backoff: float = 0.5,
        restart_backoff_max: float = 30.0,
        stale_after: float = 15.0,
        clock: Literal["auto", "wall", "market"] = "auto",
    ) -> None:
        self._provider_arg = provider
        self.provider_name = provider if isinstance(provider, str) else str(
            getattr(provider, "NAME", type(provider).__name__)
        )
        self.symbols: tuple[str, ...] = tuple(symbols)
        self._check_symbols()
        self.config: Mapping[str, Any] = dict(config or {})
        self.first_quote_timeout = first_quote_timeout
        self.capacity_1s = capacity_1s
        self.capacity_1m = capacity_1m
        self.tape_capacity = tape_capacity
        self.history = history
        self.history_timeout = history_timeout
        self.restart_backoff = restart_backoff
        self.restart_backoff_max = restart_backoff_max
        self.stale_after = stale_after
        # Bars close on wall time for live venues; a provider on a virtual clock (a replay, the
        # sim with realtime=false or a pinned start) closes them on the newest trade time it
        # has sent instead, since its trades can be days from now. "auto" tells them apart by
        # how far trade times are from the wall clock when they arrive.
        if clock not in ("auto", "wall", "market"):
            raise FeedError(f"clock must be 'auto', 'wall' or 'market', got {clock!r}")
        self.clock: Literal["auto", "wall", "market"] = clock
        self.market_ns = 0  # newest trade time seen (epoch ns)
        self.seeks = 0  # replay seeks seen; readers keeping per-time state reset when it moves
        self._seek_pending: set[str] = set()  # symbols whose bars are cut at their next trade
        self._market_recv_ns = 0  # local time that trade arrived

        self.module: ProviderModule | None = None
        self.instruments: dict[str, Instrument] = {}
        self.books: dict[str, Book] = {}
        self.quotes: dict[str, QuoteState] = {}
        self.tape: dict[str, TradeTape] = {}
        self.bars_1s: dict[str, OhlcBuffer] = {}
        self.bars_1m: dict[str, OhlcBuffer] = {}
        self.status: dict[str, ConnectorStatus] = {}
        self.symbol_status: dict[str, ConnectorStatus] = {}
        self.warnings: list[str] = []  # non-fatal problems (e.g. history missing) for the UI
        self.events = 0  # events ingested since start
        self.events_per_s = 0.0
        self.restarts = 0
        self.last_error = ""
        self.bad_events = 0  # events that could not be applied (e.g. price off the tick grid)
        self.last_bad_event = ""

        self._state: dict[str, _SymbolState] = {}
        self._subscribers: tuple[Subscriber, ...] = ()
        self._raw_subscribers: tuple[RawSink, ...] = ()  # wire frames, only when asked for
        self._dispatch: dict[type, Callable[[Any], None]] = {
            BookDelta: self._on_delta,
            Trade: self._on_trade,
            BookSnapshot: self._on_snapshot,
            Quote: self._on_quote,
            Bar: self._on_bar,
            ConnectorStatus: self._on_status,
        }
        self._pending_first = len(self.symbols)
        self._all_quoted = asyncio.Event()
        self._live = asyncio.Event()
        self._started = False
        self._stopped = False
        self._startup_failure: str | None = None
        self._provider_task: asyncio.Task[None] | None = None
        self._clock_task: asyncio.Task[None] | None = None
        self._adding = asyncio.Lock()  # one live addition at a time: each restarts the stream
        self._rate_ns = 0
        self._rate_events = 0

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Load instruments and history, start the provider and wait for every first quote.

        Raises `FeedError` (and leaves nothing running or allocated) when the provider is
        unknown, a symbol is not listed, the provider fails while starting, or a first quote
        does not arrive within `first_quote_timeout` seconds.
        """
        if self._started:
            raise FeedError(f"feed for provider {self.provider_name!r} was already started")
        self._started = True
        try:
            self.module = self._load_provider()
            self._check_raw()
            self._configure()
            await self._load_instruments()
            self._create_state()
            if self.history:
                await self._backfill()
            for st in self._state.values():
                st.sampler = Sampler(st.buf_1s, st.buf_1m)
            self._rate_ns = time.time_ns()
            self._provider_task = asyncio.create_task(
                self._supervise(), name=f"feed:{self.provider_name}"
            )
            await self._wait_first_quotes()
            self._clock_task = asyncio.create_task(
                self._clock(), name=f"feed-clock:{self.provider_name}"
            )
        except FeedError:
            await self.stop()
            raise
        except Exception as exc:
            # Anything else is a bug; the caller still gets one line, the log the traceback.
            log.exception("feed for provider %s failed to start", self.provider_name)
            await self.stop()
            raise FeedError(
                f"feed for provider {self.provider_name!r} failed to start "
                f"({type(exc).__name__}: {exc}); this is a bug: the log has the details"
            ) from exc
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop the provider and clock tasks, then close and unlink the bar buffers."""
        if self._stopped or not self._started:
            return
        self._stopped = True
        tasks = [t for t in (self._clock_task, self._provider_task) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        self._live.clear()
        if self.module is not None:
            self._set_status("down", "feed stopped")
        for buf in (*self.bars_1s.values(), *self.bars_1m.values()):
            try:
                buf.unlink()
            except Exception as exc:  # keep removing the others; a leak is reclaimed next start
                self._warn(f"could not remove bar buffer {buf.name}: {exc}")

    async def __aenter__(self) -> FeedHub:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- adding symbols while running ------------------------------------------------------

    async def add_symbol(self, symbol: str) -> None:
        """Start streaming `symbol` too (see `add_symbols`); a symbol already in the feed is a
        no-op."""
        await self.add_symbols([symbol])

    async def add_symbols(self, symbols: Sequence[str]) -> None:
        """Load, backfill and stream more symbols while the feed runs; the others keep theirs.

        The provider contract takes its symbol list when the stream starts, so the stream is
        restarted with the longer list: existing books, quotes, tapes and bars are kept (the
        provider sends fresh book snapshots, and the sim continues its prices). Providers that
        play recordings (`LIVE_ADD = False` in their feed module) would rewind on a restart, so
        they refuse with a `FeedError`, as does a symbol the provider does not list.
        """
        new = [s for s in dict.fromkeys(symbols) if s not in self._state]
        if not new:
            return
        for sym in new:
            try:
                split_symbol(sym)
            except ValueError as exc:
                raise FeedError(f"provider {self.provider_name!r}: {exc}") from None
        if not self._started or self._stopped:
            raise FeedError(f"feed for provider {self.provider_name!r} is not running; "
                            f"cannot add {', '.join(new)}")
        module = self._require_module()
        async with self._adding:
            new = [s for s in new if s not in self._state]  # another call may have added them
            if not new:
                return
            instruments = await self._describe(module, new)
            if not getattr(module, "LIVE_ADD", True):
                raise FeedError(
                    f"provider {self.provider_name!r} plays a fixed set of symbols "
                    f"({', '.join(self.symbols)}); restart the console with "
                    f"{', '.join(new)} in the symbols to watch it"
                )
            self.instruments.update(instruments)
            try:
                self._create_symbol_state(new)
            except (OSError, ValueError) as exc:
                raise FeedError(
                    f"could not create the bar buffers for {', '.join(new)}: {exc}; "
                    "check free space in /dev/shm or lower the buffer capacities"
                ) from None
            if self.history:
                await self._backfill(new)
            for sym in new:
                self._state[sym].sampler = Sampler(self._state[sym].buf_1s, self._state[sym].buf_1m)
            self.symbols = (*self.symbols, *new)
            self._pending_first += len(new)
            await self._restart_stream()
            await self._wait_quoted(new)

    async def _describe(
        self, module: ProviderModule, symbols: Sequence[str]
    ) -> dict[str, Instrument]:
        """Instruments for `symbols`, or a `FeedError` naming the ones the provider lacks."""
        found: dict[str, Instrument] = {}
        for sym in symbols:
            try:
                found[sym] = await asyncio.wait_for(module.symbol_info(sym),
                                                    self.first_quote_timeout)
            except UnknownSymbol as exc:
                raise FeedError(
                    f"provider {self.provider_name!r} does not list {sym}; check the spelling "
                    f"(BASE/QUOTE) or search with `mdconsole symbols {self.provider_name}`"
                    + (f" ({exc})" if str(exc) else "")
                ) from None
            except TimeoutError:
                raise FeedError(f"provider {self.provider_name!r} could not describe {sym} "
                                f"within {self.first_quote_timeout:g} s; retry") from None
        return found

    async def _restart_stream(self) -> None:
        """Stop the provider task and start it again on the current symbol list."""
        task = self._provider_task
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        self._provider_task = asyncio.create_task(
            self._supervise(), name=f"feed:{self.provider_name}"
        )

    async def _wait_quoted(self, symbols: Sequence[str]) -> None:
        """Until each of `symbols` has a first price, or a `FeedError` after the timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.first_quote_timeout
        states = [self._state[s] for s in symbols]
        # Polled: a first quote is one event among thousands, not worth a hook on the hot path.
        while not all(st.quoted for st in states):
            if loop.time() > deadline:
                missing = [s for s, st in zip(symbols, states, strict=True) if not st.quoted]
                raise FeedError(
                    f"provider {self.provider_name!r} sent no first quote for "
                    f"{', '.join(missing)} within {self.first_quote_timeout:g} s; it stays in "
                    "the feed and shows once it trades"
                )
            await asyncio.sleep(0.01)

    # --- start-up steps --------------------------------------------------------------------

    def _check_symbols(self) -> None:
        if not self.symbols:
            raise FeedError(
                f"no symbols given for provider {self.provider_name!r}; name at least one, "
                "e.g. BTC/USD"
            )
        dupes = sorted({s for s in self.symbols if self.symbols.count(s) > 1})
        if dupes:
            raise FeedError(f"symbols listed twice for provider {self.provider_name!r}: "
                            f"{', '.join(dupes)}; list each once")
        for sym in self.symbols:
            try:
                split_symbol(sym)
            except ValueError as exc:
                raise FeedError(f"provider {self.provider_name!r}: {exc}") from None

    def _load_provider(self) -> ProviderModule:
        arg = self._provider_arg
        if isinstance(arg, str):
            import providers  # the registry lives beside the providers it imports

            try:
                return providers.load(arg)
            except ProviderError as exc:
                raise FeedError(str(exc)) from None
            except ImportError as exc:
                raise FeedError(
                    f"provider {arg!r} could not be imported ({exc}); reinstall mdconsole "
                    "or pick another provider (see `mdconsole providers`)"
                ) from None
        missing = [part for part in _PROVIDER_PARTS if not hasattr(arg, part)]
        if missing:
            raise FeedError(
                f"provider {self.provider_name!r} lacks {', '.join(missing)}; a provider must "
                "implement the whole contract of console/data/provider.py"
            )
        return arg

    def _configure(self) -> None:
        """Hand the config to a provider that takes it outside the stream (optional hook)."""
        configure = getattr(self.module, "configure", None)
        if configure is None:
            return
        try:
            configure(self.config)
        except ProviderError as exc:
            raise FeedError(f"{exc} (in [providers.{self.provider_name}])") from None
        except (TypeError, ValueError) as exc:
            raise FeedError(
                f"provider {self.provider_name!r} config: {exc}; fix [providers."
                f"{self.provider_name}] in the config file"
            ) from None

    async def _load_instruments(self) -> None:
        module = self._require_module()

        unknown: dict[str, str] = {}  # symbol -> the provider's reason
        failed: dict[str, str] = {}

        async def one(sym: str) -> Instrument | None:
            try:
                return await asyncio.wait_for(module.symbol_info(sym), self.first_quote_timeout)
            except UnknownSymbol as exc:
                unknown[sym] = str(exc)
            except TimeoutError:
                failed[sym] = f"no answer within {self.first_quote_timeout:g} s"
            except Exception as exc:
                failed[sym] = f"{type(exc).__name__}: {exc}"
            return None

        results = await asyncio.gather(*(one(s) for s in self.symbols))
        if unknown:
            first_reason = next(iter(unknown.values()))
            raise FeedError(
                f"provider {self.provider_name!r} does not list {', '.join(unknown)}; "
                f"check the spelling (BASE/QUOTE) or search with "
                f"`mdconsole symbols {self.provider_name}`"
                + (f" ({first_reason})" if first_reason else "")
            )
        if failed:
            detail = "; ".join(f"{sym}: {why}" for sym, why in failed.items())
            raise FeedError(
                f"provider {self.provider_name!r} could not describe {', '.join(failed)} "
                f"({detail}); check its connection and endpoints in the config, then retry"
            )
        for sym, inst in zip(self.symbols, results, strict=True):
            assert isinstance(inst, Instrument)
            self.instruments[sym] = inst

    def _create_state(self) -> None:
        _start_resource_tracker()
        try:
            self._create_symbol_state()
        except (OSError, ValueError) as exc:
            raise FeedError(
                f"could not create the bar buffers for {', '.join(self.symbols)}: {exc}; "
                "check free space in /dev/shm or lower the buffer capacities"
            ) from None

    def _create_symbol_state(self, symbols: Sequence[str] | None = None) -> None:
        for sym in self.symbols if symbols is None else symbols:
            inst = self.instruments[sym]
            book = Book(inst.tick_size, inst.lot_size, symbol=sym)
            quote = QuoteState(sym, book=book)
            tape = TradeTape(self.tape_capacity)
            buf_1s = OhlcBuffer.create(buffer_label(sym, "1s"), self.capacity_1s)
            self.bars_1s[sym] = buf_1s
            buf_1m = OhlcBuffer.create(buffer_label(sym, "1m"), self.capacity_1m)
            self.bars_1m[sym] = buf_1m
            self.books[sym] = book
            self.quotes[sym] = quote
            self.tape[sym] = tape
            self._state[sym] = _SymbolState(book, quote, tape, buf_1s, buf_1m)

    async def _backfill(self, symbols: Sequence[str] | None = None) -> None:
        """Fill the 1 s and 1 m buffers from the provider's history so charts start full."""
        module = self._require_module()
        caps = module.CAPABILITIES
        if not caps.history:
            return
        frames = [tf for tf in (1, 60) if tf in caps.history_timeframes]

        async def one(sym: str) -> None:
            st = self._state[sym]
            async with module.open_history_client(sym) as (get_ohlc, _hints):
                for tf in frames:
                    await _page_back(get_ohlc, tf, st.buf_1s if tf == 1 else st.buf_1m)
            ref = reference_price(st.buf_1m.read(), time.time())
            if ref is not None:
                st.quote.set_reference(ref)

        async def guarded(sym: str) -> None:
            try:
                await asyncio.wait_for(one(sym), self.history_timeout)
            except TimeoutError:
                self._warn(f"{self.provider_name} {sym}: history did not arrive within "
                           f"{self.history_timeout:g} s; charts start from live data")
            except Exception as exc:
                self._warn(f"{self.provider_name} {sym}: history unavailable "
                           f"({type(exc).__name__}: {exc}); charts start from live data")

        todo = self.symbols if symbols is None else symbols
        await asyncio.gather(*(guarded(s) for s in todo))

    async def _wait_first_quotes(self) -> None:
        assert self._provider_task is not None
        quoted = asyncio.create_task(self._all_quoted.wait())
        try:
            done, _ = await asyncio.wait(
                {quoted, self._provider_task},
                timeout=self.first_quote_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            quoted.cancel()
        if self._all_quoted.is_set():
            return
        if self._provider_task in done:
            raise FeedError(
                f"provider {self.provider_name!r} stopped while starting "
                f"({', '.join(self.symbols)}): {self._startup_failure or 'stream ended'}; "
                "check its config and connection, then retry"
            )
        missing = [s for s, st in self._state.items() if not st.quoted]
        raise FeedError(
            f"provider {self.provider_name!r} sent no first quote for {', '.join(missing)} "
            f"within {self.first_quote_timeout:g} s; check that the symbols trade and the "
            "provider's connection and endpoints, or raise first_quote_timeout"
        )

    # --- provider task ---------------------------------------------------------------------

    async def _supervise(self) -> None:
        """Run the provider's stream, restarting it with exponential backoff when it crashes.

        A crash before every first quote arrived is not retried: start() reports it instead,
        since a provider that cannot start is almost always misconfigured.
        """
        module = self._require_module()
        loop = asyncio.get_running_loop()
        shm = {s: {1: st.buf_1s, 60: st.buf_1m} for s, st in self._state.items()}
        attempt = 0
        while True:
            live = asyncio.Event()
            self._live = live
            self._set_status("connecting" if attempt == 0 else "resync",
                             "" if attempt == 0 else f"restart {self.restarts}")
            watcher = asyncio.create_task(self._announce_live(live))
            began = loop.time()
            failure: str | None = None
            # `raw` only when asked: providers without the capability never see the keyword
            extra: dict[str, Any] = {"raw": self._on_raw} if self._raw_subscribers else {}
            try:
                await module.stream_quotes(
                    self.ingest, self.symbols, shm, live,
                    config=self.config, task_status=TaskStatus(), **extra,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failure = f"{type(exc).__name__}: {exc}"
                log.warning("provider %s crashed: %s", self.provider_name, failure, exc_info=True)
            finally:
                watcher.cancel()
                live.clear()
            if failure is None:
                # A stream that ends on its own (e.g. a replay reaching its end) is finished.
                self._startup_failure = "stream ended before the first quotes"
                self._set_status("down", "stream ended")
                return
            self.last_error = failure
            if not self._all_quoted.is_set():
                self._startup_failure = failure
                self._set_status("error", failure)
                return
            if loop.time() - began >= self.restart_backoff_max:
                attempt = 0  # it ran stably for a while: start the backoff over
            delay = min(self.restart_backoff * 2**attempt, self.restart_backoff_max)
            attempt += 1
            self.restarts += 1
            self._set_status("error", f"{failure}; restarting in {delay:.3g} s "
                                      f"(restart {self.restarts})")
            await asyncio.sleep(delay)

    async def _announce_live(self, live: asyncio.Event) -> None:
        await live.wait()
        current = self.status.get(self.provider_name)
        if current is None or current.state not in LIVE_STATES:  # keep the provider's own
            self._set_status("live", "")

    async def _clock(self) -> None:
        """Call `tick` just after every wall-clock second."""
        while True:
            now = time.time_ns()
            await asyncio.sleep((1_000_000_000 - now % 1_000_000_000) / 1e9)
            self.tick()

    def tick(self, now_ns: int | None = None) -> None:
        """Once-a-second work: close bars (flat ones only while live), rate and staleness."""
        now = time.time_ns() if now_ns is None else now_ns
        live = self.live
        bar_now = now if self.bar_clock == "wall" else self.market_ns
        if bar_now > 0:
            for st in self._state.values():
                if st.sampler is not None:
                    st.sampler.on_clock(bar_now, live)
        elapsed = now - self._rate_ns
        if elapsed > 0:
            self.events_per_s = (self.events - self._rate_events) * 1e9 / elapsed
            self._rate_ns = now
            self._rate_events = self.events
        current = self.status.get(self.provider_name)
        if current is None:
            return
        if self.bar_clock == "market":
            # A replay (paused or not) is as fresh as its own clock says, never wall-clock stale.
            newest = max((st.ts for st in self._state.values()), default=0)
            if self._seek_pending and newest:
                # Until the first trade after a seek, the rebuilt book's times are the clock.
                self.market_ns = newest
            quiet_s = (self.market_ns - newest) / 1e9 if self.market_ns else 0.0
        else:
            newest = max((st.quote.updated_ns for st in self._state.values()), default=0)
            quiet_s = (now - newest) / 1e9
        if current.state == "live" and quiet_s > self.stale_after:
            self._set_status("stale", f"no data for {quiet_s:.0f} s")
        elif current.state == "stale" and quiet_s <= self.stale_after:
            self._set_status("live", "")

    # --- ingest (hot path) -----------------------------------------------------------------

    def ingest(self, event: MarketEvent) -> None:
        """Take one event from the provider: update state, then hand it to each subscriber."""
        self.events += 1
        try:
            self._dispatch[type(event)](event)
        except Exception as exc:
            # One malformed venue message must not take the stream down; it still reaches
            # subscribers (the recorder keeps what the venue sent).
            self._bad_event(event, exc)
        subscribers = self._subscribers
        if subscribers:
            for callback in subscribers:
                try:
                    callback(event)
                except Exception:
                    self._drop_subscriber(callback)

    def _on_delta(self, ev: BookDelta) -> None:
        st = self._state.get(ev.symbol)
        if st is not None:
            st.book.apply_delta(ev)
            st.quote.updated_ns = time.time_ns()
            st.ts = ev.ts

    def _on_trade(self, ev: Trade) -> None:
        st = self._state.get(ev.symbol)
        if st is None:
            return
        now = time.time_ns()
        if self._seek_pending and ev.symbol in self._seek_pending:
            self._cut_after_seek(st, ev.symbol, ev.ts)
        st.tape.append(ev)
        st.ts = ev.ts
        st.quote.on_trade(ev, now)
        ts = ev.ts or now
        if ts > self.market_ns:
            self.market_ns = ts
            self._market_recv_ns = now
        sampler = st.sampler
        if sampler is not None:
            sampler.on_trade(ts, ev.price, ev.size)
        if not st.quoted:
            self._first_price(st)

    def _on_snapshot(self, ev: BookSnapshot) -> None:
        st = self._state.get(ev.symbol)
        if st is not None:
            st.book.apply_snapshot(ev)
            st.quote.updated_ns = time.time_ns()
            st.ts = ev.ts

    def _on_quote(self, ev: Quote) -> None:
        st = self._state.get(ev.symbol)
        if st is None:
            return
        st.quote.on_quote(ev, time.time_ns())
        if not st.quoted and st.quote.has_price:
            self._first_price(st)

    def _on_bar(self, ev: Bar) -> None:
        # Bars are built from trades by the sampler; venue bars only reach subscribers.
        pass

    def _on_status(self, ev: ConnectorStatus) -> None:
        if ev.symbol:
            self.symbol_status[ev.symbol] = ev
        else:
            self.status[ev.provider] = ev
            if ev.state == "resync" and ev.detail == "seek":
                self._on_seek()

    def _on_seek(self) -> None:
        """A replay jumped: the tape is cleared now; bars are cut at each symbol's next trade,
        the first of the new timeline (the seek status carries no target time)."""
        self.seeks += 1
        for sym, st in self._state.items():
            st.tape.clear()
            self._seek_pending.add(sym)

    def _cut_after_seek(self, st: _SymbolState, symbol: str, ts_ns: int) -> None:
        """Drops bars from the second of `ts_ns` on and restarts the sampler before it.

        The 1 m bar of that minute is rebuilt from the 1 s bars before the cut, so it keeps the
        trades seen before the seek point and none after it.
        """
        self._seek_pending.discard(symbol)
        # A seek back moves the market clock back too (it only ever advances otherwise).
        self.market_ns = ts_ns
        self._market_recv_ns = time.time_ns()
        sec = ts_ns // 1_000_000_000
        minute = sec - sec % 60
        _drop_from(st.buf_1s, sec)
        _drop_from(st.buf_1m, minute)
        seconds = st.buf_1s.read(60)
        part = seconds[seconds["time"] >= minute]
        if len(part):
            st.buf_1m.push(resample(part, 60))
        st.sampler = Sampler(st.buf_1s, st.buf_1m)

    def _bad_event(self, event: object, exc: Exception) -> None:
        self.bad_events += 1
        if isinstance(exc, KeyError) and type(event) not in self._dispatch:
            why = f"{type(event).__name__} is not a market event (console/model/events.py)"
        else:
            why = f"{type(exc).__name__}: {exc}"
        symbol = getattr(event, "symbol", "?")
        self.last_bad_event = f"{self.provider_name} {symbol}: {why}"
        if self.bad_events <= _BAD_EVENTS_LOGGED:
            self._warn(f"ignored a bad event from {self.last_bad_event}")

    def _first_price(self, st: _SymbolState) -> None:
        st.quoted = True
        self._pending_first -= 1
        if self._pending_first <= 0:
            self._all_quoted.set()

    # --- subscribers -----------------------------------------------------------------------

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(event)` for every event from now on; returns the unsubscribe call.

        Every subscriber gets the same immutable event object (no copies). A subscriber that
        raises is dropped, with the error logged, so it cannot stall the feed.
        """
        self._subscribers = (*self._subscribers, callback)

        def unsubscribe() -> None:
            self._remove_subscriber(callback)

        return unsubscribe

    def subscribe_raw(self, callback: RawSink) -> Callable[[], None]:
        """Call `callback(symbol, frame, recv_ns)` for every wire frame the provider receives
        (see `RawSink`); returns the unsubscribe call. Subscribe before `start`: the provider is
        asked for raw frames when its stream starts, and only if it declares `raw_frames`
        (`start` raises FeedError for one that does not).
        """
        if self._started:
            raise FeedError("subscribe to raw frames before the feed starts")
        self._raw_subscribers = (*self._raw_subscribers, callback)

        def unsubscribe() -> None:
            self._raw_subscribers = tuple(
                cb for cb in self._raw_subscribers if cb is not callback
            )

        return unsubscribe

    def _check_raw(self) -> None:
        module = self._require_module()
        if self._raw_subscribers and not getattr(module.CAPABILITIES, "raw_frames", False):
            raise FeedError(
                f"provider {self.provider_name} sends no raw frames; --raw is for venue providers"
            )

    def _on_raw(self, symbol: str, frame: bytes | str, recv_ns: int) -> None:
        for cb in self._raw_subscribers:
            try:
                cb(symbol, frame, recv_ns)
            except Exception:
                log.exception("raw frame subscriber %r failed; unsubscribing it", cb)
                self._raw_subscribers = tuple(c for c in self._raw_subscribers if c is not cb)

    def _remove_subscriber(self, callback: Subscriber) -> None:
        subs = list(self._subscribers)
        for i, cb in enumerate(subs):
            if cb is callback:
                del subs[i]
                self._subscribers = tuple(subs)
                return

    def _drop_subscriber(self, callback: Subscriber) -> None:
        log.exception("feed subscriber %r failed; unsubscribing it", callback)
        self._warn(f"a feed subscriber ({getattr(callback, '__qualname__', callback)!s}) "
                   "failed and was unsubscribed; see the log for the error")
        self._remove_subscriber(callback)

    # --- reads -----------------------------------------------------------------------------

    @property
    def live(self) -> bool:
        """The provider is streaming (first quotes done, not crashed or reconnecting)."""
        current = self.status.get(self.provider_name)
        return self._live.is_set() and (current is None or current.state in LIVE_STATES)

    @property
    def bar_clock(self) -> Literal["wall", "market"]:
        """The clock bars close on now: "market" once trade times run apart from the wall."""
        if self.clock != "auto":
            return self.clock
        if self.market_ns and abs(self._market_recv_ns - self.market_ns) > _VIRTUAL_LAG_NS:
            return "market"
        return "wall"

    def bars(self, symbol: str, timeframe_s: int) -> np.ndarray:
        """Bars of `symbol` at `timeframe_s` seconds, oldest first (a copy)."""
        st = self._symbol(symbol)
        if timeframe_s <= 0:
            raise ValueError(f"timeframe must be a positive number of seconds, got {timeframe_s}")
        if timeframe_s == 1:
            return st.buf_1s.read()
        if timeframe_s == 60:
            return st.buf_1m.read()
        if timeframe_s % 60 == 0:
            return resample(st.buf_1m.read(), timeframe_s)
        return resample(st.buf_1s.read(), timeframe_s)

    def staleness_s(self, symbol: str, now_ns: int | None = None) -> float:
        """Seconds since the last event for `symbol` arrived (infinite before the first)."""
        st = self._symbol(symbol)
        updated = st.quote.updated_ns
        if updated == 0:
            return math.inf
        if now_ns is None and self.bar_clock == "market" and self.market_ns:
            # On a replay, staleness is market time since the symbol's last event.
            return max(0.0, (self.market_ns - st.ts) / 1e9) if st.ts else math.inf
        now = time.time_ns() if now_ns is None else now_ns
        return max(0.0, (now - updated) / 1e9)

    def _symbol(self, symbol: str) -> _SymbolState:
        try:
            return self._state[symbol]
        except KeyError:
            raise KeyError(
                f"{symbol!r} is not in this feed (provider {self.provider_name!r} streams "
                f"{', '.join(self.symbols)})"
            ) from None

    # --- helpers ---------------------------------------------------------------------------

    def _require_module(self) -> ProviderModule:
        if self.module is None:
            raise FeedError(f"feed for provider {self.provider_name!r} is not started")
        return self.module

    def _set_status(self, state: ConnectorState, detail: str) -> None:
        self.ingest(ConnectorStatus(
            symbol="", provider=self.provider_name, state=state, detail=detail,
            ts=time.time_ns(),
        ))

    def _warn(self, message: str) -> None:
        log.warning("%s", message)
        self.warnings.append(message)


def _drop_from(buf: OhlcBuffer, time_s: int) -> None:
    """Removes a buffer's newest rows whose bar starts at or after `time_s`."""
    newest = buf.read(1)
    if not len(newest) or int(newest["time"][0]) < time_s:
        return
    rows = buf.read()
    keep = int(np.searchsorted(rows["time"], time_s, side="left"))
    buf.drop_newest(len(rows) - keep)


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with the real stderr.

    Shared-memory segments register with a tracker process, started on first use with
    `sys.stderr.fileno()` passed to it. Inside a Textual app stderr is a capture whose fileno
    is -1, which makes that spawn fail; starting it against the process's real stderr works
    wherever the hub is first started.
    """
    saved = sys.stderr
    try:
        sys.stderr = sys.__stderr__
        resource_tracker.ensure_running()
    except Exception as exc:  # no tracker only risks a leak after a crash: warn, carry on
        log.warning("could not start the shared-memory resource tracker: %s", exc)
    finally:
        sys.stderr = saved


async def _page_back(get_ohlc: GetOhlc, timeframe_s: int, buf: OhlcBuffer) -> None:
    """Prepend history pages, newest first, until the buffer is full or history runs out."""
    end_dt: datetime | None = None
    oldest: int | None = None  # bar time of the oldest row held so far
    for _ in range(_MAX_PAGES):
        room = buf.capacity - len(buf)
        if room <= 0:
            return
        try:
            array, start_dt, _end = await get_ohlc(timeframe_s, end_dt=end_dt)
        except DataUnavailable:
            return
        rows = as_ohlc(array)
        if oldest is not None:  # a page may overlap what is held; keep only older rows
            rows = rows[rows["time"] < oldest]
        if not len(rows):
            return
        rows = rows[-room:]
        buf.prepend(rows)
        oldest = int(rows["time"][0])
        if end_dt is not None and start_dt >= end_dt:
            return  # the provider did not page back; asking again would loop
        end_dt = start_dt


def as_ohlc(array: np.ndarray) -> np.ndarray:
    """A provider's history rows as `OHLC_DTYPE` (a no-op when they already are)."""
    if array.dtype == OHLC_DTYPE:
        return array
    names = array.dtype.names or ()
    missing = [f for f in OHLC_DTYPE.names or () if f not in names]
    if missing:
        raise FeedError(f"history rows lack field(s) {', '.join(missing)}; a provider's "
                        "ohlc_dtype must contain every field of OHLC_DTYPE")
    out = np.empty(len(array), dtype=OHLC_DTYPE)
    for field in OHLC_DTYPE.names or ():
        out[field] = array[field]
    return out


def reference_price(bars_1m: np.ndarray, now_s: float) -> float | None:
    """The open of the first 1 m bar at or after 24 h ago, if the history reaches that far."""
    if not len(bars_1m):
        return None
    times = bars_1m["time"]
    since = now_s - _DAY_S
    if times[0] > since:
        return None
    i = int(np.searchsorted(times, since, side="left"))
    if i >= len(bars_1m):
        return None
    price = float(bars_1m["open"][i])
    return price if price > 0.0 and math.isfinite(price) else None
