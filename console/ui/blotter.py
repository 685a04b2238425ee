"""Blotter pane: tabs of working orders, fills, positions (realized and unrealized PnL) and
balances, as a Line-API list with a cursor; the selected working order can be cancelled/amended.

Rows are rebuilt from the trading session when its version changes (and PnL rows a few times a
second, since marks move); each line is a cached strip refreshed only when its text changed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from console.ui.palette import Palette
from console.ui.session import TradingSession

TABS: tuple[str, ...] = ("working", "fills", "positions", "balances")
PNL_EVERY_S = 0.5
"""Positions and balances mark to the moving mid; this often is enough to read them."""

Row = list[tuple[str, str]]
STATUS_SHORT = {"partially_filled": "partial"}
HEADERS: dict[str, tuple[tuple[str, int], ...]] = {
    "working": (("Order", 20), ("Symbol", 9), ("Side", 4), ("Type", 10), ("Size", 10),
                ("Filled", 10), ("Price", 12), ("Stop", 12), ("Status", 10)),
    "fills": (("Time", 12), ("Order", 20), ("Symbol", 9), ("Side", 4), ("Size", 10),
              ("Price", 12), ("Fee", 10), ("Liq", 6)),
    "positions": (("Account", 10), ("Symbol", 10), ("Size", 11), ("Avg", 13),
                  ("Realized", 12), ("Unrealized", 12), ("Fees", 10)),
    "balances": (("Account", 10), ("Ccy", 5), ("Cash", 14), ("Equity", 14)),
}


def _money(x: float) -> tuple[str, str]:
    return f"{x:,.2f}", "up" if x > 0 else "down" if x < 0 else "text"


class BlotterPane(Widget, can_focus=True):
    """Orders, fills, positions and balances; left/right switch tabs, up/down select."""

    DEFAULT_CSS = """
    BlotterPane { height: 10; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "tab(-1)", "Tab ←", show=False, id="blotter.prev_tab"),
        Binding("right", "tab(1)", "Tab →", show=False, id="blotter.next_tab"),
        Binding("up", "cursor(-1)", "Up", show=False, id="blotter.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="blotter.down"),
        Binding("delete,x", "app.trade_cancel_selected", "Cancel order",
                id="blotter.cancel"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tab = 0
        self.cursor = 0
        self.order_ids: list[str] = []  # working orders, in row order
        self._palette: Palette | None = None
        self._rows: list[Row] = []
        self._texts: list[str] = []
        self._strips: list[Strip] = []
        self._seen: tuple[object, ...] = ()
        self._pnl_due = 0.0
        self._top = 0
        self._width = 0

    @property
    def tab_name(self) -> str:
        return TABS[self.tab]

    @property
    def selected_order(self) -> str | None:
        """The working order under the cursor (working tab only)."""
        if self.tab_name != "working" or not self.order_ids:
            return None
        return self.order_ids[min(self.cursor, len(self.order_ids) - 1)]

    def set_palette(self, palette: Palette) -> None:
        self._palette = palette
        self._seen = ()

    # -- state from the pump ------------------------------------------------------------------

    def sync(self, session: TradingSession) -> bool:
        """Rebuild rows when the session changed (or marks moved, for PnL tabs)."""
        if self._palette is None:
            return False
        now = time.monotonic()
        seen = (session.version, self.tab, self.cursor, self.size, self.has_focus)
        pnl = self.tab_name in ("positions", "balances") and now >= self._pnl_due
        if seen == self._seen and not pnl:
            return False
        self._seen = seen
        self._pnl_due = now + PNL_EVERY_S
        self._rows = self._build_rows(session)
        self.cursor = max(0, min(self.cursor, len(self._rows) - 1))
        return self._paint()

    def _build_rows(self, s: TradingSession) -> list[Row]:
        name = self.tab_name
        rows: list[Row] = []
        if name == "working":
            orders = s.working_orders()
            self.order_ids = [o.order_id for o in orders]
            for o in orders:
                inst = s.instrument(o.symbol)
                pdec = inst.pdec if inst else 2
                side = "bid" if o.side == "buy" else "ask"
                rows.append([(o.order_id, "text"), (o.symbol, "title"), (o.side, side),
                             (o.type, "text"), (f"{o.size:g}", "text"), (f"{o.filled:g}", "text"),
                             (f"{o.price:,.{pdec}f}" if o.price else "", "working"),
                             (f"{o.stop:,.{pdec}f}" if o.stop else "", "working"),
                             (STATUS_SHORT.get(o.status, o.status)
                              + (" ✕" if o.pending_cancel else ""), "label")])
        elif name == "fills":
            for f in reversed(s.fills):
                t = datetime.fromtimestamp(f.ts / 1e9, UTC).strftime("%H:%M:%S.%f")[:-3]
                rows.append([(t, "label"), (f.order_id, "text"), (f.symbol, "title"),
                             (f.side, "bid" if f.side == "buy" else "ask"),
                             (f"{f.size:g}", "fill"), (f"{f.price:g}", "fill"),
                             (f"{f.fee:.4g}", "label"), (f.liquidity, "label")])
        elif name == "positions":
            for p in s.positions():
                rows.append([(p.account, "text"), (p.symbol, "title"),
                             (f"{p.size:g}", "up" if p.size > 0 else "down" if p.size else "text"),
                             (f"{p.avg_price:,.6g}" if p.size else "", "text"),
                             _money(p.realized_pnl), _money(p.unrealized_pnl),
                             (f"{p.fees:,.2f}", "label")])
        else:
            for account in s.accounts:
                if account in s.ems.accounts:
                    b = s.ems.balance(account)
                    rows.append([(b.account, "text"), (b.currency, "label"),
                                 (f"{b.cash:,.2f}", "text"), _money(b.equity)])
        if name != "working":
            self.order_ids = [o.order_id for o in s.working_orders()]
        return rows

    def _line(self, y: int) -> tuple[str, Strip]:
        """Text and strip of screen line y (0 = tabs, 1 = header, then rows)."""
        assert self._palette is not None
        p = self._palette
        width = self.size.width
        if y == 0:
            segs: list[Segment] = []
            for i, name in enumerate(TABS):
                on = i == self.tab
                style = p.style("title") + Style(reverse=True) if on else p.style("label")
                segs.append(Segment(f" {name.capitalize()} ", style))
                segs.append(Segment(" ", p.base))
            text = "".join(s.text for s in segs)
            return text, Strip(segs).adjust_cell_length(width, p.base)
        cols = HEADERS[self.tab_name]
        if y == 1:
            text = " ".join(n.rjust(w) if i else n.ljust(w) for i, (n, w) in enumerate(cols))
            return text, Strip([Segment(text, p.style("header"))]).crop(0, width
                                                                         ).adjust_cell_length(
                width, p.base)
        index = self._top + y - 2
        if index >= len(self._rows):
            if not self._rows and y == 2:
                text = f" no {self.tab_name}"
                return text, Strip([Segment(text, p.style("stale"))]).adjust_cell_length(
                    width, p.base)
            return "", Strip.blank(width, p.base)
        row = self._rows[index]
        segs = []
        for i, ((text, role), (_, w)) in enumerate(zip(row, cols, strict=False)):
            cell = text[:w].ljust(w) if i == 0 else text[-w:].rjust(w)
            segs.append(Segment(cell, p.style(role)))
            segs.append(Segment(" ", p.base))
        fill = p.base
        cursor = index == self.cursor and self.has_focus
        if cursor:
            segs = list(Segment.apply_style(segs, post_style=p.cursor_bg))
            fill = p.base + p.cursor_bg
        text = "".join(s.text for s in segs) + ("\x00" if cursor else "")
        return text, Strip(segs).crop(0, width).adjust_cell_length(width, fill)

    def _paint(self) -> bool:
        height = self.size.height
        visible = max(height - 2, 1)
        self._top = max(0, min(self._top, self.cursor))
        self._top = max(self._top, self.cursor - visible + 1)
        if len(self._texts) != height or self._width != self.size.width:
            # "\x01" matches no line's text, so every line is painted after a resize.
            self._width = self.size.width
            self._strips = [Strip.blank(self.size.width)] * height
            self._texts = ["\x01"] * height
        changed = False
        for y in range(height):
            text, strip = self._line(y)
            if text == self._texts[y]:
                continue
            self._texts[y] = text
            self._strips[y] = strip
            self.refresh(Region(0, y, self.size.width, 1))
            changed = True
        return changed

    def lines(self) -> list[str]:
        """What the pane shows, one string per row (for tests and the bench)."""
        return [t.replace("\x00", "").replace("\x01", "") for t in self._texts]

    def render_line(self, y: int) -> Strip:
        if 0 <= y < len(self._strips):
            return self._strips[y]
        base = self._palette.base if self._palette is not None else None
        return Strip.blank(self.size.width, base)

    # -- keys ---------------------------------------------------------------------------------

    def action_tab(self, step: int) -> None:
        self.tab = (self.tab + step) % len(TABS)
        self.cursor = 0
        self._top = 0

    def show_tab(self, name: str) -> None:
        if name in TABS:
            self.tab = TABS.index(name)
            self.cursor = 0
            self._top = 0

    def action_cursor(self, step: int) -> None:
        self.cursor = max(0, min(self.cursor + step, len(self._rows) - 1))
