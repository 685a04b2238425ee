"""Depth ladder (DOM) pane: price rows around the spread, sizes with bars, our orders, a cursor.

Line API: rows are cached strips keyed by what they show; the frame pump calls `sync` and only
rows whose key changed are rebuilt and refreshed. The cursor is a price (in ticks), so it stays
on its price while the market moves; trading keys read `cursor_price`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from console.model.book import Book
from console.ui.ladder_render import (
    Cell,
    OrderMark,
    centre_top,
    header_cells,
    ladder_rows,
    row_tick,
)
from console.ui.palette import Palette

GROUPS: tuple[int, ...] = (1, 2, 5, 10, 25, 50, 100)


def cell_style(palette: Palette, role: str) -> Style:
    """Palette style for a ladder role; the last trade's price is shown reversed."""
    if role == "last":
        return palette.style("title") + Style(reverse=True)
    if role == "working":
        return palette.style("working") + Style(bold=True)
    if role in ("bid-bar", "ask-bar"):
        return palette.style(role[:3]) + Style(reverse=True)
    return palette.style(role)


def cells_strip(cells: list[Cell], palette: Palette, width: int, cursor: bool = False) -> Strip:
    segments = [Segment(text, cell_style(palette, role)) for text, role in cells]
    fill = palette.base
    if cursor:
        segments = list(Segment.apply_style(segments, post_style=palette.cursor_bg))
        fill = palette.base + palette.cursor_bg
    return Strip(segments).adjust_cell_length(width, fill)


def changed_span(old: tuple[list[Cell], bool] | None, new: tuple[list[Cell], bool],
                 width: int) -> tuple[int, int]:
    """Columns [x0, x1) that differ between two renderings of a row (all, if unknown)."""
    if old is None or old[1] != new[1] or len(old[0]) != len(new[0]):
        return 0, width
    x = 0
    x0, x1 = width, 0
    for (t0, r0), (t1, r1) in zip(old[0], new[0], strict=True):
        w = len(t1)
        if t0 != t1 or r0 != r1 or len(t0) != w:
            x0, x1 = min(x0, x), max(x1, x + max(w, len(t0)))
        x += w
    if x1 <= x0:
        return 0, 0
    return x0, min(x1, width)


