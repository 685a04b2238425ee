"""Order entry pane: the ticket (symbol, side, type, size, price, stop, TIF, account), the live
pre-trade check and a PAPER/LIVE banner, as four Line-API rows.

The ticket is plain state shared with the trading actions; when focused, left/right pick a
field, up/down change it and enter sends the ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.strip import Strip
from textual.widget import Widget

from console.ems.messages import (
    ORDER_TYPES,
    TIFS,
    NewOrder,
    OrderSide,
    OrderType,
    TimeInForce,
)
from console.ui.palette import Palette

FIELDS: tuple[str, ...] = ("side", "type", "size", "price", "stop", "tif", "account")


@dataclass(slots=True)
class Ticket:
    """The order being prepared. `manual_price` stops the price following the ladder cursor."""

    symbol: str = ""
    side: OrderSide = "buy"
    type: OrderType = "limit"
    size: float = 0.0
    price: float = 0.0
    stop: float = 0.0
    tif: TimeInForce = "gtc"
    account: str = "paper"
    tick: float = 0.0
    lot: float = 0.0
    pdec: int = 2
    qdec: int = 4
    manual_price: bool = False
    accounts: list[str] = field(default_factory=list)

    def order(self, order_id: str) -> NewOrder:
        wants_price = self.type in ("limit", "stop-limit")
        wants_stop = self.type in ("stop", "stop-limit")
        return NewOrder(order_id=order_id, account=self.account, symbol=self.symbol,
                        side=self.side, size=self.size, type=self.type,
                        price=self.price if wants_price else 0.0,
                        stop=self.stop if wants_stop else 0.0, tif=self.tif)

    def key(self) -> tuple[object, ...]:
        return (self.symbol, self.side, self.type, self.size, self.price, self.stop, self.tif,
                self.account, self.pdec, self.qdec)

    def adjust(self, name: str, step: int) -> None:
        """Change one field by `step` (cycle a choice, or move by ticks/lots)."""
        if name == "side":
            self.side = "sell" if self.side == "buy" else "buy"
        elif name == "type":
            self.type = _cycle(ORDER_TYPES, self.type, step)  # type: ignore[assignment]
        elif name == "tif":
            self.tif = _cycle(TIFS, self.tif, step)  # type: ignore[assignment]
        elif name == "account" and self.accounts:
            self.account = _cycle(self.accounts, self.account, step)
        elif name == "size" and self.lot:
            self.size = round(max(self.lot, self.size + step * self.lot), self.qdec)
        elif name == "price" and self.tick:
            self.price = round(max(self.tick, self.price + step * self.tick), self.pdec)
            self.manual_price = True
        elif name == "stop" and self.tick:
            base = self.stop or self.price
            self.stop = round(max(self.tick, base + step * self.tick), self.pdec)
            self.manual_price = True


def _cycle(options: Sequence[str], value: str, step: int) -> str:
    i = options.index(value) if value in options else 0
    return options[(i + step) % len(options)]


class OrderEntryPane(Widget, can_focus=True):
    """The ticket and why it would (not) be accepted; the banner says PAPER or LIVE."""

    DEFAULT_CSS = """
    OrderEntryPane { height: 6; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "field(-1)", "Field ←", show=False, id="entry.prev_field"),
        Binding("right", "field(1)", "Field →", show=False, id="entry.next_field"),
        Binding("up", "adjust(1)", "Value +", show=False, id="entry.up"),
        Binding("down", "adjust(-1)", "Value −", show=False, id="entry.down"),
        Binding("enter", "app.trade_send", "Send", id="entry.send"),
    ]

    def __init__(self, ticket: Ticket | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ticket = ticket or Ticket()
        self.field = 0
        self.mode = "PAPER"
        self.killed = False
        self.verdict: str | None = None
        self.position = 0.0
        self._palette: Palette | None = None
        self._key: object = None
        self._strips: list[Strip] = []

    def set_palette(self, palette: Palette) -> None:
        self._palette = palette
        self._key = None

    def sync(self, *, mode: str, killed: bool, verdict: str | None, position: float,
             notional: float | None) -> bool:
        """Rebuild the rows when anything they show changed; True if they did."""
        if self._palette is None:
            return False
        self.mode, self.killed, self.verdict, self.position = mode, killed, verdict, position
        key = (self.ticket.key(), mode, killed, verdict, position,
               round(notional or 0.0, 2), self.field, self.has_focus, self.size.width)
        if key == self._key:
            return False
        self._key = key
        self._strips = self._build(notional)
        self.refresh()
        return True

    def _build(self, notional: float | None) -> list[Strip]:
        assert self._palette is not None
        p = self._palette
        t = self.ticket
        width = self.size.width
        live = self.mode == "LIVE"
        banner_style = (p.style("down") if live else p.style("up")) + Style(bold=True,
                                                                             reverse=True)
        banner = f" {self.mode} · {t.account}"
        if self.killed:
            banner += " · KILL SWITCH ON — re-arm to trade"
        banner += " · real orders to the venue" if live else " · simulated fills"
        rows = [Strip([Segment(banner, banner_style)]).adjust_cell_length(width, banner_style)]

        def cell(name: str, label: str, value: str, role: str = "title") -> list[Segment]:
            on = self.has_focus and FIELDS[self.field] == name
            style = p.style(role) + (Style(reverse=True) if on else Style())
            return [Segment(f" {label} ", p.style("label")), Segment(value, style)]

        side_role = "bid" if t.side == "buy" else "ask"
        wants_price = t.type in ("limit", "stop-limit")
        wants_stop = t.type in ("stop", "stop-limit")
        line1 = [Segment(f" {t.symbol or '—'}", p.style("title"))]
        line1 += cell("side", "", t.side.upper(), side_role)
        line1 += cell("type", "", t.type)
        line1 += cell("tif", "TIF", t.tif)
        line1 += cell("account", "acct", t.account)
        line1 += [Segment(f"  pos {self.position:g}", p.style("label"))]
        line2 = cell("size", "size", f"{t.size:.{t.qdec}f}")
        line2 += cell("price", "price", f"{t.price:,.{t.pdec}f}" if wants_price else "—")
        line2 += cell("stop", "stop", f"{t.stop:,.{t.pdec}f}" if wants_stop else "—")
        line2 += [Segment(f"  ≈{notional:,.2f}" if notional else "  ≈—",
                          p.style("label"))]
        verdict = (Segment(" ✓ passes pre-trade checks", p.style("up")) if self.verdict is None
                   else Segment(f" ✗ {self.verdict}", p.style("down") + Style(bold=True)))
        for segs in (line1, line2, [verdict]):
            rows.append(Strip(segs).crop(0, width).adjust_cell_length(width, p.base))
        return rows

    def render_line(self, y: int) -> Strip:
        if 0 <= y < len(self._strips):
            return self._strips[y]
        base = self._palette.base if self._palette is not None else None
        return Strip.blank(self.size.width, base)

    def action_field(self, step: int) -> None:
        self.field = (self.field + step) % len(FIELDS)

    def action_adjust(self, step: int) -> None:
        self.ticket.adjust(FIELDS[self.field], step)
