"""Saved watchlists: switch between the config's named lists, and add searched symbols live.

The feed keeps streaming every symbol it was given; the watchlist pane shows the current list.
Symbols added with `/` join the current list in the layout state (never the config file).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from console.config import ConsoleSection
from console.data.provider import ProviderError
from console.ui.layout import LayoutState
from console.ui.quotes import QuotesPane
from console.ui.search import Listing

DEFAULT_LIST = ""
"""The name of the config's plain `symbols` list among the saved watchlists."""


def list_label(name: str) -> str:
    """How a watchlist is named to the user (the plain `symbols` list has no name)."""
    return name or "symbols"


def start_lists(
    console: ConsoleSection, symbols: Sequence[str] | None = None
) -> tuple[dict[str, list[str]], str]:
    """Every saved watchlist by name and the one to open on.

    Symbols given on the command line replace the plain list and are opened on.
    """
    lists = {DEFAULT_LIST: list(symbols or console.symbols), **console.watchlists}
    return lists, DEFAULT_LIST if symbols else console.watchlist


def saved_additions(state: LayoutState, name: str) -> list[str]:
    """The symbols search added to watchlist `name` (the live list, so it can be appended to)."""
    if name == DEFAULT_LIST:
        return state.watchlist
    return state.watchlists.setdefault(name, [])


class WatchlistMixin(App[int]):
    """The `watchlist.next` key, palette entries and live additions, mixed into the app."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("W", "watchlist_next", "Next watchlist", show=False, id="watchlist.next"),
    ]

    layout_state: LayoutState
    _saved_state: bytes
    view: Any
    provider: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.watchlists: dict[str, list[str]] = {}
        """Configured symbols of each saved watchlist; empty: the pane shows all streamed."""
        self.watchlist_name = DEFAULT_LIST

    def set_watchlists(self, lists: Mapping[str, Sequence[str]], current: str) -> None:
        """Use these saved watchlists and open on `current` (before or after mount)."""
        self.watchlists = {name: list(symbols) for name, symbols in lists.items()}
        self.watchlist_name = current if current in self.watchlists else DEFAULT_LIST
        if self._panes_ready:
            self._show_watchlist()

    @property
    def _panes_ready(self) -> bool:
        return bool(self.screen_stack) and bool(self.screen_stack[0].query("#quotes"))

    @property
    def watchlist_names(self) -> list[str]:
        """Saved watchlist names in switching order."""
        return list(self.watchlists)

    def watchlist_symbols(self, name: str | None = None) -> list[str]:
        """A watchlist's symbols: the configured ones, then those search added, each once."""
        name = self.watchlist_name if name is None else name
        configured = self.watchlists.get(name, [])
        return list(dict.fromkeys([*configured, *saved_additions(self.layout_state, name)]))

    def on_mount(self) -> None:
        # Textual calls each class's on_mount along the MRO; the app's own runs too.
        if self.watchlists:
            self._show_watchlist()

    def _quotes(self) -> QuotesPane:
        return self.screen_stack[0].query_one("#quotes", QuotesPane)

    def _show_watchlist(self) -> None:
        """Point the watchlist pane at the current list (it shows the streamed part of it)."""
        pane = self._quotes()
        pane.shown_list = self.watchlist_symbols() if self.watchlists else None
        if pane.shown_list is not None:
            quotes = self.view.quotes
            pane.set_symbols([s for s in pane.shown_list if s in quotes])
        pane.border_title = (f"Watchlist · {list_label(self.watchlist_name)}"
                             if len(self.watchlists) > 1 else "Watchlist")

    def action_watchlist_next(self) -> None:
        names = self.watchlist_names
        if len(names) < 2:
            self.notify("one watchlist only; save more under [console.watchlists] in the "
                        "config", timeout=5)
            return
        index = names.index(self.watchlist_name) if self.watchlist_name in names else -1
        self.switch_watchlist(names[(index + 1) % len(names)])

    def switch_watchlist(self, name: str) -> None:
        """Show watchlist `name`, streaming those of its symbols the feed does not have yet."""
        if name not in self.watchlists:
            self.notify(f"no watchlist {name!r}; saved: "
                        f"{', '.join(map(list_label, self.watchlists)) or 'none'}",
                        severity="error")
            return
        self.watchlist_name = name
        self._show_watchlist()
        symbols = self.watchlist_symbols()
        chart_symbol = str(getattr(self._candles(), "symbol", ""))
        target = None if chart_symbol in symbols else (symbols[0] if symbols else None)
        self.notify(f"watchlist {list_label(name)}", timeout=2)
        self._stream(symbols, target)

    def _candles(self) -> object:
        found = self.screen_stack[0].query("#candles")
        return found.first() if found else None

    def add_to_watchlist(self, pick: Listing | None) -> None:
        """Append the picked symbol to the current watchlist and stream it now if need be."""
        if pick is None:
            return
        if pick.provider != self.provider:
            self.notify(f"{pick.symbol} is listed by {pick.provider}; this console streams "
                        f"{self.provider}. Start it with that provider to watch it.",
                        severity="warning", timeout=8)
            return
        added = saved_additions(self.layout_state, self.watchlist_name)
        if pick.symbol not in self.watchlist_symbols():
            added.append(pick.symbol)
            self._saved_state = b""  # forces the next layout save
        if self.watchlists:
            self._show_watchlist()
        self._stream([pick.symbol], pick.symbol)

    def _stream(self, symbols: Sequence[str], chart: str | None) -> None:
        """Add the symbols the view lacks (in a worker: the feed restarts), then chart one."""
        missing = [s for s in symbols if s not in self.view.quotes]
        if not missing:
            if chart is not None:
                self._chart(chart)
            return
        if not callable(getattr(self.view, "add_symbols", None)):
            self.notify(f"{', '.join(missing)} added to the watchlist; it streams from the "
                        "next start", timeout=6)
            return
        self.run_worker(self._add_live(missing, chart), group="watchlist", exit_on_error=False)

    async def _add_live(self, symbols: Sequence[str], chart: str | None) -> None:
        add = self.view.add_symbols
        added: list[str] = []
        try:
            await add(symbols)
            added = list(symbols)
        except ProviderError as exc:
            if len(symbols) == 1:
                self.notify(str(exc), severity="error", timeout=10)
            else:  # one bad symbol must not keep the rest of the list off the screen
                for symbol in symbols:
                    try:
                        await add([symbol])
                        added.append(symbol)
                    except ProviderError as one:
                        self.notify(str(one), severity="error", timeout=10)
        if added:
            if self.watchlists:
                self._show_watchlist()
            self.notify(f"{', '.join(added)} streaming in the watchlist", timeout=3)
        if chart is not None and chart in self.view.quotes:
            self._chart(chart)

    def _chart(self, symbol: str) -> None:
        pane = self._quotes()
        if pane.shown_list is None and symbol not in pane.symbols:
            pane.set_symbols(list(self.view.quotes))
        chart = getattr(self, "chart", None)
        if callable(chart):
            chart(symbol)