class LadderPane(Widget, can_focus=True):
    """The depth ladder of one symbol. Up/down move the price cursor."""

    DEFAULT_CSS = """
    LadderPane { height: 1fr; min-height: 5; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(1)", "Price up", show=False, id="ladder.up"),
        Binding("down", "cursor(-1)", "Price down", show=False, id="ladder.down"),
        Binding("pageup", "cursor(10)", "Page up", show=False, id="ladder.page_up"),
        Binding("pagedown", "cursor(-10)", "Page down", show=False, id="ladder.page_down"),
        Binding("c", "toggle_centre", "Auto-centre", id="ladder.centre"),
        Binding("comma", "group(-1)", "Group −", show=False, id="ladder.group_less"),
        Binding("full_stop", "group(1)", "Group +", show=False, id="ladder.group_more"),
    ]

    def __init__(self, *, group: int = 1, id: str | None = None) -> None:
        super().__init__(id=id)
        self.symbol = ""
        self.group = group if group >= 1 else 1
        self.auto_centre = True
        self.cursor_tick: int | None = None
        self.top_tick: int | None = None
        self.market_tick: int | None = None  # the best bid (or mid) at the last frame
        self.tick_size = 0.0
        self.pdec = 2
        self._palette: Palette | None = None
        self._keys: list[object] = []
        self._cells: list[tuple[list[Cell], bool] | None] = []
        self._strips: list[Strip] = []
        self._header: Strip | None = None
        self._width = 0
        self._height = 0
        self._scale = 0  # lots a full bar stands for; moves in steps so bars do not jitter

    # -- state --------------------------------------------------------------------------------

    def set_palette(self, palette: Palette) -> None:
        self._palette = palette
        self._invalidate()

    def show(self, symbol: str) -> None:
        if symbol == self.symbol:
            return
        self.symbol = symbol
        self.cursor_tick = None
        self.top_tick = None
        self.market_tick = None
        self._scale = 0
        self._invalidate()
        self._set_title()

    def _set_title(self) -> None:
        extra = "" if self.group == 1 else f" ×{self.group}"
        centre = " ⊕" if self.auto_centre else ""
        self.border_title = f"Ladder {self.symbol}{extra}{centre}"

    @property
    def cursor_price(self) -> float | None:
        if self.cursor_tick is None or not self.tick_size:
            return None
        return round(self.cursor_tick * self.tick_size, self.pdec)

    @property
    def rows(self) -> int:
        return max(self.size.height - 1, 1)

    def sync(
        self,
        book: Book | None,
        *,
        pdec: int,
        qdec: int,
        last: float,
        marks: Mapping[int, OrderMark],
    ) -> bool:
        """Rebuild the rows whose content changed; True if any did."""
        if self._palette is None or book is None or (book.best_bid_ticks is None and (
                book.best_ask_ticks is None)):
            return False
        self.tick_size = book.tick_size
        self.pdec = pdec
        width, n = self.size.width, self.rows
        if width != self._width or n != self._height:
            self._width, self._height = width, n
            self._invalidate()
            self.top_tick = None
        bb, ba = book.best_bid_ticks, book.best_ask_ticks
        mid = (bb + ba) // 2 if bb is not None and ba is not None else (bb if bb is not None
                                                                         else ba)
        assert mid is not None
        self.market_tick = bb if bb is not None else mid
        if self.cursor_tick is None:
            self.cursor_tick = self.market_tick
        g = self.group
        if self.top_tick is None:
            self.top_tick = centre_top(mid, n, g)
        elif self.auto_centre:
            # Re-centre only when the spread leaves the middle half: rows stay put otherwise.
            offset = (self.top_tick - row_tick(mid, g)) // g
            if not n // 4 <= offset <= n - 1 - n // 4:
                self.top_tick = centre_top(mid, n, g)
        last_tick = round(last / book.tick_size) if last > 0 else None
        rows = ladder_rows(book, top_tick=self.top_tick, n_rows=n, group=g, width=width,
                           pdec=pdec, qdec=qdec, marks=marks, last_tick=last_tick,
                           cursor_tick=self.cursor_tick, scale=self._scale)
        biggest = max((max(r.bid_lots, r.ask_lots) for r in rows), default=0)
        if biggest and not self._scale // 3 <= biggest <= self._scale:
            # Rescale only when a level outgrows the bars or all shrink well below them:
            # a rescale repaints every row, a steady scale only the rows that changed.
            self._scale = biggest * 5 // 4 + 1
        if len(self._keys) != n:
            self._invalidate()
        cursor_row = row_tick(self.cursor_tick, g)
        changed = False
        focus = self.has_focus
        for i, row in enumerate(rows):
            key = (row.key, focus)
            if self._keys[i] == key:
                continue
            cursor = row.tick == cursor_row
            old = self._cells[i]
            self._keys[i] = key
            self._cells[i] = (row.cells, cursor)
            self._strips[i] = cells_strip(row.cells, self._palette, width, cursor=cursor)
            x0, x1 = changed_span(old, (row.cells, cursor), width)
            # Only the changed columns are repainted: a size ticking in one cell sends that
            # cell to the terminal, not the whole row (it matters over SSH).
            self.refresh(Region(x0, i + 1, x1 - x0, 1))
            changed = True
        return changed

    def _invalidate(self) -> None:
        n = self.rows
        self._keys = [None] * n
        self._cells = [None] * n
        self._strips = [Strip.blank(self.size.width)] * n
        self._header = None
        self.refresh()

    # -- rendering ----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        palette = self._palette
        if palette is None:
            return Strip.blank(self.size.width)
        if y == 0:
            if self._header is None or self._header.cell_length != self.size.width:
                self._header = cells_strip(header_cells(self.size.width), palette,
                                           self.size.width)
            return self._header
        if not self.symbol and y == 1:
            return Strip([Segment(" waiting for a book…", palette.style("stale"))])
        if 0 <= y - 1 < len(self._strips):
            return self._strips[y - 1]
        return Strip.blank(self.size.width, palette.base)

    # -- keys ---------------------------------------------------------------------------------

    def move_cursor(self, ticks: int) -> None:
        if self.cursor_tick is None:
            return
        g = self.group
        n = self.rows
        top = self.top_tick
        if top is not None and self.market_tick is not None and not (
                top - (n - 1) * g <= self.cursor_tick <= top):
            # The market carried the view away from the cursor: it comes back at the bid
            # rather than dragging the view off to where it was left.
            self.cursor_tick = self.market_tick
        self.cursor_tick = row_tick(self.cursor_tick, g) + ticks * g
        if self.top_tick is not None:
            # Keep the cursor on screen: scroll the ladder when it reaches an edge.
            if self.cursor_tick > self.top_tick:
                self.top_tick = row_tick(self.cursor_tick, g)
                self.auto_centre = False
                self._set_title()
            elif self.cursor_tick < self.top_tick - (n - 1) * g:
                self.top_tick = row_tick(self.cursor_tick, g) + (n - 1) * g
                self.auto_centre = False
                self._set_title()

    def action_cursor(self, ticks: int) -> None:
        self.move_cursor(ticks)

    def action_toggle_centre(self) -> None:
        self.auto_centre = not self.auto_centre
        if self.auto_centre:
            self.top_tick = None  # centred on the next frame
        self._set_title()

    def action_group(self, step: int) -> None:
        if self.group in GROUPS:
            i = GROUPS.index(self.group) + step
        else:  # a configured group off the list: step to its neighbour on the list
            bigger = [k for k, g in enumerate(GROUPS) if g > self.group]
            if not bigger and step > 0:
                return
            i = (bigger[0] if bigger else len(GROUPS)) - (1 if step < 0 else 0)
        self.group = GROUPS[max(0, min(len(GROUPS) - 1, i))]
        self.top_tick = None
        self._invalidate()
        self._set_title()
