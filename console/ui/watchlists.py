"""Watchlists: switch between the config's named lists; add, remove and reorder their symbols.

The config's lists are the defaults; a list the user edits is kept whole in the layout state
(never in the config file) until reset. The feed keeps streaming every symbol it was given; the
watchlist pane shows the current list.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from console.config import ConsoleSection
from console.data.provider import ProviderError
from console.ui.layout import LayoutState, listed_additions, merge_watchlist
from console.ui.quotes import QuotesPane
from console.ui.search import Listing

DEFAULT_LIST = ""
"""The name of the config's plain `symbols` list among the saved watchlists."""


def list_label(name: str) -> str:
    """How a watchlist is named to the user (the plain `symbols` list has no name)."""
    return name or "symbols"


def start_lists(
    console: ConsoleSection, symbols: Sequence[str] | None = None, state: LayoutState | None = None
) -> tuple[dict[str, list[str]], str]:
    """Every saved watchlist by name (as configured) and the one to open on.

    Symbols given on the command line replace the plain list and are opened on; otherwise the
    list last switched to (if the config still has it), else the config's `watchlist`.
    """
    lists = {DEFAULT_LIST: list(symbols or console.symbols), **console.watchlists}
    if symbols:
        return lists, DEFAULT_LIST
    saved = state.watchlist_name if state is not None else None
    return lists, saved if saved is not None and saved in lists else console.watchlist


def fold_additions(state: LayoutState, console: ConsoleSection) -> None:
    """Turn an older state file's search additions into edited lists (config symbols first)."""
    configured = {DEFAULT_LIST: console.symbols, **console.watchlists}
    for name, added in {DEFAULT_LIST: state.watchlist, **state.watchlists}.items():
        if added and name not in state.lists:
            state.lists[name] = merge_watchlist(list(configured.get(name, [])), added)
    state.watchlist, state.watchlists = [], {}


def edited_list(edits: Mapping[str, Sequence[str]], name: str) -> list[str] | None:
    """The user's version of list `name`, each symbol once; None if unedited.

    An empty list can only come from a damaged file (the last symbol cannot be removed), so it
    counts as unedited rather than leaving the pane blank.
    """
    symbols = list(dict.fromkeys(edits.get(name, ())))
    return symbols or None


async def opening_watchlist(
    provider: str, config: Mapping[str, Any], configured: Sequence[str],
    edited: Sequence[str] | None,
) -> tuple[list[str], str]:
    """The symbols the feed starts with, and a note naming any left out.

    The edited list if there is one, less the symbols not in the config that the provider no
    longer lists (starting the feed with those would fail); the configured list otherwise.
    """
    if not edited:
        return list(configured), ""
    extra = [s for s in edited if s not in configured]
    kept, note = await listed_additions(provider, config, extra)
    symbols = [s for s in edited if s in configured or s in kept]
    return symbols or list(configured), note


class Opening(NamedTuple):
    """The watchlists a console opens with, and the symbols its feed starts on."""

    lists: dict[str, list[str]]
    """Configured lists by name."""
    current: str
    symbols: list[str]
    note: str
    """Symbols of the edited list left out, or ""."""
    unsaved: tuple[str, ...]
    """Lists whose edits are this run's only (see `WatchlistMixin.set_watchlists`)."""


async def plan_opening(
    console: ConsoleSection, symbols: Sequence[str] | None, state: LayoutState,
    provider: str, config: Mapping[str, Any],
) -> Opening:
    """Lists, the one to open on and the feed's symbols from the config, the command line's
    symbols and the saved state (older files' additions are folded into it here)."""
    fold_additions(state, console)
    lists, current = start_lists(console, symbols, state)
    edited = None if symbols else edited_list(state.lists, current)
    feed_symbols, note = await opening_watchlist(provider, config, lists[current], edited)
    # Symbols given on the command line are this run's plain list; the saved one is kept.
    return Opening(lists, current, feed_symbols, note, (DEFAULT_LIST,) if symbols else ())


def moved(symbols: Sequence[str], symbol: str, neighbour: str, after: bool) -> list[str]:
    """`symbols` with `symbol` taken out and put back just before (or after) `neighbour`."""
    out = [s for s in symbols if s != symbol]
    at = out.index(neighbour) + (1 if after else 0)
    return [*out[:at], symbol, *out[at:]]


