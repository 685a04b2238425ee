"""The console app: watchlist and candles panes repainted by one frame pump from plain state.

`MDConsoleApp` takes any `MarketView` (the FeedHub, a replay, a test source); `run_console` is
the entry the CLI awaits.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Footer

from console.config import Config, ConsoleSection
from console.data.provider import TIMEFRAMES, ProviderError
from console.ui.blotter import BlotterPane
from console.ui.candles import CHART_BINDINGS, CandlesPane, ChartActions, chart_commands
from console.ui.heap import HeapSettler
from console.ui.ladder import LadderPane
from console.ui.layout import LayoutMixin, listed_additions, load_state, state_path
from console.ui.market_view import MarketView
from console.ui.order_entry import OrderEntryPane
from console.ui.palette import Palette
from console.ui.quotes import QuotesPane
from console.ui.session import TradingSession, open_session
from console.ui.status import StatusLine
from console.ui.tape import TapePane
from console.ui.trading import TradingMixin
from console.ui.watchlists import WatchlistMixin, plan_opening
from themes.trading import DEFAULT_THEME, TRADING_VARIABLES, builtin_themes
from themes.user import load_user_themes, user_themes_dir

TIMEFRAME_ORDER: tuple[int, ...] = tuple(sorted(TIMEFRAMES.values()))

STATUS_EVERY_S = 0.5
"""The status line changes at most this often; it is read, not watched."""

UNDER_MODAL_EVERY_S = 0.25
"""How often the panes repaint while a dialog (palette, help, search, confirmation) is open."""


class MDConsoleApp(ChartActions, WatchlistMixin, LayoutMixin, TradingMixin, App[int]):
    """Quotes and candles for one provider's symbols."""

    CSS_PATH = "app.tcss"
    TITLE = "mdconsole"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("t", "timeframe(1)", "Timeframe +", id="timeframe.next"),
        Binding("T", "timeframe(-1)", "Timeframe −", show=False, id="timeframe.prev"),
        Binding("f2", "next_theme", "Theme", id="theme.next"),
        *CHART_BINDINGS,
    ]

    def __init__(
        self,
        view: MarketView,
        *,
        provider: str | None = None,
        start_view: bool = True,
        fps: int = 25,
        timeframe_s: int = 60,
        theme: str = DEFAULT_THEME,
        keymap: Mapping[str, str] | None = None,
        extra_themes: Sequence[Theme] = (),
        trading: TradingSession | None = None,
    ) -> None:
        super().__init__()
        self.view = view
        self.trading = trading
        # The status line reads the view's status under its provider's name.
        self.provider = provider or str(getattr(view, "provider_name", "sim"))
        self.failure: BaseException | None = None
        self.frames = 0
        self.frame_ms: deque[float] = deque(maxlen=4096)
        self._frame_times: deque[float] = deque(maxlen=256)
        self._frame_interval = 1.0 / fps
        self._start_view = start_view
        self._view_ready = not start_view
        self._view_stopped = False
        self._timeframe_s = timeframe_s if timeframe_s in TIMEFRAME_ORDER else 60
        self._keymap = dict(keymap or {})
        self._status_due = 0.0
        self._under_modal_due = 0.0
        self._note = ""
        self._frame_waiters: list[asyncio.Future[None]] = []
        self._warnings_shown = 0
        self._heap = HeapSettler()
        for t in (*builtin_themes(), *extra_themes):
            self.register_theme(t)
        if theme in self.available_themes:
            self.theme = theme
        else:
            self.theme = DEFAULT_THEME
            self._note = f"theme {theme!r} is unknown; using {DEFAULT_THEME}"

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # Any theme (Textual's own included) can be used: missing trading colours fall back.
        return dict(TRADING_VARIABLES)

    def compose(self) -> ComposeResult:
        # Left: watchlist, chart, blotter. Side column (narrowed or hidden on small terminals,
        # see console/ui/layout.py): ladder, order entry, tape. Pane ids are the cycle order's.
        with Horizontal(id="main"):
            with Vertical(id="left"):
                quotes = QuotesPane(id="quotes")
                quotes.border_title = "Watchlist"
                yield quotes
                yield CandlesPane(id="candles")
                yield BlotterPane(id="blotter")
            with Vertical(id="side"):
                yield LadderPane(id="ladder")
                yield OrderEntryPane(id="order-entry")
                tape = TapePane(id="tape")
                tape.border_title = "Tape"
                yield tape
        yield StatusLine(id="status")
        yield Footer()

    @property
    def quotes_pane(self) -> QuotesPane:
        return self.query_one(QuotesPane)

    @property
    def candles_pane(self) -> CandlesPane:
        return self.query_one(CandlesPane)

    @property
    def status_line(self) -> StatusLine:
        return self.query_one(StatusLine)

    def on_mount(self) -> None:
        if self._keymap:
            self.set_keymap(self._keymap)
        self._apply_palette(self.current_theme)
        self.theme_changed_signal.subscribe(self, self._apply_palette)
        self.quotes_pane.focus()
        if self._note:
            self.notify(self._note, severity="warning")
        for note in self.startup_notes:
            self.notify(note, severity="warning", timeout=10)
        if self._start_view:
            self.run_worker(self._bring_up_view(), name="start-feed", exit_on_error=False)
        self.trading_mount()
        self.set_interval(self._frame_interval, self._frame, name="frame-pump")

    async def _bring_up_view(self) -> None:
        try:
            await self.view.start()
        except ProviderError as exc:
            # Reported by run_console after the terminal is restored: one line, no traceback.
            self.failure = exc
            self.exit(1, return_code=1)
            return
        self._view_ready = True

    def _apply_palette(self, theme: Theme) -> None:
        palette = Palette.from_theme(theme)
        self.quotes_pane.set_palette(palette)
        self.candles_pane.set_palette(palette)
        self.query_one(TapePane).set_palette(palette)
        self.trading_palette(palette)

    # -- the frame pump -----------------------------------------------------------------------

    def _frame(self) -> None:
        """Read the view's plain state and repaint only the panes whose content changed."""
        if self._view_stopped or self._exit:
            return  # shutting down: panes may already be gone
        now = time.perf_counter()
        if self._view_ready and self._panes_due(now):
            view = self.view
            quotes = self.quotes_pane
            quotes.sync(view)
            candles = self.candles_pane
            if not candles.symbol and quotes.selected:
                if self.layout_state.symbol in quotes.symbols:
                    quotes.select(self.layout_state.symbol)
                candles.show(quotes.selected, self._timeframe_s)
                if self.layout_state.maximized:
                    self.maximize_pane(self.layout_state.maximized)
            candles.sync(view)
            tape = self.query_one(TapePane)
            tape.show(candles.symbol)
            tape.sync(view)
            self.trading_frame()
            self._heap.frame(now, candles.candle_count > 0)
        done = time.perf_counter()
        self.frames += 1
        self.frame_ms.append((done - now) * 1000.0)
        self._frame_times.append(done)
        if done >= self._status_due:
            self._status_due = done + STATUS_EVERY_S
            self._update_status()
            self.remember_layout(self.candles_pane.symbol, self._timeframe_s)
        waiters, self._frame_waiters = self._frame_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _panes_due(self, now: float) -> bool:
        """Whether the panes repaint this frame: every frame, or a few a second under a dialog.

        Under a dialog every pane repaint recomposites the whole dimmed screen behind it
        (about 30 ms at 160x50), which left typing in the palette lagging behind a busy
        market; the market behind still moves, just less often.
        """
        if len(self.screen_stack) == 1:
            return True
        if now < self._under_modal_due:
            return False
        self._under_modal_due = now + UNDER_MODAL_EVERY_S
        return True

    async def next_frame(self) -> None:
        """Wait until the frame pump has run once more (tests and benches await this)."""
        waiter = asyncio.get_running_loop().create_future()
        self._frame_waiters.append(waiter)
        await waiter

    @property
    def fps(self) -> float:
        """Frames completed in the last second."""
        times = self._frame_times
        if len(times) < 2:
            return 0.0
        cutoff = times[-1] - 1.0
        return float(sum(1 for t in times if t > cutoff))

    def _update_status(self) -> None:
        recent = list(self.frame_ms)[-64:]
        render_ms = sorted(recent)[len(recent) // 2] if recent else 0.0
        status = self.status_line
        if not self._view_ready:
            status.update_from(self.view, self.provider, self.fps, render_ms, "starting feed…")
            return
        status.update_from(
            self.view, self.provider, self.fps, render_ms, self._note, **self.status_context()
        )
        warnings: list[str] = getattr(self.view, "warnings", [])
        for warning in warnings[self._warnings_shown :]:
            # Non-fatal feed problems (e.g. no history) are worth a toast, not a dead pane.
            self.notify(warning, severity="warning", timeout=8)
        self._warnings_shown = len(warnings)
        state = self.view.status.get(self.provider)
        name = state.state if state is not None else "connecting"
        status.set_class(name == "live", "-live")
        status.set_class(name in ("stale", "resync", "connecting", "syncing"), "-stale")
        status.set_class(name in ("down", "error"), "-down")

    # -- actions ------------------------------------------------------------------------------

    def on_quotes_pane_symbol_chosen(self, message: QuotesPane.SymbolChosen) -> None:
        self.candles_pane.show(message.symbol, self._timeframe_s)

    def chart(self, symbol: str | None = None, timeframe_s: int | None = None) -> None:
        """Chart `symbol` (default: the current one) at `timeframe_s` (default: current)."""
        if timeframe_s is not None and timeframe_s in TIMEFRAME_ORDER:
            self._timeframe_s = timeframe_s
        candles = self.candles_pane
        symbol = symbol or candles.symbol or self.quotes_pane.selected
        if not symbol:
            return
        self.quotes_pane.select(symbol)
        candles.show(symbol, self._timeframe_s)

    def action_timeframe(self, step: int) -> None:
        i = TIMEFRAME_ORDER.index(self._timeframe_s)
        self.chart(timeframe_s=TIMEFRAME_ORDER[(i + step) % len(TIMEFRAME_ORDER)])

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for symbol in self.quotes_pane.symbols:
            yield SystemCommand(
                f"Chart {symbol}", f"Show {symbol} in the candles pane", partial(self.chart, symbol)
            )
        for name, seconds in TIMEFRAMES.items():
            yield SystemCommand(
                f"Timeframe {name}",
                f"Candles of {name}",
                partial(self.chart, None, seconds),
            )
        yield from chart_commands(self.candles_pane)

    def action_next_theme(self) -> None:
        names = list(self.available_themes)
        self.theme = names[(names.index(self.theme) + 1) % len(names)]
        self.notify(f"theme: {self.theme}", timeout=2)

    async def action_quit(self) -> None:
        # the status tick saves the layout every half second; a change just before quitting
        # must not be lost
        self.remember_layout(self.candles_pane.symbol, self._timeframe_s)
        await self.stop_view()
        self.exit(0)

    async def stop_view(self) -> None:
        """Stop the market view once (tasks cancelled, buffers unlinked); safe to repeat."""
        if self._view_stopped:
            return
        self._view_stopped = True
        self._heap.release()
        await self.view.stop()


async def streamed_symbols(
    watched: Sequence[str],
    trading: TradingSession | None,
    provider: str,
    config: Mapping[str, Any],
) -> list[str]:
    """The watchlist's symbols, then those of restored orders and positions off it.

    Those still need their books: the paper engine fills against them and the blotter marks
    them to market. A symbol the provider no longer lists is left out (it cannot stream).
    """
    symbols = list(watched)
    if trading is not None:
        held = [s for s in trading.traded_symbols() if s not in symbols]
        symbols += (await listed_additions(provider, config, held))[0]
    return symbols


async def run_console(
    provider: str = "sim",
    symbols: Sequence[str] | None = None,
    config: Config | Mapping[str, Any] | None = None,
    *,
    headless: bool = False,
) -> int:
    """Run the console on `provider` until the user quits; returns the exit code.

    `config` is the whole `Config` (the CLI passes it) or just the provider's settings.
    A provider that cannot start raises its `ProviderError` after the terminal is restored.
    """
    from console.data.feed import FeedHub

    console = config.console if isinstance(config, Config) else ConsoleSection()
    if isinstance(config, Config):
        provider_config: Mapping[str, Any] = config.provider_config(provider)
        keymap: Mapping[str, str] = config.keys
    else:
        provider_config = dict(config or {})
        keymap = {}
    layout_file = state_path()
    saved, layout_warning = load_state(layout_file)
    opening = await plan_opening(console, symbols, saved, provider, provider_config)
    themes_dir = user_themes_dir(config.source if isinstance(config, Config) else "")
    user_themes, theme_errors = load_user_themes(themes_dir)
    trading, trading_note = open_session(config if isinstance(config, Config) else Config())
    hub = FeedHub(
        provider,
        await streamed_symbols(opening.symbols, trading, provider, provider_config),
        config=provider_config,
        first_quote_timeout=console.first_quote_timeout,
    )
    app = MDConsoleApp(
        hub,
        provider=provider,
        fps=console.fps,
        timeframe_s=TIMEFRAMES[console.timeframe],
        theme=console.theme,
        keymap=keymap,
        extra_themes=user_themes,
        trading=trading,
    )
    app.load_layout(layout_file, saved)
    app.set_watchlists(opening.lists, opening.current, unsaved=opening.unsaved)
    app.themes_dir = themes_dir
    app.startup_notes = [
        n for n in (layout_warning, opening.note, *theme_errors, trading_note) if n
    ]
    try:
        code = await app.run_async(headless=headless)
    finally:
        await app.stop_view()
        if trading is not None:
            trading.close()
    if app.failure is not None:
        raise app.failure
    return code or 0
