"""Watchlist pane: one line per symbol (last, change, bid, ask, spread, volume), Line API.

Each line is a cached Strip keyed by the quote's `version`; the frame pump calls `sync`, and
only lines whose key changed are rebuilt and refreshed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from console.model.instruments import Instrument
from console.ui.market_view import MarketView, QuoteView
from console.ui.palette import Palette

COLUMNS: tuple[tuple[str, int], ...] = (
    ("Symbol", 11),
    ("Last", 13),
    ("Chg%", 8),
    ("Bid", 13),
    ("Ask", 13),
    ("Spread", 9),
    ("Volume", 10),
)
"""Header and width of each column; all but the symbol are right-aligned."""

DROP_ORDER: tuple[int, ...] = (5, 6, 2)
"""Columns given up, in this order, when the pane is too narrow: spread, volume, change."""

STALE_AFTER_S = 15.0
"""A symbol with no update for this long is shown in the stale colour, unless the view sets
its own `stale_after` (the FeedHub does), so rows and the status line agree."""

Cell = tuple[str, str]


def fmt_num(value: float, decimals: int) -> str:
    """A price-like number, or an em dash where there is none yet."""
    if not math.isfinite(value) or value == 0.0:
        return "—"
    return f"{value:,.{decimals}f}"


def fmt_volume(value: float) -> str:
    """Volume in 4 significant-ish characters: 950, 12.3k, 4.56M."""
    if not math.isfinite(value) or value <= 0:
        return "—"
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.2f}{unit}"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def visible_columns(width: int) -> list[int]:
    """Indices of the columns that fit in `width` cells (marker and gaps included)."""
    shown = list(range(len(COLUMNS)))
    for drop in DROP_ORDER:
        if 1 + sum(COLUMNS[i][1] + 1 for i in shown) <= width:
            break
        shown.remove(drop)
    return shown


def quote_cells(
    quote: QuoteView, instrument: Instrument | None, tick_dir: int, stale: bool
) -> list[Cell]:
    """Text and colour role of each column for one quote."""
    pdec = instrument.pdec if instrument is not None else 2
    change = quote.change_pct
    spread = quote.ask - quote.bid if quote.bid > 0 and quote.ask > 0 else math.nan
    if stale:
        last_role = change_role = bid_role = ask_role = "stale"
    else:
        last_role = "up" if tick_dir > 0 else ("down" if tick_dir < 0 else "text")
        change_role = "up" if change > 0 else ("down" if change < 0 else "text")
        bid_role, ask_role = "bid", "ask"
    change_text = f"{change:+.2f}%" if math.isfinite(change) else "—"
    return [
        (quote.symbol, "stale" if stale else "title"),
        (fmt_num(quote.last, pdec), last_role),
        (change_text, change_role),
        (fmt_num(quote.bid, pdec), bid_role),
        (fmt_num(quote.ask, pdec), ask_role),
        (fmt_num(spread, pdec), "stale" if stale else "text"),
        (fmt_volume(quote.volume), "stale" if stale else "text"),
    ]


class QuotesPane(Widget, can_focus=True):
    """The watchlist. Up/down move the cursor; enter charts the symbol under it; delete and
    ctrl+up/down remove and reorder it (the app edits the list)."""

    DEFAULT_CSS = """
    QuotesPane { height: auto; min-height: 3; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False, id="quotes.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="quotes.down"),
        Binding("enter", "choose", "Chart", id="quotes.choose"),
        Binding("delete,backspace", "app.watchlist_remove", "Remove from list", show=False,
                id="quotes.remove"),
        # ctrl, not shift: shift+up/down amend the selected order from any pane.
        Binding("ctrl+up", "app.watchlist_move(-1)", "Move up the list", show=False,
                id="quotes.move_up"),
        Binding("ctrl+down", "app.watchlist_move(1)", "Move down the list", show=False,
                id="quotes.move_down"),
    ]

    class SymbolChosen(Message):
        """The user picked a symbol to chart."""

        def __init__(self, symbol: str) -> None:
            super().__init__()
            self.symbol = symbol

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.symbols: list[str] = []
        self.shown_list: list[str] | None = None
        """The watchlist shown, in order (symbols the view streams); None shows all it streams."""
        self.cursor = 0
        self.selected = ""
        self._palette: Palette | None = None
        self._keys: list[object] = []
        self._strips: list[Strip] = []
        self._header: Strip | None = None
        self._last_seen: dict[str, float] = {}
        self._tick_dir: dict[str, int] = {}
        self._width = 0
        self._top = 0  # first symbol shown when the list is taller than the pane

    # -- state from the pump ------------------------------------------------------------------

    def set_palette(self, palette: Palette) -> None:
        self._palette = palette
        self._invalidate()

    def set_symbols(self, symbols: Sequence[str]) -> None:
        if list(symbols) == self.symbols:
            return
        self.symbols = list(symbols)
        self.cursor = min(self.cursor, max(len(self.symbols) - 1, 0))
        if not self.selected and self.symbols:
            self.selected = self.symbols[0]
        self._invalidate()
        self.refresh(layout=True)

    def sync(self, view: MarketView) -> bool:
        """Rebuild the lines whose quote changed since the last frame; True if any did."""
        if self._palette is None:
            return False
        quotes = view.quotes
        if self.shown_list is not None:
            shown = [s for s in self.shown_list if s in quotes]
            if shown != self.symbols:
                self.set_symbols(shown)
        elif len(quotes) != len(self.symbols):
            self.set_symbols(list(quotes))
        width = self.size.width
        if width != self._width:
            self._width = width
            self._invalidate()
        stale_after = float(getattr(view, "stale_after", STALE_AFTER_S))
        changed = self._scroll_to_cursor()
        for i in range(self._top, min(self._top + self._visible_rows, len(self.symbols))):
            symbol = self.symbols[i]
            quote = quotes.get(symbol)
            if quote is None:
                continue
            stale = view.staleness_s(symbol) > stale_after
            key = (
                quote.version,
                stale,
                i == self.cursor and self.has_focus,
                symbol == self.selected,
            )
            if self._keys[i] == key:
                continue
            self._update_tick_dir(symbol, quote.last)
            self._keys[i] = key
            self._strips[i] = self._build_line(quote, view.instruments.get(symbol), stale, i)
            self.refresh(Region(0, i - self._top + 1, width, 1))
            changed = True
        return changed

    @property
    def _visible_rows(self) -> int:
        return max(self.size.height - 1, 1)

    def _scroll_to_cursor(self) -> bool:
        """Keep the cursor's line on screen; True (and a full repaint) if the list moved."""
        top = min(self._top, self.cursor)
        top = max(top, self.cursor - self._visible_rows + 1, 0)
        if top == self._top:
            return False
        self._top = top
        self.refresh()
        return True

    def _update_tick_dir(self, symbol: str, last: float) -> None:
        previous = self._last_seen.get(symbol)
        if previous is not None and last != previous:
            self._tick_dir[symbol] = 1 if last > previous else -1
        self._last_seen[symbol] = last

    def _invalidate(self) -> None:
        self._keys = [None] * len(self.symbols)
        self._strips = [Strip.blank(self.size.width)] * len(self.symbols)
        self._header = None
        self.refresh()

    # -- rendering ----------------------------------------------------------------------------

    def _build_line(
        self, quote: QuoteView, instrument: Instrument | None, stale: bool, index: int
    ) -> Strip:
        assert self._palette is not None
        palette = self._palette
        cells = quote_cells(quote, instrument, self._tick_dir.get(quote.symbol, 0), stale)
        marker = "▶" if quote.symbol == self.selected else " "
        segments = [Segment(marker, palette.style("title"))]
        for i in visible_columns(self.size.width):
            text, role = cells[i]
            width = COLUMNS[i][1]
            cell = text[:width].ljust(width) if i == 0 else text[:width].rjust(width)
            segments.append(Segment(cell, palette.style(role)))
            segments.append(Segment(" ", palette.base))
        fill = palette.base
        if index == self.cursor and self.has_focus:
            # A post style, so the cursor's background wins over each cell's own.
            segments = list(Segment.apply_style(segments, post_style=palette.cursor_bg))
            fill = palette.base + palette.cursor_bg
        return Strip(segments).adjust_cell_length(self.size.width, fill)

    def _build_header(self) -> Strip:
        assert self._palette is not None
        style = self._palette.style("header")
        parts = [" "]
        for i in visible_columns(self.size.width):
            title, width = COLUMNS[i]
            parts.append(title.ljust(width) + " " if i == 0 else title.rjust(width) + " ")
        return Strip([Segment("".join(parts), style)]).adjust_cell_length(
            self.size.width, self._palette.base
        )

    def render_line(self, y: int) -> Strip:
        if self._palette is None:
            return Strip.blank(self.size.width)
        if y == 0:
            if self._header is None:
                self._header = self._build_header()
            return self._header
        index = self._top + y - 1
        if not self.symbols and y == 1:
            return Strip([Segment(" waiting for quotes…", self._palette.style("stale"))])
        if 0 <= index < len(self._strips):
            return self._strips[index]
        return Strip.blank(self.size.width, self._palette.base)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return 1 + max(len(self.symbols), 1)

    # -- keys ---------------------------------------------------------------------------------

    def action_cursor(self, step: int) -> None:
        if self.symbols:
            self.set_cursor((self.cursor + step) % len(self.symbols))

    def set_cursor(self, index: int) -> None:
        """Put the cursor on line `index`, kept within the list."""
        if not self.symbols:
            return
        old, self.cursor = self.cursor, max(0, min(index, len(self.symbols) - 1))
        for i in (old, self.cursor):
            if i < len(self._keys):
                self._keys[i] = None  # the next frame repaints both lines

    def select(self, symbol: str) -> None:
        """Mark `symbol` as the charted one and move the cursor to it (no message posted)."""
        if symbol not in self.symbols:
            return
        old = self.symbols.index(self.selected) if self.selected in self.symbols else -1
        self.selected = symbol
        previous_cursor, self.cursor = self.cursor, self.symbols.index(symbol)
        for i in (old, previous_cursor, self.cursor):
            if i >= 0:
                self._keys[i] = None

    def action_choose(self) -> None:
        if not self.symbols:
            return
        old = self.symbols.index(self.selected) if self.selected in self.symbols else -1
        self.selected = self.symbols[self.cursor]
        for i in (old, self.cursor):
            if i >= 0:
                self._keys[i] = None
        self.post_message(self.SymbolChosen(self.selected))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = self._top + offset.y - 1
        if 0 <= index < len(self.symbols):
            self.action_cursor(index - self.cursor)
            self.action_choose()

    def on_focus(self) -> None:
        if 0 <= self.cursor < len(self._keys):
            self._keys[self.cursor] = None

    def on_blur(self) -> None:
        if 0 <= self.cursor < len(self._keys):
            self._keys[self.cursor] = None