class WatchlistMixin(App[int]):
    """Watchlist keys, palette entries, edits and live additions, mixed into the app."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("W", "watchlist_next", "Next watchlist", show=False, id="watchlist.next"),
    ]

    layout_state: LayoutState
    view: Any
    provider: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.watchlists: dict[str, list[str]] = {}
        """Configured symbols of each saved watchlist; empty: the pane shows all streamed."""
        self.watchlist_name = DEFAULT_LIST
        self.unsaved_lists: frozenset[str] = frozenset()
        """Lists whose edits last for this run only (symbols given on the command line)."""
        self._unsaved_edits: dict[str, list[str]] = {}

    def set_watchlists(
        self, lists: Mapping[str, Sequence[str]], current: str, *, unsaved: Collection[str] = ()
    ) -> None:
        """Use these saved watchlists and open on `current` (before or after mount).

        Edits of the `unsaved` lists are neither read from nor written to the layout state.
        """
        self.watchlists = {name: list(symbols) for name, symbols in lists.items()}
        self.watchlist_name = current if current in self.watchlists else DEFAULT_LIST
        self.unsaved_lists = frozenset(unsaved)
        if self._panes_ready:
            self._show_watchlist()

    @property
    def _panes_ready(self) -> bool:
        return bool(self.screen_stack) and bool(self.screen_stack[0].query("#quotes"))

    @property
    def watchlist_names(self) -> list[str]:
        """Saved watchlist names in switching order."""
        return list(self.watchlists)

    def _edits(self, name: str) -> dict[str, list[str]]:
        return self._unsaved_edits if name in self.unsaved_lists else self.layout_state.lists

    def watchlist_symbols(self, name: str | None = None) -> list[str]:
        """A watchlist's symbols in order: the user's edit of it, else the configured ones."""
        name = self.watchlist_name if name is None else name
        edited = edited_list(self._edits(name), name)
        return edited if edited is not None else list(self.watchlists.get(name, []))

    def _store(self, symbols: Sequence[str]) -> None:
        """Make `symbols` the current list (saved with the layout) and show it."""
        self._edits(self.watchlist_name)[self.watchlist_name] = list(symbols)
        self._show_watchlist()

    def _ensure_lists(self) -> None:
        # Without saved lists (an embedding app) the streamed symbols are the list to edit.
        if not self.watchlists:
            self.watchlists = {DEFAULT_LIST: list(self.view.quotes)}

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
        self.layout_state.watchlist_name = name
        self.notify(f"watchlist {list_label(name)}", timeout=2)
        self._show_and_stream()

    def _show_and_stream(self) -> None:
        """Show the current list, stream what the feed lacks, and chart its first symbol
        unless the charted one is on it."""
        self._show_watchlist()
        symbols = self.watchlist_symbols()
        chart_symbol = str(getattr(self._candles(), "symbol", ""))
        target = None if chart_symbol in symbols else (symbols[0] if symbols else None)
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
        self._ensure_lists()
        symbols = self.watchlist_symbols()
        if pick.symbol not in symbols:
            self._store([*symbols, pick.symbol])
        self._stream([pick.symbol], pick.symbol)

    def action_watchlist_remove(self) -> None:
        """Take the symbol under the cursor off the current list; its neighbour takes the
        cursor (and the chart, if the removed one was charted). The last one stays."""
        pane = self._quotes()
        if not pane.symbols:
            return
        self._ensure_lists()
        index = pane.cursor
        symbol = pane.symbols[index]
        label = list_label(self.watchlist_name)
        if len(pane.symbols) < 2:
            self.notify(f"{symbol} is the last symbol of watchlist {label}; add another with "
                        "/ before removing it", severity="warning", timeout=6)
            return
        charted = symbol == pane.selected
        self._store([s for s in self.watchlist_symbols() if s != symbol])
        pane.set_cursor(index)
        if charted:
            self._chart(pane.symbols[pane.cursor])
        self.notify(f"{symbol} removed from watchlist {label}{self._still_used(symbol)}",
                    timeout=4)

    def _still_used(self, symbol: str) -> str:
        """Why a removed symbol keeps streaming ("" if nothing of ours needs it)."""
        trading = getattr(self, "trading", None)
        if trading is None:
            return ""
        uses = []
        if working := len(trading.working_orders(symbol)):
            uses.append(f"{working} working order{'s' if working > 1 else ''}")
        if trading.position_size(symbol):
            uses.append("a position")
        return f"; it keeps streaming for its {' and '.join(uses)}" if uses else ""

    def action_watchlist_move(self, step: int) -> None:
        """Move the symbol under the cursor one line up (step -1) or down (+1) the list."""
        pane = self._quotes()
        target = pane.cursor + step
        if not pane.symbols or not 0 <= target < len(pane.symbols):
            return
        self._ensure_lists()
        symbol, neighbour = pane.symbols[pane.cursor], pane.symbols[target]
        self._store(moved(self.watchlist_symbols(), symbol, neighbour, after=step > 0))
        pane.set_cursor(target)

    def reset_watchlist(self) -> None:
        """Drop the user's edits of the current list: the config's list again."""
        name = self.watchlist_name
        label = list_label(name)
        edits = self._edits(name)
        if name not in edits:
            self.notify(f"watchlist {label} is as the config has it already", timeout=4)
            return
        del edits[name]
        count = len(self.watchlist_symbols())
        self.notify(f"watchlist {label} reset to the config's {count} symbols", timeout=4)
        self._show_and_stream()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        label = list_label(self.watchlist_name)
        yield SystemCommand(f"Reset watchlist {label} to config",
                            "Undo this list's additions, removals and order",
                            self.reset_watchlist)

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
